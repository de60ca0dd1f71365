import CKernels
/// An n-dimensional array of 32-bit floats with reverse-mode autograd.
///
/// Storage is contiguous and row-major. A `Tensor` is a class: autograd and
/// optimizers need reference identity (a parameter is the same object every
/// step). `reshaped(to:)` shares storage; every other op makes a new buffer.
public final class Tensor {
    /// The size of each dimension; `[]` is a scalar.
    public let shape: [Int]
    let storage: Storage
    /// Whether gradients flow to this tensor. Set it on leaves (parameters,
    /// inputs you want a gradient for); ops set it on their outputs.
    public var requiresGrad: Bool
    /// The accumulated gradient of a leaf after `backward()`.
    public var grad: Tensor?
    var node: Node?
    /// Scratch space of a backward pass: the pass that last visited this
    /// tensor, the last pass to which it led to a requested gradient, and
    /// the gradient gathered for it so far.
    var visitEpoch = 0
    var leadsEpoch = 0
    var pendingGrad: Tensor?
    nonisolated(unsafe) static var epochCounter = 0

    init(shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
        self.requiresGrad = false
    }

    /// An uninitialised tensor (the caller fills every element).
    init(uninitialized shape: [Int]) {
        self.shape = shape
        self.storage = Storage(count: shape.reduce(1, *))
        self.requiresGrad = false
    }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    /// The op that produced this tensor, or nil for a leaf.
    public var opName: String? { node?.op }
    public var isLeaf: Bool { node == nil }

    var pointer: UnsafeMutablePointer<Float> { storage.pointer }
    var buffer: UnsafeMutableBufferPointer<Float> { storage.buffer }
}

// MARK: - Creation

extension Tensor {
    public convenience init(zeros shape: [Int]) { self.init(full: 0, shape: shape) }
    public convenience init(ones shape: [Int]) { self.init(full: 1, shape: shape) }

    public convenience init(full value: Float, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.init(shape: shape, storage: Storage(repeating: value, count: shape.reduce(1, *)))
    }

    /// A scalar (shape `[]`).
    public convenience init(_ value: Float) { self.init(full: value, shape: []) }

    /// A tensor from values in row-major order. Precondition: the count fits
    /// the shape (use `Tensor.checked(_:shape:)` for user input).
    public convenience init(_ values: [Float], shape: [Int]) {
        precondition(
            shape.allSatisfy { $0 >= 0 } && values.count == shape.reduce(1, *),
            "\(values.count) values do not fill shape \(shape)")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    /// A 1-D tensor from values.
    public convenience init(_ values: [Float]) { self.init(values, shape: [values.count]) }

    /// A 2-D tensor from rows of equal length.
    public convenience init(rows: [[Float]]) {
        let cols = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == cols }, "ragged rows")
        self.init(rows.flatMap { $0 }, shape: [rows.count, cols])
    }

    /// Checks values against a shape before building, throwing instead of trapping.
    public static func checked(_ values: [Float], shape: [Int]) throws -> Tensor {
        try checkShape(shape, op: "tensor")
        guard values.count == shape.reduce(1, *) else {
            throw TensorError(
                "tensor",
                "\(values.count) values cannot fill shape \(shapeString(shape)), which holds \(shape.reduce(1, *))")
        }
        return Tensor(values, shape: shape)
    }

    /// The most elements `checkShape` accepts (default 2²⁸, 1 GiB of floats):
    /// a typo in a shape gives an error instead of exhausting memory.
    nonisolated(unsafe) public static var elementLimit = 1 << 28

    /// The most bytes of tensors that may be alive at once when `checkShape`
    /// admits a new one (default 4 GiB): each tensor within `elementLimit`
    /// cannot add up to more memory than the machine has.
    nonisolated(unsafe) public static var memoryBudget = 4 << 30

    /// Bytes held by live tensors now (buffers handed out by the allocator).
    public static var bytesInUse: Int { BufferPool.shared.bytesInUse }

    /// Validates a user-supplied shape: no negative sizes, no more than
    /// `elementLimit` elements. Shapes from user input go through this before
    /// any initialiser, whose preconditions would otherwise trap.
    public static func checkShape(_ shape: [Int], op: String) throws {
        if let bad = shape.first(where: { $0 < 0 }) {
            throw TensorError(op, "dimension sizes must be zero or more, found \(bad) in \(shapeString(shape))")
        }
        var total = 1
        for d in shape {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { throw TensorError(op, "shape \(shapeString(shape)) has too many elements") }
            total = p
        }
        if total > elementLimit {
            throw TensorError(
                op, "shape \(shapeString(shape)) has \(total) elements, more than the limit of \(elementLimit)")
        }
        try checkMemory(bytes: total * 4, op: op, what: "shape \(shapeString(shape))")
    }

    /// Refuses an allocation of `bytes` that would take the tensors alive now past `memoryBudget`.
    public static func checkMemory(bytes: Int, op: String, what: String) throws {
        let inUse = bytesInUse
        let (sum, overflow) = inUse.addingReportingOverflow(bytes)
        if overflow || sum > memoryBudget {
            throw TensorError(
                op,
                "\(what) needs \(mebibytes(bytes)) MiB, and tensors already hold \(mebibytes(inUse)) MiB "
                    + "of the memory budget of \(mebibytes(memoryBudget)) MiB")
        }
    }

    static func mebibytes(_ bytes: Int) -> String {
        let m = Double(bytes) / Double(1 << 20)
        return m >= 10 ? String(Int(m.rounded())) : String(Double(Int((m * 10).rounded())) / 10)
    }

    /// start, start+step, … below end.
    public static func arange(_ start: Float, _ end: Float, step: Float = 1) throws -> Tensor {
        guard step != 0, start.isFinite, end.isFinite, step.isFinite else {
            throw TensorError("arange", "needs finite bounds and a non-zero step, found \(start), \(end), step \(step)")
        }
        let steps = ((end - start) / step).rounded(.up)
        guard steps < Float(elementLimit) else {
            throw TensorError("arange", "\(steps) elements exceed the limit of \(elementLimit)")
        }
        let n = steps > 0 ? Int(steps) : 0  // steps is below the element limit, and may be hugely negative
        let t = Tensor(uninitialized: [n])
        for i in 0..<n { t.pointer[i] = start + Float(i) * step }
        return t
    }

    /// 0, 1, …, n−1.
    public static func arange(_ n: Int) -> Tensor {
        let t = Tensor(uninitialized: [Swift.max(0, n)])
        for i in 0..<t.count { t.pointer[i] = Float(i) }
        return t
    }

    /// Uniform in [low, high), from the seeded global generator.
    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1) -> Tensor {
        let t = Tensor(uninitialized: shape)
        let scale = high - low
        for i in 0..<t.count { t.pointer[i] = low + scale * Random.global.nextUniform() }
        return t
    }

    /// Normal with the given mean and standard deviation, from the seeded global generator.
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.pointer[i] = mean + std * Random.global.nextNormal() }
        return t
    }
}

// MARK: - Reading and writing values

extension Tensor {
    /// The values in row-major order.
    public var scalars: [Float] { Array(buffer) }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs one element, tensor has shape \(shape)")
        return pointer[0]
    }

    /// Element at a full index. Precondition: the index is inside the tensor.
    public subscript(_ index: Int...) -> Float {
        get { pointer[flatIndex(index)] }
        set { pointer[flatIndex(index)] = newValue }
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "index \(index) for shape \(shape)")
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) outside shape \(shape)")
            flat = flat * d + i
        }
        return flat
    }

    /// Read-only access to the raw values.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(buffer))
    }

    /// In-place access to the raw values (optimizers, initialisers). Not
    /// recorded by autograd; every tensor sharing the storage sees the change.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R
    {
        try body(buffer)
    }

    /// Copies the values of `other` (same element count) into this tensor, in place.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "assign \(other.shape) into \(shape)")
        pointer.update(from: other.pointer, count: count)
    }

    /// A tensor sharing this one's storage, cut from the graph.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// An independent copy of the values, cut from the graph.
    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.pointer.update(from: pointer, count: count)
        return t
    }

    /// Marks this tensor as needing a gradient; returns it.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    /// Whether every element is finite.
    public var allFinite: Bool { gk_all_finite(pointer, count) != 0 }

    /// Σ x², in the widest vectors the CPU has (the same sum on any CPU).
    public var sumOfSquares: Float { gk_sum_of_squares(pointer, count) }

    /// Whether two tensors share storage.
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }
}
