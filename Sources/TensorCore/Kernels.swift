import CKernels
import Foundation
/// Raw-buffer loops behind the ops.
///
/// Cheap elementwise loops stay on one core: there the closure is inlined and
/// the loop vectorised (about 90 GB/s in cache), while a closure called from
/// inside a parallel body is not inlined and runs ten times slower.
/// Transcendental maps (exp, tanh, …), where a libm call dwarfs an indirect
/// call, split across cores above a threshold.
enum Kernels {
    @inline(__always)
    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: x.shape)
        let src = x.pointer, dst = out.pointer
        for i in 0..<x.count { dst[i] = f(src[i]) }
        return out
    }

    /// A map whose per-element cost is high enough to split across cores.
    @inline(__always)
    static func mapParallel(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        let n = x.count
        if n < Parallel.transcendentalThreshold { return map(x, f) }
        let out = Tensor(uninitialized: x.shape)
        let src = x.pointer, dst = out.pointer
        Parallel.forEachChunk(n, grain: Parallel.transcendentalThreshold / 2) { r in
            for i in r { dst[i] = f(src[i]) }
        }
        return out
    }

    /// eˣ across cores with libm's `expf` called directly in the loop (through
    /// a closure, the extra indirect call per element doubles the time).
    static func expParallel(_ x: Tensor) -> Tensor {
        let n = x.count
        let out = Tensor(uninitialized: x.shape)
        let src = x.pointer, dst = out.pointer
        Parallel.forEachChunk(n, grain: Parallel.transcendentalThreshold / 2) { r in
            for i in r { dst[i] = Foundation.exp(src[i]) }
        }
        return out
    }

    /// tanh across cores, by the core's vectorized `gk_tanh`.
    static func tanhParallel(_ x: Tensor) -> Tensor {
        let n = x.count
        let out = Tensor(uninitialized: x.shape)
        let src = x.pointer, dst = out.pointer
        Parallel.forEachChunk(n, grain: Parallel.transcendentalThreshold * 4) { r in
            gk_tanh(dst + r.lowerBound, src + r.lowerBound, r.count)
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
            for i in 0..<n { po[i] = f(pa[i], pb[i]) }
            return out
        }
        if b.count == 1 && a.count == n {
            let s = pb[0]
            for i in 0..<n { po[i] = f(pa[i], s) }
            return out
        }
        if a.count == 1 && b.count == n {
            let s = pa[0]
            for i in 0..<n { po[i] = f(s, pb[i]) }
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
        var idx = [Int](repeating: 0, count: r)
        var offA = 0, offB = 0
        for row in 0..<rows {
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
        return out
    }

    /// Reduces a [outer, reduce, inner] view along the middle dimension.
    @inline(__always)
    static func reduceMiddle(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
        outer: Int, reduce: Int, inner: Int, initial: Float,
        _ f: (Float, Float) -> Float
    ) {
        if inner == 1 {
            for o in 0..<outer {
                let row = src + o * reduce
                var j = 0
                // Eight accumulators let the loop vectorise.
                var a0 = initial, a1 = initial, a2 = initial, a3 = initial
                var a4 = initial, a5 = initial, a6 = initial, a7 = initial
                while j + 8 <= reduce {
                    a0 = f(a0, row[j]); a1 = f(a1, row[j + 1]); a2 = f(a2, row[j + 2]); a3 = f(a3, row[j + 3])
                    a4 = f(a4, row[j + 4]); a5 = f(a5, row[j + 5]); a6 = f(a6, row[j + 6]); a7 = f(a7, row[j + 7])
                    j += 8
                }
                var acc = f(f(f(a0, a1), f(a2, a3)), f(f(a4, a5), f(a6, a7)))
                while j < reduce { acc = f(acc, row[j]); j += 1 }
                dst[o] = acc
            }
            return
        }
        for o in 0..<outer {
            let out = dst + o * inner
            let base = src + o * reduce * inner
            for k in 0..<inner { out[k] = initial }
            for r in 0..<reduce {
                let row = base + r * inner
                for k in 0..<inner { out[k] = f(out[k], row[k]) }
            }
        }
    }

    /// out[b, j, i] = in[b, i, j] for `[batch, rows, cols]` input, in 8×8 blocks.
    static func transposeBatched(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
        batch: Int, rows: Int, cols: Int
    ) {
        Parallel.forEachChunk(batch, grain: Swift.max(1, Parallel.elementwiseThreshold / Swift.max(rows * cols, 1))) {
            range in
            gk_transpose(src, dst, range.lowerBound, range.upperBound, rows, cols)
        }
    }

    /// Any permutation: a strided copy row by row of the output.
    static func permuteGeneral(
        _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
        shape: [Int], outShape: [Int], dims: [Int]
    ) {
        let inStrides = contiguousStrides(shape)
        let strides = dims.map { inStrides[$0] }
        let r = outShape.count, n = outShape.reduce(1, *)
        let inner = outShape[r - 1], innerStride = strides[r - 1]
        var idx = [Int](repeating: 0, count: r)
        var off = 0
        var o = 0
        while o < n {
            for j in 0..<inner { dst[o + j] = src[off + j * innerStride] }
            o += inner
            var k = r - 2
            while k >= 0 {
                idx[k] += 1
                off += strides[k]
                if idx[k] < outShape[k] { break }
                off -= strides[k] * outShape[k]
                idx[k] = 0
                k -= 1
            }
        }
    }
}
