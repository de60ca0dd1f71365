import Foundation
import TensorCore

/// Lays out figures, image grids and word lists as `Drawing`s and paints them with Cairo: PNG
/// at two pixels a unit (sharp on projectors and HiDPI screens), SVG for HTML notebooks.
public enum Graphics {
    /// The drawing of an output that has a picture; nil for text and tables.
    public static func drawing(_ output: Output) -> Drawing? {
        switch output {
        case .figure(let f): return figure(f)
        case .images(let g): return images(g)
        case .samples(.images(let t)): return images(ImageGrid(title: "", images: t))
        case .samples(.points(let g, let real)):
            return figure(Figure.scatter(generated: g, real: real, title: "samples"))
        case .samples(.words(let w)): return words(w, title: "\(w.count) samples")
        default: return nil
        }
    }

    public static func png(_ output: Output) throws -> [UInt8]? {
        try drawing(output).map { try Cairo.png($0) }
    }

    public static func svg(_ output: Output) throws -> String? {
        try drawing(output).map { try Cairo.svg($0) }
    }

    typealias P = Drawing.P

    static let titleSize = 15.0, labelSize = 12.0, tickSize = 11.0

    // MARK: Figures

    static func figure(_ f: Figure) -> Drawing {
        var fig = f
        let heat = f.marks.first { if case .heatmap = $0 { return true } else { return false } }
        let shaded = f.marks.contains { if case .cells = $0 { return true } else { return false } }
        let plotW: Double = f.equalAspect ? 440 : 540, plotH: Double = f.equalAspect ? 440 : 300
        if fig.equalAspect { (fig.xRange, fig.yRange) = fig.equalAspectRanges(width: Int(plotW), height: Int(plotH)) }
        let xt = Figure.ticks(fig.xRange, count: 6), yt = Figure.ticks(fig.yRange, count: 6)
        let yLabels = yt.map { Format.number($0, digits: 3) }
        let tickWidth = yLabels.map { Cairo.textWidth($0, size: tickSize) }.max() ?? 20
        let left = 18 + (fig.yLabel == nil ? 0 : 20) + tickWidth + 8
        let top = 40.0 + (titleLines(fig.title).count > 1 ? 18 : 0)
        let barSpace = heat != nil || shaded ? 96.0 : 0
        let right = 20.0 + barSpace
        let legendTop = top + plotH + 34 + (fig.xLabel == nil ? 0 : 22)
        let names = fig.series.enumerated().filter { !$0.element.isEmpty }
        let legend = legendRows(names.map(\.element), width: left + plotW + right - 24)
        let noteLines = fig.note.map { wrap($0, width: left + plotW + right - left - 12, size: tickSize) } ?? []
        let height = legendTop + Double(legend.count) * 20 + Double(noteLines.count) * 16 + 8
        var d = Drawing(width: max(left + plotW + right, 360), height: height)
        let x0 = Double(fig.xRange.lowerBound), x1 = Double(fig.xRange.upperBound)
        let y0 = Double(fig.yRange.lowerBound), y1 = Double(fig.yRange.upperBound)
        func px(_ p: Figure.Point) -> P {
            P(left + (Double(p.x) - x0) / (x1 - x0) * plotW, top + (y1 - Double(p.y)) / (y1 - y0) * plotH)
        }
        func finite(_ p: Figure.Point) -> Bool { p.x.isFinite && p.y.isFinite }

        for (k, line) in titleLines(fig.title).enumerated() {
            d.items.append(
                .text(
                    line, at: P(left, 22 + 18 * Double(k)), size: titleSize, color: .ink, anchor: .start, bold: true,
                    vertical: false))
        }
        d.items.append(
            .rect(x: left, y: top, w: plotW, h: plotH, fill: RGBA(0.985, 0.985, 0.985), stroke: nil, lineWidth: 0))
        d.items.append(.clip(x: left, y: top, w: plotW, h: plotH))
        // Underneath: a heatmap, smoothed between its grid's centres.
        for m in fig.marks {
            guard case let .heatmap(values, rows, columns, low, high) = m, rows > 0, columns > 0 else { continue }
            var pixels = [UInt8](repeating: 0, count: rows * columns * 3)
            for i in 0..<(rows * columns) {
                let c = Palette.heat(high > low ? (values[i] - low) / (high - low) : 0.5)
                pixels[3 * i] = c.0; pixels[3 * i + 1] = c.1; pixels[3 * i + 2] = c.2
            }
            d.items.append(
                .image(pixels: pixels, width: columns, height: rows, into: (left, top, plotW, plotH), smooth: true))
        }
        for m in fig.marks {
            guard case let .cells(quads, values, low, high) = m else { continue }
            for (q, v) in zip(quads, values) where q.allSatisfy(finite) {
                let c = Palette.heat(high > low ? (v - low) / (high - low) : 0.5)
                d.items.append(.polygon(q.map(px), fill: RGBA(c, alpha: 0.7)))
            }
        }
        // Grid lines at the ticks.
        var grid: [(P, P)] = []
        for t in xt { let x = px(Figure.Point(t, 0)).x; grid.append((P(x, top), P(x, top + plotH))) }
        for t in yt { let y = px(Figure.Point(0, t)).y; grid.append((P(left, y), P(left + plotW, y))) }
        d.items.append(.segments(grid, stroke: heat == nil && !shaded ? .grid : RGBA(1, 1, 1, 0.35), width: 0.6))
        for r in fig.references {
            let y = px(Figure.Point(0, r.y)).y
            d.items.append(.polyline([P(left, y), P(left + plotW, y)], stroke: .muted, width: 1, dash: [5, 4]))
            d.items.append(
                .text(
                    r.label, at: P(left + plotW - 4, y - 4), size: tickSize, color: .muted, anchor: .end, bold: false,
                    vertical: false))
        }
        for m in fig.marks {
            switch m {
            case .heatmap, .cells: break
            case let .faintLine(ps, s):
                d.items.append(
                    .polyline(ps.filter(finite).map(px), stroke: RGBA(fig.color(s), alpha: 0.28), width: 1, dash: []))
            case let .line(ps, s):
                d.items.append(.polyline(ps.filter(finite).map(px), stroke: RGBA(fig.color(s)), width: 2, dash: []))
            case let .segments(segs, s):
                let name = s < fig.series.count ? fig.series[s] : ""
                // A level line is bold; a warped grid's lines are fine, so its shaded cells show.
                let level = name.hasPrefix("D = ") || name.hasPrefix("critic")
                d.items.append(
                    .segments(
                        segs.filter { finite($0.0) && finite($0.1) }.map { (px($0.0), px($0.1)) },
                        stroke: RGBA(fig.color(s), alpha: level ? 0.9 : 0.6), width: level ? 2 : 0.7))
            case let .arrows(segs, s):
                let drawn = segs.filter { finite($0.0) && finite($0.1) }.map { (px($0.0), px($0.1)) }
                d.items.append(.arrows(drawn, stroke: RGBA(fig.color(s), alpha: 0.85), width: 1.1, head: 5))
            case let .points(ps, s):
                let drawn = ps.filter(finite).map(px)
                // Many points get smaller, more transparent markers so overlaps still read.
                let radius = drawn.count > 1500 ? 1.6 : drawn.count > 400 ? 2.2 : 3
                let alpha = drawn.count > 1500 ? 0.5 : 0.75
                let name = s < fig.series.count ? fig.series[s] : "series \(s)"
                let c = RGBA(fig.color(s))
                d.items.append(
                    .circles(
                        drawn, radius: radius, fill: c.with(alpha: alpha),
                        stroke: RGBA(c.r * 0.45, c.g * 0.45, c.b * 0.45, 0.9), role: name))
            }
        }
        d.items.append(.unclip)
        d.items.append(.rect(x: left, y: top, w: plotW, h: plotH, fill: nil, stroke: .muted, lineWidth: 0.8))
        // Ticks and their labels.
        var ticks: [(P, P)] = []
        for t in xt {
            let x = px(Figure.Point(t, 0)).x
            ticks.append((P(x, top + plotH), P(x, top + plotH + 4)))
            d.items.append(
                .text(
                    Format.number(t, digits: 3), at: P(x, top + plotH + 16), size: tickSize, color: .muted,
                    anchor: .middle, bold: false, vertical: false))
        }
        for (t, label) in zip(yt, yLabels) {
            let y = px(Figure.Point(0, t)).y
            ticks.append((P(left - 4, y), P(left, y)))
            d.items.append(
                .text(
                    label, at: P(left - 7, y + 4), size: tickSize, color: .muted, anchor: .end, bold: false,
                    vertical: false))
        }
        d.items.append(.segments(ticks, stroke: .muted, width: 0.8))
        if let xl = fig.xLabel {
            d.items.append(
                .text(
                    xl, at: P(left + plotW / 2, top + plotH + 36), size: labelSize, color: .ink, anchor: .middle,
                    bold: false, vertical: false))
        }
        if let yl = fig.yLabel {
            d.items.append(
                .text(
                    yl, at: P(16, top + plotH / 2), size: labelSize, color: .ink, anchor: .middle, bold: false,
                    vertical: true))
        }
        // The colour bar of a heatmap or shaded cells, with its real values.
        let scale: (low: Float, high: Float)? = fig.marks.lazy.compactMap { m -> (Float, Float)? in
            switch m {
            case let .heatmap(_, _, _, low, high): return (low, high)
            case let .cells(_, _, low, high): return (low, high)
            default: return nil
            }
        }.first
        if let scale {
            let bx = left + plotW + 18, steps = 64
            var pixels: [UInt8] = []
            for k in 0..<steps {
                let c = Palette.heat(1 - Float(k) / Float(steps - 1))
                pixels += [c.0, c.1, c.2]
            }
            d.items.append(.image(pixels: pixels, width: 1, height: steps, into: (bx, top, 14, plotH), smooth: true))
            d.items.append(.rect(x: bx, y: top, w: 14, h: plotH, fill: nil, stroke: .muted, lineWidth: 0.6))
            let range = scale.low...max(scale.high, scale.low + 1e-6)
            for t in Figure.ticks(range, count: 5) {
                let y = top + Double((range.upperBound - t) / (range.upperBound - range.lowerBound)) * plotH
                d.items.append(.segments([(P(bx + 14, y), P(bx + 18, y))], stroke: .muted, width: 0.8))
                d.items.append(
                    .text(
                        Format.number(t, digits: 3), at: P(bx + 21, y + 4), size: tickSize, color: .muted,
                        anchor: .start, bold: false, vertical: false))
            }
            if let label = fig.heatLabel {
                d.items.append(
                    .text(
                        label, at: P(bx + 82, top + plotH / 2), size: labelSize, color: .ink, anchor: .middle,
                        bold: false, vertical: true))
            }
        }
        // The legend: a marker or a line per series, in rows that fit.
        var y = legendTop
        for row in legend {
            var x = left
            for name in row {
                guard let i = fig.series.firstIndex(of: name) else { continue }
                let color = RGBA(fig.color(i))
                let isLine = fig.marks.contains {
                    switch $0 {
                    case .line(_, let s), .segments(_, let s), .faintLine(_, let s), .arrows(_, let s): return s == i
                    default: return false
                    }
                }
                if isLine {
                    d.items.append(.polyline([P(x, y - 4), P(x + 18, y - 4)], stroke: color, width: 2, dash: []))
                } else {
                    d.items.append(.circles([P(x + 9, y - 4)], radius: 4, fill: color, stroke: nil, role: "legend"))
                }
                d.items.append(
                    .text(
                        name, at: P(x + 24, y), size: labelSize, color: .ink, anchor: .start, bold: false,
                        vertical: false))
                x += 24 + Cairo.textWidth(name, size: labelSize) + 18
            }
            y += 20
        }
        for line in noteLines {
            d.items.append(
                .text(line, at: P(left, y), size: tickSize, color: .muted, anchor: .start, bold: false, vertical: false)
            )
            y += 16
        }
        return d
    }

    /// A title broken at ", " into at most two lines when it is long.
    static func titleLines(_ title: String) -> [String] {
        guard title.count > 70,
            let cut = title.range(
                of: ", ", options: .backwards, range: title.startIndex..<title.index(title.startIndex, offsetBy: 70))
        else { return [title] }
        return [String(title[..<cut.lowerBound]) + ",", String(title[cut.upperBound...])]
    }

    /// Text broken at spaces into lines no wider than `width`.
    static func wrap(_ text: String, width: Double, size: Double) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            let candidate = line.isEmpty ? String(word) : line + " " + word
            if !line.isEmpty, Cairo.textWidth(candidate, size: size) > width {
                lines.append(line); line = String(word)
            } else {
                line = candidate
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// Legend entries in rows no wider than `width`.
    static func legendRows(_ names: [String], width: Double) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], used = 0.0
        for n in names {
            let w = 24 + Cairo.textWidth(n, size: labelSize) + 18
            if !row.isEmpty, used + w > width { rows.append(row); row = []; used = 0 }
            row.append(n); used += w
        }
        if !row.isEmpty { rows.append(row) }
        return rows
    }

    // MARK: Images and words

    /// Images in a grid with gaps, each drawn as sharp pixels about 84 units across.
    static func images(_ g: ImageGrid) -> Drawing {
        let t = g.images
        guard t.rank == 4, t.shape[0] > 0 else { return Drawing(width: 1, height: 1) }
        let n = t.shape[0], c = t.shape[1], h = t.shape[2], w = t.shape[3]
        let zoom = Double(max(1, 84 / max(w, h)))
        let columns = max(1, min(n, g.columns ?? Int(Double(n).squareRoot().rounded(.up))))
        let rows = (n + columns - 1) / columns
        let gap = 6.0, titleHeight = g.title.isEmpty ? 0.0 : 30
        let cellW = Double(w) * zoom, cellH = Double(h) * zoom
        let width = max(
            Double(columns) * (cellW + gap) + gap,
            g.title.isEmpty ? 0 : Cairo.textWidth(g.title, size: 13, bold: true) + 2 * gap)
        var d = Drawing(width: width, height: Double(rows) * (cellH + gap) + gap + titleHeight)
        d.background = RGBA(0.93, 0.93, 0.93)
        if !g.title.isEmpty {
            d.items.append(
                .text(g.title, at: P(gap, 20), size: 13, color: .ink, anchor: .start, bold: true, vertical: false))
        }
        let v = t.scalars
        for k in 0..<n {
            var pixels = [UInt8](repeating: 0, count: w * h * 3)
            for y in 0..<h {
                for x in 0..<w {
                    func ch(_ i: Int) -> UInt8 { UInt8(min(max(v[((k * c + i) * h + y) * w + x], 0), 1) * 255 + 0.5) }
                    let p = c >= 3 ? (ch(0), ch(1), ch(2)) : (ch(0), ch(0), ch(0))
                    let o = 3 * (y * w + x)
                    pixels[o] = p.0; pixels[o + 1] = p.1; pixels[o + 2] = p.2
                }
            }
            let ox = gap + Double(k % columns) * (cellW + gap),
                oy = titleHeight + gap + Double(k / columns) * (cellH + gap)
            d.items.append(.image(pixels: pixels, width: w, height: h, into: (ox, oy, cellW, cellH), smooth: false))
        }
        return d
    }

    /// Words in columns, read down each column as a list is.
    static func words(_ words: [String], title: String) -> Drawing {
        let size = 13.0, gap = 12.0, lineHeight = 19.0
        let longest = words.map { Cairo.textWidth($0, size: size) }.max() ?? 10
        let columnWidth = longest + 2 * gap
        let columns = max(1, min(words.count, Int(640 / columnWidth))), rows = (words.count + columns - 1) / columns
        let titleHeight = title.isEmpty ? 0.0 : 30
        let width = max(Double(columns) * columnWidth + gap, Cairo.textWidth(title, size: size, bold: true) + 2 * gap)
        var d = Drawing(width: width, height: titleHeight + Double(rows) * lineHeight + 2 * gap)
        d.background = RGBA(0.98, 0.98, 0.98)
        if !title.isEmpty {
            d.items.append(
                .text(title, at: P(gap, 22), size: size, color: .ink, anchor: .start, bold: true, vertical: false))
        }
        for (k, word) in words.enumerated() {
            let col = k / max(rows, 1), row = k % max(rows, 1)
            d.items.append(
                .text(
                    word, at: P(gap + Double(col) * columnWidth, titleHeight + gap + Double(row + 1) * lineHeight - 5),
                    size: size, color: RGBA(0.12, 0.12, 0.35), anchor: .start, bold: false, vertical: false))
        }
        return d
    }
}
