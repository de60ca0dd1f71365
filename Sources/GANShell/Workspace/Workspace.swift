import Foundation
import GANKit
import TensorCore

/// A dataset loaded with `data`, with what the metrics need to know of it.
public final class DataEntry {
    public let name: String
    /// What was typed to load it (`ring8`, `csv points.csv`), for `show data`.
    public let command: String
    public let source: DataSource
    public let kind: DataKind
    /// The mixture behind ring and grid data (mode coverage).
    public let mixture: GaussianMixture?
    /// The finite samples, when the data are a fixed set.
    public let samples: TensorDataset?
    /// The words of a word list (novelty of generated names).
    public let words: [String]?

    public init(
        name: String, command: String, source: DataSource, kind: DataKind,
        mixture: GaussianMixture? = nil, samples: TensorDataset? = nil, words: [String]? = nil
    ) {
        self.name = name
        self.command = command
        self.source = source
        self.kind = kind
        self.mixture = mixture
        self.samples = samples
        self.words = words
    }

    /// n real samples drawn without disturbing the training iterator's order.
    public func realSamples(_ n: Int) throws -> Tensor {
        if let samples {
            let take = min(n, samples.count)
            let idx = Random.permutation(samples.count).prefix(take).map(Float.init)
            return try samples.samples.gatherRows(Tensor(Array(idx)))
        }
        let saved = source.cursor
        defer { source.cursor = saved }
        return try source.nextBatch(n).x
    }
}

/// The GAN being trained, with the workspace names of its two networks.
public final class Session {
    public var trainer: Trainer
    public let generatorName: String
    public let partnerName: String
    public let data: DataEntry

    init(trainer: Trainer, generatorName: String, partnerName: String, data: DataEntry) {
        self.trainer = trainer
        self.generatorName = generatorName
        self.partnerName = partnerName
        self.data = data
    }
}

/// A value an expression evaluates to, or a workspace name holds.
public enum Value {
    case tensor(Tensor)
    case network(String, Network)
    /// Layer `index` of a network.
    case layer(String, Network, Int)
    case string(String)
    case data(DataEntry)
    case gan(Session)
    case optimizer(String, Optimizer)

    var typeName: String {
        switch self {
        case .tensor: return "a tensor"
        case .network: return "a network"
        case .layer: return "a layer"
        case .string: return "a string"
        case .data: return "a dataset"
        case .gan(let s): return s.trainer.model.kind.withArticle
        case .optimizer: return "an optimizer"
        }
    }
}

/// Everything a session holds, saved together by `snapshot`.
struct Snapshot {
    var variables: [String: Tensor]
    var networks: [String: Network]
    /// The training run as a checkpoint archive of copied tensors.
    var training: (archive: SafeTensorsArchive, g: String, d: String, data: DataEntry)?
    var dataCursor: DataCursor?
    var random: RandomGenerator.State
    /// G steps taken (a VAE's steps), as step statistics, plots and `history` count them.
    var steps: Int
}

/// The names a session has bound and the state behind them. Statements run
/// as transactions: the bindings are restored when a statement fails.
public final class Workspace {
    struct Bindings {
        var variables: [String: Value] = [:]
        var networks: [String: Network] = [:]
        var data: DataEntry?
        var session: Session?
        var snapshots: [String: Snapshot] = [:]
    }
    var bindings = Bindings()
    /// Command lines that succeeded, for `record`.
    public internal(set) var succeeded: [String] = []

    public init() {}

    var data: DataEntry? { bindings.data }
    var session: Session? { bindings.session }

    /// Names that expressions can use, by kind.
    public var names: [String] {
        Array(bindings.variables.keys) + Array(bindings.networks.keys)
            + (bindings.session.map { ["gan", "optG", "opt" + $0.trainer.model.kind.partnerLetter] } ?? [])
            + (bindings.data != nil ? ["data"] : [])
    }

    func lookup(_ name: String) -> Value? {
        if let n = bindings.networks[name] { return .network(name, n) }
        if let v = bindings.variables[name] { return v }
        switch name {
        case "gan", "vae": return bindings.session.map { .gan($0) }
        case "data": return bindings.data.map { .data($0) }
        case "optG": return bindings.session.map { .optimizer("optG", $0.trainer.optimizerG) }
        case "optD": return bindings.session.map { .optimizer("optD", $0.trainer.optimizerD) }
        case "optE":  // a VAE's encoder's (optD too, as before it had a name of its own)
            guard let s = bindings.session, s.trainer.model.kind.partnerLetter == "E" else { return nil }
            return .optimizer("optE", s.trainer.optimizerD)
        default:
            guard let s = bindings.session, let v = Workspace.lastStatistic(name, s.trainer.history) else { return nil }
            return .tensor(Tensor(v))
        }
    }

    /// Names of the last step's statistics, usable in expressions.
    static let statisticNames = ["dloss", "gloss", "dx", "dgz", "w", "penalty", "gnorm", "dnorm", "recon", "kld"]

    /// The most recent value of a step statistic: losses, mean D(x) and D(G(z)),
    /// the Wasserstein estimate, the penalty, and the whole gradient norm of
    /// the last G step (gnorm) or D step (dnorm).
    static func lastStatistic(_ name: String, _ history: [StepStats]) -> Float? {
        let last = history.reversed()
        func norm(_ part: StepStats.Part) -> Float? {
            last.first { $0.part == part }.map { s in s.gradientNorms.reduce(0) { $0 + $1.norm * $1.norm }.squareRoot()
            }
        }
        switch name {
        case "dloss": return last.first { $0.dLoss != nil }?.dLoss
        case "gloss": return last.first { $0.gLoss != nil }?.gLoss
        case "dx": return last.first { $0.dReal != nil }?.dReal
        case "dgz": return last.first { $0.dFake != nil }?.dFake
        case "w": return last.first { $0.wasserstein != nil }?.wasserstein
        case "penalty": return last.first { $0.penalty != nil }?.penalty
        case "recon": return last.first { $0.reconstruction != nil }?.reconstruction
        case "kld": return last.first { $0.kl != nil }?.kl
        case "gnorm": return norm(.generator)
        case "dnorm": return norm(.discriminator)
        default: return nil
        }
    }

    func takeSnapshot() -> Snapshot {
        var vars: [String: Tensor] = [:]
        for (k, v) in bindings.variables { if case .tensor(let t) = v { vars[k] = t.copy() } }
        var nets: [String: Network] = [:]
        for (k, n) in bindings.networks { nets[k] = n.copy() }
        var training: (SafeTensorsArchive, String, String, DataEntry)? = nil
        if let s = bindings.session {
            var a = s.trainer.archive()
            a.tensors = a.tensors.map { ($0.name, $0.tensor.copy()) }
            training = (a, s.generatorName, s.partnerName, s.data)
        }
        return Snapshot(
            variables: vars, networks: nets, training: training, dataCursor: bindings.data?.source.cursor,
            random: Random.global.state, steps: bindings.session?.trainer.gStepCount ?? 0)
    }

    func restore(_ s: Snapshot) throws {
        var b = bindings
        // The snapshot's tensors come back; names made since are kept.
        for (k, t) in s.variables { b.variables[k] = .tensor(t.copy()) }
        b.networks = s.networks.mapValues { $0.copy() }
        b.session = nil
        if let (archive, g, d, data) = s.training {
            let t = try Trainer.restore(from: archive, source: "snapshot", data: data.source)
            // The archive holds no gradients; the snapshot's copies of the networks do.
            for (name, net) in [(g, t.model.generator), (d, t.model.partner)] {
                guard let kept = s.networks[name], kept.text == net.text else { continue }
                for ((_, a), (_, b)) in zip(net.parameters, kept.parameters) { a.grad = b.grad?.copy() }
            }
            b.networks[g] = t.model.generator
            b.networks[d] = t.model.partner
            b.session = Session(trainer: t, generatorName: g, partnerName: d, data: data)
            b.data = data
        }
        if let c = s.dataCursor { b.data?.source.cursor = c }
        try Random.global.restore(s.random)
        bindings = b
    }
}
