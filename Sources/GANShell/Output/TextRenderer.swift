import Foundation
import GANKit
import TensorCore

/// Numbers as the shell prints them: 4 significant digits, no trailing noise.
public enum Format {
    /// Significant digits of printed numbers (transcript tests use fewer).
    nonisolated(unsafe) public static var significantDigits = 4

    public static func number(_ v: Float, digits: Int? = nil) -> String {
        let digits = digits ?? significantDigits
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == 0 { return "0" }
        if v == v.rounded(), abs(v) < 1e7 { return String(Int(v)) }
        var s = String(format: "%.\(digits)g", Double(v))
        if s == "-0" { s = "0" }
        return s
    }

    public static func number(_ v: Double, digits: Int? = nil) -> String { number(Float(v), digits: digits) }

    public static func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

    public static func seconds(_ s: Double) -> String {
        if s < 1e-3 { return String(format: "%.0f µs", s * 1e6) }
        if s < 1 { return String(format: "%.1f ms", s * 1e3) }
        return String(format: "%.2f s", s)
    }

    public static func count(_ n: Int) -> String {
        let s = String(n)
        guard n >= 10_000 else { return s }
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}

/// Draws outputs as text. With the plain style (pipes, scripts' logs,
/// golden transcripts, notebook text) figures are ASCII; on a terminal they
/// are braille dots and half blocks in colour.
public struct TextRenderer {
    /// Leave out wall times (for transcripts that must compare exactly).
    public var showTimings = true
    public var width = 80
    public var style = TextStyle.plain
    /// Rows of a plot's drawing area.
    public var plotHeight = 16

    public init(showTimings: Bool = true, width: Int = 80, style: TextStyle = .plain) {
        self.showTimings = showTimings
        self.width = width
        self.style = style
    }

    public func render(_ outputs: [Output]) -> String {
        outputs.map(render).filter { !$0.isEmpty }.joined(separator: "\n")
    }

    public func render(_ output: Output) -> String {
        switch output {
        case .text(let s): return s
        case .prose(let s): return TextRenderer.wrap(s, width: width)
        case .table(let t): return render(t)
        case .tensor(let v): return render(v)
        case .histogram(let h): return render(h)
        case .steps(let s): return s.map(line).joined(separator: "\n")
        case .samples(let s): return render(s)
        case .timing(let what, let s): return showTimings ? "\(what) \(Format.seconds(s))" : ""
        case .figure(let f): return TextPlot(figure: f, style: style, width: width, height: plotHeight).render()
        case .images(let g): return TextImages(grid: g, style: style, width: width).render()
        }
    }

    public func render(_ t: Table) -> String {
        var widths = t.columns.map(\.count)
        for r in t.rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func row(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                return t.rightAligned[i] ? pad + c : c + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var lines: [String] = []
        if let title = t.title { lines.append(title) }
        lines.append(row(t.columns))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        lines += t.rows.map(row)
        return lines.joined(separator: "\n")
    }

    public func render(_ v: TensorView) -> String {
        var head = (v.name.map { "\($0): " } ?? "") + "tensor \(Format.shape(v.shape))"
        if v.requiresGrad { head += ", requires grad" }
        if let g = v.gradShape { head += ", grad \(Format.shape(g))" }
        var lines = [head]
        if v.shape.reduce(1, *) > 1 {
            var s =
                "mean \(Format.number(v.mean))  std \(Format.number(v.std))  min \(Format.number(v.min))  max \(Format.number(v.max))"
            if v.nonFinite > 0 { s += "  non-finite \(v.nonFinite)" }
            lines.append(s)
        }
        lines.append(v.values)
        if let h = v.histogram { lines.append(render(h)) }
        return lines.joined(separator: "\n")
    }

    public func render(_ h: Histogram) -> String {
        let peak = max(h.counts.max() ?? 0, 1)
        let binWidth = (h.high - h.low) / Float(h.counts.count)
        let labels = h.counts.indices.map { i in Format.number(h.low + Float(i) * binWidth, digits: 3) }
        let labelWidth = labels.map(\.count).max() ?? 0
        let countWidth = String(peak).count
        let bar = max(10, width - labelWidth - countWidth - 6)
        var lines = h.title.map { [$0] } ?? []
        for (i, c) in h.counts.enumerated() {
            let label = String(repeating: " ", count: labelWidth - labels[i].count) + labels[i]
            let count = String(repeating: " ", count: countWidth - String(c).count) + String(c)
            let bars: String
            if style.unicode {
                // Eighths of a block for a smooth end.
                let eighths = cell((Float(c) / Float(peak) * Float(bar * 8)).rounded())
                bars =
                    String(repeating: "█", count: eighths / 8)
                    + (eighths % 8 > 0 ? String(Array("▏▎▍▌▋▊▉")[eighths % 8 - 1]) : "")
            } else {
                bars = String(repeating: "#", count: max(0, cell((Float(c) / Float(peak) * Float(bar)).rounded())))
            }
            let colored = bars.isEmpty ? "" : " " + style.fg(Palette.color(3)) + bars + style.reset
            lines.append("\(label) \(style.unicode ? "│" : "|") \(count)" + colored)
        }
        if h.nonFinite > 0 { lines.append("(\(h.nonFinite) non-finite values not shown)") }
        return lines.joined(separator: "\n")
    }

    /// One line per step: `D 12  loss 1.27 (real 0.61, fake 0.66)  D(x) 0.54  D(G(z)) 0.47`.
    public func line(_ s: StepStats) -> String {
        var parts = ["step \(s.step)" + (s.reconstruction != nil ? "" : " " + s.part.rawValue)]
        if let l = s.dLoss {
            var t = "loss \(Format.number(l))"
            if let r = s.dLossReal, let f = s.dLossFake {
                t +=
                    " (real \(Format.number(r)), fake \(Format.number(f))"
                    + (s.penalty.map { ", penalty \(Format.number($0))" } ?? "") + ")"
            }
            parts.append(t)
        }
        if let l = s.gLoss {
            var t = "loss \(Format.number(l))"
            if let r = s.reconstruction, let k = s.kl {
                t += " (reconstruction \(Format.number(r)), KL \(Format.number(k)))"
            }
            parts.append(t)
        }
        if let r = s.dReal { parts.append("D(x) \(Format.number(r))") }
        if let f = s.dFake { parts.append("D(G(z)) \(Format.number(f))") }
        if let w = s.wasserstein { parts.append("W \(Format.number(w))") }
        return parts.joined(separator: "  ")
    }

    public func render(_ s: SampleView) -> String {
        switch s {
        case .points(let g, _):
            let v = g.scalars
            let rows = (0..<g.shape[0]).map { i in
                [String(i)] + (0..<g.shape[1]).map { j in Format.number(v[i * g.shape[1] + j]) }
            }
            return render(
                Table(
                    columns: ["#"] + (0..<g.shape[1]).map { "x\($0)" }, rows: rows,
                    rightAligned: [Bool](repeating: true, count: g.shape[1] + 1)))
        case .images(let t):
            return TextImages(grid: ImageGrid(title: "", images: t), style: style, width: width).render()
        case .words(let w):
            return wrapWords(w)
        case .values(let t):
            return t.formatted(threshold: 200, edgeItems: 3, precision: 4)
        }
    }

    /// Images side by side in shades of ASCII, as many per row as fit.
    func asciiGrid(_ t: Tensor) -> String {
        let n = t.shape[0], c = t.shape[1], h = t.shape[2], w = t.shape[3]
        let ramp = Array(" .:-=+*#%@")
        let v = t.scalars
        let perRow = max(1, min(n, (width + 1) / (w + 1)))
        var lines: [String] = []
        for start in stride(from: 0, to: n, by: perRow) {
            for y in 0..<h {
                var line = ""
                for k in start..<min(n, start + perRow) {
                    if k > start { line += " " }
                    for x in 0..<w {
                        var s: Float = 0
                        for ch in 0..<c { s += v[((k * c + ch) * h + y) * w + x] }
                        let level = min(ramp.count - 1, max(0, Int(s / Float(c) * Float(ramp.count - 1) + 0.5)))
                        line.append(ramp[level])
                    }
                }
                lines.append(line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            }
            if start + perRow < n { lines.append("") }
        }
        return lines.joined(separator: "\n")
    }

    /// Each line longer than `width` broken at spaces; continuation lines are indented to the
    /// text after the line's first two-space gap (a column of a list) or a list item's dash,
    /// else to its indentation.
    public static func wrap(_ text: String, width: Int) -> String {
        reflow(text).map { line -> String in
            let chars = Array(line)
            guard chars.count > width, width >= 20 else { return String(line) }
            let lead = chars.prefix { $0 == " " }.count
            // A list item's continuation lines hang under its text.
            var hang = chars.dropFirst(lead).starts(with: ["-", " "]) ? lead + 2 : lead
            if let gap = (lead..<max(lead, chars.count - 2)).first(where: {
                chars[$0] == " " && chars[$0 + 1] == " " && chars[$0 + 2] != " " && $0 > lead
            }) {
                var k = gap
                while k < chars.count, chars[k] == " " { k += 1 }
                if k <= width - 24 { hang = k }
            }
            var out: [String] = [], current = String(chars.prefix(lead))
            let words = String(chars.dropFirst(lead)).split(separator: " ", omittingEmptySubsequences: false)
            // Keep a gap of several spaces as it was typed (a column), but break only at single spaces.
            for w in words {
                let piece = String(w)
                let candidate = current.count == (out.isEmpty ? lead : hang) ? current + piece : current + " " + piece
                if candidate.count > width, current.trimmingCharacters(in: .whitespaces).count > 0 {
                    out.append(current)
                    current = String(repeating: " ", count: hang) + piece
                } else {
                    current = candidate
                }
            }
            out.append(current)
            return out.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Lines of a paragraph joined: text typed over several lines of the same indentation (no
    /// column gap in them) is one paragraph, so wrapping does not leave the typed breaks behind.
    /// Lines indented four or more (examples, code) stay as typed.
    static func reflow(_ text: String) -> [String] {
        func isRow(_ l: Substring) -> Bool { l.trimmingCharacters(in: .whitespaces).contains("  ") }
        // A list item starts a line of its own.
        func isItem(_ l: Substring) -> Bool {
            let t = l.drop { $0 == " " }
            return t.hasPrefix("- ") || t.hasPrefix("• ") || t.hasPrefix("* ")
                || (t.first?.isNumber == true && t.dropFirst().prefix(2).contains { $0 == "." || $0 == ")" })
        }
        func indent(_ l: Substring) -> Int { l.prefix { $0 == " " }.count }
        var out: [String] = []
        var previous: Substring? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let p = previous, !p.trimmingCharacters(in: .whitespaces).isEmpty,
                !line.trimmingCharacters(in: .whitespaces).isEmpty,
                !isRow(p), !isRow(line), !isItem(line), indent(p) == indent(line), indent(line) < 4, !p.hasSuffix(":")
            {
                out[out.count - 1] += " " + line.drop { $0 == " " }
            } else {
                out.append(String(line))
            }
            previous = line
        }
        return out
    }

    func wrapWords(_ words: [String]) -> String {
        // Samples with spaces of their own (windows of text) go one to a line, numbered and
        // quoted, or the gaps between them could not be told from the gaps inside them.
        if words.contains(where: { $0.contains(" ") || $0.contains("\n") }) {
            let digits = String(words.count).count
            return words.enumerated().map { i, w in
                let n = String(i + 1)
                return String(repeating: " ", count: digits - n.count) + n + "  \""
                    + w.replacingOccurrences(of: "\n", with: "⏎") + "\""
            }.joined(separator: "\n")
        }
        var lines: [String] = [], line = ""
        for w in words {
            if !line.isEmpty && line.count + 2 + w.count > width { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : "  ") + w
        }
        if !line.isEmpty { lines.append(line) }
        return lines.joined(separator: "\n")
    }
}
