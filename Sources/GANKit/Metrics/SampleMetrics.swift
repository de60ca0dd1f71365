import TensorCore

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
            throw ShapeError(
                "samples \(shapeString(generated.shape)) and \(shapeString(training.shape)) cannot be compared")
        }
        return try withNoGrad {
            let tn = try (t * t).sum(axes: [1]).reshaped(to: [1, -1])
            func nearest(_ g: Tensor) throws -> Tensor {
                let cross = try g.matmul(t, transposeB: true)  // [G, T]
                let gn = try (g * g).sum(axes: [1], keepDims: true)
                return try (gn + tn - cross * 2).clamp(min: 0).min(axes: [1]).sqrt()
            }
            // Many samples go a piece at a time: the [G, T] distances stay small, and Ctrl-C can abandon between pieces.
            let piece = 4096, n = g.shape[0]
            guard n > piece else { return try nearest(g).mean().item }
            var total = 0.0
            for start in stride(from: 0, to: n, by: piece) {
                try Interrupt.check()
                total += try nearest(try g.slice(axis: 0, start: start, end: min(n, start + piece))).scalars.reduce(0.0)
                { $0 + Double($1) }
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
