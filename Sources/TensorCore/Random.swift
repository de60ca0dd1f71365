import Foundation

/// A seedable random generator (xoshiro256**, seeded through splitmix64)
/// giving uniform and normal floats. Its whole state can be read and written,
/// so a seeded session can be saved and resumed exactly.
public struct RandomGenerator: Sendable, Equatable {
    /// The generator state: four xoshiro words plus a spare normal variate
    /// (Box–Muller yields two at a time).
    public struct State: Sendable, Equatable, Codable {
        public var words: [UInt64]
        public var spareNormal: Float?

        public init(words: [UInt64], spareNormal: Float?) {
            self.words = words
            self.spareNormal = spareNormal
        }
    }

    private var s: (UInt64, UInt64, UInt64, UInt64)
    private var spare: Float?

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
        spare = nil
    }

    public var state: State { State(words: [s.0, s.1, s.2, s.3], spareNormal: spare) }

    /// Continues from a saved state (as read from a checkpoint file).
    public mutating func restore(_ state: State) throws {
        guard state.words.count == 4, state.words.contains(where: { $0 != 0 }) else {
            throw TensorError(
                "random", "a generator state needs 4 words, not all zero; found \(state.words.count) words")
        }
        s = (state.words[0], state.words[1], state.words[2], state.words[3])
        spare = state.spareNormal
    }

    public static func == (a: Self, b: Self) -> Bool { a.state == b.state }

    @inline(__always)
    public mutating func nextUInt64() -> UInt64 {
        @inline(__always) func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1), 24 random bits.
    @inline(__always)
    public mutating func nextUniform() -> Float {
        Float(nextUInt64() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Standard normal (Box–Muller, the second variate kept for the next call).
    @inline(__always)
    public mutating func nextNormal() -> Float {
        if let z = spare { spare = nil; return z }
        // u1 in (0, 1] so the log is finite.
        let u1 = Double((nextUInt64() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(nextUInt64() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2.0 * Foundation.log(u1)).squareRoot()
        let theta = 2.0 * Double.pi * u2
        spare = Float(r * Foundation.sin(theta))
        return Float(r * Foundation.cos(theta))
    }

    /// Uniform integer in 0..<bound.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(nextUInt64() % UInt64(bound))
    }
}

/// The process-wide generator every random tensor draws from. `seed(_:)`
/// makes everything that follows reproducible on the same machine.
public enum Random {
    nonisolated(unsafe) public static var global = RandomGenerator(seed: 0)

    public static func seed(_ seed: UInt64) { global = RandomGenerator(seed: seed) }

    /// A permutation of 0..<n (Fisher–Yates).
    public static func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                p.swapAt(i, global.nextInt(below: i + 1))
            }
        }
        return p
    }
}
