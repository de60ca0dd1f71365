import Foundation
import TensorCore

/// Synthetic 2-D data, drawn fresh from the global generator. Every shape
/// has parameters the user can change; the mixtures also have known modes
/// for the coverage metrics.
public enum Synthetic2D {
    /// A ring of Gaussians (default 8 modes, radius 2, σ 0.02, as the reference toy).
    case ring(modes: Int = 8, radius: Float = 2, std: Float = 0.02)
    /// A square grid of Gaussians (default 5×5 at −4…4 step 2, σ 0.05).
    case grid(side: Int = 5, spacing: Float = 2, std: Float = 0.05)
    /// A spiral (Swiss roll in the plane) of the given turns, with Gaussian noise.
    case spiral(turns: Float = 1.5, radius: Float = 3, noise: Float = 0.05)
    /// Two interleaving half circles.
    case moons(noise: Float = 0.05)
    /// Two concentric circles, the inner `factor` times the outer (radius 2).
    case circles(factor: Float = 0.5, noise: Float = 0.03)
    /// One Gaussian.
    case gaussian(meanX: Float = 0, meanY: Float = 0, std: Float = 1)
    /// A segment from (−length/2, 0) to (length/2, 0) with noise across it.
    case line(length: Float = 4, noise: Float = 0.02)

    /// The mixture behind `ring` and `grid`, for mode metrics.
    public func mixture() throws -> GaussianMixture? {
        switch self {
        case let .ring(m, r, s): return try GaussianMixture.ring(modes: m, radius: r, std: s)
        case let .grid(n, d, s): return try GaussianMixture.grid(side: n, spacing: d, std: s)
        default: return nil
        }
    }

    func check() throws {
        func ok(_ values: Float...) -> Bool { values.allSatisfy { $0.isFinite && $0 >= 0 } }
        switch self {
        case .ring, .grid: _ = try mixture()
        case let .spiral(t, r, n):
            guard ok(t, r, n), t > 0, r > 0 else {
                throw ShapeError("spiral needs positive turns and radius and noise ≥ 0")
            }
        case let .moons(n): guard ok(n) else { throw ShapeError("moons need noise ≥ 0") }
        case let .circles(f, n):
            guard ok(f, n), f < 1 else { throw ShapeError("circles need a factor in [0, 1) and noise ≥ 0") }
        case let .gaussian(mx, my, s):
            guard mx.isFinite, my.isFinite, ok(s), s > 0 else {
                throw ShapeError("a Gaussian needs a finite mean and σ > 0")
            }
        case let .line(l, n):
            guard ok(l, n), l > 0 else { throw ShapeError("a line needs a positive length and noise ≥ 0") }
        }
    }

    /// n samples `[n, 2]`.
    public func sample(_ n: Int) throws -> Tensor {
        try check()
        if let m = try mixture() { return m.sample(n).0 }
        var g = Random.global
        defer { Random.global = g }
        var v = [Float](repeating: 0, count: 2 * n)
        for i in 0..<n {
            let (x, y): (Float, Float)
            switch self {
            case let .spiral(turns, radius, noise):
                let t = g.nextUniform()
                let a = 2 * Float.pi * turns * t
                x = radius * t * Foundation.cos(a) + noise * g.nextNormal()
                y = radius * t * Foundation.sin(a) + noise * g.nextNormal()
            case let .moons(noise):
                let a = Float.pi * g.nextUniform()
                if g.nextUniform() < 0.5 {
                    x = Foundation.cos(a) + noise * g.nextNormal(); y = Foundation.sin(a) + noise * g.nextNormal()
                } else {
                    x = 1 - Foundation.cos(a) + noise * g.nextNormal();
                    y = 0.5 - Foundation.sin(a) + noise * g.nextNormal()
                }
            case let .circles(factor, noise):
                let a = 2 * Float.pi * g.nextUniform()
                let r: Float = g.nextUniform() < 0.5 ? 2 : 2 * factor
                x = r * Foundation.cos(a) + noise * g.nextNormal(); y = r * Foundation.sin(a) + noise * g.nextNormal()
            case let .gaussian(mx, my, std):
                x = mx + std * g.nextNormal(); y = my + std * g.nextNormal()
            case let .line(length, noise):
                x = length * (g.nextUniform() - 0.5); y = noise * g.nextNormal()
            case .ring, .grid:
                (x, y) = (0, 0)
            }
            v[2 * i] = x; v[2 * i + 1] = y
        }
        return Tensor(v, shape: [n, 2])
    }

    /// A stream of fresh batches.
    public func dataset(name: String, stepsPerEpoch: Int = 100) throws -> SampledDataset {
        try check()
        let shape = self
        return SampledDataset(name: name, sampleShape: [2], stepsPerEpoch: stepsPerEpoch, fingerprint: "\(self)") { n in
            ((try? shape.sample(n)) ?? Tensor(zeros: [n, 2]), nil)
        }
    }
}
