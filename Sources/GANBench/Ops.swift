import TensorCore

/// µs per small recorded op (forward + backward), and elementwise throughput.
func benchOps(quick: Bool) throws {
    let seconds = quick ? 0.1 : 0.3
    var overhead: [Any] = []
    for cols in [2, 16, 128] {
        let a = Tensor.randn([256, cols]).requiringGrad(), b = Tensor.randn([256, cols]).requiringGrad()
        let w = Tensor.randn([cols, cols]).requiringGrad()
        let seed = Tensor(ones: [256, cols])
        for (name, op) in [("add", { try a + b }), ("mul", { try a * b }), ("matmul", { try a.matmul(w) })]
            as [(String, () throws -> Tensor)]
        {
            let fwd = try bestSecondsPerCall(seconds: seconds) { _ = try op() }
            let both = try bestSecondsPerCall(seconds: seconds) {
                a.grad = nil; b.grad = nil; w.grad = nil
                try op().backward(seed)
            }
            overhead.append(
                [
                    ("op", name), ("shape", "[256,\(cols)]"), ("forward_us", round2(fwd * 1e6)),
                    ("forward_backward_us", round2(both * 1e6))
                ] as [(String, Any)])
        }
    }
    // Elementwise throughput on 1M floats, no recording: bytes moved per second.
    let n = 1 << 20
    let x = Tensor.randn([n]), y = Tensor.randn([n])
    var throughput: [Any] = []
    for (name, arrays, op) in [
        ("add", 3, { try x + y }), ("mul", 3, { try x * y }), ("mulScalar", 2, { x * 1.5 }),
        ("relu", 2, { x.relu() }), ("exp", 2, { x.exp() }), ("sum", 1, { x.sum() })
    ]
        as [(String, Int, () throws -> Tensor)]
    {
        let t = try withNoGrad { try bestSecondsPerCall(seconds: seconds) { _ = try op() } }
        let bytes = Double(arrays * n * 4)
        throughput.append(
            [("op", name), ("floats", n), ("us", round2(t * 1e6)), ("gb_per_s", round2(bytes / t / 1e9))]
                as [(String, Any)])
    }
    emit(
        [("bench", "ops"), ("cores", Parallel.coreCount)] + blasFields() + [
            ("overhead", overhead), ("elementwise", throughput)
        ])
}

/// RSS across a long loop of forward/backward steps with an SGD update.
func benchMemory(steps: Int) throws {
    Random.seed(0)
    let w1 = (Tensor.randn([2, 64]) * 0.3).requiringGrad(), b1 = Tensor(zeros: [64]).requiringGrad()
    let w2 = (Tensor.randn([64, 1]) * 0.3).requiringGrad(), b2 = Tensor(zeros: [1]).requiringGrad()
    let params = [w1, b1, w2, b2]
    var samples: [Any] = []
    let t0 = now()
    var rssAfterWarmup = 0.0
    for step in 1...steps {
        let x = Tensor.randn([64, 2])
        let target = try (x * x).sum(axes: [1], keepDims: true)
        let pred = try (x.matmul(w1) + b1).tanh().matmul(w2) + b2
        let loss = try pred.mseLoss(target)
        try loss.backward()
        withNoGrad {
            for p in params {
                let g = p.grad!
                p.withUnsafeMutableBufferPointer { pb in
                    g.withUnsafeBufferPointer { gb in for i in 0..<pb.count { pb[i] -= 0.01 * gb[i] } }
                }
                p.grad = nil
            }
        }
        if step == min(1000, steps) { rssAfterWarmup = currentRSSMiB() }
        if step % max(1, steps / 10) == 0 {
            samples.append(
                [("step", step), ("rss_mib", round2(currentRSSMiB())), ("loss", round2(Double(loss.item)))]
                    as [(String, Any)])
        }
    }
    let end = currentRSSMiB()
    emit([
        ("bench", "memory"), ("steps", steps), ("seconds", round2(now() - t0)),
        ("rss_after_1000_steps_mib", round2(rssAfterWarmup)), ("rss_end_mib", round2(end)),
        ("rss_growth_mib", round2(end - rssAfterWarmup)), ("peak_rss_mib", round2(peakRSSMiB())), ("samples", samples)
    ])
}

/// A tight loop of one small recorded op, for profilers.
func profileSmallOp(iterations: Int) throws {
    let a = Tensor.randn([256, 2]).requiringGrad(), b = Tensor.randn([256, 2]).requiringGrad()
    let seed = Tensor(ones: [256, 2])
    for _ in 0..<iterations {
        a.grad = nil; b.grad = nil
        try (a * b).backward(seed)
    }
}
