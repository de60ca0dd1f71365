import Foundation
import TensorCore

/// One input and what it gave: a notebook cell.
public struct Cell {
    public var source: String
    public var outputs: [Output]
    /// The error, formatted as the shell printed it.
    public var error: String?
}

/// Writes a session as a notebook: one self-contained HTML file, a Jupyter
/// nbformat 4 notebook, or Markdown with its images beside it. Text outputs
/// stay text; figures and image grids become SVG in HTML and PNG elsewhere.
/// The first comment line of the session is its title; a header says what ran it.
public enum Notebook {
    public enum Format: String, CaseIterable { case html, ipynb, md }

    /// What ran a session: shown under the title, so a figure can be traced to its run.
    public struct RunInfo {
        public var version: String
        public var seed: UInt64?
        public var quick: Bool
        public var date: Date
        public var cpu: String
        public var kernels: String
        public init(version: String, seed: UInt64?, quick: Bool, date: Date, cpu: String, kernels: String) {
            self.version = version; self.seed = seed; self.quick = quick; self.date = date
            self.cpu = cpu; self.kernels = kernels
        }

        /// One line: "gans 0.9 · seed 42 · quick mode · 2026-12-02 · AMD EPYC … · OpenBLAS Zen".
        public var line: String {
            let day = ISO8601DateFormatter.string(from: date, timeZone: .gmt, formatOptions: [.withFullDate])
            return
                (["gans \(version)"] + (seed.map { ["seed \($0)"] } ?? [])
                + (quick ? ["quick mode (a tenth of each training)"] : []) + [day, cpu, kernels])
                .joined(separator: " · ")
        }
    }

    /// The title: the first line of the session's first comment, if it starts the session.
    static func title(_ cells: [Cell], fallback: String) -> (title: String, blocks: [Block]) {
        var b = blocks(cells)
        guard case .prose(var lines)? = b.first, let first = lines.first?.trimmingCharacters(in: .whitespaces),
            !first.isEmpty
        else { return (fallback, b) }
        lines.removeFirst()
        if lines.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            b.removeFirst()
        } else {
            b[0] = .prose(lines)
        }
        return (first, b)
    }

    public static func format(of path: String) -> Format? {
        Format(rawValue: (path as NSString).pathExtension.lowercased())
    }

    /// A rendered output: text, a table, or a picture with a text alternative.
    enum Piece {
        case text(String)
        case table(Table)
        case picture(Output, alt: String)
    }

    static func pieces(_ cell: Cell, timings: Bool) throws -> [Piece] {
        let plain = TextRenderer(showTimings: timings, width: 100)
        var out: [Piece] = []
        for o in cell.outputs {
            try Interrupt.check()
            switch o {
            case .table(let t): out.append(.table(t))
            case .figure(let f): out.append(.picture(o, alt: f.title))
            case .images(let g): out.append(.picture(o, alt: g.title.isEmpty ? "images" : g.title))
            case .samples(.images(let t)): out.append(.picture(o, alt: "\(t.shape.first ?? 0) sample images"))
            default:
                let s = plain.render(o)
                if !s.isEmpty { out.append(.text(s)) }
            }
        }
        if let e = cell.error { out.append(.text(e)) }
        return out
    }

    public static func write(
        _ cells: [Cell], title: String, to path: String, timings: Bool = true, info: RunInfo? = nil
    ) throws {
        guard let f = format(of: path) else {
            throw ShellError(.value, "a notebook is written as .html, .ipynb or .md; '\(path)' is none of them")
        }
        let bytes: [UInt8]
        switch f {
        case .html: bytes = Array(try html(cells, title: title, timings: timings, info: info).utf8)
        case .ipynb: bytes = try ipynb(cells, title: title, timings: timings, info: info)
        case .md: bytes = Array(try markdown(cells, title: title, path: path, timings: timings, info: info).utf8)
        }
        try AtomicFile.write(bytes, to: path)
    }

    /// A notebook's blocks: runs of comment-only cells become one block of
    /// prose (their text without the `#`); other cells are code, numbered.
    enum Block {
        case prose([String])
        case code(Cell, number: Int)
    }

    static func blocks(_ cells: [Cell]) -> [Block] {
        var out: [Block] = []
        var number = 0
        for c in cells {
            if c.outputs.isEmpty, c.error == nil, let lines = commentLines(c.source) {
                if case .prose(let previous)? = out.last {
                    out[out.count - 1] = .prose(previous + lines)
                } else {
                    out.append(.prose(lines))
                }
            } else {
                number += 1
                out.append(.code(c, number: number))
            }
        }
        return out
    }

    /// The text of a source made only of comment lines, or nil.
    static func commentLines(_ source: String) -> [String]? {
        var lines: [String] = []
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.drop { $0 == " " || $0 == "\t" }
            if t.isEmpty { continue }
            guard t.hasPrefix("#") else { return nil }
            var text = t.dropFirst()
            if text.hasPrefix(" ") { text = text.dropFirst() }
            lines.append(String(text))
        }
        return lines.isEmpty ? nil : lines
    }

    /// Prose lines as paragraphs (split at empty lines); an indented line
    /// starts a line of its own, others join the line before.
    /// A line indented deeper than the indented line before continues it.
    static func paragraphs(_ lines: [String]) -> [[String]] {
        var paragraphs: [[String]] = [[]]
        var lastIndent = 0
        for l in lines {
            let indent = l.prefix { $0 == " " }.count
            let text = l.trimmingCharacters(in: .whitespaces)
            if text.isEmpty {
                if !(paragraphs.last?.isEmpty ?? true) { paragraphs.append([]) }
                continue
            }
            let k = paragraphs.count - 1
            let continues =
                !paragraphs[k].isEmpty && (indent == 0 ? lastIndent == 0 : lastIndent > 0 && indent > lastIndent)
            if continues {
                paragraphs[k][paragraphs[k].count - 1] += " " + text
            } else {
                paragraphs[k].append(text)
                lastIndent = indent
            }
        }
        return paragraphs.filter { !$0.isEmpty }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;"
        ).replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Prose as HTML: escaped, with `code` between backticks set as code.
    static func prose(_ s: String) -> String {
        let parts = s.split(separator: "`", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return escape(s) }
        var out = ""
        for (i, part) in parts.enumerated() {
            // An unpaired last backtick stays a backtick.
            if i % 2 == 1 && i == parts.count - 1 { out += "`" + escape(String(part)); continue }
            out += i % 2 == 1 ? "<code>" + escape(String(part)) + "</code>" : escape(String(part))
        }
        return out
    }

    public static func html(_ cells: [Cell], title fallback: String, timings: Bool = true, info: RunInfo? = nil)
        throws -> String
    {
        let (title, blocks) = title(cells, fallback: fallback)
        var figures = 0
        var body = info.map { "<p class=\"run\">\(escape($0.line))</p>\n" } ?? ""
        for block in blocks { body += try htmlBlock(block, timings: timings, figures: &figures) }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title.replacingOccurrences(of: "`", with: "")))</title>
            <style>
            \(style)
            </style></head>
            <body>
            <h1>\(prose(title))</h1>
            \(body)</body></html>

            """
    }

    /// The page's style: the exported notebook's and the live view's.
    static let style = """
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 920px; margin: 2em auto; padding: 0 1em; color: #222; }
        h1 { font-weight: 600; font-size: 1.5em; }
        .cell { margin: 1.2em 0; }
        .prose { margin: 1.4em 0 1em 3.1em; line-height: 1.5; }
        .prose p { margin: .5em 0; }
        .in { display: flex; gap: .6em; }
        .n { color: #888; font: 13px monospace; padding-top: .55em; min-width: 2.5em; text-align: right; }
        pre { margin: 0; padding: .5em .7em; font: 13px/1.35 "DejaVu Sans Mono", Menlo, Consolas, monospace; white-space: pre-wrap; }
        .in pre { background: #f4f5f7; border-left: 3px solid #7c5cbf; flex: 1; }
        .out { margin-left: 3.1em; }
        .err { color: #b00020; }
        .run { color: #666; font-size: .9em; margin-top: -.6em; }
        .prose code { font: .92em "DejaVu Sans Mono", Menlo, Consolas, monospace; background: #f4f5f7; padding: 0 .25em; border-radius: 3px; }
        figure { margin: .5em 0 .5em 3.6em; }
        figure svg { display: block; max-width: 100%; height: auto; }
        table { margin: .4em 0 .4em 3.6em; border-collapse: collapse; font: 13px monospace; }
        caption { text-align: left; padding-bottom: .3em; color: #444; }
        th, td { padding: .15em .7em; border-bottom: 1px solid #e3e3e3; text-align: left; }
        td.r { text-align: right; }
        img { display: block; margin: .5em 0 .5em 3.6em; max-width: calc(100% - 3.6em); }
        """

    /// One block of a notebook as HTML: prose, or a cell with its outputs (figures as inline SVG,
    /// their ids made unique by `figures`, the count of figures so far on the page).
    static func htmlBlock(_ block: Block, timings: Bool, figures: inout Int) throws -> String {
        var body = ""
        guard case .code(let c, let i) = block else {
            if case .prose(let lines) = block {
                body +=
                    "<div class=\"prose\">"
                    + paragraphs(lines).map { "<p>" + $0.map(prose).joined(separator: "<br>") + "</p>" }.joined()
                    + "</div>\n"
            }
            return body
        }
        body +=
            "<div class=\"cell\">\n<div class=\"in\"><span class=\"n\">[\(i)]</span><pre>\(escape(c.source))</pre></div>\n"
        for p in try pieces(c, timings: timings) { body += try htmlPiece(p, error: c.error, figures: &figures) }
        return body + "</div>\n"
    }

    /// One output as HTML.
    static func htmlPiece(_ p: Piece, error: String? = nil, figures: inout Int) throws -> String {
        switch p {
        case .text(let s):
            return "<pre class=\"out\(error != nil && s == error ? " err" : "")\">\(escape(s))</pre>\n"
        case .table(let t): return htmlTable(t) + "\n"
        case .picture(let o, let alt):
            // SVG, crisp at any zoom; Cairo's own ids are made unique per figure.
            guard let svg = try Graphics.svg(o) else { return "" }
            figures += 1
            let inline = svg.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", with: "")
                .replacingOccurrences(of: "id=\"", with: "id=\"f\(figures)-")
                .replacingOccurrences(of: "href=\"#", with: "href=\"#f\(figures)-")
                .replacingOccurrences(of: "url(#", with: "url(#f\(figures)-")
                .replacingOccurrences(of: "<svg ", with: "<svg role=\"img\" aria-label=\"\(escape(alt))\" ")
            return "<figure>\(inline)</figure>\n"
        }
    }

    /// A table as HTML, numbers right-aligned.
    static func htmlTable(_ t: Table) -> String {
        var out = "<table>" + (t.title.map { "<caption>\(escape($0))</caption>" } ?? "")
        out += "<tr>" + t.columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
        for r in t.rows {
            out +=
                "<tr>"
                + r.enumerated().map { i, v in
                    let right = i < t.rightAligned.count && t.rightAligned[i]
                    return "<td\(right ? " class=\"r\" style=\"text-align: right\"" : "")>\(escape(v))</td>"
                }.joined() + "</tr>"
        }
        return out + "</table>"
    }

    /// A table in Markdown (a pipe table under its title).
    static func markdownTable(_ t: Table) -> String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var out = t.title.map { "*\($0)*\n\n" } ?? ""
        out += "| " + t.columns.map(cell).joined(separator: " | ") + " |\n"
        out +=
            "|"
            + t.columns.indices.map { i in i < t.rightAligned.count && t.rightAligned[i] ? " ---: |" : " --- |" }
            .joined() + "\n"
        for r in t.rows { out += "| " + r.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }

    static func lines(_ s: String) -> [String] {
        let parts = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return parts.enumerated().map { $0 < parts.count - 1 ? $1 + "\n" : $1 }
    }

    public static func ipynb(
        _ cells: [Cell], title fallback: String = "gans session", timings: Bool = true, info: RunInfo? = nil
    )
        throws -> [UInt8]
    {
        let (title, blocks) = title(cells, fallback: fallback)
        // The cells are gans commands: the outputs are gans's, and running a cell needs gans.
        let head =
            "# \(title)\n\n" + (info.map { "*\($0.line)*\n\n" } ?? "")
            + "The code cells are `gans` commands with the outputs `gans` gave; run them again with `gans FILE.gans`."
        var jsonCells: [[String: Any]] = [
            ["cell_type": "markdown", "id": "title", "metadata": [String: Any](), "source": Notebook.lines(head)]
        ]
        for (k, block) in blocks.enumerated() {
            guard case .code(let c, let i) = block else {
                if case .prose(let lines) = block {
                    let text = paragraphs(lines).map { $0.joined(separator: "  \n") }.joined(separator: "\n\n")
                    jsonCells.append([
                        "cell_type": "markdown", "id": String(format: "cell-%04d", k + 1), "metadata": [String: Any](),
                        "source": Notebook.lines(text)
                    ])
                }
                continue
            }
            var outputs: [[String: Any]] = []
            for p in try pieces(c, timings: timings) {
                switch p {
                case .text(let s):
                    if c.error != nil && s == c.error {
                        outputs.append(["output_type": "stream", "name": "stderr", "text": lines(s + "\n")])
                    } else {
                        outputs.append(["output_type": "stream", "name": "stdout", "text": lines(s + "\n")])
                    }
                case .table(let t):
                    let text = TextRenderer(width: 100).render(t)
                    outputs.append([
                        "output_type": "display_data", "metadata": [String: Any](),
                        "data": ["text/html": lines(htmlTable(t)), "text/plain": lines(text)]
                    ])
                case .picture(let o, let alt):
                    guard let png = try Graphics.png(o) else { continue }
                    // Jupyter shows text/plain where an image cannot be shown; the width keeps the 2× PNG at its size.
                    let width = Graphics.drawing(o).map { Int($0.width.rounded()) } ?? 640
                    outputs.append([
                        "output_type": "display_data", "metadata": ["image/png": ["width": width]],
                        "data": ["image/png": Data(png).base64EncodedString(), "text/plain": [alt]]
                    ])
                }
            }
            jsonCells.append([
                "cell_type": "code", "id": String(format: "cell-%04d", k + 1), "execution_count": i,
                "metadata": [String: Any](), "source": lines(c.source), "outputs": outputs
            ])
        }
        let notebook: [String: Any] = [
            "nbformat": 4, "nbformat_minor": 5,
            "metadata": [
                // A kernel every Jupyter has, so it opens without asking; the cells say they are gans commands.
                "kernelspec": ["name": "python3", "display_name": "Python 3", "language": "python"],
                "language_info": ["name": "gans", "file_extension": ".gans", "mimetype": "text/plain"]
            ],
            "cells": jsonCells
        ]
        let data = try JSONSerialization.data(withJSONObject: notebook, options: [.prettyPrinted, .sortedKeys])
        return Array(data) + [10]
    }

    /// Markdown with the images written to `NAME_files/` beside it.
    public static func markdown(
        _ cells: [Cell], title fallback: String, path: String, timings: Bool = true, info: RunInfo? = nil
    ) throws -> String {
        let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let folder = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(base + "_files")
        let (title, blocks) = title(cells, fallback: fallback)
        var text = "# \(title)\n" + (info.map { "\n*\($0.line)*\n" } ?? "")
        var made = false
        for block in blocks {
            guard case .code(let c, let i) = block else {
                if case .prose(let lines) = block {
                    text +=
                        "\n" + paragraphs(lines).map { $0.joined(separator: "  \n") }.joined(separator: "\n\n") + "\n"
                }
                continue
            }
            // Inputs are marked as such and fenced as gans; outputs follow under their own mark.
            text += "\n**In [\(i)]:**\n\n```gans\n\(c.source)\n```\n"
            let outputs = try pieces(c, timings: timings)
            if !outputs.isEmpty { text += "\n**Out [\(i)]:**\n" }
            for (k, p) in outputs.enumerated() {
                switch p {
                case .text(let s): text += "\n```text\n\(s)\n```\n"
                case .table(let t): text += "\n" + markdownTable(t) + "\n"
                case .picture(let o, let alt):
                    guard let png = try Graphics.png(o) else { continue }
                    if !made {
                        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true);
                        made = true
                    }
                    let name = "cell-\(i)-\(k + 1).png"
                    try AtomicFile.write(png, to: (folder as NSString).appendingPathComponent(name))
                    text += "\n![\(alt.replacingOccurrences(of: "]", with: ")"))](\(base)_files/\(name))\n"
                }
            }
        }
        return text
    }
}
