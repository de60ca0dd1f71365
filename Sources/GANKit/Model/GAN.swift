import Foundation
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
public final class GAN: GenerativeNetworks {
    public let generator: Network
    public let discriminator: Network
    public let data: DataSource
    /// Set through the trainer's options (`TrainingOptions.noise`), which it keeps in step.
    public var noise: NoiseDistribution
    public let conditioning: Conditioning?
    /// Label embeddings of a conditional GAN with `.embedding`.
    public let labelEmbeddingG: Tensor?, labelEmbeddingD: Tensor?

    public init(
        generator: Network, discriminator: Network, data: DataSource,
        noise: NoiseDistribution = .normal, conditioning: Conditioning? = nil
    ) throws {
        self.generator = generator
        self.discriminator = discriminator
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
    public func generate(_ z: Tensor, labels: Tensor?, using network: Network?) throws -> Tensor {
        try (network ?? generator)(generatorInput(z, labels: labels))
    }

    /// What G takes: the noise, with the label vectors appended for a conditional GAN.
    public func generatorInput(_ z: Tensor, labels: Tensor?) throws -> Tensor {
        guard conditioning != nil else { return z }
        guard let labels else { throw ShapeError("a conditional generator needs labels") }
        return try Tensor.concat([z, labelVectors(labels, table: labelEmbeddingG)], axis: 1)
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
    public var partnerParameters: [Tensor] {
        discriminator.parameters.map(\.tensor) + (labelEmbeddingD.map { [$0] } ?? [])
    }

    public var partner: Network { discriminator }
    public var adversary: Network? { discriminator }
    public var labelEmbeddings: (generator: Tensor?, partner: Tensor?) { (labelEmbeddingG, labelEmbeddingD) }
}

extension GAN {
    public static let kind = GenerativeModel.adversarial
    public static let name = "GAN"
    public static let generatorRole = "generator"
    public static let partnerRole = "discriminator"
    public static let partnerLetter = "D"
    public static let partnerFirst = false
    public static let checkpointNames = (generator: "G", partner: "D")
    public static let lossKeys = ["dloss", "gloss"]

    public static func assemble(
        generator: Network, partner: Network, data: DataSource, noise: NoiseDistribution,
        conditioning: Conditioning?
    ) throws -> any GenerativeNetworks {
        try GAN(generator: generator, discriminator: partner, data: data, noise: noise, conditioning: conditioning)
    }

    public func reconstruct(_ x: Tensor) throws -> Tensor {
        throw ModelError("a GAN's generator has no encoder to map a sample back to its noise; a VAE has one")
    }

    /// `dSteps` D steps and a G step.
    public static func partsPerStep(dSteps: Int) -> Int { Swift.max(dSteps, 1) + 1 }

    public static func partCounts(_ steps: ArraySlice<StepStats>) -> String {
        let d = steps.filter { $0.part == .discriminator }.count
        return "\(d) D, \(steps.count - d) G"
    }

    public static let statistics: [StepStatistic] = [
        // D's loss is plotted without its penalty (drawn apart), so a lazy R1 makes no sawtooth.
        StepStatistic(
            "dloss", "D loss",
            series: { s in s.dLossReal.flatMap { r in s.dLossFake.map { r + $0 } } ?? s.dLoss },
            reference: { o in o.loss.isLogistic ? (Foundation.log(4), "log 4: D's loss at equilibrium") : nil }
        ) { $0.dLoss },
        StepStatistic(
            "gloss", "G loss",
            reference: { o in
                switch o.loss {
                case .nonSaturating, .r1: return (Foundation.log(2), "log 2: G's loss where D(G(z)) = ½")
                case .minimax: return (-Foundation.log(2), "−log 2: G's loss where D(G(z)) = ½")
                default: return nil
                }
            }
        ) { $0.gLoss },
        StepStatistic("dx", "D(x)", reference: { o in o.loss.isLogistic ? (0.5, "½: D cannot tell") : nil }) {
            $0.dReal
        },
        // D(G(z)) is plotted as the G steps see it, after D's step.
        StepStatistic(
            "dgz", "D(G(z))", series: { $0.part == .generator ? $0.dFake : nil },
            reference: { o in o.loss.isLogistic ? (0.5, "½: D cannot tell") : nil }
        ) { $0.dFake },
        StepStatistic("w", "W", legend: "Wasserstein estimate") { $0.wasserstein },
        StepStatistic("penalty", "penalty", inTables: false) { $0.penalty }
    ]

    /// A step of history: its part's loss, D(x), D(G(z)) and the Wasserstein estimate.
    public static let historyStatistics: [StepStatistic] = [
        StepStatistic("loss", "loss") { $0.dLoss ?? $0.gLoss },
        StepStatistic("dx", "D(x)") { $0.dReal },
        StepStatistic("dgz", "D(G(z))") { $0.dFake },
        StepStatistic("w", "W") { $0.wasserstein }
    ]

    public func lastGradientNorms(_ history: [StepStats]) -> [(
        partner: Bool, step: String?, norms: [LayerGradientNorm]
    )] {
        [StepStats.Part.discriminator, .generator].map { part in
            let last = history.last { $0.part == part }
            return (
                part == .discriminator, last.map { "\(part.rawValue) step \($0.number)" }, last?.gradientNorms ?? []
            )
        }
    }

    public func summary(_ t: Trainer, generator g: String, partner d: String, number: (Float) -> String) -> [String] {
        let sh = shapeString, o = t.options
        var lines = [
            "GAN: \(g) \(sh(generator.inputShape)) → \(sh(generator.outputShape)), "
                + "\(d) \(sh(discriminator.inputShape)) → \(sh(discriminator.outputShape)), on \(data.name)",
            "  loss \(o.loss.rawValue), batch \(o.batchSize), \(o.dSteps) D step\(o.dSteps == 1 ? "" : "s") per G step, noise \(noise.rawValue) \(sh(noiseShape))"
        ]
        var extras: [String] = []
        switch o.loss {
        case .wassersteinGP: extras.append("λ \(number(o.gpLambda))")
        case .r1: extras.append("γ \(number(o.r1Gamma))" + (o.r1Every > 1 ? " every \(o.r1Every) D steps" : ""))
        case .wasserstein: extras.append("clip \(number(o.clip))")
        default: break
        }
        if o.labelSmoothing > 0 { extras.append("label smoothing \(number(o.labelSmoothing))") }
        if o.fakeLabelSmoothing > 0 { extras.append("fake targets \(number(o.fakeLabelSmoothing))") }
        if o.instanceNoise > 0 { extras.append("instance noise \(number(o.instanceNoise))") }
        if let e = o.emaDecay { extras.append("EMA of G \(number(e))") }
        if let c = conditioning {
            // Say how G's input is shared, so a smaller noise than typed is never a surprise.
            let inputs = generator.inputShape.reduce(1, *), noise = noiseShape.reduce(1, *)
            extras.append(
                (c == .oneHot ? "conditional (one-hot labels)" : "conditional (label embedding)")
                    + ": \(g)'s \(inputs) inputs are \(noise) noise values and \(inputs - noise) label values")
        }
        if !extras.isEmpty { lines.append("  " + extras.joined(separator: ", ")) }
        lines += [
            "  optG \(Self.describe(t.optimizerG, number))",
            "  optD \(Self.describe(t.optimizerD, number))",
            "  \(t.gStepCount) step\(t.gStepCount == 1 ? "" : "s") taken (\(t.dStepCount) D and \(t.gStepCount) G), epoch \(t.epoch) (\(t.batchesPerEpoch) batches each)"
        ]
        return lines
    }

    public static func lacks(setting key: String) -> String { "a GAN has no '\(key)' (a VAE's setting)" }

    public func step(_ trainer: Trainer) throws -> [StepStats] { try trainer.adversarialStep(self) }

    public func step(_ part: StepStats.Part, _ trainer: Trainer) throws -> StepStats {
        switch part {
        case .discriminator: return try trainer.discriminatorStep(self)
        case .generator: return try trainer.generatorStep(self)
        }
    }

    public func gradientCheck(_ trainer: Trainer) throws -> SafeTensorsArchive {
        try trainer.gradientCheck(self)
    }
}
