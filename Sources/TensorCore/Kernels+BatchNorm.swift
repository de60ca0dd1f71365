import CKernels

/// Batch-norm kernels over x viewed as [N, C, S] (S = 1 for [N, C]).
extension Kernels {
    /// Per-channel mean and 1/√(biased variance + ε), two passes for accuracy.
    static func channelStatistics(_ x: Tensor, channels c: Int, spatial s: Int, epsilon: Float) -> (Tensor, Tensor) {
        let n = x.count / Swift.max(c * s, 1)
        let mean = Tensor(zeros: [c]), invStd = Tensor(zeros: [c])
        let px = x.pointer, pm = mean.pointer, pv = invStd.pointer
        let count = Float(n * s)
        if s == 1 {
            // [N, C]: accumulate whole rows, which vectorises across channels.
            for i in 0..<n { let row = px + i * c; for k in 0..<c { pm[k] += row[k] } }
            for k in 0..<c { pm[k] /= count }
            for i in 0..<n { let row = px + i * c; for k in 0..<c { let d = row[k] - pm[k]; pv[k] += d * d } }
        } else {
            Parallel.forEachChunk(c, grain: Swift.max(1, Parallel.elementwiseThreshold / Swift.max(n * s, 1))) {
                range in
                gk_channel_moments(px, n, c, s, range.lowerBound, range.upperBound, pm, pv)
            }
        }
        for k in 0..<c { pv[k] = 1 / (pv[k] / count + epsilon).squareRoot() }
        return (mean, invStd)
    }

    /// y = (x − mean)·invStd·w + b per channel.
    static func normalize(
        _ x: Tensor, mean: Tensor, invStd: Tensor, weight: Tensor?, bias: Tensor?,
        channels c: Int, spatial s: Int
    ) -> Tensor {
        let out = Tensor(uninitialized: x.shape)
        let n = x.count / Swift.max(c * s, 1)
        // Per channel: y = x·scale + shift.
        var scale = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
        for k in 0..<c {
            let w = weight.map { $0.pointer[k] } ?? 1
            scale[k] = invStd.pointer[k] * w
            shift[k] = (bias.map { $0.pointer[k] } ?? 0) - mean.pointer[k] * scale[k]
        }
        let px = x.pointer, po = out.pointer
        scale.withUnsafeBufferPointer { sc in
            shift.withUnsafeBufferPointer { sh in
                // By samples, each value on its own: any split gives the same bits.
                Parallel.forEachChunk(n, grain: Swift.max(1, Parallel.passThreshold / Swift.max(c * s, 1))) { samples in
                    if s == 1 {
                        for i in samples {
                            let a = px + i * c, o = po + i * c; for k in 0..<c { o[k] = a[k] * sc[k] + sh[k] }
                        }
                    } else {
                        for i in samples {
                            for k in 0..<c {
                                let a = px + (i * c + k) * s, o = po + (i * c + k) * s
                                let m = sc[k], b = sh[k]
                                for j in 0..<s { o[j] = a[j] * m + b }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The closed-form gradient: dx = w·σ⁻¹·(g − mean g − x̂·mean(g·x̂)), dw = Σ g·x̂, db = Σ g.
    static func batchNormBackward(
        _ g: Tensor, _ x: Tensor, mean: Tensor, invStd: Tensor, weight: Tensor?,
        channels c: Int, spatial s: Int, shape: [Int]
    ) -> (Tensor, Tensor, Tensor) {
        let n = x.count / Swift.max(c * s, 1)
        let count = Float(n * s)
        let dw = Tensor(zeros: [c]), db = Tensor(zeros: [c])
        let px = x.pointer, pg = g.pointer, pm = mean.pointer, pi = invStd.pointer
        let pdw = dw.pointer, pdb = db.pointer
        // Pass 1: Σ g and Σ g·x̂ per channel.
        if s == 1 {
            for i in 0..<n {
                let a = px + i * c, gr = pg + i * c
                for k in 0..<c { pdb[k] += gr[k]; pdw[k] += gr[k] * (a[k] - pm[k]) * pi[k] }
            }
        } else {
            Parallel.forEachChunk(c, grain: Swift.max(1, Parallel.elementwiseThreshold / Swift.max(n * s, 1))) {
                range in
                gk_batch_norm_sums(px, pg, n, c, s, range.lowerBound, range.upperBound, pm, pi, pdb, pdw)
            }
        }
        // Pass 2: dx.
        let dx = Tensor(uninitialized: shape)
        let pdx = dx.pointer
        var coef = [Float](repeating: 0, count: c), meanG = [Float](repeating: 0, count: c),
            meanGX = [Float](repeating: 0, count: c)
        for k in 0..<c {
            coef[k] = (weight.map { $0.pointer[k] } ?? 1) * pi[k]
            meanG[k] = pdb[k] / count
            meanGX[k] = pdw[k] / count
        }
        coef.withUnsafeBufferPointer { cf in
            meanG.withUnsafeBufferPointer { mg in
                meanGX.withUnsafeBufferPointer { mgx in
                    Parallel.forEachChunk(n, grain: Swift.max(1, Parallel.passThreshold / Swift.max(c * s, 1))) {
                        samples in
                        if s == 1 {
                            for i in samples {
                                let a = px + i * c, gr = pg + i * c, o = pdx + i * c
                                for k in 0..<c { o[k] = cf[k] * (gr[k] - mg[k] - (a[k] - pm[k]) * pi[k] * mgx[k]) }
                            }
                        } else {
                            for i in samples {
                                for k in 0..<c {
                                    let a = px + (i * c + k) * s, gr = pg + (i * c + k) * s
                                    let o = pdx + (i * c + k) * s
                                    let cfk = cf[k], mgk = mg[k], mk = pm[k], ik = pi[k], mgxk = mgx[k]
                                    for j in 0..<s { o[j] = cfk * (gr[j] - mgk - (a[j] - mk) * ik * mgxk) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx, dw, db)
    }
}
