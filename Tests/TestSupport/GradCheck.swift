import TensorCore

/// Finite-difference checks of gradients, first and second order. Each
/// returns a list of failure messages naming the case (empty when all agree),
/// so a test reports every mismatch at once.
public enum GradCheck {
    /// Fixed pseudo-random weights that turn any output into a scalar
    /// (so the gradient is not trivially all ones).
    public static func weights(_ shape: [Int], seed: UInt64 = 7) -> Tensor {
        var g = RandomGenerator(seed: seed)
        let n = shape.reduce(1, *)
        return Tensor((0..<n).map { _ in 0.5 + g.nextUniform() }, shape: shape)
    }

    /// Σ w ⊙ f(x), the scalar whose gradient is checked.
    static func scalarize(_ y: Tensor) throws -> Tensor {
        try (y * weights(y.shape)).sum()
    }

    /// Compares the gradient of Σ w ⊙ f(inputs) with respect to each input
    /// against central differences. Inputs are copied; only those listed in
    /// `differentiable` (all by default) are checked.
    public static func first(
        _ name: String, _ inputs: [Tensor], differentiable: [Int]? = nil,
        eps: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
        _ f: ([Tensor]) throws -> Tensor
    ) -> [String] {
        let which = differentiable ?? Array(inputs.indices)
        do {
            let xs = inputs.map { $0.copy() }
            for i in which { xs[i].requiresGrad = true }
            let loss = try scalarize(f(xs))
            let analytic = try grad(of: loss, wrt: which.map { xs[$0] })
            var failures: [String] = []
            for (k, i) in which.enumerated() {
                let numeric = try numericGradient(xs, i, eps: eps) { try scalarize(f($0)) }
                failures += compare("\(name): d/dinput\(i)", analytic[k].scalars, numeric, atol: atol, rtol: rtol)
            }
            return failures
        } catch {
            return ["\(name): threw \(error)"]
        }
    }

    /// Like `first`, for a computation that reads its own tensors (a layer and
    /// its parameters): the gradient with respect to those very tensors,
    /// against central differences made by perturbing them in place.
    public static func inPlace(
        _ name: String, _ tensors: [Tensor], eps: Float = 1e-2, atol: Float = 2e-3,
        rtol: Float = 2e-2, _ f: () throws -> Tensor
    ) -> [String] {
        do {
            let saved = tensors.map(\.requiresGrad)
            defer { for (t, r) in zip(tensors, saved) { t.requiresGrad = r } }
            for t in tensors { t.requiresGrad = true }
            let analytic = try grad(of: try scalarize(f()), wrt: tensors)
            var failures: [String] = []
            for (i, t) in tensors.enumerated() {
                let numeric = try numericGradient(tensors, i, eps: eps) { _ in try scalarize(f()) }
                failures += compare(
                    "\(name): tensor \(i) \(t.shape)", analytic[i].scalars, numeric, atol: atol, rtol: rtol)
            }
            return failures
        } catch {
            return ["\(name): threw \(error)"]
        }
    }

    /// Second order: h(x) = Σ v ⊙ ∂(Σ w ⊙ f(x))/∂x, built with `createGraph`;
    /// compares ∂h/∂x with central differences of h.
    public static func second(
        _ name: String, _ inputs: [Tensor], differentiable: [Int]? = nil,
        eps: Float = 1e-2, atol: Float = 5e-3, rtol: Float = 5e-2,
        _ f: ([Tensor]) throws -> Tensor
    ) -> [String] {
        let which = differentiable ?? Array(inputs.indices)
        func h(_ xs: [Tensor], createGraph: Bool) throws -> Tensor {
            let loss = try scalarize(f(xs))
            let gs = try grad(of: loss, wrt: which.map { xs[$0] }, createGraph: createGraph)
            var total = Tensor(0)
            for (k, g) in gs.enumerated() { total = try total + (g * weights(g.shape, seed: UInt64(11 + k))).sum() }
            return total
        }
        do {
            let xs = inputs.map { $0.copy() }
            for i in which { xs[i].requiresGrad = true }
            let hx = try h(xs, createGraph: true)
            var failures: [String] = []
            let analytic: [Tensor]
            if hx.requiresGrad {
                analytic = try grad(of: hx, wrt: which.map { xs[$0] })
            } else {
                analytic = which.map { Tensor(zeros: xs[$0].shape) }  // h does not depend on x: linear f
            }
            for (k, i) in which.enumerated() {
                let numeric = try numericGradient(xs, i, eps: eps) { try h($0, createGraph: false) }
                failures += compare(
                    "\(name): second order d/dinput\(i)", analytic[k].scalars, numeric, atol: atol, rtol: rtol)
            }
            return failures
        } catch {
            return ["\(name): threw \(error)"]
        }
    }

    /// Central differences of a scalar function with respect to input `i`.
    public static func numericGradient(
        _ xs: [Tensor], _ i: Int, eps: Float,
        _ f: ([Tensor]) throws -> Tensor
    ) throws -> [Float] {
        let x = xs[i]
        var result = [Float](repeating: 0, count: x.count)
        for j in 0..<x.count {
            let saved = x.withUnsafeBufferPointer { $0[j] }
            x.withUnsafeMutableBufferPointer { $0[j] = saved + eps }
            let plus = try f(xs).item
            x.withUnsafeMutableBufferPointer { $0[j] = saved - eps }
            let minus = try f(xs).item
            x.withUnsafeMutableBufferPointer { $0[j] = saved }
            result[j] = (plus - minus) / (2 * eps)
        }
        return result
    }

    /// Elementwise |a − b| ≤ atol + rtol·|b|, reporting the worst offenders.
    public static func compare(_ name: String, _ a: [Float], _ b: [Float], atol: Float, rtol: Float) -> [String] {
        guard a.count == b.count else { return ["\(name): \(a.count) values against \(b.count)"] }
        var bad: [String] = []
        for (i, (x, y)) in zip(a, b).enumerated() where !(Swift.abs(x - y) <= atol + rtol * Swift.abs(y)) {
            bad.append("[\(i)] analytic \(x) numeric \(y)")
        }
        if bad.isEmpty { return [] }
        return ["\(name): \(bad.count) of \(a.count) differ: " + bad.prefix(4).joined(separator: "; ")]
    }

    /// A tensor of values in ±[low, high] (away from 0, for ops with a kink there).
    public static func values(
        _ shape: [Int], low: Float = 0.1, high: Float = 1.0, seed: UInt64 = 1,
        positive: Bool = false
    ) -> Tensor {
        var g = RandomGenerator(seed: seed)
        let n = shape.reduce(1, *)
        return Tensor(
            (0..<n).map { _ in
                let m = low + (high - low) * g.nextUniform()
                return positive || g.nextUniform() < 0.5 ? m : -m
            }, shape: shape)
    }
}
