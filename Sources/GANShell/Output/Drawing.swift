import CCairo
import Foundation

/// A colour with opacity, components in 0…1.
public struct RGBA: Equatable, Sendable {
    public var r: Double, g: Double, b: Double, a: Double
    public init(_ r: Double, _ g: Double, _ b: Double, _ a: Double = 1) {
        self.r = r; self.g = g; self.b = b; self.a = a
    }
    init(_ c: (UInt8, UInt8, UInt8), alpha: Double = 1) {
        self.init(Double(c.0) / 255, Double(c.1) / 255, Double(c.2) / 255, alpha)
    }
    func with(alpha: Double) -> RGBA { RGBA(r, g, b, alpha) }
    /// "#rrggbb" (opacity left out).
    public var hex: String {
        String(format: "#%02x%02x%02x", Int(r * 255 + 0.5), Int(g * 255 + 0.5), Int(b * 255 + 0.5))
    }
    static let black = RGBA(0, 0, 0), white = RGBA(1, 1, 1)
    static let ink = RGBA(0.13, 0.13, 0.13), muted = RGBA(0.35, 0.35, 0.35), grid = RGBA(0.88, 0.88, 0.88)
}

/// What a figure is drawn as: shapes in logical units (points in SVG, 2 pixels each in PNG),
/// laid out once and then painted by a backend. Tests read it to check what a figure shows.
public struct Drawing {
    public struct P: Equatable {
        public var x: Double, y: Double; init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
    }
    public enum Anchor: Sendable { case start, middle, end }

    public enum Item {
        case rect(x: Double, y: Double, w: Double, h: Double, fill: RGBA?, stroke: RGBA?, lineWidth: Double)
        case polyline([P], stroke: RGBA, width: Double, dash: [Double])
        case segments([(P, P)], stroke: RGBA, width: Double)
        /// Markers of one radius: a fill and an outline.
        case circles([P], radius: Double, fill: RGBA, stroke: RGBA?, role: String)
        /// Arrows from the first point to the second, with heads `head` long.
        case arrows([(P, P)], stroke: RGBA, width: Double, head: Double)
        /// A closed polygon, filled.
        case polygon([P], fill: RGBA)
        case text(String, at: P, size: Double, color: RGBA, anchor: Anchor, bold: Bool, vertical: Bool)
        /// RGB pixels (`width` × `height`, row 0 at the top) drawn into a rectangle, smoothed or
        /// as sharp blocks.
        case image(
            pixels: [UInt8], width: Int, height: Int, into: (x: Double, y: Double, w: Double, h: Double), smooth: Bool)
        /// Items after this are clipped to the rectangle, until `.unclip`.
        case clip(x: Double, y: Double, w: Double, h: Double)
        case unclip
    }

    public var width: Double, height: Double
    public var items: [Item] = []
    public var background = RGBA.white

    /// The texts it draws, in order.
    public var texts: [String] {
        items.compactMap { if case .text(let s, _, _, _, _, _, _) = $0 { return s } else { return nil } }
    }
}

/// Draws a `Drawing` with Cairo: PNG at 2 pixels a unit, or SVG.
enum Cairo {
    static let font = "DejaVu Sans"

    /// The width of a text in units at a size.
    static func textWidth(_ s: String, size: Double, bold: Bool = false) -> Double {
        measure.withLock { cr in
            cairo_select_font_face(
                cr, font, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
            cairo_set_font_size(cr, size)
            var e = cairo_text_extents_t()
            cairo_text_extents(cr, s, &e)
            return e.x_advance
        }
    }

    /// A context on a 1×1 surface, for measuring text.
    final class Measure: @unchecked Sendable {
        let lock = NSLock()
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)
        lazy var cr = cairo_create(surface)
        func withLock<T>(_ body: (OpaquePointer?) -> T) -> T {
            lock.lock(); defer { lock.unlock() }
            return body(cr)
        }
    }
    static let measure = Measure()

    /// Bytes a stream surface writes.
    final class Sink { var bytes: [UInt8] = [] }

    static let write: cairo_write_func_t = { closure, data, length in
        guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
        let sink = Unmanaged<Sink>.fromOpaque(closure).takeUnretainedValue()
        sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
        return CAIRO_STATUS_SUCCESS
    }

    struct DrawError: Error, CustomStringConvertible {
        let status: cairo_status_t
        var description: String { "drawing failed: " + String(cString: cairo_status_to_string(status)) }
    }

    static func png(_ d: Drawing, scale: Double = 2) throws -> [UInt8] {
        let w = Int32(max(1, (d.width * scale).rounded(.up))), h = Int32(max(1, (d.height * scale).rounded(.up)))
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h)
        defer { cairo_surface_destroy(surface) }
        let cr = cairo_create(surface)
        defer { cairo_destroy(cr) }
        cairo_scale(cr, scale, scale)
        paint(d, cr)
        cairo_surface_flush(surface)
        let sink = Sink()
        let status = cairo_surface_write_to_png_stream(surface, write, Unmanaged.passUnretained(sink).toOpaque())
        guard status == CAIRO_STATUS_SUCCESS else { throw DrawError(status: status) }
        return sink.bytes
    }

    static func svg(_ d: Drawing) throws -> String {
        let sink = Sink()
        let surface = cairo_svg_surface_create_for_stream(
            write, Unmanaged.passUnretained(sink).toOpaque(), d.width, d.height)
        cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX)
        let cr = cairo_create(surface)
        paint(d, cr)
        cairo_destroy(cr)
        cairo_surface_finish(surface)
        let status = cairo_surface_status(surface)
        cairo_surface_destroy(surface)
        guard status == CAIRO_STATUS_SUCCESS else { throw DrawError(status: status) }
        return String(decoding: sink.bytes, as: UTF8.self)
    }

    static func set(_ cr: OpaquePointer?, _ c: RGBA) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a) }

    static func paint(_ d: Drawing, _ cr: OpaquePointer?) {
        set(cr, d.background)
        cairo_paint(cr)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND)
        for item in d.items {
            switch item {
            case let .rect(x, y, w, h, fill, stroke, lineWidth):
                cairo_rectangle(cr, x, y, w, h)
                if let fill { set(cr, fill); stroke == nil ? cairo_fill(cr) : cairo_fill_preserve(cr) }
                if let stroke { set(cr, stroke); cairo_set_line_width(cr, lineWidth); cairo_stroke(cr) }
            case let .polyline(ps, stroke, width, dash):
                guard let first = ps.first else { continue }
                cairo_new_path(cr)
                cairo_move_to(cr, first.x, first.y)
                for p in ps.dropFirst() { cairo_line_to(cr, p.x, p.y) }
                set(cr, stroke)
                cairo_set_line_width(cr, width)
                dash.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32(dash.count), 0) }
                cairo_stroke(cr)
                cairo_set_dash(cr, nil, 0, 0)
            case let .segments(segs, stroke, width):
                cairo_new_path(cr)
                for (a, b) in segs { cairo_move_to(cr, a.x, a.y); cairo_line_to(cr, b.x, b.y) }
                set(cr, stroke)
                cairo_set_line_width(cr, width)
                cairo_stroke(cr)
            case let .circles(ps, radius, fill, stroke, _):
                for p in ps {
                    cairo_new_sub_path(cr)
                    cairo_arc(cr, p.x, p.y, radius, 0, 2 * .pi)
                }
                set(cr, fill)
                if let stroke {
                    cairo_fill_preserve(cr)
                    set(cr, stroke)
                    cairo_set_line_width(cr, max(0.4, radius * 0.35))
                    cairo_stroke(cr)
                } else {
                    cairo_fill(cr)
                }
            case let .arrows(segs, stroke, width, head):
                set(cr, stroke)
                cairo_set_line_width(cr, width)
                cairo_new_path(cr)
                for (a, b) in segs { cairo_move_to(cr, a.x, a.y); cairo_line_to(cr, b.x, b.y) }
                cairo_stroke(cr)
                for (a, b) in segs {
                    let dx = b.x - a.x, dy = b.y - a.y, len = (dx * dx + dy * dy).squareRoot()
                    guard len > 1e-9 else { continue }
                    let h = min(head, len * 0.6), ux = dx / len, uy = dy / len
                    cairo_move_to(cr, b.x, b.y)
                    cairo_line_to(cr, b.x - h * ux + h * 0.45 * uy, b.y - h * uy - h * 0.45 * ux)
                    cairo_line_to(cr, b.x - h * ux - h * 0.45 * uy, b.y - h * uy + h * 0.45 * ux)
                    cairo_close_path(cr)
                }
                cairo_fill(cr)
            case let .polygon(ps, fill):
                guard let first = ps.first else { continue }
                cairo_move_to(cr, first.x, first.y)
                for p in ps.dropFirst() { cairo_line_to(cr, p.x, p.y) }
                cairo_close_path(cr)
                set(cr, fill)
                cairo_fill(cr)
            case let .text(s, at, size, color, anchor, bold, vertical):
                cairo_select_font_face(
                    cr, font, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
                cairo_set_font_size(cr, size)
                var e = cairo_text_extents_t()
                cairo_text_extents(cr, s, &e)
                let shift = anchor == .start ? 0 : anchor == .middle ? e.x_advance / 2 : e.x_advance
                cairo_save(cr)
                cairo_translate(cr, at.x, at.y)
                if vertical { cairo_rotate(cr, -.pi / 2) }
                cairo_move_to(cr, -shift, 0)
                set(cr, color)
                cairo_show_text(cr, s)
                cairo_restore(cr)
            case let .image(pixels, w, h, rect, smooth):
                guard w > 0, h > 0, pixels.count >= w * h * 3 else { continue }
                let img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(w), Int32(h))
                let stride = Int(cairo_image_surface_get_stride(img))
                if let data = cairo_image_surface_get_data(img) {
                    for y in 0..<h {
                        for x in 0..<w {
                            let i = 3 * (y * w + x), o = y * stride + 4 * x
                            // RGB24 is a native-endian 32-bit word 0x00RRGGBB: B, G, R, unused in memory.
                            data[o] = pixels[i + 2]; data[o + 1] = pixels[i + 1]; data[o + 2] = pixels[i];
                            data[o + 3] = 255
                        }
                    }
                }
                cairo_surface_mark_dirty(img)
                cairo_save(cr)
                cairo_rectangle(cr, rect.x, rect.y, rect.w, rect.h)
                cairo_clip(cr)
                cairo_translate(cr, rect.x, rect.y)
                cairo_scale(cr, rect.w / Double(w), rect.h / Double(h))
                cairo_set_source_surface(cr, img, 0, 0)
                let pattern = cairo_get_source(cr)
                cairo_pattern_set_filter(pattern, smooth ? CAIRO_FILTER_BILINEAR : CAIRO_FILTER_NEAREST)
                cairo_pattern_set_extend(pattern, CAIRO_EXTEND_PAD)
                cairo_paint(cr)
                cairo_restore(cr)
                cairo_surface_destroy(img)
            case let .clip(x, y, w, h):
                cairo_save(cr)
                cairo_rectangle(cr, x, y, w, h)
                cairo_clip(cr)
            case .unclip:
                cairo_restore(cr)
            }
        }
    }
}
