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
/// stay text; figures and image grids become PNG images.
public enum Notebook {
    public enum Format: String, CaseIterable { case html, ipynb, md }

    public static func format(of path: String) -> Format? {
        Format(rawValue: (path as NSString).pathExtension.lowercased())
    }

    /// A rendered output: text, or PNG bytes with a text fallback.
    enum Piece {
        case text(String)
        case table(Table)
        case image([UInt8], alt: String)
    }

    static func pieces(_ cell: Cell, timings: Bool) throws -> [Piece] {
        let plain = TextRenderer(showTimings: timings, width: 100)
        var out: [Piece] = []
        for o in cell.outputs {
            try Interrupt.check()
            switch o {
            case .table(let t): out.append(.table(t))
            case .figure(let f): if let png = try Graphics.png(o) { out.append(.image(png, alt: f.title)) }
            case .images(let g): if let png = try Graphics.png(o) { out.append(.image(png, alt: g.title)) }
            case .samples(.images): if let png = try Graphics.png(o) { out.append(.image(png, alt: "samples")) }
            default:
                let s = plain.render(o)
                if !s.isEmpty { out.append(.text(s)) }
            }
        }
        if let e = cell.error { out.append(.text(e)) }
        return out
    }

    public static func write(_ cells: [Cell], title: String, to path: String, timings: Bool = true) throws {
        guard let f = format(of: path) else {
            throw ShellError(.value, "a notebook is written as .html, .ipynb or .md; '\(path)' is none of them")
        }
        let bytes: [UInt8]
        switch f {
        case .html: bytes = Array(try html(cells, title: title, timings: timings).utf8)
        case .ipynb: bytes = try ipynb(cells, timings: timings)
        case .md: bytes = Array(try markdown(cells, title: title, path: path, timings: timings).utf8)
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
            of: ">", with: "&gt;")
    }

    public static func html(_ cells: [Cell], title: String, timings: Bool = true) throws -> String {
        var body = ""
        for block in blocks(cells) {
            guard case .code(let c, let i) = block else {
                if case .prose(let lines) = block {
                    body +=
                        "<div class=\"prose\">"
                        + paragraphs(lines).map { "<p>" + $0.map(escape).joined(separator: "<br>") + "</p>" }.joined()
                        + "</div>\n"
                }
                continue
            }
            body +=
                "<div class=\"cell\">\n<div class=\"in\"><span class=\"n\">[\(i)]</span><pre>\(escape(c.source))</pre></div>\n"
            for p in try pieces(c, timings: timings) {
                switch p {
                case .text(let s):
                    body += "<pre class=\"out\(c.error != nil && s == c.error ? " err" : "")\">\(escape(s))</pre>\n"
                case .table(let t):
                    body += "<table>" + (t.title.map { "<caption>\(escape($0))</caption>" } ?? "")
                    body += "<tr>" + t.columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
                    for r in t.rows {
                        body +=
                            "<tr>"
                            + r.enumerated().map { "<td\(t.rightAligned[$0] ? " class=\"r\"" : "")>\(escape($1))</td>" }
                            .joined() + "</tr>"
                    }
                    body += "</table>\n"
                case .image(let png, let alt):
                    body +=
                        "<img alt=\"\(escape(alt))\" src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">\n"
                }
            }
            body += "</div>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
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
            table { margin: .4em 0 .4em 3.6em; border-collapse: collapse; font: 13px monospace; }
            caption { text-align: left; padding-bottom: .3em; color: #444; }
            th, td { padding: .15em .7em; border-bottom: 1px solid #e3e3e3; text-align: left; }
            td.r { text-align: right; }
            img { display: block; margin: .5em 0 .5em 3.6em; max-width: calc(100% - 3.6em); }
            </style></head>
            <body>
            <h1>\(escape(title))</h1>
            \(body)</body></html>

            """
    }

    static func lines(_ s: String) -> [String] {
        let parts = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return parts.enumerated().map { $0 < parts.count - 1 ? $1 + "\n" : $1 }
    }

    public static func ipynb(_ cells: [Cell], timings: Bool = true) throws -> [UInt8] {
        var jsonCells: [[String: Any]] = []
        for (k, block) in blocks(cells).enumerated() {
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
                        "output_type": "display_data", "metadata": [String: Any](), "data": ["text/plain": lines(text)]
                    ])
                case .image(let png, let alt):
                    outputs.append([
                        "output_type": "display_data", "metadata": [String: Any](),
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
                "kernelspec": ["name": "gans", "display_name": "gans", "language": "gans"],
                "language_info": ["name": "gans", "file_extension": ".gans"]
            ],
            "cells": jsonCells
        ]
        let data = try JSONSerialization.data(withJSONObject: notebook, options: [.prettyPrinted, .sortedKeys])
        return Array(data) + [10]
    }

    /// Markdown with the images written to `NAME_files/` beside it.
    public static func markdown(_ cells: [Cell], title: String, path: String, timings: Bool = true) throws -> String {
        let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let folder = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(base + "_files")
        var text = "# \(title)\n"
        var made = false
        for block in blocks(cells) {
            guard case .code(let c, let i) = block else {
                if case .prose(let lines) = block {
                    text +=
                        "\n" + paragraphs(lines).map { $0.joined(separator: "  \n") }.joined(separator: "\n\n") + "\n"
                }
                continue
            }
            text += "\n```\n\(c.source)\n```\n"
            for (k, p) in try pieces(c, timings: timings).enumerated() {
                switch p {
                case .text(let s): text += "\n```text\n\(s)\n```\n"
                case .table(let t): text += "\n```text\n\(TextRenderer(width: 100).render(t))\n```\n"
                case .image(let png, let alt):
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
