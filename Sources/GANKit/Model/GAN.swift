import TensorCore

/// The distribution the generator's input is drawn from.
public enum NoiseDistribution: String, Sendable, CaseIterable {
    case normal, uniform
}

/// How class labels reach the networks of a conditional GAN.
public enum Conditioning: Equatable, Sendable {
    /// A one-hot vector of the class count.
    case oneHot
    /// A learned embedding of the given size (one table for G, one for D).
    case embedding(Int)
}

/// What a generator is trained with: a discriminator (a GAN) or an encoder
/// (a variational autoencoder, whose decoder is the generator).
public enum GenerativeModel: String, Sendable, CaseIterable {
    case adversarial = "gan"
    case variational = "vae"
}

extension GenerativeModel {
    /// Its name: GAN, VAE.
    public var name: String { rawValue.uppercased() }
    /// "a GAN", "a VAE".
    public var withArticle: String { "a " + name }
    /// What its generator is called: the generator, or a VAE's decoder.
    public var generatorRole: String { self == .adversarial ? "generator" : "decoder" }
    /// What its other network is called: the discriminator, or a VAE's encoder.
    public var partnerRole: String { self == .adversarial ? "discriminator" : "encoder" }
    /// The other network's letter in settings (`D.lr`, `E.lr`) and default names.
    public var partnerLetter: String { self == .adversarial ? "D" : "E" }
    /// The parts of one training step: `dSteps` D steps and a G step, or a VAE's one step.
    public func partsPerStep(dSteps: Int) -> Int { self == .adversarial ? Swift.max(dSteps, 1) + 1 : 1 }
    /// The networks in the order its assembling command names them (`gan G D`, `vae E G`): true
    /// when the partner comes first.
    public var partnerFirst: Bool { self == .variational }
    /// The names of its two networks in a training checkpoint: key prefixes (`G.0.weight`,
    /// `encoder.0.weight`) and metadata (`gans.G`, `gans.encoder`). Checkpoints written before
    /// a VAE's parts had their own names use G and D for it too (`Trainer.restore` reads both).
    public var checkpointNames: (generator: String, partner: String) {
        self == .adversarial ? ("G", "D") : ("decoder", "encoder")
    }
}

/// An operation the model at hand does not have (a D step of a VAE).
public struct ModelError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A generator, a discriminator, a noise source and a dataset, checked
/// together when assembled: G must produce what the data holds and D must
/// take that and give one score per sample. For a conditional GAN, labels are
/// appended to G's noise and to D's input (as extra channels for images).
///
/// With `model: .variational` the same pieces make a VAE: `discriminator`
/// is the encoder, which maps a sample to the means and log-variances of
/// G's latent values (output `[2k]` for G's input `[k]`), and G is the decoder.
public final class GAN {
    public let generator: Network
    /// D, or the encoder of a VAE.
    public let discriminator: Network
    public let model: GenerativeModel
    public let data: DataSource
    /// Set through the trainer's options (`TrainingOptions.noise`), which it keeps in step.
    public internal(set) var noise: NoiseDistribution
    public let conditioning: Conditioning?
    /// Label embeddings of a conditional GAN with `.embedding`.
    public let labelEmbeddingG: Tensor?, labelEmbeddingD: Tensor?

    public init(
        generator: Network, discriminator: Network, data: DataSource,
        noise: NoiseDistribution = .normal, conditioning: Conditioning? = nil,
        model: GenerativeModel = .adversarial
    ) throws {
        self.generator = generator
        self.discriminator = discriminator
        self.model = model
        self.data = data
        self.noise = noise
        self.conditioning = conditioning
        let sample = data.sampleShape
        var labelDim = 0
        if let conditioning {
            guard let classes = data.classCount, classes >= 1 else {
                throw ShapeError("a conditional GAN needs labelled data; \(data.name) has no labels")
            }
            switch conditioning {
            case .oneHot:
                labelDim = classes
                labelEmbeddingG = nil; labelEmbeddingD = nil
            case .embedding(let d):
                guard d > 0 else { throw ShapeError("a label embedding needs a positive size, found \(d)") }
                labelDim = d
                labelEmbeddingG = Tensor.randn([classes, d]).requiringGrad()
                labelEmbeddingD = Tensor.randn([classes, d]).requiringGrad()
            }
        } else {
            labelEmbeddingG = nil; labelEmbeddingD = nil
        }
        if labelDim > 0 {
            guard generator.inputShape.count == 1, generator.inputShape[0] > labelDim else {
                let example = generator.inputShape.count == 1 ? generator.inputShape[0] : 32
                throw ShapeError(
                    "a conditional generator takes its noise and then \(labelDim) label values as one vector [noise + \(labelDim)]; G takes \(shapeString(generator.inputShape)), which leaves no room for noise: for \(example) noise values declare G with 'noise \(example + labelDim)'"
                )
            }
        }
        if model == .variational {
            try GAN.checkVAE(
                generator: generator, encoder: discriminator, data: data, noise: noise, conditioning: conditioning)
            return
        }
        guard generator.outputShape == sample else {
            throw ShapeError(
                "G makes samples of shape \(shapeString(generator.outputShape)) but \(data.name) holds \(shapeString(sample)); the last layers of G must end at \(shapeString(sample))"
            )
        }
        let dInput = GAN.discriminatorInput(sample: sample, labelDim: labelDim)
        guard discriminator.inputShape == dInput else {
            throw ShapeError(
                "D takes \(shapeString(discriminator.inputShape)) but is fed \(shapeString(dInput))"
                    + (labelDim > 0
                        ? " (samples \(shapeString(sample)) with \(labelDim) label values)"
                        : " (samples of \(data.name))"))
        }
        guard discriminator.outputShape == [1] || discriminator.outputShape == [] else {
            throw ShapeError(
                "D must give one score per sample, that is output [1], but ends at \(shapeString(discriminator.outputShape)); add 'linear 1' (after 'flatten' for images)"
            )
        }
    }

    static func checkVAE(
        generator: Network, encoder: Network, data: DataSource, noise: NoiseDistribution,
        conditioning: Conditioning?
    ) throws {
        guard conditioning == nil else { throw ShapeError("a VAE here is unconditional; drop cond=") }
        guard noise == .normal else {
            throw ShapeError("a VAE's prior is the standard normal; z=uniform does not apply")
        }
        guard generator.inputShape.count == 1, let k = generator.inputShape.first else {
            throw ShapeError(
                "the decoder of a VAE takes a latent vector [k] (it starts with noise k), but this one takes \(shapeString(generator.inputShape))"
            )
        }
        guard generator.outputShape == data.sampleShape else {
            throw ShapeError(
                "the decoder makes samples of shape \(shapeString(generator.outputShape)) but \(data.name) holds \(shapeString(data.sampleShape))"
            )
        }
        guard encoder.inputShape == data.sampleShape else {
            throw ShapeError(
                "the encoder takes \(shapeString(encoder.inputShape)) but \(data.name) holds \(shapeString(data.sampleShape))"
            )
        }
        guard encoder.outputShape == [2 * k] else {
            throw ShapeError(
                "the encoder must give \(k) means and \(k) log-variances for G's \(k) latent values, that is output [\(2 * k)], but ends at \(shapeString(encoder.outputShape)); end it with 'linear \(2 * k)'"
            )
        }
    }

    /// The encoder of a VAE on a batch: the means and log-variances of q(z|x), each `[N, k]`.
    public func encode(_ x: Tensor) throws -> (mean: Tensor, logVariance: Tensor) {
        guard model == .variational else { throw ModelError("only a VAE has an encoder") }
        let n = x.shape[0], k = noiseShape[0]
        let h = try discriminator(x).reshaped(to: [n, 2 * k])
        return (try h.slice(axis: 1, start: 0, end: k), try h.slice(axis: 1, start: k, end: 2 * k))
    }

    static func discriminatorInput(sample: [Int], labelDim: Int) -> [Int] {
        guard labelDim > 0 else { return sample }
        if sample.count == 3 { return [sample[0] + labelDim, sample[1], sample[2]] }
        return [sample.reduce(1, *) + labelDim]
    }

    /// The noise dimension(s): G's input less any label values.
    public var noiseShape: [Int] {
        guard let dim = labelDim, dim > 0 else { return generator.inputShape }
        return [generator.inputShape[0] - dim]
    }

    var labelDim: Int? {
        switch conditioning {
        case nil: return nil
        case .oneHot: return data.classCount
        case .embedding(let d): return d
        }
    }

    /// A batch of noise from the global generator.
    public func sampleNoise(_ n: Int) -> Tensor {
        switch noise {
        case .normal: return Tensor.randn([n] + noiseShape)
        case .uniform: return Tensor.rand([n] + noiseShape, low: -1, high: 1)
        }
    }

    /// Labels 0, 1, 2, … cycling through the classes for n samples of a
    /// conditional GAN; nil for an unconditional one.
    public func cyclingLabels(_ n: Int) -> Tensor? {
        guard conditioning != nil else { return nil }
        return Tensor((0..<n).map { Float($0 % Swift.max(data.classCount ?? 1, 1)) })
    }

    /// Random class labels for a conditional batch.
    public func sampleLabels(_ n: Int) -> Tensor? {
        guard conditioning != nil, let classes = data.classCount else { return nil }
        return Tensor((0..<n).map { _ in Float(Random.global.nextInt(below: classes)) })
    }

    func labelVectors(_ labels: Tensor, table: Tensor?) throws -> Tensor {
        if let table { return try table.gatherRows(labels) }
        return try Tensor.oneHot(labels, classes: data.classCount ?? 1)
    }

    /// G(z), or G(z ⊕ label) for a conditional GAN; `using` runs another
    /// network of G's architecture (the moving average of its weights).
    public func generate(_ z: Tensor, labels: Tensor? = nil, using network: Network? = nil) throws -> Tensor {
        try (network ?? generator)(generatorInput(z, labels: labels))
    }

    /// What G takes: the noise, with the label vectors appended for a conditional GAN.
    func generatorInput(_ z: Tensor, labels: Tensor?) throws -> Tensor {
        guard conditioning != nil else { return z }
        guard let labels else { throw ShapeError("a conditional generator needs labels") }
        return try Tensor.concat([z, labelVectors(labels, table: labelEmbeddingG)], axis: 1)
    }

    /// The seed of the noise `estimateBatchNormStatistics` measures with.
    public static let batchNormStatisticsSeed: UInt64 = 0x5EED_0F_BA7C

    /// Gives the batch-norm layers of `network` (of G's architecture) the
    /// statistics of its own activations on `n` noise vectors, drawn from a
    /// fixed seed so the result depends on the weights alone and the global
    /// random stream is left as it was; a conditional GAN cycles through the classes.
    public func estimateBatchNormStatistics(of network: Network, samples n: Int = 1024) throws {
        guard network.layers.contains(where: { $0 is BatchNorm }) else { return }
        let saved = Random.global
        Random.global = RandomGenerator(seed: GAN.batchNormStatisticsSeed)
        defer { Random.global = saved }
        let z = sampleNoise(n)
        let labels = cyclingLabels(n)
        try network.estimateBatchNormStatistics(from: withNoGrad { try generatorInput(z, labels: labels) })
    }

    /// D(x), or D(x ⊕ label) for a conditional GAN; always `[N, 1]`.
    public func discriminate(_ x: Tensor, labels: Tensor? = nil) throws -> Tensor {
        var input = x
        if conditioning != nil {
            guard let labels else { throw ShapeError("a conditional discriminator needs labels") }
            let l = try labelVectors(labels, table: labelEmbeddingD)  // [N, L]
            if x.rank == 4 {
                let maps = try l.reshaped(to: l.shape + [1, 1]).broadcast(to: [
                    x.shape[0], l.shape[1], x.shape[2], x.shape[3]
                ])
                input = try Tensor.concat([x, maps], axis: 1)  // labels as constant channels
            } else {
                input = try Tensor.concat([x.flattened(), l], axis: 1)
            }
        }
        let out = try discriminator(input)
        return try out.reshaped(to: [out.shape[0], 1])
    }

    /// Parameters G's optimizer updates (with its label embedding).
    public var generatorParameters: [Tensor] {
        generator.parameters.map(\.tensor) + (labelEmbeddingG.map { [$0] } ?? [])
    }
    /// Parameters D's optimizer updates (with its label embedding).
    public var discriminatorParameters: [Tensor] {
        discriminator.parameters.map(\.tensor) + (labelEmbeddingD.map { [$0] } ?? [])
    }
}
