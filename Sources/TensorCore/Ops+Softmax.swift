import Foundation

extension Tensor {
    /// exp(x) / Σ exp(x) along `axis`, computed with the maximum subtracted.
    public func softmax(axis: Int = -1) throws -> Tensor {
        let x = self
        let a = try normalizeAxis(axis, rank: rank, op: "softmax")
        let out = Kernels.softmax(x, axis: a, log: false)
        let y = out.detached()
        return Tensor.record("softmax", out, [x]) { g in
            let s = GradMode.isEnabled ? try x.softmax(axis: a) : y
            let dot = try (g * s).sum(axes: [a], keepDims: true)
            return [try s * (g - dot)]  // dx = s·(g − Σ g·s)
        }
    }

    /// x − log Σ exp(x) along `axis`, computed stably.
    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        let x = self
        let a = try normalizeAxis(axis, rank: rank, op: "logSoftmax")
        let out = Kernels.softmax(x, axis: a, log: true)
        let y = out.detached()
        return Tensor.record("logSoftmax", out, [x]) { g in
            let s = GradMode.isEnabled ? try x.softmax(axis: a) : y.exp()
            return [try g - s * g.sum(axes: [a], keepDims: true)]  // dx = g − softmax·Σg
        }
    }
}

extension Kernels {
    static func softmax(_ x: Tensor, axis: Int, log: Bool) -> Tensor {
        let out = Tensor(uninitialized: x.shape)
        let outer = x.shape[..<axis].reduce(1, *), n = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *)
        let src = x.pointer, dst = out.pointer
        if n == 0 { return out }
        Parallel.forEachChunk(outer * inner, grain: Swift.max(1, Parallel.elementwiseThreshold / n)) { range in
            for line in range {
                let o = line / inner, k = line % inner
                let base = o * n * inner + k
                var m = -Float.infinity
                for j in 0..<n { m = Swift.max(m, src[base + j * inner]) }
                if !m.isFinite { m = 0 }
                var s: Float = 0
                for j in 0..<n {
                    let e = Foundation.exp(src[base + j * inner] - m)
                    dst[base + j * inner] = e
                    s += e
                }
                if log {
                    let ls = Foundation.log(s)  // (x − m) − log s keeps precision at large |x|
                    for j in 0..<n { dst[base + j * inner] = (src[base + j * inner] - m) - ls }
                } else {
                    let inv = 1 / s
                    for j in 0..<n { dst[base + j * inner] *= inv }
                }
            }
        }
        return out
    }
}
