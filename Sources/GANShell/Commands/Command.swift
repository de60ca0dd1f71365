import Foundation
import GANKit
import TensorCore

/// One command of the shell. This table drives dispatch, `help`, tab
/// completion, "did you mean …?" and the command reference in docs/dsl.md.
public struct Command {
    public enum Group: String, CaseIterable {
        case data = "Data", networks = "Networks", training = "Training", inspection = "Inspection"
        case session = "Snapshots and files", help = "Help and session"
    }
    public let name: String
    public let aliases: [String]
    public let group: Group
    /// `step [d | g | N]`
    public let usage: String
    public let summary: String
    public let details: String
    public let examples: [String]
    /// What it takes: checked before it runs.
    public let takes: Takes
    /// Fixed words and `key=` options, for completion.
    public var words: [String] { takes.keywords + takes.options.map { $0 + "=" } }
    /// The command, given the interpreter, its arguments, their words (checked against `takes`)
    /// and the token that named it.
    let run: (Interpreter, Arguments, CommandWords, Token) throws -> [Output]

    init(
        _ name: String, aliases: [String] = [], group: Group, usage: String, summary: String, details: String = "",
        examples: [String], takes: Takes,
        run: @escaping (Interpreter, Arguments, CommandWords, Token) throws -> [Output]
    ) {
        self.name = name
        self.aliases = aliases
        self.group = group
        self.usage = usage
        self.summary = summary
        self.details = details
        self.examples = examples
        self.takes = takes
        self.run = run
    }

    /// The arguments split into words, checked against the declaration: an option the command
    /// does not know and a word past the last positional one are refused here, before it runs.
    func words(_ args: Arguments) throws -> CommandWords {
        guard let most = takes.most else { return CommandWords(unchecked: args, command: name) }
        let w = try CommandWords(args, command: name, allowed: takes.options)
        try w.noMoreThan(most)
        return w
    }

    /// The help text: usage, summary, details and examples.
    public var help: String {
        var s = "\(usage)\n  \(summary)"
        if !details.isEmpty {
            s +=
                "\n\n"
                + details.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(
                    separator: "\n")
        }
        if !aliases.isEmpty { s += "\n\n  Also: " + aliases.joined(separator: ", ") }
        s +=
            "\n\n  Example" + (examples.count > 1 ? "s" : "") + ":\n"
            + examples.map { "    " + $0 }.joined(separator: "\n")
        return s
    }
}

/// What a command takes, declared in its table entry: how many positional words at most, the
/// fixed words among them (for completion) and its `key=` options.
public struct Takes {
    /// The most positional words; nil for a command that reads its arguments itself (an
    /// expression, layer text, settings or another command), by its own grammar.
    public var most: Int?
    /// Fixed words completion offers after the command (`d`, `g`, `epochs`, …).
    public var keywords: [String]
    /// The `key=` options it knows.
    public var options: [String]

    /// Up to `most` positional words (the fixed ones among them in `keywords`) and `options`.
    public static func words(_ most: Int, keywords: [String] = [], options: [String] = []) -> Takes {
        Takes(most: most, keywords: keywords, options: options)
    }
    /// No arguments.
    public static let nothing = Takes(most: 0, keywords: [], options: [])
    /// Arguments the command reads by its own grammar; `keywords` and `options` for completion.
    public static func own(keywords: [String] = [], options: [String] = []) -> Takes {
        Takes(most: nil, keywords: keywords, options: options)
    }
}

public enum CommandTable {
    public static let all: [Command] =
        dataCommands + networkCommands + trainingCommands + inspectionCommands
        + expectCommands + plotCommands + sessionCommands + viewCommands + exportCommands + helpCommands

    static let byName: [String: Command] = {
        var d: [String: Command] = [:]
        for c in all { d[c.name] = c; for a in c.aliases { d[a] = c } }
        return d
    }()

    public static func lookup(_ name: String) -> Command? { byName[name] }

    /// Every name a line may start with.
    public static var names: [String] { all.flatMap { [$0.name] + $0.aliases } }
}

/// A command's words split into positional words and `key=value` options,
/// with checks that name what was expected.
struct CommandWords {
    let command: String
    var positional: [Arguments.Word] = []
    var options: [(key: String, value: String, word: Arguments.Word)] = []
    let end: Token

    /// The words as they are, for a command that reads its arguments by its own grammar.
    init(unchecked args: Arguments, command: String) {
        self.command = command
        end = args.end
        for w in args.words {
            if let o = w.option { options.append((o.key, o.value, w)) } else { positional.append(w) }
        }
    }

    /// The words, refusing the first option not in `allowed`.
    init(_ args: Arguments, command: String, allowed: [String]) throws {
        self.init(unchecked: args, command: command)
        if let o = options.first(where: { !allowed.contains($0.key) }) {
            let list =
                allowed.isEmpty
                ? "takes no key=value options"
                : "knows the options " + allowed.map { $0 + "=" }.joined(separator: " ")
            throw ShellError(
                .name, "unknown option '\(o.key)': \(command) \(list)" + didYouMean(o.key, among: allowed),
                at: o.word.first)
        }
    }

    func option(_ key: String) -> String? { options.last { $0.key == key }?.value }

    func word(_ i: Int, _ what: String) throws -> Arguments.Word {
        guard i < positional.count else {
            // The caret goes just past the last word given, or to the end of the line.
            let previous = i > 0 ? positional[i - 1] : nil
            let at =
                previous.map { SourceLocation(line: $0.location.line, column: $0.location.column + $0.length) }
                ?? end.location
            throw ShellError(.syntax, "\(command): \(what) expected", at: at)
        }
        return positional[i]
    }

    /// A whole number from `low` to `high` (2⁴⁰ unless the command allows more: counts
    /// beyond it are typos, and sums and products of them could overflow).
    func int(_ i: Int, _ what: String, min low: Int = 1, max high: Int = 1 << 40) throws -> Int {
        let w = try word(i, what)
        guard let v = w.int, v >= low else {
            throw ShellError(
                .value, "\(command): \(what) must be a whole number ≥ \(low), found '\(w.text)'", at: w.location,
                length: w.length)
        }
        guard v <= high else {
            throw ShellError(
                .limit, "\(command): \(what) must be at most \(Format.count(high)), found \(Format.count(v))",
                at: w.location, length: w.length)
        }
        return v
    }

    func noMoreThan(_ n: Int) throws {
        if positional.count > n {
            let w = positional[n]
            throw ShellError(.syntax, "\(command): unexpected '\(w.text)'", at: w.location, length: w.length)
        }
    }

    func float(_ key: String) throws -> Float? {
        guard let o = options.last(where: { $0.key == key }) else { return nil }
        guard let v = Float(o.value), v.isFinite else {
            throw ShellError(
                .value, "\(key) needs a number, found '\(o.value)'", at: o.word.location, length: o.word.length)
        }
        return v
    }

    func intOption(_ key: String, min low: Int = 1, max high: Int = 1 << 30) throws -> Int? {
        guard let o = options.last(where: { $0.key == key }) else { return nil }
        guard let v = Int(o.value), v >= low, v <= high else {
            throw ShellError(
                .value, "\(key) needs a whole number in \(low)…\(high), found '\(o.value)'", at: o.word.location,
                length: o.word.length)
        }
        return v
    }
}
