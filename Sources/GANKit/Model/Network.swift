import TensorCore

/// A sequential network whose layers are addressed by index, with PyTorch's
/// `nn.Sequential` state-dict names (`0.weight`, `2.running_mean`). Shapes
/// are inferred layer by layer from the per-sample input shape when the
/// network is built and after every edit; a mismatch throws a message that
/// names the layer and both shapes, and leaves the network as it was.
public final class Network {
    /// The per-sample input shape (the batch dimension is not included).
    public private(set) var inputShape: [Int]
    public private(set) var layers: [Layer]
    /// Per-sample output shape after each layer.
    public private(set) var shapes: [[Int]]
    public var training = true
    public let initialization: WeightInit

    /// Runs `body` with the network in eval mode, then puts its mode back.
    public func evaluating<T>(_ body: () throws -> T) rethrows -> T {
        let was = training
        training = false
        defer { training = was }
        return try body()
    }

    public init(input: [Int], layers specs: [LayerSpec], initialization: WeightInit = .pytorch) throws {
        guard input.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("input sizes must be positive, found \(shapeString(input))")
        }
        self.inputShape = input
        self.initialization = initialization
        self.layers = []
        self.shapes = []
        (layers, shapes) = try Network.build(input: input, specs: specs, reusing: [], initialization: initialization)
    }

    /// Builds layers in order; a layer whose spec and input shape are
    /// unchanged from `reusing` keeps its weights.
    static func build(
        input: [Int], specs: [LayerSpec], reusing old: [(LayerSpec, [Int], Layer)],
        initialization: WeightInit
    ) throws -> ([Layer], [[Int]]) {
        var layers: [Layer] = []
        var shapes: [[Int]] = []
        var shape = input
        var pool = old
        for (i, spec) in specs.enumerated() {
            let out: [Int]
            do { out = try spec.outputShape(for: shape) } catch let e as ShapeError {
                throw ShapeError("layer \(i) (\(spec.text)) cannot take \(shapeString(shape)): \(e.message)")
            }
            if let k = pool.firstIndex(where: { $0.0 == spec && $0.1 == shape }) {
                layers.append(pool.remove(at: k).2)
            } else {
                layers.append(try spec.makeLayer(input: shape, initialization: initialization))
            }
            shapes.append(out)
            shape = out
        }
        return (layers, shapes)
    }

    public var specs: [LayerSpec] { layers.map(\.spec) }
    public var outputShape: [Int] { shapes.last ?? inputShape }

    /// Input shape of layer `i`.
    public func inputShape(ofLayer i: Int) -> [Int] { i == 0 ? inputShape : shapes[i - 1] }

    /// Runs a batch `[N] + inputShape` through every layer. A linear layer
    /// followed by relu or leaky relu (slope ≥ 0) runs as one fused op: the
    /// same values and gradients, one pass over memory fewer each way.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try checkInput(x)
        var h = x
        var i = 0
        while i < layers.count {
            if let linear = layers[i] as? Linear, i + 1 < layers.count, let slope = Self.fusedSlope(layers[i + 1].spec)
            {
                h = try h.linear(weight: linear.weight, bias: linear.bias, activationSlope: slope)
                i += 2
            } else {
                h = try layers[i].forward(h, training: training)
                i += 1
            }
        }
        return h
    }

    private static func fusedSlope(_ spec: LayerSpec) -> Float? {
        switch spec {
        case .relu: return 0
        case let .leakyRelu(a) where a >= 0: return a
        default: return nil
        }
    }

    /// Sets every batch-norm layer's running statistics to the statistics of
    /// its inputs when `input` runs through the network (precise batch norm):
    /// the statistics of these weights, not a lagging average over earlier ones.
    /// The other layers run in eval mode; nothing is recorded for gradients.
    public func estimateBatchNormStatistics(from input: Tensor) throws {
        try checkInput(input)
        try withNoGrad {
            var h = input
            for layer in layers {
                if let bn = layer as? BatchNorm {
                    h = try h.batchNorm(
                        weight: bn.weight, bias: bn.bias, runningMean: bn.runningMean, runningVar: bn.runningVar,
                        training: true, momentum: 1, epsilon: bn.epsilon)
                } else {
                    h = try layer.forward(h, training: false)
                }
            }
        }
    }

    private func checkInput(_ x: Tensor) throws {
        guard x.rank == inputShape.count + 1, Array(x.shape.dropFirst()) == inputShape else {
            throw ShapeError(
                "the network takes a batch of \(shapeString(inputShape)) samples, that is [N, \(inputShape.map(String.init).joined(separator: ", "))], found \(shapeString(x.shape))"
            )
        }
    }

    // MARK: Editing

    private func rebuild(_ specs: [LayerSpec], input: [Int]? = nil) throws {
        let old = layers.indices.map { (layers[$0].spec, inputShape(ofLayer: $0), layers[$0]) }
        let (newLayers, newShapes) = try Network.build(
            input: input ?? inputShape, specs: specs, reusing: old,
            initialization: initialization)
        layers = newLayers
        shapes = newShapes
        if let input { inputShape = input }
    }

    /// Appends a layer.
    public func add(_ spec: LayerSpec) throws { try rebuild(specs + [spec]) }

    /// Inserts a layer before index `i` (0…count).
    public func insert(_ spec: LayerSpec, at i: Int) throws {
        guard i >= 0 && i <= layers.count else { throw ShapeError("position \(i) is outside 0…\(layers.count)") }
        var s = specs
        s.insert(spec, at: i)
        try rebuild(s)
    }

    /// Removes layer `i`.
    public func remove(at i: Int) throws {
        guard layers.indices.contains(i) else {
            throw ShapeError("there is no layer \(i): the network has layers 0…\(layers.count - 1)")
        }
        var s = specs
        s.remove(at: i)
        try rebuild(s)
    }

    /// Replaces layer `i`.
    public func replace(at i: Int, with spec: LayerSpec) throws {
        guard layers.indices.contains(i) else {
            throw ShapeError("there is no layer \(i): the network has layers 0…\(layers.count - 1)")
        }
        var s = specs
        s[i] = spec
        try rebuild(s)
    }

    /// Changes the input shape, rebuilding the layers that see a new shape.
    public func setInput(_ shape: [Int]) throws {
        guard shape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("input sizes must be positive, found \(shapeString(shape))")
        }
        try rebuild(specs, input: shape)
    }

    // MARK: Parameters and state

    /// Trainable tensors under PyTorch names (`0.weight`).
    public var parameters: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { i, l in l.parameters.map { ("\(i).\($0.name)", $0.tensor) } }
    }

    public var buffers: [(name: String, tensor: Tensor)] {
        layers.enumerated().flatMap { i, l in l.buffers.map { ("\(i).\($0.name)", $0.tensor) } }
    }

    /// Parameters then buffers: what a checkpoint holds.
    public var stateDict: [(name: String, tensor: Tensor)] { parameters + buffers }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.tensor.count } }

    /// A tensor by state-dict name.
    public func tensor(named name: String) -> Tensor? { stateDict.first { $0.name == name }?.tensor }

    /// Clears the gradients of every parameter.
    public func zeroGrad() { for (_, p) in parameters { p.grad = nil } }

    /// The network as typed: `input 2 | linear 128 | relu | linear 1`.
    public var text: String {
        (["input " + inputShape.map(String.init).joined(separator: " ")] + specs.map(\.text)).joined(separator: " | ")
    }

    /// Parses the text form back (`input …` first, layers separated by `|`).
    public static func parse(_ text: String, initialization: WeightInit = .pytorch) throws -> Network {
        var parts = text.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = parts.first, first.hasPrefix("input ") || first.hasPrefix("noise ") else {
            throw SpecError("a network starts with 'input SIZES' or 'noise SIZE', found '\(parts.first ?? "")'")
        }
        parts.removeFirst()
        let sizes = first.split(separator: " ").dropFirst().map { Int($0) }
        guard !sizes.isEmpty, sizes.count <= 8, sizes.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= LayerSpec.maxSize })
        else {
            throw SpecError("'\(first)' needs 1 to 8 positive sizes, each at most \(LayerSpec.maxSize)")
        }
        _ = try LayerSpec.volume(sizes.map { $0! }, first)
        return try Network(
            input: sizes.map { $0! }, layers: try parts.map { try LayerSpec(parsing: $0) },
            initialization: initialization)
    }

    /// One row per layer: index, spec, output shape, parameter count.
    public var summary: [(index: Int, layer: String, output: [Int], parameters: Int)] {
        layers.enumerated().map { ($0, $1.spec.text, shapes[$0], $1.parameterCount) }
    }

    /// A deep copy (same specs and values, new tensors). It leaves the global
    /// random generator where it was. The copy is made under no element limit:
    /// the network exists, so its shapes were checked when it was built, and a
    /// limit lowered since then (`set maxelements`) must not make copying it fail.
    public func copy() -> Network {
        let saved = Random.global
        let limit = Tensor.elementLimit, budget = Tensor.memoryBudget
        Tensor.elementLimit = Int.max
        Tensor.memoryBudget = Int.max
        defer { Random.global = saved; Tensor.elementLimit = limit; Tensor.memoryBudget = budget }
        // Cannot throw: the same specs on the same input shape built this network.
        let n = try! Network(input: inputShape, layers: specs, initialization: initialization)
        n.load(from: self)
        // Gradients are part of what a snapshot keeps: `grads` after `restore` shows them.
        for ((_, a), (_, b)) in zip(n.parameters, parameters) { a.grad = b.grad?.copy() }
        n.training = training
        return n
    }

    /// Copies every parameter and buffer value from a network of the same architecture.
    public func load(from other: Network) {
        for ((_, a), (_, b)) in zip(stateDict, other.stateDict) { a.assign(b) }
    }
}

import Foundation
