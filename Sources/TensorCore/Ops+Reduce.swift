import CKernels
extension Tensor {
    /// Sorted, de-duplicated, non-negative axes; nil means all axes.
    func resolveAxes(_ axes: [Int]?, op: String) throws -> [Int] {
        guard let axes else { return Array(0..<rank) }
        return Array(Set(try axes.map { try normalizeAxis($0, rank: rank, op: op) })).sorted()
    }

    /// Reduces the given axes (sorted, unique) with `f`, keeping them as size 1.
    @inline(__always)
    func reduceKeepingDims(_ axes: [Int], initial: Float, isSum: Bool = false, _ f: (Float, Float) -> Float) -> Tensor {
        var current = self
        var curShape = shape
        // Runs of consecutive axes, reduced from the last run to the first.
        var runs: [(Int, Int)] = []
        for a in axes {
            if let last = runs.last, last.1 == a { runs[runs.count - 1].1 = a + 1 } else { runs.append((a, a + 1)) }
        }
        if runs.isEmpty { return copy().reshapedUnchecked(shape) }
        for (lo, hi) in runs.reversed() {
            let outer = curShape[..<lo].reduce(1, *)
            let red = curShape[lo..<hi].reduce(1, *)
            let inner = curShape[hi...].reduce(1, *)
            var newShape = curShape
            for i in lo..<hi { newShape[i] = 1 }
            let out = Tensor(uninitialized: newShape)
            if isSum && inner > 1 {
                // Rows added in the same order as reduceMiddle, in the widest vectors the CPU has.
                for o in 0..<outer {
                    gk_column_sums(out.pointer + o * inner, current.pointer + o * red * inner, red, inner)
                }
            } else {
                Kernels.reduceMiddle(
                    current.pointer, out.pointer, outer: outer, reduce: red, inner: inner,
                    initial: initial, f)
            }
            current = out
            curShape = newShape
        }
        return current
    }

    func reshapedUnchecked(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, storage: storage) }

    /// Sum over `axes` (all when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let x = self
        let ax = try resolveAxes(axes, op: "sum")
        let kept = reduceKeepingDims(ax, initial: 0, isSum: true) { $0 + $1 }
        let outShape = keepDims ? kept.shape : shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element)
        let out = kept.reshapedUnchecked(outShape)
        let keptShape = kept.shape
        return Tensor.record("sum", out, [x]) { g in
            [try g.reshaped(to: keptShape).broadcast(to: x.shape)]  // dx = g broadcast back
        }
    }

    /// Sum of all elements, a scalar.
    public func sum() -> Tensor { try! sum(axes: nil) }

    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try resolveAxes(axes, op: "mean")
        let n = ax.reduce(1) { $0 * shape[$1] }
        return try sum(axes: ax, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    /// Mean of all elements, a scalar.
    public func mean() -> Tensor { try! mean(axes: nil) }

    /// Maximum over `axes` (all when nil). Tied maxima share the gradient.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let x = self
        let ax = try resolveAxes(axes, op: "max")
        if let empty = ax.first(where: { shape[$0] == 0 }) {
            throw TensorError("max", "cannot take the maximum over axis \(empty), which has size 0")
        }
        let kept = reduceKeepingDims(ax, initial: -.infinity) { Swift.max($0, $1) }
        let outShape = keepDims ? kept.shape : shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element)
        let out = kept.reshapedUnchecked(outShape)
        let keptShape = kept.shape
        let y = kept.detached()
        return Tensor.record("max", out, [x]) { g in
            let mask = try x.detached().equal(y)
            let count = try mask.sum(axes: ax, keepDims: true)
            return [try g.reshaped(to: keptShape) * mask / count]  // dx = g·[x = max] / #ties
        }
    }

    /// Minimum over `axes` (all when nil).
    public func min(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        -(try (-self).max(axes: axes, keepDims: keepDims))
    }

    /// Variance over `axes` (unbiased by default, as `torch.var`).
    public func variance(axes: [Int]? = nil, keepDims: Bool = false, unbiased: Bool = true) throws -> Tensor {
        let ax = try resolveAxes(axes, op: "variance")
        let n = ax.reduce(1) { $0 * shape[$1] }
        let m = try mean(axes: ax, keepDims: true)
        let d = try self - m
        let ss = try (d * d).sum(axes: ax, keepDims: keepDims)
        return ss * (1 / Float(Swift.max(unbiased ? n - 1 : n, 1)))
    }

    /// Standard deviation over `axes` (unbiased by default).
    public func std(axes: [Int]? = nil, keepDims: Bool = false, unbiased: Bool = true) throws -> Tensor {
        try variance(axes: axes, keepDims: keepDims, unbiased: unbiased).sqrt()
    }

    /// log Σ exp(x) over `axes`, stable: the maximum is subtracted first.
    public func logSumExp(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try resolveAxes(axes, op: "logSumExp")
        // Any constant shift gives the same value and gradient; the detached
        // maximum keeps exp from overflowing.
        let m = try withNoGrad { try max(axes: ax, keepDims: true) }
        let pm = m.pointer
        for i in 0..<m.count where !pm[i].isFinite { pm[i] = 0 }
        let s = try (self - m).exp().sum(axes: ax, keepDims: true).log() + m
        return keepDims ? s : try s.reshaped(to: shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element))
    }

    /// Index of the maximum along `axis` (constant, no gradient).
    public func argmax(axis: Int = -1) throws -> Tensor {
        let a = try normalizeAxis(axis, rank: rank, op: "argmax")
        guard shape[a] > 0 else { throw TensorError("argmax", "axis \(axis) has size 0") }
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        var outShape = shape
        outShape.remove(at: a)
        let out = Tensor(uninitialized: outShape)
        for o in 0..<outer {
            for k in 0..<inner {
                var best = -Float.infinity, bi = 0
                for j in 0..<n {
                    let v = pointer[(o * n + j) * inner + k]
                    if v > best || (j == 0) { best = v; bi = j }
                }
                out.pointer[o * inner + k] = Float(bi)
            }
        }
        return out
    }
}
