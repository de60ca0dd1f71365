import CEdit
import Foundation
import TensorCore

#if canImport(Glibc)
    import Glibc
#endif

/// The terminal line reader on libedit (its readline interface): emacs key
/// bindings, history kept in the user's state directory, incremental history
/// search (Ctrl-R), and tab completion through `Completer`.
public final class EditLineReader: LineReader {
    let historyPath: String?
    nonisolated(unsafe) static var completer: Completer?

    public init(completer: Completer, historyPath: String? = EditLineReader.defaultHistoryPath()) {
        self.historyPath = historyPath
        EditLineReader.completer = completer
        rl_readline_name = UnsafePointer(strdup("gans"))
        _ = rl_initialize()
        using_history()
        stifle_history(5000)
        if let historyPath { _ = read_history(historyPath) }
        rl_attempted_completion_function = { text, start, end in
            EditLineReader.completions(text.map { String(cString: $0) } ?? "", start: Int(start))
        }
        // Dots stay inside a word so that paths like D.2.weight complete as one.
        let breaks = strdup(" \t\n\"'(),[]|;+-*/@<>")
        rl_completer_word_break_characters = breaks
        rl_basic_word_break_characters = UnsafePointer(breaks)
    }

    /// `$XDG_STATE_HOME/gans/history`, else `~/.local/state/gans/history`.
    public static func defaultHistoryPath() -> String? {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (env["HOME"].map { $0 + "/.local/state" })
        guard let base else { return nil }
        let dir = base + "/gans"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/history"
    }

    static func completions(_ text: String, start: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        rl_attempted_completion_over = 1
        guard let completer else { return nil }
        let line = rl_line_buffer.map { String(cString: $0) } ?? ""
        let before = String(line.utf8.prefix(start)) ?? ""
        let matches = completer.complete(word: text, before: before)
        guard !matches.isEmpty else { return nil }
        // matches[0] is what replaces the word: the longest common prefix.
        var common = matches[0]
        for m in matches.dropFirst() { while !m.hasPrefix(common) { common.removeLast() } }
        rl_completion_append_character =
            matches.count == 1
                && !(common.hasSuffix("=") || common.hasSuffix(":") || common.hasSuffix("/") || common.hasSuffix("("))
            ? 32 : 0
        let list = [common] + (matches.count > 1 ? matches : [])
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: list.count + 1)
        for (i, s) in list.enumerated() { array[i] = strdup(s) }
        array[list.count] = nil
        return array
    }

    public func readLine(prompt: String) -> LineInput {
        Interrupt.clear()
        guard let p = readline(prompt) else {
            if Interrupt.isRequested { Interrupt.clear(); print(""); return .interrupt }
            return .end
        }
        defer { free(p) }
        if Interrupt.isRequested { Interrupt.clear(); return .interrupt }
        return .line(String(cString: p))
    }

    public func addHistory(_ entry: String) {
        _ = add_history(entry.replacingOccurrences(of: "\n", with: " "))
        if let historyPath { _ = write_history(historyPath) }
    }
}

/// Installs the SIGINT handler: it only sets `Interrupt.requested`, which
/// training loops check between steps and the prompt turns into a fresh line.
public func installInterruptHandler() {
    var action = sigaction()
    #if os(Linux)
        action.__sigaction_handler.sa_handler = { _ in Interrupt.requested &+= 1 }
    #else
        action.__sigaction_u.__sa_handler = { _ in Interrupt.requested &+= 1 }
    #endif
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGINT, &action, nil)
}
