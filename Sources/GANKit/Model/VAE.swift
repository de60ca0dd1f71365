import TensorCore

/// A variational autoencoder: the encoder maps a sample to the means and log-variances of the
/// decoder's latent values (output `[2k]` for a decoder taking `[k]`), and the decoder is the
/// generator, sampled from the standard normal prior as a GAN's G is from its noise.
public final class VAE: GenerativeNetworks {
    public let encoder: Network
    /// The decoder: G of the shell's commands.
    public let generator: Network
    public let data: DataSource
    /// Always `.normal`: the prior of a VAE.
    public var noise: NoiseDistribution = .normal

    public init(encoder: Network, decoder: Network, data: DataSource) throws {
        guard decoder.inputShape.count == 1, let k = decoder.inputShape.first else {
            throw ShapeError(
                "the decoder of a VAE takes a latent vector [k] (it starts with noise k), but this one takes \(shapeString(decoder.inputShape))"
            )
        }
        guard decoder.outputShape == data.sampleShape else {
            throw ShapeError(
                "the decoder makes samples of shape \(shapeString(decoder.outputShape)) but \(data.name) holds \(shapeString(data.sampleShape))"
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
        self.encoder = encoder
        self.generator = decoder
        self.data = data
    }

    public var decoder: Network { generator }
    public var partner: Network { encoder }
    public var adversary: Network? { nil }
    public var conditioning: Conditioning? { nil }
    public var labelEmbeddings: (generator: Tensor?, partner: Tensor?) { (nil, nil) }
    public var generatorParameters: [Tensor] { decoder.parameters.map(\.tensor) }
    public var partnerParameters: [Tensor] { encoder.parameters.map(\.tensor) }
    public var noiseShape: [Int] { decoder.inputShape }

    public func sampleNoise(_ n: Int) -> Tensor { Tensor.randn([n] + noiseShape) }
    public func cyclingLabels(_ n: Int) -> Tensor? { nil }
    public func sampleLabels(_ n: Int) -> Tensor? { nil }
    public func generatorInput(_ z: Tensor, labels: Tensor?) throws -> Tensor { z }

    public func generate(_ z: Tensor, labels: Tensor?, using network: Network?) throws -> Tensor {
        try (network ?? decoder)(z)
    }

    public func discriminate(_ x: Tensor, labels: Tensor?) throws -> Tensor {
        throw ModelError("a VAE has an encoder, not a discriminator: nothing scores its samples")
    }

    /// The means and log-variances of q(z|x) on a batch, each `[N, k]`.
    public func encode(_ x: Tensor) throws -> (mean: Tensor, logVariance: Tensor) {
        let n = x.shape[0], k = noiseShape[0]
        let h = try encoder(x).reshaped(to: [n, 2 * k])
        return (try h.slice(axis: 1, start: 0, end: k), try h.slice(axis: 1, start: k, end: 2 * k))
    }

    /// The decoder's output from the mean codes of `x` (both networks in eval mode, nothing recorded).
    public func reconstruct(_ x: Tensor) throws -> Tensor {
        try encoder.evaluating { try decoder.evaluating { try withNoGrad { try decoder(encode(x).mean) } } }
    }
}

extension VAE {
    public static let kind = GenerativeModel.variational
    public static let name = "VAE"
    public static let generatorRole = "decoder"
    public static let partnerRole = "encoder"
    public static let partnerLetter = "E"
    public static let partnerFirst = true
    /// Checkpoints written before a VAE's parts had their own names used G and D (`Trainer.restore` reads both).
    public static let checkpointNames = (generator: "decoder", partner: "encoder")
    public static let lossKeys = ["gloss", "recon", "kld"]

    public static func assemble(
        generator: Network, partner: Network, data: DataSource, noise: NoiseDistribution,
        conditioning: Conditioning?
    ) throws -> any GenerativeNetworks {
        guard conditioning == nil else { throw ShapeError("a VAE here is unconditional; drop cond=") }
        guard noise == .normal else {
            throw ShapeError("a VAE's prior is the standard normal; z=uniform does not apply")
        }
        return try VAE(encoder: partner, decoder: generator, data: data)
    }

    /// One step: the encoder and the decoder learn together.
    public static func partsPerStep(dSteps: Int) -> Int { 1 }
    public static func partCounts(_ steps: ArraySlice<StepStats>) -> String { "" }

    public static let statistics: [StepStatistic] = [
        StepStatistic("gloss", "loss") { $0.gLoss },
        StepStatistic("recon", "recon", legend: "reconstruction error") { $0.reconstruction },
        StepStatistic("kld", "KL") { $0.kl }
    ]

    public static var historyStatistics: [StepStatistic] { statistics }

    public func lastGradientNorms(_ history: [StepStats]) -> [(
        partner: Bool, step: String?, norms: [LayerGradientNorm]
    )] {
        let last = history.last
        let step = last.map { "step \($0.number)" }
        return [(true, step, last?.encoderGradientNorms ?? []), (false, step, last?.gradientNorms ?? [])]
    }

    public func summary(_ t: Trainer, generator: String, partner: String, number: (Float) -> String) -> [String] {
        let sh = shapeString
        return [
            "VAE: encoder \(partner) \(sh(encoder.inputShape)) → \(sh(encoder.outputShape)), "
                + "decoder \(generator) \(sh(decoder.inputShape)) → \(sh(decoder.outputShape)), on \(data.name)",
            "  β \(number(t.options.beta)), batch \(t.options.batchSize), prior N(0, I) over \(sh(noiseShape))"
                + (t.options.emaDecay.map { ", EMA of \(generator) \(number($0))" } ?? ""),
            "  optG (\(generator)) \(Self.describe(t.optimizerG, number))",
            "  optE (\(partner)) \(Self.describe(t.optimizerD, number))",
            "  \(t.gStepCount) steps taken, epoch \(t.epoch) (\(t.batchesPerEpoch) batches each)"
        ]
    }

    public static func lacks(setting key: String) -> String {
        "a VAE has no " + (key == "z" ? "choice of noise (its prior is N(0, I))" : "adversarial setting '\(key)'")
    }

    public func step(_ trainer: Trainer) throws -> [StepStats] { [try trainer.autoencoderStep(self)] }

    public func step(_ part: StepStats.Part, _ trainer: Trainer) throws -> StepStats {
        switch part {
        case .discriminator:
            throw ModelError(
                "a VAE has no discriminator step: its encoder and decoder learn together in one step ('step')")
        case .generator:
            throw ModelError(
                "a VAE has no generator step of its own: its encoder and decoder learn together in one step ('step')")
        }
    }

    public func gradientCheck(_ trainer: Trainer) throws -> SafeTensorsArchive { try trainer.gradientCheck(self) }
}
