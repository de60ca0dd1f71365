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
        guard length > 0, n > 0 else { throw ShapeError("the text has \(chars.count) characters, fewer than one window of \(length)") }
        var index: [Character: Int] = [:]
        for (i, c) in symbols.enumerated() { index[c] = i }
        let v = vocabularySize
        try Tensor.checkShape([n, length, v], op: "text windows")
        let x = Tensor(zeros: [n, length, v])
        try x.withUnsafeMutableBufferPointer { p in
            for w in 0..<n {
                for j in 0..<length {
                    guard let s = index[chars[w * length + j]] else { throw ShapeError("character '\(chars[w * length + j])' is not in the vocabulary") }
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

/// Measures of generated text against real text.
public enum TextMetrics {
    /// Jensen–Shannon divergence (natural log, 0…ln 2) between the character
    /// n-gram distributions of two sets of words, each word framed by end marks.
    public static func ngramJS(_ a: [String], _ b: [String], n: Int) -> Double {
        func counts(_ words: [String]) -> [String: Double] {
            var c: [String: Double] = [:]
            for w in words {
                let chars = Array(String(repeating: ".", count: n - 1) + w + ".")
                guard chars.count >= n else { continue }
                for i in 0...(chars.count - n) { c[String(chars[i..<(i + n)]), default: 0] += 1 }
            }
            return c
        }
        let p = counts(a), q = counts(b)
        let sp = p.values.reduce(0, +), sq = q.values.reduce(0, +)
        guard sp > 0, sq > 0 else { return .nan }
        var js = 0.0
        for key in Set(p.keys).union(q.keys) {
            let pi = (p[key] ?? 0) / sp, qi = (q[key] ?? 0) / sq, m = (pi + qi) / 2
            if pi > 0 { js += 0.5 * pi * Foundation.log(pi / m) }
            if qi > 0 { js += 0.5 * qi * Foundation.log(qi / m) }
        }
        return js
    }

    /// The fraction of generated words not in the training words.
    public static func novelty(_ generated: [String], training: Set<String>) -> Double {
        generated.isEmpty ? .nan : Double(generated.filter { !training.contains($0) }.count) / Double(generated.count)
    }

    /// The fraction of generated words that look like names: 2–15 letters a–z.
    public static func wellFormedNames(_ generated: [String]) -> Double {
        guard !generated.isEmpty else { return .nan }
        let ok = generated.filter { w in (2...15).contains(w.count) && w.allSatisfy { $0 >= "a" && $0 <= "z" } }
        return Double(ok.count) / Double(generated.count)
    }
}

/// Metrics on any data.
public enum SampleMetrics {
    /// The mean Euclidean distance from each generated sample to its nearest
    /// training sample (a memorisation check: near 0 means copies). Samples
    /// are flattened; distances come from one GEMM: ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b.
    public static func meanNearestDistance(_ generated: Tensor, training: Tensor) throws -> Float {
        let g = try generated.flattened(), t = try training.flattened()
        guard g.shape[1] == t.shape[1], t.shape[0] > 0, g.shape[0] > 0 else {
            throw ShapeError("samples \(shapeString(generated.shape)) and \(shapeString(training.shape)) cannot be compared")
        }
        return try withNoGrad {
            let tn = try (t * t).sum(axes: [1]).reshaped(to: [1, -1])
            func nearest(_ g: Tensor) throws -> Tensor {
                let cross = try g.matmul(t, transposeB: true)                  // [G, T]
                let gn = try (g * g).sum(axes: [1], keepDims: true)
                return try (gn + tn - cross * 2).clamp(min: 0).min(axes: [1]).sqrt()
            }
            // Many samples go a piece at a time: the [G, T] distances stay small, and Ctrl-C can abandon between pieces.
            let piece = 4096, n = g.shape[0]
            guard n > piece else { return try nearest(g).mean().item }
            var total = 0.0
            for start in stride(from: 0, to: n, by: piece) {
                try Interrupt.check()
                total += try nearest(try g.slice(axis: 0, start: start, end: min(n, start + piece))).scalars.reduce(0.0) { $0 + Double($1) }
            }
            return Float(total / Double(n))
        }
    }
}

extension GaussianMixture {
    /// KL divergence of the high-quality samples' mode histogram from the
    /// uniform distribution over modes (0 when every mode gets an equal share;
    /// nil without high-quality samples).
    public func reverseKL(_ samples: Tensor) -> Double? {
        let c = coverage(samples)
        let total = Double(c.perMode.reduce(0, +))
        guard total > 0 else { return nil }
        let k = Double(centers.count)
        return c.perMode.reduce(0.0) { acc, count in
            let q = Double(count) / total
            return q > 0 ? acc + q * Foundation.log(q * k) : acc
        }
    }
}

import Foundation
