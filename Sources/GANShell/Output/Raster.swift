import Foundation
import GANKit
import TensorCore

/// An RGB image to draw figures into, then encode as PNG.
struct Raster {
    let width: Int, height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int, background: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = background.0; pixels[3 * i + 1] = background.1; pixels[3 * i + 2] = background.2
        }
    }

    mutating func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let i = 3 * (y * width + x)
        pixels[i] = c.0; pixels[i + 1] = c.1; pixels[i + 2] = c.2
    }

    mutating func fill(_ x: Int, _ y: Int, _ w: Int, _ h: Int, _ c: (UInt8, UInt8, UInt8)) {
        let x0 = max(0, x), x1 = min(width, x + w), y0 = max(0, y), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for yy in y0..<y1 { for xx in x0..<x1 { set(xx, yy, c) } }
    }

    mutating func line(_ a: (Int, Int), _ b: (Int, Int), _ c: (UInt8, UInt8, UInt8), thick: Int = 1) {
        var (x, y) = a
        let dx = abs(b.0 - a.0), dy = -abs(b.1 - a.1), sx = a.0 < b.0 ? 1 : -1, sy = a.1 < b.1 ? 1 : -1
        var err = dx + dy
        for _ in 0..<(2 * (width + height)) {
            if thick > 1 { fill(x - thick / 2, y - thick / 2, thick, thick, c) } else { set(x, y, c) }
            if x == b.0 && y == b.1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    mutating func disc(_ cx: Int, _ cy: Int, radius r: Int, _ c: (UInt8, UInt8, UInt8)) {
        for y in -r...r { for x in -r...r where x * x + y * y <= r * r { set(cx + x, cy + y, c) } }
    }

    /// Text in the 5×7 font, `scale` pixels a font pixel, starting at its top-left corner.
    mutating func text(_ s: String, _ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8) = (40, 40, 40), scale: Int = 1) {
        for (k, ch) in s.enumerated() {
            let g = PixelFont.glyph(ch)
            for row in 0..<PixelFont.height {
                for col in 0..<PixelFont.width where g[row] & UInt8(0x10 >> col) != 0 {
                    fill(x + (k * (PixelFont.width + 1) + col) * scale, y + row * scale, scale, scale, c)
                }
            }
        }
    }

    static func textWidth(_ s: String, scale: Int = 1) -> Int { s.count * (PixelFont.width + 1) * scale }

    func png() throws -> [UInt8] { try PNGEncoder.encode(rgb: pixels, width: width, height: height) }
}

/// Draws figures and image grids as PNG images at sizes that read well.
public enum PNGRenderer {
    public static func png(_ output: Output) throws -> [UInt8]? {
        switch output {
        case .figure(let f): return try figure(f).png()
        case .images(let g): return try images(g).png()
        case .samples(.images(let t)): return try images(ImageGrid(title: "", images: t)).png()
        case .samples(.points(let g, let real)):
            return try figure(scatter(generated: g, real: real, title: "samples")).png()
        case .samples(.words(let w)): return try words(w, title: "\(w.count) samples").png()
        default: return nil
        }
    }

    static func scatter(generated: Tensor, real: Tensor?, title: String) -> Figure {
        func points(_ t: Tensor) -> [Figure.Point] {
            let v = t.scalars
            return (0..<t.shape[0]).map { Figure.Point(v[2 * $0], v[2 * $0 + 1]) }
        }
        let g = points(generated), r = real.map(points) ?? []
        let (xr, yr) = Figure.bounds(g + r)
        var marks: [Figure.Mark] = []
        if !r.isEmpty { marks.append(.points(r, series: 0)) }
        marks.append(.points(g, series: 1))
        return Figure(
            title: title, xRange: xr, yRange: yr, series: ["real", "generated"], marks: marks, equalAspect: true)
    }

    static func figure(_ f: Figure) -> Raster {
        let scale = 2
        let plotW = f.equalAspect ? 560 : 720, plotH = 560 * (f.equalAspect ? 1 : 3) / (f.equalAspect ? 1 : 4)
        let left = 90, top = 50, bottom = 80, right = 30
        var r = Raster(width: left + plotW + right, height: top + plotH + bottom)
        var fig = f
        if fig.equalAspect { (fig.xRange, fig.yRange) = fig.equalAspectRanges(width: plotW, height: plotH) }
        let x0 = fig.xRange.lowerBound, x1 = fig.xRange.upperBound, y0 = fig.yRange.lowerBound,
            y1 = fig.yRange.upperBound
        func px(_ p: Figure.Point) -> (Int, Int) {
            let cx = min(max(p.x, x0), x1), cy = min(max(p.y, y0), y1)
            return (
                left + cell((cx - x0) / (x1 - x0) * Float(plotW - 1)),
                top + cell((y1 - cy) / (y1 - y0) * Float(plotH - 1))
            )
        }
        func inside(_ p: Figure.Point) -> Bool {
            p.x.isFinite && p.y.isFinite && p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1
        }
        r.fill(left, top, plotW, plotH, (252, 252, 252))
        for m in fig.marks {
            if case let .heatmap(values, rows, columns, low, high) = m {
                for y in 0..<plotH {
                    for x in 0..<plotW {
                        let v = values[
                            min(rows - 1, y * rows / plotH) * columns + min(columns - 1, x * columns / plotW)]
                        r.set(left + x, top + y, Palette.heat(high > low ? (v - low) / (high - low) : 0.5))
                    }
                }
            }
        }
        // Grid lines at the ticks.
        let xt = Figure.ticks(fig.xRange, count: 6), yt = Figure.ticks(fig.yRange, count: 6)
        for t in xt {
            let (x, _) = px(Figure.Point(t, y0));
            for y in stride(from: top, to: top + plotH, by: 4) { r.set(x, y, (215, 215, 215)) }
        }
        for t in yt {
            let (_, y) = px(Figure.Point(x0, t));
            for x in stride(from: left, to: left + plotW, by: 4) { r.set(x, y, (215, 215, 215)) }
        }
        for m in fig.marks {
            switch m {
            case .heatmap: break
            case let .points(ps, s):
                let radius = ps.count > 2000 ? 1 : 2
                for p in ps where inside(p) { let (x, y) = px(p); r.disc(x, y, radius: radius, Palette.color(s)) }
            case let .line(ps, s):
                for (a, b) in zip(ps, ps.dropFirst()) where a.x.isFinite && a.y.isFinite && b.x.isFinite && b.y.isFinite
                {
                    r.line(px(a), px(b), Palette.color(s), thick: 2)
                }
            case let .segments(segs, s):
                for (a, b) in segs where a.x.isFinite && b.x.isFinite && a.y.isFinite && b.y.isFinite {
                    r.line(px(a), px(b), Palette.color(s))
                }
            case let .arrows(segs, s):
                for (a, b) in segs where inside(a) && b.x.isFinite && b.y.isFinite {
                    let pa = px(a), pb = px(b)
                    r.line(pa, pb, Palette.color(s))
                    let ang = atan2(Double(pb.1 - pa.1), Double(pb.0 - pa.0))
                    for side in [-0.45, 0.45] {
                        let t = ang + Double.pi + side
                        r.line(pb, (pb.0 + Int(cos(t) * 6), pb.1 + Int(sin(t) * 6)), Palette.color(s))
                    }
                }
            }
        }
        // Frame, tick labels, title, legend.
        let axis: (UInt8, UInt8, UInt8) = (90, 90, 90)
        r.line((left, top), (left, top + plotH), axis)
        r.line((left, top + plotH), (left + plotW, top + plotH), axis)
        for t in xt {
            let (x, _) = px(Figure.Point(t, y0))
            r.line((x, top + plotH), (x, top + plotH + 5), axis)
            let s = Format.number(t, digits: 3)
            r.text(s, x - Raster.textWidth(s, scale: scale) / 2, top + plotH + 10, scale: scale)
        }
        for t in yt {
            let (_, y) = px(Figure.Point(x0, t))
            r.line((left - 5, y), (left, y), axis)
            let s = Format.number(t, digits: 3)
            r.text(s, left - 10 - Raster.textWidth(s, scale: scale), y - 7, scale: scale)
        }
        let titleScale = Raster.textWidth(fig.title, scale: scale) <= r.width - 20 ? scale : 1
        r.text(fig.title, 10, 14, (20, 20, 20), scale: titleScale)
        var lx = left
        let ly = top + plotH + 44
        for (i, name) in fig.series.enumerated() where !name.isEmpty {
            r.disc(lx + 6, ly + 7, radius: 5, Palette.color(i))
            r.text(name, lx + 16, ly, scale: scale)
            lx += 16 + Raster.textWidth(name, scale: scale) + 24
        }
        if let label = fig.heatLabel {
            lx += 20
            for k in 0..<60 { r.fill(lx + k, ly, 1, 14, Palette.heat(Float(k) / 59)) }
            r.text("0", lx - 14, ly, scale: scale)
            r.text("1 " + label, lx + 64, ly, scale: scale)
        }
        return r
    }

    /// Words in columns, as the terminal lists them, each on its own line of a column.
    static func words(_ words: [String], title: String) -> Raster {
        let scale = 2, gap = 12, lineHeight = (PixelFont.height + 4) * scale
        let longest = max(1, words.map(\.count).max() ?? 1)
        let columnWidth = Raster.textWidth(String(repeating: "m", count: longest), scale: scale) + 2 * gap
        let columns = max(1, min(words.count, 960 / columnWidth)), rows = (words.count + columns - 1) / columns
        let titleHeight = title.isEmpty ? 0 : 34
        let width = max(columns * columnWidth + gap, Raster.textWidth(title, scale: scale) + 2 * gap)
        var r = Raster(width: width, height: titleHeight + rows * lineHeight + 2 * gap, background: (250, 250, 250))
        if !title.isEmpty { r.text(title, gap, 10, (20, 20, 20), scale: scale) }
        // Down the columns, as a reader reads a list.
        for (k, word) in words.enumerated() {
            let col = k / rows, row = k % rows
            r.text(word, gap + col * columnWidth, titleHeight + gap + row * lineHeight, (30, 30, 90), scale: scale)
        }
        return r
    }

    static func images(_ g: ImageGrid) -> Raster {
        let t = g.images
        guard t.rank == 4, t.shape[0] > 0 else { return Raster(width: 1, height: 1) }
        let n = t.shape[0], c = t.shape[1], h = t.shape[2], w = t.shape[3]
        // Each image about 56–112 pixels across, in a square-ish grid.
        let zoom = max(1, 84 / max(w, h))
        let columns = max(1, min(n, g.columns ?? Int(Double(n).squareRoot().rounded(.up)))),
            rows = (n + columns - 1) / columns
        let gap = 4, titleHeight = g.title.isEmpty ? 0 : 30
        let titleWidth = g.title.isEmpty ? 0 : Raster.textWidth(g.title, scale: 2) + 2 * gap
        var r = Raster(
            width: max(columns * (w * zoom + gap) + gap, titleWidth),
            height: rows * (h * zoom + gap) + gap + titleHeight, background: (235, 235, 235))
        if !g.title.isEmpty { r.text(g.title, gap, 8, (20, 20, 20), scale: 2) }
        let v = t.scalars
        for k in 0..<n {
            let ox = gap + (k % columns) * (w * zoom + gap), oy = titleHeight + gap + (k / columns) * (h * zoom + gap)
            for y in 0..<h {
                for x in 0..<w {
                    func ch(_ i: Int) -> UInt8 { UInt8(min(max(v[((k * c + i) * h + y) * w + x], 0), 1) * 255 + 0.5) }
                    let p = c >= 3 ? (ch(0), ch(1), ch(2)) : (ch(0), ch(0), ch(0))
                    r.fill(ox + x * zoom, oy + y * zoom, zoom, zoom, p)
                }
            }
        }
        return r
    }
}

/// A plot coordinate as a whole number of cells or pixels: NaN is 0 and
/// anything beyond ±2³⁰ is clamped, so no value a plot is given can trap the
/// conversion (a zero-width range makes infinities).
func cell(_ v: Float) -> Int {
    guard !v.isNaN else { return 0 }
    return Int(max(-1_073_741_824, min(1_073_741_824, v)))
}

func cell(_ v: Double) -> Int { cell(Float(v)) }
