import TensorCore

/// The kinds of model: the tag a checkpoint's `gans.model` and a setting's `models` name. What a
/// kind does lives in its type (`GAN`, `VAE`); `assemble` is where a tag becomes one.
public enum GenerativeModel: String, Sendable, CaseIterable {
    case adversarial = "gan"
    case variational = "vae"

    /// The type of this kind of model.
    public var type: any GenerativeNetworks.Type {
        switch self {
        case .adversarial: return GAN.self
        case .variational: return VAE.self
        }
    }

    /// Its name: GAN, VAE.
    public var name: String { type.name }
    /// "a GAN", "a VAE".
    public var withArticle: String { "a " + name }
    /// The keys of the statistics any kind of model records, in order (what `plot` takes).
    public static var statisticKeys: [String] {
        var keys: [String] = []
        for kind in allCases { for k in kind.type.statistics.map(\.key) where !keys.contains(k) { keys.append(k) } }
        return keys
    }
    public var generatorRole: String { type.generatorRole }
    public var partnerRole: String { type.partnerRole }
    public var partnerLetter: String { type.partnerLetter }
    public var partnerFirst: Bool { type.partnerFirst }
}

/// A generator and the network it is trained with (a GAN's discriminator, a VAE's encoder),
/// with the data and noise they were checked against. The trainer and the shell hold models
/// through this protocol: each type says how it steps, what its statistics are called and
/// what it lacks, so nothing outside the two types asks which kind it has.
public protocol GenerativeNetworks: AnyObject, TorchTraining {
    // MARK: What it is called
    static var kind: GenerativeModel { get }
    /// GAN, VAE.
    static var name: String { get }
    /// What the generator is called: the generator, or a VAE's decoder.
    static var generatorRole: String { get }
    /// What the other network is called: the discriminator, or a VAE's encoder.
    static var partnerRole: String { get }
    /// The other network's letter in settings (`D.lr`, `E.lr`) and default names.
    static var partnerLetter: String { get }
    /// True when the assembling command names the partner first (`vae E G`, not `gan G D`).
    static var partnerFirst: Bool { get }
    /// Key prefixes and metadata names of its networks in a training checkpoint.
    static var checkpointNames: (generator: String, partner: String) { get }
    /// Checks the networks against each other and the data, and puts them together.
    static func assemble(
        generator: Network, partner: Network, data: DataSource, noise: NoiseDistribution,
        conditioning: Conditioning?
    ) throws -> any GenerativeNetworks

    // MARK: Its parts
    var generator: Network { get }
    /// D, or a VAE's encoder.
    var partner: Network { get }
    /// The discriminator, when it has one: what `plot surface` and `plot arrows` draw.
    var adversary: Network? { get }
    var data: DataSource { get }
    /// Set through the trainer's options (`TrainingOptions.noise`), which it keeps in step.
    var noise: NoiseDistribution { get set }
    var conditioning: Conditioning? { get }
    /// The label embeddings of a conditional GAN with `.embedding`.
    var labelEmbeddings: (generator: Tensor?, partner: Tensor?) { get }
    /// The parameters each optimizer updates (label embeddings included).
    var generatorParameters: [Tensor] { get }
    var partnerParameters: [Tensor] { get }
    /// The noise dimension(s): G's input less any label values.
    var noiseShape: [Int] { get }

    // MARK: Sampling
    /// A batch of noise from the global generator.
    func sampleNoise(_ n: Int) -> Tensor
    /// Labels cycling through the classes for n samples of a conditional model; nil otherwise.
    func cyclingLabels(_ n: Int) -> Tensor?
    /// Random class labels for a conditional batch; nil otherwise.
    func sampleLabels(_ n: Int) -> Tensor?
    /// G(z) (with the labels of a conditional GAN); `using` runs another network of G's
    /// architecture (the moving average of its weights).
    func generate(_ z: Tensor, labels: Tensor?, using network: Network?) throws -> Tensor
    /// What G takes for this noise and these labels.
    func generatorInput(_ z: Tensor, labels: Tensor?) throws -> Tensor
    /// D's raw scores `[N, 1]` for a batch (with the labels of a conditional GAN); throws when
    /// it has no discriminator.
    func discriminate(_ x: Tensor, labels: Tensor?) throws -> Tensor
    /// Real samples through the model and back (a VAE's reconstructions); throws when it cannot.
    func reconstruct(_ x: Tensor) throws -> Tensor

    // MARK: Training
    /// One training step: a GAN's D steps and G step, a VAE's one step.
    func step(_ trainer: Trainer) throws -> [StepStats]
    /// One D or one G step alone; throws for a model whose networks learn together.
    func step(_ part: StepStats.Part, _ trainer: Trainer) throws -> StepStats
    /// The D and G steps in one full step.
    static func partsPerStep(dSteps: Int) -> Int
    /// The loss, inputs and gradients of one step, for `export torch … debug`.
    func gradientCheck(_ trainer: Trainer) throws -> SafeTensorsArchive
    /// The statistics its steps record, in the order tables show them.
    static var statistics: [StepStatistic] { get }
    /// The keys `plot losses` draws.
    static var lossKeys: [String] { get }
    /// The columns of `history`: what one step of either part recorded.
    static var historyStatistics: [StepStatistic] { get }
    /// The gradient norms each network had after its last step, partner first: which step
    /// ("D step 5"; nil when it has taken none) and the norm per layer.
    func lastGradientNorms(_ history: [StepStats]) -> [(partner: Bool, step: String?, norms: [LayerGradientNorm])]
    /// How `history` and `train` describe `steps` of its history ("(3 D, 3 G)"); empty when a
    /// step has one part.
    static func partCounts(_ steps: ArraySlice<StepStats>) -> String
    /// The summary of a run of it: its networks (named as the session names them), settings,
    /// optimizers and progress, one line each; `number` formats a setting's value.
    func summary(_ trainer: Trainer, generator: String, partner: String, number: (Float) -> String) -> [String]
    /// Why it has no setting `key` (which another kind has).
    static func lacks(setting key: String) -> String
}

extension GenerativeNetworks {
    public var kind: GenerativeModel { Self.kind }
    public var name: String { Self.name }
    public var withArticle: String { "a " + Self.name }
    public var generatorRole: String { Self.generatorRole }
    public var partnerRole: String { Self.partnerRole }
    public var partnerLetter: String { Self.partnerLetter }
    public var partnerFirst: Bool { Self.partnerFirst }
    public func partsPerStep(dSteps: Int) -> Int { Self.partsPerStep(dSteps: dSteps) }

    /// G(z) with G itself.
    public func generate(_ z: Tensor, labels: Tensor? = nil) throws -> Tensor {
        try generate(z, labels: labels, using: nil)
    }

    /// An optimizer's name and settings as a summary line shows them.
    static func describe(_ o: Optimizer, _ number: (Float) -> String) -> String {
        o.name + " " + o.hyperparameters.map { "\($0.name)=\(number($0.value))" }.joined(separator: " ")
    }

    /// The statistic with this key, if its steps record it.
    public static func statistic(_ key: String) -> StepStatistic? { statistics.first { $0.key == key } }
    public var statistics: [StepStatistic] { Self.statistics }
    public var historyStatistics: [StepStatistic] { Self.historyStatistics }
    public func statistic(_ key: String) -> StepStatistic? { Self.statistic(key) }

    /// The seed of the noise `estimateBatchNormStatistics` measures with.
    public static var batchNormStatisticsSeed: UInt64 { 0x5EED_0F_BA7C }

    /// Gives the batch-norm layers of `network` (of G's architecture) the
    /// statistics of its own activations on `n` noise vectors, drawn from a
    /// fixed seed so the result depends on the weights alone and the global
    /// random stream is left as it was; a conditional GAN cycles through the classes.
    public func estimateBatchNormStatistics(of network: Network, samples n: Int = 1024) throws {
        guard network.layers.contains(where: { $0 is BatchNorm }) else { return }
        let saved = Random.global
        Random.global = RandomGenerator(seed: Self.batchNormStatisticsSeed)
        defer { Random.global = saved }
        let z = sampleNoise(n)
        let labels = cyclingLabels(n)
        try network.estimateBatchNormStatistics(from: withNoGrad { try generatorInput(z, labels: labels) })
    }

    /// The same kind of model with other networks (edited), checked again.
    public func reassembled(generator: Network, partner: Network) throws -> any GenerativeNetworks {
        let model = try Self.assemble(
            generator: generator, partner: partner, data: data, noise: noise, conditioning: conditioning)
        for (old, new) in [
            (labelEmbeddings.generator, model.labelEmbeddings.generator),
            (labelEmbeddings.partner, model.labelEmbeddings.partner)
        ] {
            if let old, let new, old.shape == new.shape { new.assign(old) }
        }
        return model
    }
}

/// One quantity a step records: a column of `history` and of `train`'s table, and a series of `plot`.
public struct StepStatistic: Sendable {
    /// What `plot` takes: dloss, gloss, dx, dgz, w, penalty, recon, kld.
    public let key: String
    /// Its name in a table's header.
    public let label: String
    /// Its name in a plot's legend.
    public let legend: String
    /// Its value in a step, when that step records it.
    public let value: @Sendable (StepStats) -> Float?
    /// The values a plot draws (by default `value`).
    public let series: @Sendable (StepStats) -> Float?
    /// Whether `train`'s epoch table has a column for it.
    public let inTables: Bool
    /// Where theory puts it at equilibrium under these settings (log 4 for D's minimax loss), with a label.
    public let reference: @Sendable (TrainingOptions) -> (value: Float, label: String)?

    public init(
        _ key: String, _ label: String, legend: String? = nil, inTables: Bool = true,
        series: (@Sendable (StepStats) -> Float?)? = nil,
        reference: @escaping @Sendable (TrainingOptions) -> (value: Float, label: String)? = { _ in nil },
        _ value: @escaping @Sendable (StepStats) -> Float?
    ) {
        self.reference = reference
        self.key = key
        self.label = label
        self.legend = legend ?? label
        self.inTables = inTables
        self.value = value
        self.series = series ?? value
    }
}
