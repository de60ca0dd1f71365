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

/// Edit distance with adjacent transpositions (Damerau–Levenshtein, optimal string alignment).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[a.count][b.count]
}

/// The nearest of `candidates` to `word`, if it is close enough to be a likely typo.
func nearest(to word: String, among candidates: [String]) -> String? {
    guard !word.isEmpty else { return nil }
    // One- and two-letter names are too short for a distance to mean a typo.
    let limit = word.count <= 2 ? 0 : min(3, word.count / 3 + 1)
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
