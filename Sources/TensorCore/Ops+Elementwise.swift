import Foundation
import CKernels

// Elementwise primitives. Each forward is a kernel; each backward is written
// with tensor ops, so it can be differentiated again.

extension Tensor {
    // MARK: Binary, with broadcasting

    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try broadcastShape(a.shape, b.shape, op: "add")
        let out = Kernels.zip(a, b, shape) { $0 + $1 }
        return record("add", out, [a, b]) { g in
            [try g.sumTo(a.shape), try g.sumTo(b.shape)]
        }
    }

    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try broadcastShape(a.shape, b.shape, op: "sub")
        let out = Kernels.zip(a, b, shape) { $0 - $1 }
        return record("sub", out, [a, b]) { g in
            [try g.sumTo(a.shape), try (-g).sumTo(b.shape)]
        }
    }

    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try broadcastShape(a.shape, b.shape, op: "mul")
        let out = Kernels.zip(a, b, shape) { $0 * $1 }
        let needA = a.requiresGrad, needB = b.requiresGrad  // as recorded, not as when the backward runs
        return record("mul", out, [a, b]) { g in
            [
                needA ? try (g * b).sumTo(a.shape) : nil,  // dA = g · b
                needB ? try (g * a).sumTo(b.shape) : nil
            ]  // dB = g · a
        }
    }

    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try broadcastShape(a.shape, b.shape, op: "div")
        let out = Kernels.zip(a, b, shape) { $0 / $1 }
        let needA = a.requiresGrad, needB = b.requiresGrad  // as recorded, not as when the backward runs
        return record("div", out, [a, b]) { g in
            [
                needA ? try (g / b).sumTo(a.shape) : nil,  // dA = g / b
                needB ? try (-(g * a) / (b * b)).sumTo(b.shape) : nil
            ]  // dB = −g·a / b²
        }
    }

    /// Elementwise maximum; ties send the gradient to `a`.
    public func maximum(_ b: Tensor) throws -> Tensor {
        let a = self
        let shape = try broadcastShape(a.shape, b.shape, op: "maximum")
        let out = Kernels.zip(a, b, shape) { Swift.max($0, $1) }
        return Tensor.record("maximum", out, [a, b]) { g in
            let m = try a.greaterEqual(b)
            return [try (g * m).sumTo(a.shape), try (g * (1 - m)).sumTo(b.shape)]
        }
    }

    /// Elementwise minimum; ties send the gradient to `a`.
    public func minimum(_ b: Tensor) throws -> Tensor {
        let a = self
        let shape = try broadcastShape(a.shape, b.shape, op: "minimum")
        let out = Kernels.zip(a, b, shape) { Swift.min($0, $1) }
        return Tensor.record("minimum", out, [a, b]) { g in
            let m = try a.lessEqual(b)
            return [try (g * m).sumTo(a.shape), try (g * (1 - m)).sumTo(b.shape)]
        }
    }

    /// `condition ? a : b` elementwise (condition non-zero), all three broadcast.
    /// The condition is a constant mask: it gets no gradient.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let ab = try broadcastShape(a.shape, b.shape, op: "where")
        let shape = try broadcastShape(condition.shape, ab, op: "where")
        let (c, af, bf) = try withNoGrad {
            (try condition.broadcast(to: shape), try a.broadcast(to: shape), try b.broadcast(to: shape))
        }
        let mask = Kernels.map(c) { $0 != 0 ? 1 : 0 }
        let out = Tensor(uninitialized: shape)
        let pm = mask.pointer, pa = af.pointer, pb = bf.pointer, po = out.pointer
        for i in 0..<out.count { po[i] = pm[i] != 0 ? pa[i] : pb[i] }
        return record("where", out, [a, b]) { g in
            [try (g * mask).sumTo(a.shape), try (g * (1 - mask)).sumTo(b.shape)]
        }
    }

    // MARK: Comparisons (constant 0/1 results, no gradient)

    public func greater(_ b: Tensor) throws -> Tensor { try compare(b, "greater") { $0 > $1 } }
    public func greaterEqual(_ b: Tensor) throws -> Tensor { try compare(b, "greaterEqual") { $0 >= $1 } }
    public func less(_ b: Tensor) throws -> Tensor { try compare(b, "less") { $0 < $1 } }
    public func lessEqual(_ b: Tensor) throws -> Tensor { try compare(b, "lessEqual") { $0 <= $1 } }
    public func equal(_ b: Tensor) throws -> Tensor { try compare(b, "equal") { $0 == $1 } }

    @inline(__always)
    private func compare(_ b: Tensor, _ op: String, _ f: (Float, Float) -> Bool) throws -> Tensor {
        let shape = try broadcastShape(self.shape, b.shape, op: op)
        return Kernels.zip(self, b, shape) { f($0, $1) ? 1 : 0 }
    }

    // MARK: With a scalar

    public static func + (a: Tensor, s: Float) -> Tensor {
        let out = Kernels.map(a) { $0 + s }
        return record("addScalar", out, [a]) { g in [g] }
    }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    /// self + s (for chains that read left to right).
    public func add(_ s: Float) -> Tensor { self + s }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func - (s: Float, a: Tensor) -> Tensor { (-a) + s }

    public static func * (a: Tensor, s: Float) -> Tensor {
        let out = Kernels.map(a) { $0 * s }
        return record("mulScalar", out, [a]) { g in [g * s] }
    }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static func / (s: Float, a: Tensor) -> Tensor { s * a.pow(-1) }

    public static prefix func - (a: Tensor) -> Tensor {
        let out = Kernels.map(a) { -$0 }
        return record("neg", out, [a]) { g in [-g] }
    }

    // MARK: Unary

    /// xᵖ for a scalar exponent.
    public func pow(_ p: Float) -> Tensor {
        let x = self
        if p == 1 { return x * 1 }
        let out = p == 2 ? Kernels.map(x) { $0 * $0 } : Kernels.mapParallel(x) { Foundation.pow($0, p) }
        return Tensor.record("pow", out, [x]) { g in [try g * (p * x.pow(p - 1))] }  // dx = g·p·xᵖ⁻¹
    }

    public func exp() -> Tensor {
        let x = self
        let out = Kernels.expParallel(x)
        let y = out.detached()
        return Tensor.record("exp", out, [x]) { g in
            [try g * (GradMode.isEnabled ? x.exp() : y)]  // dx = g·eˣ
        }
    }

    public func log() -> Tensor {
        let x = self
        let out = Kernels.mapParallel(x) { Foundation.log($0) }
        return Tensor.record("log", out, [x]) { g in [try g / x] }  // dx = g / x
    }

    public func sqrt() -> Tensor {
        let x = self
        let out = Kernels.map(x) { $0.squareRoot() }
        let y = out.detached()
        return Tensor.record("sqrt", out, [x]) { g in
            [try g / (2 * (GradMode.isEnabled ? x.sqrt() : y))]  // dx = g / (2√x)
        }
    }

    public func abs() -> Tensor {
        let x = self
        let out = Kernels.map(x) { Swift.abs($0) }
        return Tensor.record("abs", out, [x]) { g in [try g * x.sign()] }  // dx = g·sign(x)
    }

    /// −1, 0 or 1 (constant, no gradient).
    public func sign() -> Tensor {
        Kernels.map(self) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
    }

    public func relu() -> Tensor {
        let x = self
        let out = Tensor(uninitialized: x.shape)
        let (o, xp) = (out.pointer, x.pointer)
        Parallel.forEachChunk(x.count, grain: Parallel.passThreshold) { r in
            gk_relu(o + r.lowerBound, xp + r.lowerBound, r.count)  // NaN passes through, as in PyTorch
        }
        return Tensor.record("relu", out, [x]) { g in [try g.maskedGradient(by: x, negativeSlope: 0)] }
    }

    public func leakyRelu(_ alpha: Float = 0.01) -> Tensor {
        let x = self
        let out = Tensor(uninitialized: x.shape)
        let (o, xp) = (out.pointer, x.pointer)
        Parallel.forEachChunk(x.count, grain: Parallel.passThreshold) { r in
            gk_leaky_relu(o + r.lowerBound, xp + r.lowerBound, r.count, alpha)
        }
        return Tensor.record("leakyRelu", out, [x]) { g in [try g.maskedGradient(by: x, negativeSlope: alpha)] }
    }

    /// g where x > 0 and slope·g elsewhere, in one pass: the backward of
    /// relu and leaky relu. Linear in g, so its own gradient is the same
    /// mask applied again; with respect to x it is zero almost everywhere.
    func maskedGradient(by x: Tensor, negativeSlope slope: Float) throws -> Tensor {
        let g = self
        guard g.shape == x.shape else {
            throw TensorError(
                "reluGrad", "gradient \(shapeString(g.shape)) does not match input \(shapeString(x.shape))")
        }
        let out = Tensor(uninitialized: g.shape)
        let (o, gp, xp) = (out.pointer, g.pointer, x.pointer)
        Parallel.forEachChunk(g.count, grain: Parallel.passThreshold) { r in
            let i = r.lowerBound
            gk_masked_gradient(o + i, gp + i, xp + i, r.count, slope)  // dx = g·(x > 0 ? 1 : slope)
        }
        return Tensor.record("reluGrad", out, [g]) { gg in [try gg.maskedGradient(by: x, negativeSlope: slope)] }
    }

    public func sigmoid() -> Tensor {
        let x = self
        let out = Kernels.mapParallel(x) { v in
            v >= 0 ? 1 / (1 + Foundation.exp(-v)) : Foundation.exp(v) / (1 + Foundation.exp(v))
        }
        let y = out.detached()
        return Tensor.record("sigmoid", out, [x]) { g in
            let s = GradMode.isEnabled ? x.sigmoid() : y
            return [try g * (s * (1 - s))]  // dx = g·σ(1−σ)
        }
    }

    public func tanh() -> Tensor {
        let x = self
        let out = Kernels.tanhParallel(x)
        let y = out.detached()
        return Tensor.record("tanh", out, [x]) { g in
            if GradMode.isEnabled {  // recorded, for gradients of gradients
                let t = x.tanh()
                return [try g * (1 - t * t)]  // dx = g·(1 − tanh²)
            }
            guard g.shape == y.shape else { return [try g * (1 - y * y)] }
            let dx = Tensor(uninitialized: g.shape)  // the same in one pass, the same bits
            gk_tanh_gradient(dx.pointer, g.pointer, y.pointer, g.count)
            return [dx]
        }
    }

    /// log(1 + eˣ), computed stably.
    public func softplus() -> Tensor {
        let x = self
        let out = Kernels.mapParallel(x) { v in Swift.max(v, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(v))) }
        return Tensor.record("softplus", out, [x]) { g in [try g * x.sigmoid()] }  // dx = g·σ(x)
    }

    /// The error function.
    public func erf() -> Tensor {
        let x = self
        let out = Kernels.mapParallel(x) { Foundation.erf($0) }
        return Tensor.record("erf", out, [x]) { g in
            [try g * ((x * x) * -1).exp() * (2 / Float.pi.squareRoot())]  // dx = g·2/√π·e^(−x²)
        }
    }

    /// Limits values to [low, high]; the gradient passes where x is inside.
    public func clamp(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        let x = self
        let out = Kernels.map(x) { Swift.min(Swift.max($0, low), high) }
        return Tensor.record("clamp", out, [x]) { g in
            [try g * Kernels.map(x) { $0 >= low && $0 <= high ? 1 : 0 }]
        }
    }
}
