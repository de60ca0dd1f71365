import TensorCore

/// Character-level text of fixed length: symbol 0 is the end/padding mark
/// (printed '.'), the others a vocabulary of characters.
public struct CharacterCode: Equatable, Sendable {
    public let symbols: [Character]
    public let length: Int

    /// a–z after the end mark: the names vocabulary (27 symbols).
    public static func lowercase(length: Int = 16) -> CharacterCode {
        CharacterCode(symbols: ["."] + "abcdefghijklmnopqrstuvwxyz".map { $0 }, length: length)
    }

    public init(symbols: [Character], length: Int) {
        self.symbols = symbols
        self.length = length
    }

    public var vocabularySize: Int { symbols.count }

    /// The end mark of vocabularies built from text, which may contain '.'.
    public static let endMark: Character = "\u{2403}"

    /// A vocabulary of the characters in `text` (sorted) after the end mark.
    public static func of(_ text: String, length: Int) -> CharacterCode {
        CharacterCode(symbols: [endMark] + Set(text).subtracting([endMark]).sorted(), length: length)
    }

    /// Fixed-length windows of a text, one after another (no end marks), one-hot
    /// `[N, length, vocabulary]`, at most `limit` of them.
    public func windows(name: String, text: String, limit: Int) throws -> TensorDataset {
        let chars = Array(text)
        let n = Swift.min(limit, chars.count / Swift.max(length, 1))
        guard length > 0, n > 0 else {
            throw ShapeError("the text has \(chars.count) characters, fewer than one window of \(length)")
        }
        var index: [Character: Int] = [:]
        for (i, c) in symbols.enumerated() { index[c] = i }
        let v = vocabularySize
        try Tensor.checkShape([n, length, v], op: "text windows")
        let x = Tensor(zeros: [n, length, v])
        try x.withUnsafeMutableBufferPointer { p in
            for w in 0..<n {
                for j in 0..<length {
                    guard let s = index[chars[w * length + j]] else {
                        throw ShapeError("character '\(chars[w * length + j])' is not in the vocabulary")
                    }
                    p[(w * length + j) * v + s] = 1
                }
            }
        }
        return try TensorDataset(name: name, samples: x)
    }

    /// Token ids, padded with the end mark; nil for a word that does not fit or has unknown characters.
    public func encode(_ word: String) -> [Int]? {
        guard word.count < length else { return nil }
        var ids: [Int] = []
        for c in word {
            guard let i = symbols.firstIndex(of: c), i > 0 else { return nil }
            ids.append(i)
        }
        return ids + [Int](repeating: 0, count: length - ids.count)
    }

    /// The word up to the first end mark.
    public func decode(_ ids: [Int]) -> String {
        String(ids.prefix { $0 != 0 }.map { $0 > 0 && $0 < symbols.count ? symbols[$0] : "?" })
    }

    /// Words from a batch of one-hot (or probability) rows `[N, length, vocabulary]`: the most likely symbol at each place.
    public func decode(oneHot t: Tensor) throws -> [String] {
        guard t.rank == 3, t.shape[1] == length, t.shape[2] == vocabularySize else {
            throw ShapeError("expected [N, \(length), \(vocabularySize)], found \(shapeString(t.shape))")
        }
        let ids = try t.argmax(axis: -1).scalars.map { Int($0) }
        return (0..<t.shape[0]).map { decode(Array(ids[($0 * length)..<(($0 + 1) * length)])) }
    }

    /// A dataset of one-hot words `[N, length, vocabulary]`; words that do not fit are skipped.
    public func dataset(name: String, words: [String]) throws -> TensorDataset {
        let encoded = words.compactMap(encode)
        guard !encoded.isEmpty else { throw ShapeError("no word fits \(length - 1) characters of this vocabulary") }
        let v = vocabularySize
        try Tensor.checkShape([encoded.count, length, v], op: "text lines")
        let x = Tensor(zeros: [encoded.count, length, v])
        x.withUnsafeMutableBufferPointer { p in
            for (i, ids) in encoded.enumerated() { for (j, s) in ids.enumerated() { p[(i * length + j) * v + s] = 1 } }
        }
        return try TensorDataset(name: name, samples: x)
    }
}
