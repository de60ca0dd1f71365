import Foundation
import TensorCore

/// Where real samples come from: a finite set walked in shuffled epochs, or
/// a generator of fresh samples. Labels are class indices stored as floats.
public protocol DataSource: AnyObject {
    var name: String { get }
    /// The shape of one sample.
    var sampleShape: [Int] { get }
    /// Number of classes when samples are labelled.
    var classCount: Int? { get }
    /// Batches in one epoch of `batchSize` (finite data drop the last partial batch).
    func batchesPerEpoch(batchSize: Int) -> Int
    /// The next batch. Finite data walk a permutation drawn from the global
    /// generator at the start of each epoch.
    func nextBatch(_ size: Int) throws -> (x: Tensor, labels: Tensor?)
    /// Where the iterator stands, for checkpoints.
    var cursor: DataCursor { get set }
    /// What the data are, beyond their name: a checkpoint records it, so a run
    /// is not continued on other data under the same name.
    var fingerprint: String { get }
}

/// The position of a data iterator: the current epoch's order and the next index in it.
public struct DataCursor: Equatable, Sendable {
    public var order: [Int]
    public var position: Int
    public init(order: [Int] = [], position: Int = 0) { self.order = order; self.position = position }
}

/// What the samples of a dataset are, for display and metrics.
public enum DataKind: Equatable, Sendable {
    /// Points in the plane (or any flat vectors).
    case points
    /// Images `[channels, height, width]` stored in [−1, 1].
    case images
    /// One-hot character sequences `[length, vocabulary]`.
    case sequences(CharacterCode)

    /// Inverse of the stored normalisation: images back to [0, 1] for display.
    public func denormalized(_ x: Tensor) -> Tensor {
        switch self {
        case .images: return withNoGrad { ((x + 1) * 0.5).clamp(min: 0, max: 1) }
        default: return x
        }
    }
}

/// Samples held in one tensor `[N] + sampleShape`, with optional labels `[N]`.
public final class TensorDataset: DataSource {
    public let name: String
    public let samples: Tensor
    public let labels: Tensor?
    public let classCount: Int?
    public var kind: DataKind = .points
    public var cursor = DataCursor()

    public init(name: String, samples: Tensor, labels: Tensor? = nil, classCount: Int? = nil) throws {
        guard samples.rank >= 1, samples.shape[0] > 0 else {
            throw ShapeError("a dataset needs at least one sample, found shape \(shapeString(samples.shape))")
        }
        var largest = -1
        if let labels {
            guard labels.shape == [samples.shape[0]] else {
                throw ShapeError(
                    "labels of shape \(shapeString(labels.shape)) do not match \(samples.shape[0]) samples")
            }
            for (i, v) in labels.scalars.enumerated() {
                guard v.isFinite, v == v.rounded(), v >= 0, v < 1_000_000 else {
                    throw ShapeError("label \(v) of sample \(i) is not a class index (a whole number from 0)")
                }
                largest = Swift.max(largest, Int(v))
            }
        }
        if let classCount, classCount < largest + 1 || classCount < 1 {
            throw ShapeError("\(classCount) classes cannot hold label \(largest)")
        }
        self.name = name
        self.samples = samples
        self.labels = labels
        self.classCount = classCount ?? (labels == nil ? nil : largest + 1)
    }

    public var count: Int { samples.shape[0] }
    public var sampleShape: [Int] { Array(samples.shape.dropFirst()) }

    /// The shape and a 64-bit FNV-1a hash of every sample's and label's bits.
    public var fingerprint: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for t in [samples] + (labels.map { [$0] } ?? []) {
            t.withUnsafeBufferPointer { b in for v in b { h = (h ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3 } }
        }
        return "\(shapeString(samples.shape)) \(String(h, radix: 16))"
    }

    /// A seeded split into a training set and a held-out set of about
    /// `fraction` of the samples (at least one each); the order of each part
    /// follows the original.
    public func split(heldOut fraction: Float, seed: UInt64 = 0) throws -> (
        train: TensorDataset, heldOut: TensorDataset
    ) {
        guard fraction > 0, fraction < 1, count >= 2 else {
            throw ShapeError(
                "a held-out split needs a fraction in (0, 1) and at least 2 samples, found \(fraction) of \(count)")
        }
        var g = RandomGenerator(seed: seed)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, g.nextInt(below: i + 1)) }
        let k = Swift.min(count - 1, Swift.max(1, Int((Float(count) * fraction).rounded())))
        let held = order.prefix(k).sorted(), kept = order.dropFirst(k).sorted()
        func part(_ idx: [Int], _ suffix: String) throws -> TensorDataset {
            let i = Tensor(idx.map(Float.init))
            let d = try TensorDataset(
                name: name + suffix, samples: try samples.gatherRows(i),
                labels: try labels?.gatherRows(i), classCount: classCount)
            d.kind = kind
            return d
        }
        return (try part(kept, ""), try part(held, ".heldout"))
    }

    public func batchesPerEpoch(batchSize: Int) -> Int { Swift.max(1, count / Swift.max(batchSize, 1)) }

    public func nextBatch(_ size: Int) throws -> (x: Tensor, labels: Tensor?) {
        guard size > 0 else { throw ShapeError("batch size must be positive, found \(size)") }
        let n = Swift.min(size, count)
        if cursor.order.count != count || cursor.position + n > count {
            cursor = DataCursor(order: Random.permutation(count), position: 0)
        }
        let idx = Tensor(cursor.order[cursor.position..<(cursor.position + n)].map(Float.init))
        cursor.position += n
        return (try samples.gatherRows(idx), try labels?.gatherRows(idx))
    }
}

/// Fresh samples drawn on demand (synthetic 2-D data); an epoch is a fixed
/// number of batches.
public final class SampledDataset: DataSource {
    public let name: String
    public let sampleShape: [Int]
    public let classCount: Int?
    public var stepsPerEpoch: Int
    public var cursor = DataCursor()
    public let fingerprint: String
    let draw: (Int) -> (Tensor, Tensor?)

    /// `fingerprint` describes the distribution drawn from (its parameters); by default the name.
    public init(
        name: String, sampleShape: [Int], classCount: Int? = nil, stepsPerEpoch: Int = 100, fingerprint: String? = nil,
        draw: @escaping (Int) -> (Tensor, Tensor?)
    ) {
        self.name = name
        self.fingerprint = fingerprint ?? name
        self.sampleShape = sampleShape
        self.classCount = classCount
        self.stepsPerEpoch = stepsPerEpoch
        self.draw = draw
    }

    public func batchesPerEpoch(batchSize: Int) -> Int { stepsPerEpoch }

    public func nextBatch(_ size: Int) throws -> (x: Tensor, labels: Tensor?) {
        guard size > 0 else { throw ShapeError("batch size must be positive, found \(size)") }
        return draw(size)
    }
}

/// A mixture of isotropic Gaussians in the plane with known centres.
public struct GaussianMixture: Sendable {
    public let centers: [(Float, Float)]
    public let std: Float

    public init(centers: [(Float, Float)], std: Float) throws {
        guard !centers.isEmpty else { throw ShapeError("a mixture needs at least one mode") }
        guard std.isFinite, std > 0 else { throw ShapeError("a mixture needs a positive σ, found \(std)") }
        self.centers = centers
        self.std = std
    }

    /// `modes` centres evenly on a circle (the reference toy: 8, radius 2, σ 0.02).
    public static func ring(modes: Int = 8, radius: Float = 2, std: Float = 0.02) throws -> GaussianMixture {
        guard modes >= 1, radius.isFinite else {
            throw ShapeError("a ring needs at least one mode and a finite radius, found \(modes) and \(radius)")
        }
        return try GaussianMixture(
            centers: (0..<modes).map { k in
                let a = 2 * Float.pi * Float(k) / Float(modes)
                return (radius * Foundation.cos(a), radius * Foundation.sin(a))
            }, std: std)
    }

    /// A square grid of centres (default 5×5 at −4, −2, 0, 2, 4, σ 0.05).
    public static func grid(side: Int = 5, spacing: Float = 2, std: Float = 0.05) throws -> GaussianMixture {
        guard side >= 1, side <= 1000, spacing.isFinite else {
            throw ShapeError("a grid needs 1…1000 modes a side and a finite spacing, found \(side) and \(spacing)")
        }
        let offset = Float(side - 1) / 2 * spacing
        var c: [(Float, Float)] = []
        for i in 0..<side { for j in 0..<side { c.append((Float(i) * spacing - offset, Float(j) * spacing - offset)) } }
        return try GaussianMixture(centers: c, std: std)
    }

    /// n samples `[n, 2]` and their mode indices, from the global generator.
    public func sample(_ n: Int) -> (Tensor, Tensor) {
        let x = Tensor(zeros: [n, 2]), modes = Tensor(zeros: [n])
        x.withUnsafeMutableBufferPointer { p in
            modes.withUnsafeMutableBufferPointer { m in
                for i in 0..<n {
                    let k = Random.global.nextInt(below: centers.count)
                    m[i] = Float(k)
                    p[2 * i] = centers[k].0 + std * Random.global.nextNormal()
                    p[2 * i + 1] = centers[k].1 + std * Random.global.nextNormal()
                }
            }
        }
        return (x, modes)
    }

    /// A stream of fresh batches from this mixture.
    public func dataset(name: String) -> SampledDataset {
        SampledDataset(
            name: name, sampleShape: [2],
            fingerprint: "mixture \(centers.map { "(\($0.0), \($0.1))" }.joined(separator: " ")) std \(std)"
        ) { n in
            (self.sample(n).0, nil)
        }
    }

    /// Mode coverage as VEEGAN and PacGAN define it: a sample is high quality
    /// when it lies within 3σ of its nearest centre; a mode is covered when at
    /// least one high-quality sample is nearest to it.
    public func coverage(_ samples: Tensor) -> (modes: Int, highQuality: Float, perMode: [Int]) {
        var perMode = [Int](repeating: 0, count: centers.count)
        var hq = 0
        let n = samples.shape[0]
        samples.withUnsafeBufferPointer { p in
            for i in 0..<n {
                var best = Float.infinity, which = 0
                for (k, c) in centers.enumerated() {
                    let dx = p[2 * i] - c.0, dy = p[2 * i + 1] - c.1
                    let d = (dx * dx + dy * dy).squareRoot()
                    if d < best { best = d; which = k }
                }
                if best < 3 * std { hq += 1; perMode[which] += 1 }
            }
        }
        return (perMode.filter { $0 > 0 }.count, n == 0 ? 0 : Float(hq) / Float(n), perMode)
    }
}
