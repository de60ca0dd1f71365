import TensorCore

/// GFLOP/s of C = op(A)·op(B) for the stored A and B (k×m or m×k, n×k or
/// k×n) through the binding (`BLAS.sgemm` on raw buffers), split across the
/// cores as `BLAS.splitFrom` says.
func bindingGFLOPS(_ a: Tensor, _ b: Tensor, m: Int, n: Int, k: Int, ta: Bool, tb: Bool, seconds: Double) -> Double {
    let c = Tensor(zeros: [m, n])
    let t = a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                bestSecondsPerCall(seconds: seconds) {
                    BLAS.sgemm(
                        transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: ta ? m : k,
                        b: pb.baseAddress!, ldb: tb ? k : n, beta: 0, c: pc.baseAddress!, ldc: n)
                }
            }
        }
    }
    return 2.0 * Double(m) * Double(n) * Double(k) / t / 1e9
}

/// Runs `body` with every product as one block on the calling thread (no split).
func onOneBlock<T>(_ body: () throws -> T) rethrows -> T {
    let saved = BLAS.splitFrom
    BLAS.splitFrom = Int.max
    defer { BLAS.splitFrom = saved }
    return try body()
}

/// GFLOP/s of C = op(A)·op(B) through the binding (`BLAS.sgemm` on raw
/// buffers) and through `Tensor.matmul` (allocation included).
func benchGEMM(quick: Bool, shapes: [[Int]] = []) {
    let seconds = quick ? 0.1 : 0.4
    func measure(m: Int, n: Int, k: Int, ta: Bool, tb: Bool, viaTensor: Bool = true) -> (
        binding: Double, tensor: Double
    ) {
        let a = Tensor.rand(ta ? [k, m] : [m, k]), b = Tensor.rand(tb ? [n, k] : [k, n])
        let binding = bindingGFLOPS(a, b, m: m, n: n, k: k, ta: ta, tb: tb, seconds: seconds)
        guard viaTensor else { return (binding, .nan) }
        let tensor = try! bestSecondsPerCall(seconds: seconds) {
            _ = try a.matmul(b, transposeA: ta, transposeB: tb)
        }
        return (binding, 2.0 * Double(m) * Double(n) * Double(k) / tensor / 1e9)
    }
    if !shapes.isEmpty {
        // Only the given products, each as one block and as the pool splits it.
        var rows: [Any] = []
        for s in shapes {
            let (m, n, k, ta, tb) = (s[0], s[1], s[2], s.count > 3 && s[3] != 0, s.count > 4 && s[4] != 0)
            let one = onOneBlock { measure(m: m, n: n, k: k, ta: ta, tb: tb, viaTensor: false) }
            let split = measure(m: m, n: n, k: k, ta: ta, tb: tb, viaTensor: false)
            rows.append(
                [
                    ("m", m), ("n", n), ("k", k), ("ta", ta), ("tb", tb), ("gflops_one_block", round2(one.binding)),
                    ("gflops", round2(split.binding))
                ] as [(String, Any)])
        }
        emit([("bench", "gemm")] + blasFields() + [("shapes", rows)])
        return
    }
    var square: [Any] = []
    for n in [64, 128, 256, 512, 1024, 2048] {
        let r = measure(m: n, n: n, k: n, ta: false, tb: false)
        square.append([("n", n), ("gflops", round2(r.binding)), ("gflops_tensor", round2(r.tensor))] as [(String, Any)])
    }
    var gan: [Any] = []
    // [M,K]·[K,N] forward, then the two backward products: dA = g·Bᵀ, dB = Aᵀ·g.
    for (m, k, n) in [(64, 64, 256), (64, 256, 512), (64, 512, 784), (64, 784, 512)] {
        for (label, mm, nn, kk, ta, tb) in [
            ("forward", m, n, k, false, false),
            ("dA = g·Bᵀ", m, k, n, false, true),
            ("dB = Aᵀ·g", k, n, m, true, false)
        ] {
            let r = measure(m: mm, n: nn, k: kk, ta: ta, tb: tb)
            gan.append(
                [
                    ("layer", "[\(m),\(k)]·[\(k),\(n)]"), ("product", label), ("m", mm), ("n", nn), ("k", kk),
                    ("gflops", round2(r.binding)), ("gflops_tensor", round2(r.tensor))
                ] as [(String, Any)])
        }
    }
    // The skinny products of the 2-D toy networks: µs per call matters there, not GFLOP/s.
    var skinny: [Any] = []
    for (m, k, n) in [(512, 2, 128), (256, 2, 128), (512, 128, 1), (256, 128, 2), (512, 128, 128)] {
        for (label, mm, nn, kk, ta, tb) in [
            ("forward", m, n, k, false, true), ("dA = g·B", m, k, n, false, false),
            ("dB = gᵀ·A", n, k, m, true, false)
        ] {
            let r = measure(m: mm, n: nn, k: kk, ta: ta, tb: tb)
            let flops = 2.0 * Double(mm * nn * kk)
            skinny.append(
                [
                    ("layer", "[\(m),\(k)]·[\(n),\(k)]ᵀ"), ("product", label), ("m", mm), ("n", nn), ("k", kk),
                    ("us_per_call", round2(flops / (r.binding * 1e9) * 1e6))
                ] as [(String, Any)])
        }
    }
    emit([("bench", "gemm")] + blasFields() + [("square", square), ("gan_shapes", gan), ("toy_shapes", skinny)])
}
