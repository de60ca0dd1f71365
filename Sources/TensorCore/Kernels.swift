/// Raw-buffer loops behind the ops. Each splits across cores above a size
/// threshold. The closures are inlined and specialised in optimised builds.
enum Kernels {
    @inline(__always)
    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: x.shape)
        let src = x.pointer, dst = out.pointer
        Parallel.forEachChunk(x.count) { r in
            for i in r { dst[i] = f(src[i]) }
        }
        return out
    }

    /// Elementwise binary op with broadcasting into `shape` (already checked).
    @inline(__always)
    static func zip(_ a: Tensor, _ b: Tensor, _ shape: [Int], _ f: (Float, Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let n = out.count
        let pa = a.pointer, pb = b.pointer, po = out.pointer
        if a.count == n && b.count == n {
            Parallel.forEachChunk(n) { r in for i in r { po[i] = f(pa[i], pb[i]) } }
            return out
        }
        if b.count == 1 && a.count == n {
            let s = pb[0]
            Parallel.forEachChunk(n) { r in for i in r { po[i] = f(pa[i], s) } }
            return out
        }
        if a.count == 1 && b.count == n {
            let s = pa[0]
            Parallel.forEachChunk(n) { r in for i in r { po[i] = f(s, pb[i]) } }
            return out
        }
        if n == 0 { return out }
        // General case: rows of the last dimension, with per-operand strides.
        let sa = broadcastStrides(a.shape, to: shape)
        let sb = broadcastStrides(b.shape, to: shape)
        let r = shape.count
        let inner = shape[r - 1]
        let ia = sa[r - 1], ib = sb[r - 1]
        let rows = n / inner
        Parallel.forEachChunk(rows, grain: max(1, Parallel.elementwiseThreshold / max(inner, 1))) { range in
            var idx = [Int](repeating: 0, count: r)
            var rem = range.lowerBound
            for d in stride(from: r - 2, through: 0, by: -1) {
                idx[d] = rem % shape[d]
                rem /= shape[d]
            }
            var offA = 0, offB = 0
            for d in 0..<(r - 1) { offA += idx[d] * sa[d]; offB += idx[d] * sb[d] }
            for row in range {
                let o = po + row * inner
                let xa = pa + offA, xb = pb + offB
                if ia == 1 && ib == 1 {
                    for j in 0..<inner { o[j] = f(xa[j], xb[j]) }
                } else if ib == 0 && ia == 1 {
                    let s = xb[0]
                    for j in 0..<inner { o[j] = f(xa[j], s) }
                } else if ia == 0 && ib == 1 {
                    let s = xa[0]
                    for j in 0..<inner { o[j] = f(s, xb[j]) }
                } else {
                    for j in 0..<inner { o[j] = f(xa[j * ia], xb[j * ib]) }
                }
                // Advance the row counter.
                var d = r - 2
                while d >= 0 {
                    idx[d] += 1
                    offA += sa[d]; offB += sb[d]
                    if idx[d] < shape[d] { break }
                    offA -= sa[d] * shape[d]; offB -= sb[d] * shape[d]
                    idx[d] = 0
                    d -= 1
                }
            }
        }
        return out
    }

    /// Reduces a [outer, reduce, inner] view along the middle dimension.
    @inline(__always)
    static func reduceMiddle(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                             outer: Int, reduce: Int, inner: Int, initial: Float,
                             _ f: (Float, Float) -> Float) {
        let total = outer * reduce * inner
        if inner == 1 {
            Parallel.forEachChunk(outer, grain: max(1, Parallel.elementwiseThreshold / max(reduce, 1))) { range in
                for o in range {
                    let row = src + o * reduce
                    var acc = initial
                    // Four accumulators let the sum vectorise.
                    if reduce >= 16 {
                        var a0 = initial, a1 = initial, a2 = initial, a3 = initial
                        var j = 0
                        while j + 4 <= reduce {
                            a0 = f(a0, row[j]); a1 = f(a1, row[j + 1])
                            a2 = f(a2, row[j + 2]); a3 = f(a3, row[j + 3])
                            j += 4
                        }
                        acc = f(f(a0, a1), f(a2, a3))
                        while j < reduce { acc = f(acc, row[j]); j += 1 }
                    } else {
                        for j in 0..<reduce { acc = f(acc, row[j]) }
                    }
                    dst[o] = acc
                }
            }
            return
        }
        @inline(__always) func block(_ o: Int, _ ks: Range<Int>) {
            let out = dst + o * inner
            let base = src + o * reduce * inner
            for k in ks { out[k] = initial }
            for r in 0..<reduce {
                let row = base + r * inner
                for k in ks { out[k] = f(out[k], row[k]) }
            }
        }
        if total < Parallel.elementwiseThreshold {
            for o in 0..<outer { block(o, 0..<inner) }
        } else if outer >= Parallel.cores {
            Parallel.forEachChunk(outer, grain: 1) { range in for o in range { block(o, 0..<inner) } }
        } else {
            Parallel.forEachChunk(inner, grain: 64) { ks in for o in 0..<outer { block(o, ks) } }
        }
    }
}
