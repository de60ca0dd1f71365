/// NumPy broadcasting: shapes align on the right; each pair of sizes must be
/// equal or one of them 1.
public func broadcastShape(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
    if a == b { return a }
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let da = i < r - a.count ? 1 : a[i - (r - a.count)]
        let db = i < r - b.count ? 1 : b[i - (r - b.count)]
        if da == db || db == 1 {
            out[i] = da
        } else if da == 1 {
            out[i] = db
        } else {
            throw TensorError(
                op,
                "cannot broadcast \(shapeString(a)) with \(shapeString(b)): sizes \(da) and \(db) differ at dimension \(i - r + max(a.count, b.count)) and neither is 1"
            )
        }
    }
    return out
}

/// Row-major strides of `shape` laid out inside the (larger or equal) `target`
/// shape, with stride 0 on broadcast dimensions.
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let r = target.count
    var strides = [Int](repeating: 0, count: r)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        let ti = i + (r - shape.count)
        strides[ti] = shape[i] == 1 && target[ti] != 1 ? 0 : s
        s *= shape[i]
    }
    return strides
}

func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}

/// Resolves a possibly negative axis against a rank.
func normalizeAxis(_ axis: Int, rank: Int, op: String) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0 && a < rank else {
        throw TensorError(op, "axis \(axis) is out of range for a tensor of rank \(rank)")
    }
    return a
}

extension Tensor {
    /// The one helper that undoes broadcasting: sums this gradient down to
    /// `target`, the shape of the operand that was broadcast.
    public func sumTo(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let r = shape.count
        guard target.count <= r else {
            throw TensorError(
                "sumTo", "cannot reduce \(shapeString(shape)) to the larger rank of \(shapeString(target))")
        }
        var axes: [Int] = []
        for i in 0..<r {
            let ti = i - (r - target.count)
            if ti < 0 { axes.append(i); continue }
            if target[ti] == 1 && shape[i] != 1 {
                axes.append(i)
            } else if target[ti] != shape[i] {
                throw TensorError("sumTo", "cannot reduce \(shapeString(shape)) to \(shapeString(target))")
            }
        }
        return try sum(axes: axes, keepDims: true).reshaped(to: target)
    }

    /// Repeats this tensor along broadcast dimensions to fill `target`.
    public func broadcast(to target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let full = try broadcastShape(shape, target, op: "broadcast")
        guard full == target else {
            throw TensorError("broadcast", "cannot broadcast \(shapeString(shape)) to \(shapeString(target))")
        }
        let out = Kernels.zip(self, Tensor(0), full) { a, _ in a }
        let source = shape
        return Tensor.record("broadcast", out, [self]) { g in [try g.sumTo(source)] }
    }
}
