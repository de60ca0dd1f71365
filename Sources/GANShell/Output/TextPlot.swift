import Foundation
import TensorCore

/// How text figures are drawn: braille dots or ASCII marks, and which colours.
public struct TextStyle: Equatable, Sendable {
    public enum Colors: Equatable, Sendable { case none, ansi256, truecolor }
    public var unicode: Bool
    public var colors: Colors
    public init(unicode: Bool, colors: Colors) { self.unicode = unicode; self.colors = colors }

    public static let plain = TextStyle(unicode: false, colors: .none)

    func fg(_ c: (UInt8, UInt8, UInt8)) -> String {
        switch colors {
        case .none: return ""
        case .truecolor: return "\u{1B}[38;2;\(c.0);\(c.1);\(c.2)m"
        case .ansi256: return "\u{1B}[38;5;\(TextStyle.cube(c))m"
        }
    }

    func bg(_ c: (UInt8, UInt8, UInt8)) -> String {
        switch colors {
        case .none: return ""
        case .truecolor: return "\u{1B}[48;2;\(c.0);\(c.1);\(c.2)m"
        case .ansi256: return "\u{1B}[48;5;\(TextStyle.cube(c))m"
        }
    }

    var reset: String { colors == .none ? "" : "\u{1B}[0m" }

    /// The nearest colour of the 6×6×6 cube (or the grey ramp) of the 256-colour palette.
    static func cube(_ c: (UInt8, UInt8, UInt8)) -> Int {
        let (r, g, b) = (Int(c.0), Int(c.1), Int(c.2))
        if abs(r - g) < 10 && abs(g - b) < 10 {
            let grey = (r + g + b) / 3
            if grey < 8 { return 16 }
            if grey > 238 { return 231 }
            return 232 + (grey - 8) * 24 / 231
        }
        func level(_ v: Int) -> Int { v < 48 ? 0 : v < 115 ? 1 : (v - 35) / 40 }
        return 16 + 36 * level(r) + 6 * level(g) + level(b)
    }
}

/// Draws a `Figure` into lines of text: braille dots (2×4 per character) or
/// ASCII marks, axes with ticks, a legend, a heatmap as cell backgrounds.
struct TextPlot {
    let figure: Figure
    let style: TextStyle
    let width: Int
    let height: Int

    static let asciiMarks: [Character] = [".", "o", "+", "x", "*", "#"]
    /// Marks of a Unicode terminal without colour: one glyph a series, so series stay apart.
    static let unicodeMarks: [Character] = ["•", "○", "+", "×", "*", "#"]

    /// Braille dots (2×4 a cell) when colour tells series apart; one mark a cell otherwise.
    var braille: Bool { style.unicode && style.colors != .none }
    var marksOfSeries: [Character] { style.unicode ? TextPlot.unicodeMarks : TextPlot.asciiMarks }

    func render() -> String {
        var f = figure
        let yTicks = Figure.ticks(f.yRange, count: max(2, height / 4))
        let yLabels = yTicks.map { Format.number($0, digits: 3) }
        let margin = (yLabels.map(\.count).max() ?? 1) + 1
        var w = max(10, width - margin - 1)
        let h = max(4, height)
        if f.equalAspect {
            // Only as wide as the data need: a cell is about twice as tall as wide.
            let ratio =
                (f.xRange.upperBound - f.xRange.lowerBound) / max(f.yRange.upperBound - f.yRange.lowerBound, 1e-12)
            w = min(w, max(10, cell((Float(h) * 2 * ratio).rounded(.up))))
        }
        let (dx, dy) = braille ? (2, 4) : (1, 1)
        let px = w * dx, py = h * dy
        if f.equalAspect {
            // A braille dot is about square, and an ASCII cell about twice as tall as wide.
            (f.xRange, f.yRange) = f.equalAspectRanges(width: px, height: py, cellAspect: braille ? 1 : 2)
        }
        var bits = [UInt8](repeating: 0, count: w * h)
        var marks = [Character?](repeating: nil, count: w * h)
        var owner = [Int](repeating: -1, count: w * h)
        var heat = [Float?](repeating: nil, count: w * h)
        let x0 = f.xRange.lowerBound, x1 = f.xRange.upperBound, y0 = f.yRange.lowerBound, y1 = f.yRange.upperBound
        func dot(_ p: Figure.Point) -> (Int, Int)? {
            guard p.x.isFinite, p.y.isFinite else { return nil }
            let c = cell(((p.x - x0) / (x1 - x0) * Float(px - 1)).rounded())
            let r = cell(((y1 - p.y) / (y1 - y0) * Float(py - 1)).rounded())
            return c >= 0 && c < px && r >= 0 && r < py ? (c, r) : nil
        }
        func plot(_ c: Int, _ r: Int, _ series: Int) {
            guard c >= 0, c < px, r >= 0, r < py else { return }
            let cell = (r / dy) * w + c / dx
            if braille {
                let bx = c % 2, by = r % 4
                let bit: UInt8 = by == 3 ? (bx == 0 ? 0x40 : 0x80) : UInt8(1 << (by + 3 * bx))
                bits[cell] |= bit
            } else {
                marks[cell] = marksOfSeries[series % marksOfSeries.count]
            }
            owner[cell] = series
        }
        func line(_ a: (Int, Int), _ b: (Int, Int), _ series: Int) {
            var (x, y) = a
            let ddx = abs(b.0 - a.0), ddy = -abs(b.1 - a.1), sx = a.0 < b.0 ? 1 : -1, sy = a.1 < b.1 ? 1 : -1
            var err = ddx + ddy
            for _ in 0..<(px + py) * 2 {
                plot(x, y, series)
                if x == b.0 && y == b.1 { break }
                let e2 = 2 * err
                if e2 >= ddy { err += ddy; x += sx }
                if e2 <= ddx { err += ddx; y += sy }
            }
        }
        func clipped(_ p: Figure.Point) -> (Int, Int)? {
            guard p.x.isFinite, p.y.isFinite else { return nil }
            let c = cell(((min(max(p.x, x0), x1) - x0) / (x1 - x0) * Float(px - 1)).rounded())
            let r = cell(((y1 - min(max(p.y, y0), y1)) / (y1 - y0) * Float(py - 1)).rounded())
            return (c, r)
        }
        for m in f.marks {
            switch m {
            case let .heatmap(values, rows, columns, low, high):
                for r in 0..<h {
                    for c in 0..<w {
                        let vr = min(rows - 1, r * rows / h), vc = min(columns - 1, c * columns / w)
                        let v = values[vr * columns + vc]
                        // A non-finite score (a diverged D) shows as the midpoint, never as a trap below.
                        let t = high > low ? (v - low) / (high - low) : 0.5
                        heat[r * w + c] = t.isFinite ? min(max(t, 0), 1) : 0.5
                    }
                }
            case let .points(ps, s):
                for p in ps { if let (c, r) = dot(p) { plot(c, r, s) } }
            case let .line(points, s):
                // More points than dot columns: average them per column, or the line is a smear.
                var ps = points
                if ps.count > px {
                    let per = Double(ps.count) / Double(px)
                    ps = (0..<px).compactMap { k -> Figure.Point? in
                        let part = ps[
                            Int(
                                Double(k) * per)..<min(
                                    ps.count, max(Int(Double(k) * per) + 1, Int(Double(k + 1) * per)))]
                        guard !part.isEmpty else { return nil }
                        return Figure.Point(
                            part.map(\.x).reduce(0, +) / Float(part.count),
                            part.map(\.y).reduce(0, +) / Float(part.count))
                    }
                }
                for (a, b) in zip(ps, ps.dropFirst()) { if let a = clipped(a), let b = clipped(b) { line(a, b, s) } }
            case let .segments(segs, s):
                for (a, b) in segs { if let a = clipped(a), let b = clipped(b) { line(a, b, s) } }
            case .faintLine, .cells:
                // Too fine for character cells: the smoothed line, and the grid's lines, carry it.
                break
            case let .arrows(segs, s):
                for (a, b) in segs {
                    guard let pa = clipped(a), let pb = clipped(b) else { continue }
                    line(pa, pb, s)
                    let ang = atan2(Double(pb.1 - pa.1), Double(pb.0 - pa.0))
                    let len = Double(braille ? 3 : 1)
                    for side in [-0.5, 0.5] {
                        let t = ang + Double.pi + side
                        line(pb, (pb.0 + cell((cos(t) * len).rounded()), pb.1 + cell((sin(t) * len).rounded())), s)
                    }
                }
            }
        }
        // Reference lines, dashed, in the cells nothing else took.
        for ref in f.references where ref.y.isFinite && ref.y >= y0 && ref.y <= y1 {
            let r = cell(((y1 - ref.y) / (y1 - y0) * Float(h - 1)).rounded())
            for c in stride(from: 0, to: w, by: 2) where bits[r * w + c] == 0 && marks[r * w + c] == nil {
                marks[r * w + c] = style.unicode ? "┄" : "-"
                if braille { bits[r * w + c] = 0 }
            }
        }
        // Compose the lines: y labels, the plot area, the x axis and its labels, the legend.
        var out: [String] = []
        if !f.title.isEmpty { out.append(f.title) }
        let tickRows = Dictionary(
            yTicks.enumerated().map { (i, t) in
                (cell(((y1 - t) / (y1 - y0) * Float(h - 1)).rounded()), yLabels[i])
            }, uniquingKeysWith: { a, _ in a })
        let vertical = style.unicode ? "┤" : "|", plainVertical = style.unicode ? "│" : "|"
        let shades = Array(" .:-=+*#%@")
        for r in 0..<h {
            let label = tickRows[r] ?? ""
            var row =
                String(repeating: " ", count: margin - 1 - label.count) + label
                + (tickRows[r] != nil ? vertical : plainVertical)
            var lastStyle = ""
            for c in 0..<w {
                let i = r * w + c
                var ch: Character = " "
                if braille, bits[i] != 0 {
                    ch = Character(Unicode.Scalar(0x2800 + UInt32(bits[i]))!)
                } else if let m = marks[i] {
                    ch = m
                } else if let t = heat[i], style.colors == .none {
                    ch = shades[min(shades.count - 1, max(0, Int(t * Float(shades.count - 1) + 0.5)))]
                }
                if style.unicode && ch == " ", let t = heat[i], style.colors == .none {
                    ch = Array(" ░▒▓")[max(0, min(3, cell(t * 3.99)))]
                }
                var cellStyle = ""
                if let t = heat[i] { cellStyle += style.bg(Palette.heat(t)) }
                if owner[i] >= 0 { cellStyle += style.fg(f.color(owner[i])) }
                if cellStyle != lastStyle {
                    if !lastStyle.isEmpty { row += style.reset }
                    row += cellStyle
                    lastStyle = cellStyle
                }
                row.append(ch)
            }
            if !lastStyle.isEmpty { row += style.reset }
            out.append(row.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        out.append(
            String(repeating: " ", count: margin - 1)
                + (style.unicode ? "└" + String(repeating: "─", count: w) : "+" + String(repeating: "-", count: w)))
        // x tick labels placed under their columns, skipping any that would overlap.
        var labelLine = [Character](repeating: " ", count: margin + w + 8)
        var free = 0
        for t in Figure.ticks(f.xRange, count: max(3, w / 8)) {
            let s = Array(Format.number(t, digits: 3))
            let col = margin + cell(((t - x0) / (x1 - x0) * Float(w - 1)).rounded()) - s.count / 2
            guard col >= free, col >= 0, col + s.count <= labelLine.count else { continue }
            for (k, ch) in s.enumerated() { labelLine[col + k] = ch }
            free = col + s.count + 1
        }
        out.append(String(labelLine).replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        var legend: [String] = []
        let used = Set(owner.filter { $0 >= 0 })
        for (i, name) in f.series.enumerated() where used.contains(i) || f.series.count <= 2 {
            let key = braille ? "●" : String(marksOfSeries[i % marksOfSeries.count])
            // A near-black key would vanish on a dark terminal: it takes the terminal's own colour.
            let c = f.color(i)
            let dark = 0.3 * Double(c.0) + 0.59 * Double(c.1) + 0.11 * Double(c.2) < 60
            legend.append((dark ? "" : style.fg(c)) + key + (dark ? "" : style.reset) + " " + name)
        }
        // Shaded cells are not drawn in characters, so only a heatmap has a key here.
        if let label = f.heatLabel,
            let range = f.marks.lazy.compactMap({ m -> String? in
                guard case let .heatmap(_, _, _, low, high) = m else { return nil }
                return Format.number(low, digits: 3) + "…" + Format.number(high, digits: 3)
            }).first
        {
            legend.append(
                style.colors == .none
                    ? "background: \(label), light to dark \(range)"
                    : style.bg(Palette.heat(0)) + "  " + style.reset + "…" + style.bg(Palette.heat(1)) + "  "
                        + style.reset + " " + label + " " + range)
        }
        if !legend.isEmpty { out.append(String(repeating: " ", count: margin) + legend.joined(separator: "   ")) }
        return out.joined(separator: "\n")
    }
}

/// Draws images in the terminal: Unicode half blocks (two pixels a cell) in
/// colour, or ASCII shades.
struct TextImages {
    let grid: ImageGrid
    let style: TextStyle
    let width: Int

    func render() -> String {
        let t = grid.images
        guard t.rank == 4, t.shape[0] > 0 else { return grid.title }
        let n = t.shape[0], c = t.shape[1], h = t.shape[2], w = t.shape[3]
        let v = t.scalars
        func pixel(_ k: Int, _ y: Int, _ x: Int) -> (UInt8, UInt8, UInt8) {
            func ch(_ i: Int) -> UInt8 { UInt8(min(max(v[((k * c + i) * h + y) * w + x], 0), 1) * 255 + 0.5) }
            return c >= 3 ? (ch(0), ch(1), ch(2)) : (ch(0), ch(0), ch(0))
        }
        var out: [String] = grid.title.isEmpty ? [] : [grid.title]
        guard style.unicode && style.colors != .none else {
            out.append(TextRenderer(width: width).asciiGrid(t))
            return out.joined(separator: "\n")
        }
        // Small images are doubled so a digit is more than a few characters, when four still fit a row.
        let scale = w <= 12 && (width + 1) / (2 * w + 1) >= min(n, 4) ? 2 : 1
        let cw = w * scale, ch = h * scale
        let perRow = max(1, min(n, grid.columns ?? n, (width + 1) / (cw + 1)))
        for start in stride(from: 0, to: n, by: perRow) {
            // A blank line between rows of images, so rows do not merge into strips.
            if start > 0 { out.append("") }
            for row in stride(from: 0, to: ch, by: 2) {
                var line = ""
                for k in start..<min(n, start + perRow) {
                    if k > start { line += style.reset + " " }
                    for x in 0..<cw {
                        let top = pixel(k, row / scale, x / scale)
                        let bottom = row + 1 < ch ? pixel(k, (row + 1) / scale, x / scale) : (0, 0, 0)
                        line += style.fg(top) + style.bg(bottom) + "▀"
                    }
                }
                out.append(line + style.reset)
            }
        }
        return out.joined(separator: "\n")
    }
}
