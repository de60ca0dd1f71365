import CKernels

extension Tensor {
    /// One Adam update of `weights` in place, as `torch.optim.Adam` does it
    /// (weight decay added to the gradient, moments updated in place):
    /// m ← β₁m + (1 − β₁)d, v ← β₂v + (1 − β₂)d², w ← w − stepSize·m / (√v / c2root + ε),
    /// where d = g + weightDecay·w, stepSize = lr / (1 − β₁ᵗ) and c2root = √(1 − β₂ᵗ).
    /// All four tensors hold as many elements as `weights`.
    public static func adamUpdate(
        weights w: Tensor, gradient g: Tensor, firstMoment m: Tensor, secondMoment v: Tensor,
        beta1: Float, beta2: Float, eps: Float, weightDecay: Float,
        stepSize: Float, c2root: Float
    ) {
        let n = Swift.min(w.count, g.count, m.count, v.count)
        let (w, g, m, v) = (w.pointer, g.pointer, m.pointer, v.pointer)
        Parallel.forEachChunk(n, grain: Parallel.passThreshold) { r in
            let o = r.lowerBound
            gk_adam(w + o, g + o, m + o, v + o, r.count, beta1, beta2, eps, weightDecay, stepSize, c2root)
        }
    }

    /// Whether `adamUpdate` with the same arguments would leave the weights and both moments finite; changes nothing.
    public static func adamUpdateIsFinite(
        weights w: Tensor, gradient g: Tensor, firstMoment m: Tensor, secondMoment v: Tensor,
        beta1: Float, beta2: Float, eps: Float, weightDecay: Float,
        stepSize: Float, c2root: Float
    ) -> Bool {
        let n = Swift.min(w.count, g.count, m.count, v.count)
        let (w, g, m, v) = (w.pointer, g.pointer, m.pointer, v.pointer)
        // One verdict per chunk, each chunk's pass on its own core.
        var finite = [Bool](repeating: true, count: Parallel.chunkCount(n, grain: Parallel.passThreshold))
        finite.withUnsafeMutableBufferPointer { finite in
            Parallel.forEachIndexedChunk(n, grain: Parallel.passThreshold) { c, r in
                let o = r.lowerBound
                finite[c] =
                    gk_adam_finite(
                        w + o, g + o, m + o, v + o, r.count, beta1, beta2, eps, weightDecay, stepSize, c2root)
                    != 0
            }
        }
        return !finite.contains(false)
    }
}
