import Foundation

/// Splitting a script into complete statements, and reporting errors with
/// the line and a caret.
public enum Script {
    public struct Chunk: Equatable {
        public var text: String
        public var firstLine: Int
    }

    /// Lines grouped so that each group is complete: a statement continues
    /// while brackets are open or a line ends with `|`.
    public static func chunks(_ text: String) -> [Chunk] {
        var out: [Chunk] = []
        var pending: [Substring] = []
        var first = 1
        var lexer = Lexer("")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in lines.enumerated() {
            if pending.isEmpty { first = i + 1; lexer = Lexer("", firstLine: first) }
            pending.append(line)
            // One lexer runs over the lines of a statement, so a bracket open
            // for many lines costs one pass, not one per line.
            var more: Bool
            do { try lexer.feed(String(line) + "\n"); more = lexer.needsMore } catch { more = false }
            if !more || i == lines.count - 1 {
                let joined = pending.joined(separator: "\n")
                if !joined.trimmingCharacters(in: .whitespaces).isEmpty {
                    out.append(Chunk(text: joined, firstLine: first))
                }
                pending = []
            }
        }
        return out
    }

    /// Line `n` (1-based) of a text.
    public static func line(_ text: String, _ n: Int?) -> String? {
        guard let n, n >= 1 else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return n <= lines.count ? String(lines[n - 1]) : nil
    }

    /// `FILE:LINE:COL: error: message`, the line, and a caret under the place.
    /// Without a file (at the prompt) the first line is `error: message`.
    public static func format(_ e: ShellError, file: String?, source: String?) -> String {
        let where_ = e.file ?? file
        var head = ""
        if let where_ { head = where_ + (e.location.map { ":\($0.line):\($0.column)" } ?? "") + ": " }
        var lines = [head + "error: " + e.message]
        let text = e.sourceLine ?? line(source ?? "", e.location?.line)
        if let text, let loc = e.location, !text.trimmingCharacters(in: .whitespaces).isEmpty {
            var shown = text.replacingOccurrences(of: "\t", with: " ")
            var column = min(max(loc.column, 1), shown.count + 1)
            // A long line is shown as a window of 100 characters around the place.
            if shown.count > 120 {
                let chars = Array(shown)
                let start = max(0, min(column - 50, chars.count - 100))
                let end = min(chars.count, start + 100)
                shown = (start > 0 ? "…" : "") + String(chars[start..<end]) + (end < chars.count ? "…" : "")
                column = column - start + (start > 0 ? 1 : 0)
            }
            lines.append("    " + shown)
            lines.append(
                "    " + String(repeating: " ", count: column - 1) + "^"
                    + String(repeating: "~", count: max(0, min(e.length, shown.count + 1 - column + 1) - 1)))
        }
        for t in e.trace { lines.append("  " + t) }
        return lines.joined(separator: "\n")
    }
}
