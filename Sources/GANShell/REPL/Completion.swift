import Foundation
import GANKit

/// Tab completion: what may come next at the cursor, from the command table,
/// the workspace and the paths into it (`D.2.weight`, `.grad`).
public struct Completer {
    let interpreter: Interpreter

    public init(interpreter: Interpreter) { self.interpreter = interpreter }

    static let layerKinds = LayerSpec.kinds

    /// The value a dotted path names (`D.2`), without evaluating anything else.
    func value(ofPath path: String) -> Value? {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, var v = interpreter.workspace.lookup(first) else { return nil }
        let token = Token(
            kind: .end, text: "", location: SourceLocation(line: 1, column: 1), offset: 0, spaceBefore: true)
        for p in parts.dropFirst() {
            guard let next = try? interpreter.attribute(v, p, token, path: nil) else { return nil }
            v = next
        }
        return v
    }

    /// Candidates that complete `word`, the text before the cursor back to the last word break; `before` is the line before `word`.
    public func complete(word: String, before: String) -> [String] {
        let ws = interpreter.workspace
        let statement = before.split(separator: ";", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        // A file path: its characters (/ - .) break words for the line editor, so the path
        // begins at the last space; candidates replace only the part after the break.
        let headStart =
            statement.lastIndex(where: { $0 == " " || $0 == "\t" }).map { statement.index(after: $0) }
            ?? statement.startIndex
        let head = String(statement[headStart...])
        let wordsBefore = statement[..<headStart].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if Self.takesPath(wordsBefore) {
            return pathCandidates(head + word).map { String($0.dropFirst(head.count)) }
        }
        let previous = statement.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let names = ws.names
        var pool: [String]
        if let dot = word.lastIndex(of: ".") {
            // A path: complete the part after the last dot.
            let base = String(word[..<dot]), partial = String(word[word.index(after: dot)...])
            guard let value = value(ofPath: base) else { return [] }
            var fields: [String] = []
            switch value {
            case .network(_, let n):
                fields = n.layers.indices.map(String.init) + (partial.hasPrefix("l") ? ["logits("] : [])
            case .layer(_, let n, let i):
                fields = n.stateDict.filter { $0.name.hasPrefix("\(i).") }.map {
                    String($0.name.dropFirst("\(i).".count))
                }
            case .tensor: fields = ["grad", "shape", "T"]
            case .gan: fields = ["G", "D", "fixed"]
            default: fields = []
            }
            return fields.filter { $0.hasPrefix(partial) }.map { base + "." + $0 }.sorted()
        }
        if before.hasSuffix("|") || before.hasSuffix("| ") || previous.last == "add"
            || (previous.count >= 3 && ["insert", "replace"].contains(previous[previous.count - 2]))
        {
            pool = Self.layerKinds
        } else if previous.isEmpty {
            pool = CommandTable.names + names + Functions.all.map(\.name)
        } else if previous.count == 1, ws.bindings.networks[previous[0]] != nil {
            pool = Array(Parser.editVerbs)
        } else if let c = CommandTable.lookup(previous[0]) {
            switch c.name {
            case "help": pool = CommandTable.names + ["functions", "layers", "expressions"]
            case "explain": pool = Topics.all.map(\.name)
            case "restore": pool = Array(ws.bindings.snapshots.keys)
            case "set":
                // Setting names first; a setting's values (where it has a list) after its name.
                pool = previous.count == 2 ? TrainingSetting.named(previous[1])?.choices ?? [] : c.words
                if let eq = word.firstIndex(of: "="), let s = TrainingSetting.named(String(word[..<eq])) {
                    return s.choices.map { s.name + "=" + $0 }.filter { $0.hasPrefix(word) }
                }
            case "plot":
                // What to plot first (networks and tensors are not plot kinds); names may follow.
                pool = previous.count == 1 ? c.words.filter { $0 != "to" } : c.words + names
            case "data":
                if let eq = word.firstIndex(of: "="), word[..<eq] == "label" {
                    return ["first", "last", "none"].map { "label=" + $0 }
                }
                pool =
                    previous.count == 1
                    ? CommandTable.builtinData + CommandTable.fileData
                    : c.words.filter { $0.hasSuffix("=") || $0 == "lines" }
            case "gan":
                if let eq = word.firstIndex(of: "=") {
                    let key = String(word[..<eq])
                    let values: [String] =
                        TrainingSetting.named(key)?.choices
                        ?? (key == "opt"
                            ? OptimizerKind.allCases.map(\.rawValue) : key == "cond" ? ["onehot", "embed:"] : [])
                    return values.map { key + "=" + $0 }.filter { $0.hasPrefix(word) }
                }
                pool = previous.count < 3 ? Array(ws.bindings.networks.keys) : c.words
            default: pool = c.words + names
            }
        } else {
            pool = names + Functions.all.map(\.name)
        }
        return Array(Set(pool.filter { $0.hasPrefix(word) })).sorted()
    }

    /// Whether the next word of a statement that starts with `words` is a file path.
    static func takesPath(_ words: [String]) -> Bool {
        guard let first = words.first else { return false }
        if words.last == "to", ["plot", "sample"].contains(first) { return true }
        switch first {
        case "read", "record", "export": return words.count == 1
        case "load", "save": return words.count == 2
        case "data": return words.count == 2 && CommandTable.fileData.contains(words[1])
        default: return false
        }
    }

    /// Files and folders (these with a trailing /) whose path starts with `path`; `~/` is the home folder,
    /// and a relative path is read from the shell's folder.
    func pathCandidates(_ path: String) -> [String] {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let prefix = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var dir = folder.isEmpty ? "." : folder
        if dir.hasPrefix("~/") { dir = NSHomeDirectory() + dir.dropFirst(1) }
        if !dir.hasPrefix("/"), let base = interpreter.options.directory { dir = base + "/" + dir }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return names.filter { $0.hasPrefix(prefix) && (prefix.hasPrefix(".") || !$0.hasPrefix(".")) }.map { name in
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(
                atPath: (dir as NSString).appendingPathComponent(name), isDirectory: &isDir)
            return folder + name + (isDir.boolValue ? "/" : "")
        }.sorted()
    }
}
