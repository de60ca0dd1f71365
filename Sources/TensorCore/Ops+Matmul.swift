import CKernels
extension Tensor {
    /// Matrix product `op(self) · op(b)`, where op transposes the last two
    /// dimensions when asked. 2-D, batched (leading dimensions broadcast), and
    /// 1-D operands (treated as a row or a column vector, as in NumPy).
    public func matmul(_ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
        let a = self
        guard a.rank >= 1, b.rank >= 1 else {
            throw TensorError(
                "matmul",
                "cannot multiply \(shapeString(a.shape)) by \(shapeString(b.shape)): scalars have no matrix product")
        }
        if a.rank == 1 {
            let r = try a.reshaped(to: [1, a.shape[0]]).matmul(b, transposeA: false, transposeB: transposeB)
            // Vector · vector is a scalar: the other branch already dropped b's axis.
            if b.rank == 1 { return try r.reshaped(to: []) }
            var s = r.shape; s.remove(at: s.count - 2)
            return try r.reshaped(to: s)
        }
        if b.rank == 1 {
            let r = try a.matmul(b.reshaped(to: [b.shape[0], 1]), transposeA: transposeA, transposeB: false)
            return try r.reshaped(to: Array(r.shape.dropLast()))
        }
        let (m, ka) =
            transposeA ? (a.shape[a.rank - 1], a.shape[a.rank - 2]) : (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (kb, n) =
            transposeB ? (b.shape[b.rank - 1], b.shape[b.rank - 2]) : (b.shape[b.rank - 2], b.shape[b.rank - 1])
        guard ka == kb else {
            let flags = (transposeA ? " (A transposed)" : "") + (transposeB ? " (B transposed)" : "")
            throw TensorError(
                "matmul",
                "cannot multiply \(shapeString(a.shape)) by \(shapeString(b.shape))\(flags): inner sizes \(ka) and \(kb) differ"
            )
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = try broadcastShape(batchA, batchB, op: "matmul")
        // [B…, M, K] · [K, N]: one GEMM over the folded rows.
        if b.rank == 2 && a.rank > 2 && !transposeA {
            let r = try a.reshaped(to: [-1, ka]).matmul(b, transposeB: transposeB)
            return try r.reshaped(to: batch + [m, n])
        }
        let out = Tensor.gemmBatched(a, b, transposeA, transposeB, batch: batch, m: m, n: n, k: ka)
        let needA = a.requiresGrad, needB = b.requiresGrad  // as recorded, not as when the backward runs
        return Tensor.record("matmul", out, [a, b]) { g in
            let needA = needA && Tensor.gradientWanted(0), needB = needB && Tensor.gradientWanted(1)
            let ga: Tensor?, gb: Tensor?
            switch (transposeA, transposeB) {
            case (false, false):  // C = A·B
                ga = needA ? try g.matmul(b, transposeB: true) : nil  // dA = g·Bᵀ
                gb = needB ? try a.matmul(g, transposeA: true) : nil  // dB = Aᵀ·g
            case (false, true):  // C = A·Bᵀ
                ga = needA ? try g.matmul(b) : nil  // dA = g·B
                gb = needB ? try g.matmul(a, transposeA: true) : nil  // dB = gᵀ·A
            case (true, false):  // C = Aᵀ·B
                ga = needA ? try b.matmul(g, transposeB: true) : nil  // dA = B·gᵀ
                gb = needB ? try a.matmul(g) : nil  // dB = A·g
            case (true, true):  // C = Aᵀ·Bᵀ
                ga = needA ? try b.matmul(g, transposeA: true, transposeB: true) : nil  // dA = Bᵀ·gᵀ
                gb = needB ? try g.matmul(a, transposeA: true, transposeB: true) : nil  // dB = gᵀ·Aᵀ
            }
            return [try ga?.sumTo(a.shape), try gb?.sumTo(b.shape)]
        }
    }

    /// x·Wᵀ + b on the last dimension: x [… , in], W [out, in] (PyTorch's
    /// layout), b [out] or none. The bias fills the output and one GEMM adds
    /// the product to it, so the bias costs no pass of its own.
    public func linear(weight w: Tensor, bias b: Tensor?) throws -> Tensor {
        let x = self
        let (out, rows, inF, outF) = try linearProduct(weight: w, bias: b)
        // Which gradients to compute is decided now: a parameter frozen for
        // this forward pass (D in a generator step) costs no product later.
        let needX = x.requiresGrad, needW = w.requiresGrad, needB = b?.requiresGrad ?? false
        return Tensor.record("linear", out, b.map { [x, w, $0] } ?? [x, w]) { g in
            let needX = needX && Tensor.gradientWanted(0), needW = needW && Tensor.gradientWanted(1)
            let needB = needB && Tensor.gradientWanted(2)  // the pass may need fewer than were recorded
            // As matrices ([rows, out] and [rows, in]); a reshape to the same shape is the tensor itself.
            let g2 = try g.reshaped(to: [rows, outF])
            let gx = needX ? try g2.matmul(w).reshaped(to: x.shape) : nil  // dx = g·W
            let gw = needW ? try g2.matmul(x.reshaped(to: [rows, inF]), transposeA: true) : nil  // dW = gᵀ·x
            guard b != nil else { return [gx, gw] }
            return [gx, gw, needB ? try g2.sum(axes: [0]) : nil]  // db = Σ rows of g
        }
    }

    /// leakyRelu(x·Wᵀ + b, slope) with slope ≥ 0 (0: relu) as one op, the
    /// same values as `linear` followed by `relu` or `leakyRelu`. The
    /// activation runs in place on the product, and the backward masks the
    /// gradient and sums it for the bias in one pass. The mask is the output:
    /// with slope ≥ 0, y > 0 exactly where x·Wᵀ + b > 0.
    public func linear(weight w: Tensor, bias b: Tensor?, activationSlope slope: Float) throws -> Tensor {
        guard slope >= 0 else {
            throw TensorError("linear", "a fused activation needs a slope ≥ 0, found \(slope)")
        }
        let x = self
        let (out, rows, inF, outF) = try linearProduct(weight: w, bias: b, activationSlope: slope)
        let y = out.detached()  // the mask; a tensor of its own, so the rule does not hold its output
        let needX = x.requiresGrad, needW = w.requiresGrad, needB = b?.requiresGrad ?? false
        return Tensor.record(slope == 0 ? "linearRelu" : "linearLeakyRelu", out, b.map { [x, w, $0] } ?? [x, w]) { g in
            let needX = needX && Tensor.gradientWanted(0), needW = needW && Tensor.gradientWanted(1)
            let needB = needB && Tensor.gradientWanted(2)  // the pass may need fewer than were recorded
            let gm: Tensor, gb: Tensor?
            if GradMode.isEnabled {
                // Recorded, for gradients of gradients: the two ops' rules.
                gm = try g.reshaped(to: [rows, outF]).maskedGradient(
                    by: y.reshaped(to: [rows, outF]), negativeSlope: slope)
                gb = needB ? try gm.sum(axes: [0]) : nil
            } else {
                guard g.shape == y.shape else {
                    throw TensorError(
                        "linear", "gradient \(shapeString(g.shape)) does not match output \(shapeString(y.shape))")
                }
                gm = Tensor(uninitialized: [rows, outF])
                let (o, gp, yp) = (gm.pointer, g.pointer, y.pointer)
                if needB {
                    // One pass on one core: split by columns, each half of the sums
                    // would read rows the other core wrote, which costs more than it saves.
                    let sums = Tensor(uninitialized: [outF])
                    gk_masked_gradient_sums(o, sums.pointer, gp, yp, rows, outF, slope)
                    gb = sums
                } else {
                    Parallel.forEachChunk(rows * outF, grain: Parallel.passThreshold) { r in
                        let i = r.lowerBound
                        gk_masked_gradient(o + i, gp + i, yp + i, r.count, slope)
                    }
                    gb = nil
                }
            }
            let gx = needX ? try gm.matmul(w).reshaped(to: x.shape) : nil  // dx = g'·W
            let gw = needW ? try gm.matmul(x.reshaped(to: [rows, inF]), transposeA: true) : nil  // dW = g'ᵀ·x
            return b == nil ? [gx, gw] : [gx, gw, gb]  // db = Σ rows of g'
        }
    }

    /// x·Wᵀ + b, unrecorded, with x as a [rows, in] matrix.
    private func linearProduct(weight w: Tensor, bias b: Tensor?, activationSlope slope: Float? = nil) throws -> (
        out: Tensor, rows: Int, inF: Int, outF: Int
    ) {
        let x = self
        guard w.rank == 2, x.rank >= 1, x.shape[x.rank - 1] == w.shape[1] else {
            throw TensorError(
                "linear",
                "input \(shapeString(x.shape)) does not fit weight \(shapeString(w.shape)): the input's last size must be the weight's second"
            )
        }
        let inF = w.shape[1], outF = w.shape[0]
        if let b, b.shape != [outF] {
            throw TensorError(
                "linear", "bias \(shapeString(b.shape)) does not fit weight \(shapeString(w.shape)): expected [\(outF)]"
            )
        }
        let leading = Array(x.shape.dropLast())
        let rows = leading.reduce(1, *)
        let out = Tensor(uninitialized: leading + [outF])
        BLAS.sgemm(
            transA: false, transB: true, m: rows, n: outF, k: inF, alpha: 1, a: x.pointer, lda: inF,
            b: w.pointer, ldb: inF, beta: 0, c: out.pointer, ldc: outF, rowBias: b?.pointer, activationSlope: slope)
        return (out, rows, inF, outF)
    }

    /// One GEMM per batch element; broadcast batch dimensions repeat an operand.
    static func gemmBatched(
        _ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool,
        batch: [Int], m: Int, n: Int, k: Int
    ) -> Tensor {
        let out = Tensor(uninitialized: batch + [m, n])
        let count = batch.reduce(1, *)
        let sa = broadcastStrides(Array(a.shape.dropLast(2)), to: batch)
        let sb = broadcastStrides(Array(b.shape.dropLast(2)), to: batch)
        let matA = a.shape[a.rank - 2] * a.shape[a.rank - 1], matB = b.shape[b.rank - 2] * b.shape[b.rank - 1]
        let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]
        let strides = contiguousStrides(batch)
        for i in 0..<count {
            var offA = 0, offB = 0, rem = i
            for d in 0..<batch.count {
                let idx = rem / strides[d]
                rem %= strides[d]
                offA += idx * sa[d]
                offB += idx * sb[d]
            }
            BLAS.sgemm(
                transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1,
                a: a.pointer + offA * matA, lda: lda, b: b.pointer + offB * matB, ldb: ldb,
                beta: 0, c: out.pointer + i * m * n, ldc: n)
        }
        return out
    }
}
