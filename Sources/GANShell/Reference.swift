/// The command reference of docs/dsl.md, generated from the command table
/// (`gans --reference` prints it; a test checks the docs hold it).
public enum Reference {
    public static func commandsMarkdown() -> String {
        var lines = ["<!-- generated from the command table: gans --reference -->"]
        for g in Command.Group.allCases {
            lines.append("")
            lines.append("### \(g.rawValue)")
            for c in CommandTable.all where c.group == g {
                lines.append("")
                lines.append("#### `\(c.name)`")
                lines.append("")
                lines.append("`\(c.usage)`")
                lines.append("")
                lines.append(c.summary.prefix(1).uppercased() + c.summary.dropFirst() + ".")
                if !c.details.isEmpty {
                    lines.append("")
                    lines.append(c.details)
                }
                if !c.aliases.isEmpty {
                    lines.append("")
                    lines.append("Also spelled: " + c.aliases.map { "`\($0)`" }.joined(separator: ", ") + ".")
                }
                lines.append("")
                lines.append("```")
                lines += c.examples
                lines.append("```")
            }
        }
        lines.append("")
        lines.append("### Functions")
        lines.append("")
        lines.append("| function | gives |")
        lines.append("|---|---|")
        for f in Functions.all { lines.append("| `\(f.usage)` | \(f.summary) |") }
        lines.append("")
        lines.append("### Topics of `explain`")
        lines.append("")
        for t in Topics.all { lines.append("- `\(t.name)`: \(t.title)") }
        lines.append("<!-- end of the generated reference -->")
        return lines.joined(separator: "\n")
    }
}
