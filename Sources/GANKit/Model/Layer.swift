import TensorCore

/// How new weights are drawn.
public enum WeightInit: String, Sendable, CaseIterable {
    /// PyTorch's defaults: U(±1/√fan_in) for linear and convolution weights
    /// and biases, N(0, 1) embeddings, batch-norm scale 1 and shift 0.
    case pytorch
    /// The DCGAN scheme: weights N(0, 0.02), biases 0, batch-norm scale N(1, 0.02).
    case dcgan
}

/// A layer of a sequential network: its spec, its named parameters and
/// buffers (PyTorch's `state_dict` names), and its forward pass on a batch.
public protocol Layer: AnyObject {
    var spec: LayerSpec { get }
    /// Trainable tensors by PyTorch name ("weight", "bias").
    var parameters: [(name: String, tensor: Tensor)] { get }
    /// Non-trainable state ("running_mean", "running_var", "weight_u").
    var buffers: [(name: String, tensor: Tensor)] { get }
    /// `x` is a batch: `[N] + the per-sample input shape`.
    func forward(_ x: Tensor, training: Bool) throws -> Tensor
    /// Whether one sample's output depends on the other samples of its batch (batch norm in training).
    var mixesSamples: Bool { get }
}

extension Layer {
    public var buffers: [(name: String, tensor: Tensor)] { [] }
    public var mixesSamples: Bool { false }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.tensor.count } }
}

/// A layer the network cannot build for the shape it receives.
public struct ShapeError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension LayerSpec {
    /// The per-sample output shape for a per-sample input shape, or an error
    /// that says what this layer expected.
    public func outputShape(for input: [Int]) throws -> [Int] {
        let output = try unboundedOutputShape(for: input)
        // Sizes come from text a user typed or a file holds: a sample may
        // have at most 2³¹ − 1 values, and no product of sizes may overflow.
        var total = 1
        for d in output {
            let (p, o) = total.multipliedReportingOverflow(by: d)
            guard !o, d >= 0, p <= Int(Int32.max) else {
                throw ShapeError(
                    "\(text) would make samples of shape \(shapeString(output)), more than \(Int32.max) values each")
            }
            total = p
        }
        return output
    }

    /// The number of values in a per-sample shape, or an error when it overflows.
    static func volume(_ shape: [Int], _ what: String) throws -> Int {
        var total = 1
        for d in shape {
            let (p, o) = total.multipliedReportingOverflow(by: d)
            guard !o, p <= Int(Int32.max) else {
                throw ShapeError("\(what): shape \(shapeString(shape)) has more than \(Int32.max) values")
            }
            total = p
        }
        return total
    }

    func unboundedOutputShape(for input: [Int]) throws -> [Int] {
        let s = shapeString(input)
        switch self {
        case let .linear(out, _):
            guard let last = input.last, last > 0 else { throw ShapeError("\(text) expects features, found \(s)") }
            _ = last
            return Array(input.dropLast()) + [out]
        case let .conv2d(out, k, st, p, _):
            guard input.count == 3 else { throw ShapeError("\(text) expects [channels, height, width], found \(s)") }
            let geo = ConvGeometry(kernel: k, stride: st, padding: p)
            do {
                let (oh, ow) = try geo.outputSize(height: input[1], width: input[2], op: "conv")
                return [out, oh, ow]
            } catch let e as TensorError { throw ShapeError("\(text) on \(s): \(e.message)") }
        case let .convTranspose2d(out, k, st, p, op, _):
            guard input.count == 3 else { throw ShapeError("\(text) expects [channels, height, width], found \(s)") }
            guard op < st else { throw ShapeError("\(text): output padding must be smaller than the stride") }
            let (h1, o1) = (input[1] - 1).multipliedReportingOverflow(by: st),
                (w1, o2) = (input[2] - 1).multipliedReportingOverflow(by: st)
            guard !o1, !o2, h1 <= Int(Int32.max), w1 <= Int(Int32.max) else {
                throw ShapeError("\(text) on \(s) gives an output too large to address")
            }
            let oh = h1 - 2 * p + k + op, ow = w1 - 2 * p + k + op
            guard oh > 0, ow > 0 else { throw ShapeError("\(text) on \(s) gives an empty \(oh)x\(ow) output") }
            return [out, oh, ow]
        case .batchNorm:
            guard input.count == 1 || input.count == 3 || input.count == 2 else {
                throw ShapeError(
                    "\(text) expects [features], [channels, length] or [channels, height, width], found \(s)")
            }
            return input
        case .layerNorm:
            guard !input.isEmpty else { throw ShapeError("\(text) expects at least one dimension, found a scalar") }
            return input
        case .dropout, .relu, .leakyRelu, .tanh, .sigmoid, .gelu, .elu:
            return input
        case .softmax:
            guard !input.isEmpty else { throw ShapeError("\(text) expects at least one dimension, found a scalar") }
            return input
        case .minibatchStd:
            guard input.count == 1 else { throw ShapeError("\(text) expects features [F] (flatten first), found \(s)") }
            return [input[0] + 1]
        case let .reshape(target):
            let from = try LayerSpec.volume(input, text), to = try LayerSpec.volume(target, text)
            guard from == to else {
                throw ShapeError("\(text) cannot hold \(s): \(from) values into \(to)")
            }
            return target
        case .flatten:
            return [try LayerSpec.volume(input, text)]
        case let .upsample(scale):
            guard input.count == 3 else { throw ShapeError("\(text) expects [channels, height, width], found \(s)") }
            return [input[0], input[1] * scale, input[2] * scale]
        case let .embedding(_, dim):
            guard input.count <= 1 else { throw ShapeError("\(text) expects token ids [length], found \(s)") }
            return input + [dim]
        case let .spectralNorm(inner):
            return try inner.outputShape(for: input)
        }
    }

    /// Builds the layer for a per-sample input shape with fresh weights.
    public func makeLayer(input: [Int], initialization: WeightInit = .pytorch) throws -> Layer {
        let output = try outputShape(for: input)
        // Sizes come from user input: refuse what exceeds the tensor size limit before allocating.
        do {
            try Tensor.checkShape(output, op: text)
            switch self {
            case let .linear(out, _): try Tensor.checkShape([input.last!, out], op: text)
            case let .conv2d(out, k, _, _, _), let .convTranspose2d(out, k, _, _, _, _):
                try Tensor.checkShape([input[0], out, k, k], op: text)
            case let .embedding(vocab, dim): try Tensor.checkShape([vocab, dim], op: text)
            default: break
            }
        } catch let e as TensorError {
            throw ShapeError("\(text) would be too large: \(e.message)")
        }
        switch self {
        case let .linear(out, bias):
            return Linear(inFeatures: input.last!, outFeatures: out, bias: bias, initialization: initialization)
        case let .conv2d(out, k, s, p, bias):
            return Conv2D(
                inChannels: input[0], outChannels: out, kernel: k, stride: s, padding: p, bias: bias,
                initialization: initialization)
        case let .convTranspose2d(out, k, s, p, op, bias):
            return ConvTranspose2D(
                inChannels: input[0], outChannels: out, kernel: k, stride: s, padding: p,
                outputPadding: op, bias: bias, initialization: initialization)
        case let .batchNorm(m, e):
            return BatchNorm(features: input[0], momentum: m, epsilon: e, initialization: initialization)
        case let .layerNorm(e):
            return LayerNorm(features: input.last!, epsilon: e)
        case let .dropout(p):
            return Dropout(p: p)
        case .relu: return Activation(.relu)
        case let .leakyRelu(a): return Activation(.leakyRelu(a))
        case .tanh: return Activation(.tanh)
        case .sigmoid: return Activation(.sigmoid)
        case .gelu: return Activation(.gelu)
        case let .elu(a): return Activation(.elu(a))
        case .softmax: return Activation(.softmax)
        case .minibatchStd:
            return MinibatchStd()
        case let .reshape(target):
            return Reshape(spec: self, target: target)
        case .flatten:
            return Reshape(spec: self, target: [input.reduce(1, *)])
        case let .upsample(s):
            return Upsample(scale: s)
        case let .embedding(vocab, dim):
            return Embedding(vocabulary: vocab, dim: dim, initialization: initialization)
        case let .spectralNorm(inner):
            guard let weighted = try inner.makeLayer(input: input, initialization: initialization) as? WeightedLayer
            else {
                throw ShapeError("spectral norm wraps linear, conv or convt layers")
            }
            return SpectralNorm(weighted)
        }
    }
}

/// Layers with one weight tensor that spectral norm can replace.
public protocol WeightedLayer: Layer {
    var weight: Tensor { get }
    var bias: Tensor? { get }
    func forward(_ x: Tensor, weight: Tensor) throws -> Tensor
    /// The weight as the matrix whose largest singular value spectral norm divides by.
    func weightMatrix(_ weight: Tensor) throws -> Tensor
}

extension WeightedLayer {
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor { try forward(x, weight: weight) }
    public var parameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
    public func weightMatrix(_ weight: Tensor) throws -> Tensor { try weight.reshaped(to: [weight.shape[0], -1]) }
}

enum Init {
    static func uniform(_ shape: [Int], bound: Float) -> Tensor {
        Tensor.rand(shape, low: -bound, high: bound).requiringGrad()
    }

    static func weight(_ shape: [Int], fanIn: Int, _ scheme: WeightInit) -> Tensor {
        switch scheme {
        case .pytorch: return uniform(shape, bound: 1 / Float(Swift.max(fanIn, 1)).squareRoot())
        case .dcgan: return Tensor.randn(shape, std: 0.02).requiringGrad()
        }
    }

    static func bias(_ n: Int, fanIn: Int, _ scheme: WeightInit) -> Tensor {
        switch scheme {
        case .pytorch: return uniform([n], bound: 1 / Float(Swift.max(fanIn, 1)).squareRoot())
        case .dcgan: return Tensor(zeros: [n]).requiringGrad()
        }
    }
}

/// y = x·Wᵀ + b on the last dimension. Weight [out, in] as PyTorch.
public final class Linear: WeightedLayer {
    public let weight: Tensor, bias: Tensor?
    public var spec: LayerSpec { .linear(out: weight.shape[0], bias: bias != nil) }

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, initialization: WeightInit = .pytorch) {
        weight = Init.weight([outFeatures, inFeatures], fanIn: inFeatures, initialization)
        self.bias = bias ? Init.bias(outFeatures, fanIn: inFeatures, initialization) : nil
    }

    public func forward(_ x: Tensor, weight w: Tensor) throws -> Tensor {
        try x.linear(weight: w, bias: bias)  // [N, in]·[out, in]ᵀ + b → [N, out]
    }
}

/// 2-D convolution. Weight [out, in, k, k] as PyTorch.
public final class Conv2D: WeightedLayer {
    public let weight: Tensor, bias: Tensor?
    public let stride: Int, padding: Int
    public var spec: LayerSpec {
        .conv2d(out: weight.shape[0], kernel: weight.shape[2], stride: stride, padding: padding, bias: bias != nil)
    }

    public init(
        inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, bias: Bool = true,
        initialization: WeightInit = .pytorch
    ) {
        let fanIn = inChannels * kernel * kernel
        weight = Init.weight([outChannels, inChannels, kernel, kernel], fanIn: fanIn, initialization)
        self.bias = bias ? Init.bias(outChannels, fanIn: fanIn, initialization) : nil
        self.stride = stride
        self.padding = padding
    }

    public func forward(_ x: Tensor, weight w: Tensor) throws -> Tensor {
        try x.conv2d(weight: w, bias: bias, stride: stride, padding: padding)
    }
}

/// Transposed 2-D convolution. Weight [in, out, k, k] as PyTorch.
public final class ConvTranspose2D: WeightedLayer {
    public let weight: Tensor, bias: Tensor?
    public let stride: Int, padding: Int, outputPadding: Int
    public var spec: LayerSpec {
        .convTranspose2d(
            out: weight.shape[1], kernel: weight.shape[2], stride: stride, padding: padding,
            outputPadding: outputPadding, bias: bias != nil)
    }

    public init(
        inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, outputPadding: Int = 0,
        bias: Bool = true, initialization: WeightInit = .pytorch
    ) {
        // PyTorch computes fan-in from the weight's second dimension here.
        let fanIn = outChannels * kernel * kernel
        weight = Init.weight([inChannels, outChannels, kernel, kernel], fanIn: fanIn, initialization)
        self.bias = bias ? Init.bias(outChannels, fanIn: fanIn, initialization) : nil
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
    }

    public func forward(_ x: Tensor, weight w: Tensor) throws -> Tensor {
        try x.convTranspose2d(weight: w, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding)
    }

    /// As PyTorch's spectral norm for transposed convolutions: output channels first.
    public func weightMatrix(_ w: Tensor) throws -> Tensor {
        try w.permuted([1, 0, 2, 3]).reshaped(to: [w.shape[1], -1])
    }
}

/// Batch normalisation over the channel dimension (1).
public final class BatchNorm: Layer {
    public let weight: Tensor, bias: Tensor
    public let runningMean: Tensor, runningVar: Tensor
    public let momentum: Float, epsilon: Float
    public var spec: LayerSpec { .batchNorm(momentum: momentum, epsilon: epsilon) }
    public var parameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
    public var buffers: [(name: String, tensor: Tensor)] {
        [("running_mean", runningMean), ("running_var", runningVar)]
    }
    public var mixesSamples: Bool { true }

    public init(features: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, initialization: WeightInit = .pytorch) {
        switch initialization {
        case .pytorch: weight = Tensor(ones: [features]).requiringGrad()
        case .dcgan: weight = Tensor.randn([features], mean: 1, std: 0.02).requiringGrad()
        }
        bias = Tensor(zeros: [features]).requiringGrad()
        runningMean = Tensor(zeros: [features])
        runningVar = Tensor(ones: [features])
        self.momentum = momentum
        self.epsilon = epsilon
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try x.batchNorm(
            weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
            training: training, momentum: momentum, epsilon: epsilon)
    }
}

/// Layer normalisation over the last dimension.
public final class LayerNorm: Layer {
    public let weight: Tensor, bias: Tensor
    public let epsilon: Float
    public var spec: LayerSpec { .layerNorm(epsilon: epsilon) }
    public var parameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }

    public init(features: Int, epsilon: Float = 1e-5) {
        weight = Tensor(ones: [features]).requiringGrad()
        bias = Tensor(zeros: [features]).requiringGrad()
        self.epsilon = epsilon
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try x.layerNorm(normalizedRank: 1, weight: weight, bias: bias, epsilon: epsilon)
    }
}

public final class Dropout: Layer {
    public let p: Float
    public var spec: LayerSpec { .dropout(p) }
    public var parameters: [(name: String, tensor: Tensor)] { [] }
    public init(p: Float) { self.p = p }
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor { try x.dropout(p: p, training: training) }
}

/// Parameter-free elementwise activations.
public final class Activation: Layer {
    /// The activations, a closed list: a new one needs its case in `forward`.
    public enum Kind: Equatable, Sendable {
        case relu, leakyRelu(Float), tanh, sigmoid, gelu, elu(Float), softmax
    }

    public let kind: Kind
    public var parameters: [(name: String, tensor: Tensor)] { [] }
    init(_ kind: Kind) { self.kind = kind }

    public var spec: LayerSpec {
        switch kind {
        case .relu: return .relu
        case let .leakyRelu(a): return .leakyRelu(a)
        case .tanh: return .tanh
        case .sigmoid: return .sigmoid
        case .gelu: return .gelu
        case let .elu(a): return .elu(a)
        case .softmax: return .softmax
        }
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        switch kind {
        case .relu: return x.relu()
        case let .leakyRelu(a): return x.leakyRelu(a)
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .gelu: return try x * ((x * Float(0.5.squareRoot())).erf() + 1) * 0.5  // x·Φ(x), exact as PyTorch
        case let .elu(a): return try x.relu() + (x.clamp(max: 0).exp() - 1) * a  // clamp keeps exp finite
        case .softmax: return try x.softmax(axis: -1)
        }
    }
}

/// Minibatch standard deviation: [N, F] → [N, F + 1], the extra feature the
/// mean over features of each feature's standard deviation across the batch.
public final class MinibatchStd: Layer {
    public let spec = LayerSpec.minibatchStd
    public var parameters: [(name: String, tensor: Tensor)] { [] }
    public var mixesSamples: Bool { true }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        let n = x.shape[0]
        // A batch of one has no spread: its feature is 0.
        let s = n > 1 ? try (x.variance(axes: [0], unbiased: false) + 1e-8).sqrt().mean() : Tensor(0)
        let column = try Tensor(zeros: [n, 1]) + s  // [N, 1]
        return try Tensor.concat([x, column], axis: 1)  // [N, F + 1]
    }
}

/// Reshapes each sample; flatten is reshape to one dimension.
public final class Reshape: Layer {
    public let spec: LayerSpec
    let target: [Int]
    public var parameters: [(name: String, tensor: Tensor)] { [] }
    init(spec: LayerSpec, target: [Int]) { self.spec = spec; self.target = target }
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        try x.reshaped(to: [x.shape.first ?? 1] + target)
    }
}

/// Nearest-neighbour upsampling: each pixel repeated s × s times (as `nn.Upsample(mode="nearest")`);
/// the gradient of an output block sums back into its pixel.
public final class Upsample: Layer {
    public let scale: Int
    public var spec: LayerSpec { .upsample(scale) }
    public var parameters: [(name: String, tensor: Tensor)] { [] }
    init(scale: Int) { self.scale = scale }
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.rank == 4 else { throw ShapeError("\(spec.text) expects [N, C, H, W], found \(shapeString(x.shape))") }
        let (n, c, h, w, s) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], scale)
        return try x.reshaped(to: [n, c, h, 1, w, 1]).broadcast(to: [n, c, h, s, w, s])
            .reshaped(to: [n, c, h * s, w * s])
    }
}

/// A lookup table: token ids (integers stored as floats) to vectors.
public final class Embedding: Layer {
    public let weight: Tensor
    public var spec: LayerSpec { .embedding(vocabulary: weight.shape[0], dim: weight.shape[1]) }
    public var parameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }

    public init(vocabulary: Int, dim: Int, initialization: WeightInit = .pytorch) {
        weight =
            (initialization == .dcgan ? Tensor.randn([vocabulary, dim], std: 0.02) : Tensor.randn([vocabulary, dim]))
            .requiringGrad()
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor { try weight.gatherRows(x) }
}

/// Spectral normalisation (Miyato et al.): the wrapped layer's weight is
/// divided by σ, its largest singular value, estimated by one step of power
/// iteration per training forward pass. Names as PyTorch: `weight_orig`,
/// `weight_u`, `weight_v`.
public final class SpectralNorm: Layer {
    public let inner: WeightedLayer
    public let u: Tensor, v: Tensor
    public var spec: LayerSpec { .spectralNorm(inner.spec) }
    public var parameters: [(name: String, tensor: Tensor)] {
        [("weight_orig", inner.weight)] + (inner.bias.map { [("bias", $0)] } ?? [])
    }
    public var buffers: [(name: String, tensor: Tensor)] { [("weight_u", u), ("weight_v", v)] }

    init(_ inner: WeightedLayer) {
        self.inner = inner
        let m = try! inner.weightMatrix(inner.weight)
        u = SpectralNorm.normalized(Tensor.randn([m.shape[0]]))
        v = SpectralNorm.normalized(Tensor.randn([m.shape[1]]))
    }

    static func normalized(_ t: Tensor) -> Tensor {
        let norm = t.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return Tensor(t.scalars.map { $0 / Swift.max(norm, 1e-12) }, shape: t.shape)
    }

    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        let w = inner.weight
        let m = try inner.weightMatrix(w)
        if training {
            try withNoGrad {
                let md = m.detached()
                v.assign(SpectralNorm.normalized(try md.matmul(u, transposeA: true)))  // v = Wᵀu / ‖Wᵀu‖
                u.assign(SpectralNorm.normalized(try md.matmul(v)))  // u = Wv / ‖Wv‖
            }
        }
        // u and v enter the graph as copies, as PyTorch clones them: a later
        // forward pass of the same step updates the buffers in place, and the
        // backward of this pass must see the values this pass used.
        let uc = u.copy(), vc = v.copy()
        let sigma = try (uc * m.matmul(vc)).sum()  // σ = uᵀWv
        return try inner.forward(x, weight: w / sigma)
    }
}
