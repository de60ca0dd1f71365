import Foundation
import TensorCore

/// A small classifier trained on labelled real images with a fixed seed, whose
/// predictions and penultimate features measure generated images.
public final class ImageClassifier {
    public let network: Network
    public let classes: Int

    init(network: Network, classes: Int) {
        self.network = network
        self.classes = classes
    }

    /// Trains flatten → 128 → 64 (the feature layer) → classes with Adam on
    /// `data`, leaving the global generator as it was.
    public static func train(on data: TensorDataset, seed: UInt64 = 0, epochs: Int = 30) throws -> ImageClassifier {
        guard let classes = data.classCount, let labels = data.labels else {
            throw ShapeError("a classifier needs labelled data; \(data.name) has no labels")
        }
        let saved = Random.global
        defer { Random.global = saved }
        Random.seed(seed)
        let input = data.sampleShape
        let net = try Network(
            input: input, layers: [.flatten, .linear(out: 128), .relu, .linear(out: 64), .relu, .linear(out: classes)])
        let opt = Adam(net.parameters.map(\.tensor), lr: 1e-3)
        let n = data.count, batch = 64
        for _ in 0..<epochs {
            let order = Random.permutation(n)
            var start = 0
            while start + batch <= n {
                try Interrupt.check()
                let idx = Tensor(order[start..<(start + batch)].map(Float.init))
                let loss = try net(try data.samples.gatherRows(idx)).crossEntropy(classes: try labels.gatherRows(idx))
                let grads = try grad(of: loss, wrt: opt.parameters)
                for (p, g) in zip(opt.parameters, grads) { p.grad = g }
                opt.step()
                start += batch
            }
        }
        net.training = false
        return ImageClassifier(network: net, classes: classes)
    }

    nonisolated(unsafe) private static var cache: [String: ImageClassifier] = [:]

    /// The classifier for `data`, trained once per session (per dataset name,
    /// size and seed) and reused after.
    public static func cached(for data: TensorDataset, seed: UInt64 = 0) throws -> ImageClassifier {
        let key = "\(data.name)|\(data.count)|\(shapeString(data.sampleShape))|\(seed)"
        if let c = cache[key] { return c }
        let c = try train(on: data, seed: seed)
        cache[key] = c
        return c
    }

    /// Class probabilities `[N, classes]`.
    public func probabilities(_ x: Tensor) throws -> Tensor { try withNoGrad { try network(x).softmax() } }

    /// Penultimate features `[N, 64]`.
    public func features(_ x: Tensor) throws -> Tensor {
        try withNoGrad {
            var h = x
            for layer in network.layers.dropLast() { h = try layer.forward(h, training: false) }
            return h
        }
    }

    /// Fraction of samples whose predicted class is their label.
    public func accuracy(on data: TensorDataset) throws -> Float {
        guard let labels = data.labels else { throw ShapeError("\(data.name) has no labels") }
        let predicted = try probabilities(data.samples).argmax(axis: 1).scalars
        return Float(zip(predicted, labels.scalars).filter { $0 == $1 }.count) / Float(data.count)
    }

    /// What the classifier says of a set of images.
    public struct Scores: Sendable {
        /// Classes predicted for at least one sample in a hundred (1% of an even share).
        public var coverage: Int
        /// KL divergence of the predicted-class histogram from the real data's.
        public var klFromData: Double
        /// exp(E[KL(p(y|x) ‖ p(y))]), as the Inception score.
        public var score: Double
        /// Fréchet distance between these images' penultimate features and the real data's.
        public var frechet: Double
    }

    public func scores(_ images: Tensor, real: TensorDataset) throws -> Scores {
        guard let labels = real.labels else { throw ShapeError("\(real.name) has no labels") }
        let p = try probabilities(images)
        let n = images.shape[0]
        var hist = [Double](repeating: 0, count: classes), marginal = [Double](repeating: 0, count: classes)
        let ps = p.scalars
        let predicted = try p.argmax(axis: 1).scalars
        for k in predicted { hist[Int(k)] += 1 }
        for i in 0..<n { for c in 0..<classes { marginal[c] += Double(ps[i * classes + c]) / Double(n) } }
        var dataHist = [Double](repeating: 0, count: classes)
        for l in labels.scalars { dataHist[Int(l)] += 1 }
        let coverage = hist.filter { $0 / Double(n) >= 0.01 / Double(classes) }.count
        var kl = 0.0
        for c in 0..<classes where hist[c] > 0 {
            let q = hist[c] / Double(n), d = Swift.max(dataHist[c] / Double(real.count), 1e-12)
            kl += q * Foundation.log(q / d)
        }
        var meanKL = 0.0
        for i in 0..<n {
            for c in 0..<classes {
                let pc = Double(ps[i * classes + c])
                if pc > 1e-12 { meanKL += pc * Foundation.log(pc / Swift.max(marginal[c], 1e-12)) }
            }
        }
        try Interrupt.check()
        let generatedFeatures = try features(images)
        try Interrupt.check()
        let frechet = try Fréchet.distance(generatedFeatures, try features(real.samples))
        return Scores(coverage: coverage, klFromData: kl, score: Foundation.exp(meanKL / Double(n)), frechet: frechet)
    }
}

/// The Fréchet distance between Gaussians fitted to two sets of feature vectors:
/// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½), in Double with a Jacobi eigensolver.
public enum Fréchet {
    public static func distance(_ a: Tensor, _ b: Tensor) throws -> Double {
        guard a.rank == 2, b.rank == 2, a.shape[1] == b.shape[1], a.shape[0] > 1, b.shape[0] > 1 else {
            throw ShapeError(
                "Fréchet distance needs two [N, D] sets with N > 1, found \(shapeString(a.shape)) and \(shapeString(b.shape))"
            )
        }
        let (m1, s1) = moments(a), (m2, s2) = moments(b)
        let d = m1.count
        var diff = 0.0
        for i in 0..<d { diff += (m1[i] - m2[i]) * (m1[i] - m2[i]) }
        // Tr((Σ₁Σ₂)^½) = Tr((Σ₁^½ Σ₂ Σ₁^½)^½), a symmetric product.
        let r1 = symmetricSqrt(s1, d)
        let m = multiply(multiply(r1, s2, d), r1, d)
        let traceRoot = eigenvalues(m, d).reduce(0) { $0 + Swift.max($1, 0).squareRoot() }
        var trace = 0.0
        for i in 0..<d { trace += s1[i * d + i] + s2[i * d + i] }
        return Swift.max(0, diff + trace - 2 * traceRoot)
    }

    static func moments(_ x: Tensor) -> ([Double], [Double]) {
        let n = x.shape[0], d = x.shape[1]
        let v = x.scalars.map(Double.init)
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += v[i * d + j] / Double(n) } }
        var cov = [Double](repeating: 0, count: d * d)
        for i in 0..<n {
            for j in 0..<d {
                let dj = v[i * d + j] - mean[j]
                for k in j..<d { cov[j * d + k] += dj * (v[i * d + k] - mean[k]) }
            }
        }
        for j in 0..<d { for k in j..<d { cov[j * d + k] /= Double(n - 1); cov[k * d + j] = cov[j * d + k] } }
        return (mean, cov)
    }

    static func multiply(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for k in 0..<d {
                let aik = a[i * d + k]; if aik == 0 { continue }; for j in 0..<d { c[i * d + j] += aik * b[k * d + j] }
            }
        }
        return c
    }

    /// Cyclic Jacobi rotations: eigenvalues and (column) eigenvectors of a symmetric matrix.
    static func jacobi(_ s: [Double], _ d: Int) -> ([Double], [Double]) {
        var a = s
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<d { for j in (i + 1)..<d where j < d { off += a[i * d + j] * a[i * d + j] } }
            if off < 1e-22 { break }
            for p in 0..<d {
                for q in (p + 1)..<d where q < d {
                    let apq = a[p * d + q]
                    if Swift.abs(apq) < 1e-300 { continue }
                    let theta = (a[q * d + q] - a[p * d + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), sn = t * c
                    for k in 0..<d {
                        let akp = a[k * d + p], akq = a[k * d + q]
                        a[k * d + p] = c * akp - sn * akq
                        a[k * d + q] = sn * akp + c * akq
                    }
                    for k in 0..<d {
                        let apk = a[p * d + k], aqk = a[q * d + k]
                        a[p * d + k] = c * apk - sn * aqk
                        a[q * d + k] = sn * apk + c * aqk
                    }
                    for k in 0..<d {
                        let vkp = v[k * d + p], vkq = v[k * d + q]
                        v[k * d + p] = c * vkp - sn * vkq
                        v[k * d + q] = sn * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<d).map { a[$0 * d + $0] }, v)
    }

    static func eigenvalues(_ s: [Double], _ d: Int) -> [Double] { jacobi(s, d).0 }

    /// V·diag(√max(λ, 0))·Vᵀ.
    static func symmetricSqrt(_ s: [Double], _ d: Int) -> [Double] {
        let (lambda, v) = jacobi(s, d)
        var r = [Double](repeating: 0, count: d * d)
        for k in 0..<d {
            let root = Swift.max(lambda[k], 0).squareRoot()
            if root == 0 { continue }
            for i in 0..<d { let vik = v[i * d + k] * root; for j in 0..<d { r[i * d + j] += vik * v[j * d + k] } }
        }
        return r
    }
}
