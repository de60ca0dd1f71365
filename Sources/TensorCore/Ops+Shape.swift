extension Tensor {
    /// The same values under a new shape, sharing storage. One dimension may
    /// be −1 and is then inferred.
    public func reshaped(to newShape: [Int]) throws -> Tensor {
        var target = newShape
        let inferred = target.indices.filter { target[$0] == -1 }
        guard inferred.count <= 1 else {
            throw TensorError(
                "reshape", "only one dimension can be -1, found \(inferred.count) in \(shapeString(newShape))")
        }
        if let bad = target.first(where: { $0 < -1 }) {
            throw TensorError(
                "reshape", "dimension sizes must be zero or more, found \(bad) in \(shapeString(newShape))")
        }
        if let i = inferred.first {
            let known = target.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else {
                throw TensorError(
                    "reshape", "cannot reshape \(shapeString(shape)) (\(count) elements) to \(shapeString(newShape))")
            }
            target[i] = count / known
        }
        guard target.reduce(1, *) == count else {
            throw TensorError(
                "reshape",
                "cannot reshape \(shapeString(shape)) (\(count) elements) to \(shapeString(target)) (\(target.reduce(1, *)) elements)"
            )
        }
        if target == shape { return self }
        let x = self
        let out = reshapedUnchecked(target)
        return Tensor.record("reshape", out, [x]) { g in [try g.reshaped(to: x.shape)] }
    }

    /// Flattens dimensions from `startAxis` on into one.
    public func flattened(from startAxis: Int = 1) throws -> Tensor {
        let a = try normalizeAxis(startAxis, rank: Swift.max(rank, 1), op: "flatten")
        return try reshaped(to: Array(shape[..<Swift.min(a, rank)]) + [-1])
    }

    /// Reorders dimensions: output dimension i is input dimension `dims[i]`.
    public func permuted(_ dims: [Int]) throws -> Tensor {
        guard dims.count == rank else {
            throw TensorError("permute", "needs \(rank) dimensions for shape \(shapeString(shape)), got \(dims.count)")
        }
        let d = try dims.map { try normalizeAxis($0, rank: rank, op: "permute") }
        guard Set(d).count == rank else {
            throw TensorError("permute", "\(dims) is not a permutation of 0..<\(rank)")
        }
        if d == Array(0..<rank) { return self }
        let x = self
        let outShape = d.map { shape[$0] }
        let out = Tensor(uninitialized: outShape)
        let r = rank
        if out.count > 0 && r > 0 {
            // Merge input dimensions that stay adjacent and in order; what is
            // left is often a batched 2-D transpose, done in cache-sized tiles.
            var groups: [[Int]] = []
            for axis in d {
                if let last = groups.last?.last, axis == last + 1 {
                    groups[groups.count - 1].append(axis)
                } else {
                    groups.append([axis])
                }
            }
            let sizes = groups.map { $0.reduce(1) { $0 * shape[$1] } }
            let order = groups.map { $0[0] }
            let sorted = order.sorted()
            if groups.count == 2 && order == [sorted[1], sorted[0]] {
                Kernels.transposeBatched(pointer, out.pointer, batch: 1, rows: sizes[1], cols: sizes[0])
            } else if groups.count == 3 && order == [sorted[0], sorted[2], sorted[1]] {
                // [B, R, C] → [B, C, R], as NHWC ↔ NCHW in the convolutions.
                Kernels.transposeBatched(pointer, out.pointer, batch: sizes[0], rows: sizes[2], cols: sizes[1])
            } else {
                // The same permutation on the merged shape: fewer, longer rows.
                let mergedShape = sorted.map { start in sizes[order.firstIndex(of: start)!] }
                let mergedDims = order.map { sorted.firstIndex(of: $0)! }
                Kernels.permuteGeneral(
                    pointer, out.pointer, shape: mergedShape, outShape: mergedDims.map { mergedShape[$0] },
                    dims: mergedDims)
            }
        }
        var inverse = [Int](repeating: 0, count: r)
        for (i, v) in d.enumerated() { inverse[v] = i }
        return Tensor.record("permute", out, [x]) { g in [try g.permuted(inverse)] }
    }

    /// Swaps two dimensions (the last two by default).
    public func transposed(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
        guard rank >= 2 else {
            throw TensorError("transpose", "needs at least 2 dimensions, found shape \(shapeString(shape))")
        }
        let i = try normalizeAxis(a, rank: rank, op: "transpose"), j = try normalizeAxis(b, rank: rank, op: "transpose")
        var dims = Array(0..<rank)
        dims.swapAt(i, j)
        return try permuted(dims)
    }

    /// Joins tensors along `axis`; every other dimension must agree.
    public static func concat(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError("concat", "needs at least one tensor") }
        let a = try normalizeAxis(axis, rank: first.rank, op: "concat")
        for (i, t) in tensors.enumerated() {
            var s1 = t.shape, s0 = first.shape
            guard s1.count == s0.count else {
                throw TensorError(
                    "concat",
                    "tensor \(i) has shape \(shapeString(t.shape)) but tensor 0 has \(shapeString(first.shape)): ranks differ"
                )
            }
            s1[a] = 0; s0[a] = 0
            guard s1 == s0 else {
                throw TensorError(
                    "concat",
                    "tensor \(i) has shape \(shapeString(t.shape)) but tensor 0 has \(shapeString(first.shape)): only dimension \(a) may differ"
                )
            }
        }
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let out = Tensor(uninitialized: outShape)
        let rowOut = outShape[a] * inner
        var offset = 0
        for t in tensors {
            let rowIn = t.shape[a] * inner
            for o in 0..<outer {
                (out.pointer + o * rowOut + offset).update(from: t.pointer + o * rowIn, count: rowIn)
            }
            offset += rowIn
        }
        let sizes = tensors.map { $0.shape[a] }
        return record("concat", out, tensors) { g in
            var start = 0
            return try sizes.map { n in
                defer { start += n }
                return try g.slice(axis: a, start: start, end: start + n)
            }
        }
    }

    /// Stacks equal-shaped tensors along a new leading axis.
    public static func stack(_ tensors: [Tensor]) throws -> Tensor {
        try concat(tensors.map { try $0.reshaped(to: [1] + $0.shape) }, axis: 0)
    }

    /// Elements start..<end along `axis`.
    public func slice(axis: Int, start: Int, end: Int) throws -> Tensor {
        let a = try normalizeAxis(axis, rank: rank, op: "slice")
        guard start >= 0, end <= shape[a], start <= end else {
            throw TensorError(
                "slice",
                "range \(start)..<\(end) is outside 0..<\(shape[a]) of axis \(a) in shape \(shapeString(shape))")
        }
        if start == 0 && end == shape[a] { return self }
        let x = self
        var outShape = shape
        outShape[a] = end - start
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let out = Tensor(uninitialized: outShape)
        let rowIn = shape[a] * inner, rowOut = outShape[a] * inner
        for o in 0..<outer {
            (out.pointer + o * rowOut).update(from: pointer + o * rowIn + start * inner, count: rowOut)
        }
        let n = shape[a]
        return Tensor.record("slice", out, [x]) { g in [try g.padded(axis: a, before: start, after: n - end)] }
    }

    /// Adds `before` and `after` zeros along `axis` (the adjoint of `slice`).
    public func padded(axis: Int, before: Int, after: Int) throws -> Tensor {
        let a = try normalizeAxis(axis, rank: rank, op: "pad")
        guard before >= 0, after >= 0 else {
            throw TensorError("pad", "padding must be zero or more, found \(before) and \(after)")
        }
        if before == 0 && after == 0 { return self }
        let x = self
        var outShape = shape
        outShape[a] += before + after
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let out = Tensor(zeros: outShape)
        let rowIn = shape[a] * inner, rowOut = outShape[a] * inner
        for o in 0..<outer {
            (out.pointer + o * rowOut + before * inner).update(from: pointer + o * rowIn, count: rowIn)
        }
        let n = shape[a]
        return Tensor.record("pad", out, [x]) { g in [try g.slice(axis: a, start: before, end: before + n)] }
    }

    /// Reads integer indices stored as floats, checking each against `bound`.
    func indices(below bound: Int, op: String) throws -> [Int] {
        var result = [Int](repeating: 0, count: count)
        for i in 0..<count {
            let v = pointer[i]
            guard v.isFinite, v == v.rounded(), v >= 0, v < Float(bound) else {
                throw TensorError(op, "index \(v) at position \(i) is not an integer in 0..<\(bound)")
            }
            result[i] = Int(v)
        }
        return result
    }

    /// Rows of this tensor picked by `indices` (integers stored as floats):
    /// `[V, D…]` gathered by `[I…]` gives `[I…, D…]` (an embedding lookup).
    public func gatherRows(_ indices: Tensor) throws -> Tensor {
        guard rank >= 1 else { throw TensorError("gather", "needs a tensor of rank 1 or more, found a scalar") }
        let idx = try indices.indices(below: shape[0], op: "gather")
        let x = self
        let rowSize = shape[1...].reduce(1, *)
        let out = Tensor(uninitialized: indices.shape + shape[1...])
        for (i, r) in idx.enumerated() {
            (out.pointer + i * rowSize).update(from: pointer + r * rowSize, count: rowSize)
        }
        let rows = shape[0]
        return Tensor.record("gather", out, [x]) { g in [try g.scatterAddRows(indices, rows: rows)] }
    }

    /// The adjoint of `gatherRows`: adds each row of this `[I…, D…]` tensor
    /// into row `indices[i]` of a `[rows, D…]` result of zeros.
    public func scatterAddRows(_ indices: Tensor, rows: Int) throws -> Tensor {
        let idx = try indices.indices(below: rows, op: "scatterAdd")
        guard Array(shape.prefix(indices.rank)) == indices.shape else {
            throw TensorError(
                "scatterAdd",
                "values of shape \(shapeString(shape)) do not start with the index shape \(shapeString(indices.shape))")
        }
        let x = self
        let rowShape = Array(shape[indices.rank...])
        let rowSize = rowShape.reduce(1, *)
        let out = Tensor(zeros: [rows] + rowShape)
        for (i, r) in idx.enumerated() {
            let dst = out.pointer + r * rowSize, src = pointer + i * rowSize
            for j in 0..<rowSize { dst[j] += src[j] }
        }
        return Tensor.record("scatterAdd", out, [x]) { g in [try g.gatherRows(indices)] }
    }

    /// One-hot rows: `[I…]` class indices give `[I…, classes]` of 0 and 1.
    public static func oneHot(_ indices: Tensor, classes: Int) throws -> Tensor {
        guard classes > 0 else { throw TensorError("oneHot", "needs at least one class, found \(classes)") }
        let idx = try indices.indices(below: classes, op: "oneHot")
        let out = Tensor(zeros: indices.shape + [classes])
        for (i, c) in idx.enumerated() { out.pointer[i * classes + c] = 1 }
        return out
    }
}
