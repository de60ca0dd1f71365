import GANKit

/// Every failure the shell reports: what was expected, what was found, and
/// where. Scripts print it as `FILE:LINE:COL: error: …` with the line and a
/// caret; at the prompt the caret sits under the line just typed.
public struct ShellError: Error, Equatable, CustomStringConvertible {
    public enum Kind: String, Equatable, Sendable {
        case syntax, name, shape, value, file, training, interrupted, limit
    }
    public var kind: Kind
    public var message: String
    public var location: SourceLocation?
    /// Characters the caret line underlines (at least 1).
    public var length: Int
    /// The statement ran out before a bracket closed: more lines may complete it.
    public var incomplete = false
    /// The script the error is in, when it is not the one being run (nested `read`).
    public var file: String?
    /// The source line the error points into, for the caret display.
    public var sourceLine: String?
    /// Where a nested script was read from, innermost first.
    public var trace: [String] = []

    public init(_ kind: Kind, _ message: String, at location: SourceLocation? = nil, length: Int = 1) {
        self.kind = kind
        self.message = message
        self.location = location
        self.length = max(1, length)
    }

    public init(_ kind: Kind, _ message: String, at token: Token) {
        self.init(kind, message, at: token.location, length: max(1, token.text.count))
    }

    public var description: String { message }
}

/// The nearest of `candidates` to `word`, if it is close enough to be a likely typo.
func nearest(to word: String, among candidates: [String]) -> String? {
    guard !word.isEmpty else { return nil }
    // One- and two-letter names are too short for a distance to mean a typo, and a three- or
    // four-letter word two edits away shares too little ('foo' is not a typo of 'log').
    let limit = word.count <= 2 ? 0 : word.count <= 4 ? 1 : min(3, word.count / 3 + 1)
    let scored = candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= limit }
    if let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }) { return best.0 }
    // A prefix that names exactly one candidate is also a good guess.
    let prefixed = candidates.filter { $0.hasPrefix(word.lowercased()) }
    return prefixed.count == 1 ? prefixed[0] : nil
}

/// " (did you mean 'x'?)" or "".
func didYouMean(_ word: String, among candidates: [String]) -> String {
    nearest(to: word, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
}
