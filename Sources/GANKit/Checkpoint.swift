import Foundation
import TensorCore

/// A float that holds a whole number in `0..<bound`, or nil (never traps on NaN or huge values).
func wholeNumber(_ f: Float, below bound: Int = Int(Int32.max)) -> Int? {
    guard f.isFinite, f == f.rounded(), f >= 0, f < Float(bound) else { return nil }
    return Int(f)
}

/// A checkpoint that cannot be used, and why.
public struct CheckpointError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

extension Network {
    /// Writes the weights under PyTorch's key names with the network's text
    /// form in the metadata, so `load` can rebuild it from the file alone.
    public func save(to path: String) throws {
        try SafeTensors.write(SafeTensorsArchive(tensors: stateDict, metadata: [
            "format": "pt", "gans.kind": "network", "gans.network": text, "gans.init": initialization.rawValue,
        ]), to: path)
    }

    /// Rebuilds a network from a file written by `save`.
    public static func load(from path: String) throws -> Network {
        let archive = try SafeTensors.read(from: path)
        guard let text = archive.metadata["gans.network"] else {
            throw CheckpointError(path: path, message: "has no gans.network metadata: it was not saved as a gans network")
        }
        return try Network.restore(text: text, initialization: archive.metadata["gans.init"],
                                   tensors: archive, prefix: "", path: path)
    }

    static func restore(text: String, initialization: String?, tensors: SafeTensorsArchive, prefix: String,
                        path: String) throws -> Network {
        let net: Network
        do {
            net = try Network.parse(text, initialization: WeightInit(rawValue: initialization ?? "") ?? .pytorch)
        } catch {
            throw CheckpointError(path: path, message: "its network '\(text)' cannot be rebuilt: \(error)")
        }
        try net.assign(from: tensors, prefix: prefix, path: path)
        return net
    }

    /// Copies values from an archive's `prefix + name` tensors; every tensor must be there with the right shape.
    func assign(from archive: SafeTensorsArchive, prefix: String, path: String) throws {
        var pending: [(Tensor, Tensor)] = []
        for (name, t) in stateDict {
            guard let stored = archive[prefix + name] else {
                throw CheckpointError(path: path, message: "has no tensor \(prefix + name)")
            }
            guard stored.shape == t.shape else {
                throw CheckpointError(path: path, message: "tensor \(prefix + name) has shape \(shapeString(stored.shape)), the network needs \(shapeString(t.shape))")
            }
            pending.append((t, stored))
        }
        for (t, stored) in pending { t.assign(stored) }
    }
}

extension TrainingOptions {
    /// `key=value` words, as typed in the shell.
    public var text: String {
        var words = ["loss=\(loss.rawValue)", "batch=\(batchSize)", "dsteps=\(dSteps)", "lambda=\(gpLambda)",
                     "gamma=\(r1Gamma)", "clip=\(clip)", "smooth=\(labelSmoothing)", "noise=\(instanceNoise)"]
        if let emaDecay { words.append("ema=\(emaDecay)") }
        if beta != 1 { words.append("beta=\(beta)") }
        if r1Every != 1 { words.append("every=\(r1Every)") }
        return words.joined(separator: " ")
    }

    /// Sets one option by its `key=value` name.
    public mutating func set(_ key: String, _ value: String) throws {
        func float() throws -> Float {
            guard let v = Float(value), v.isFinite else { throw HyperparameterError(message: "\(key) needs a number, found '\(value)'") }
            return v
        }
        func int() throws -> Int {
            guard let v = Int(value), v > 0 else { throw HyperparameterError(message: "\(key) needs a positive whole number, found '\(value)'") }
            return v
        }
        switch key {
        case "loss":
            guard let l = GANLoss(rawValue: value) else {
                let names = GANLoss.allCases.map(\.rawValue)
                throw HyperparameterError(message: "unknown loss '\(value)'; there are \(names.joined(separator: ", "))"
                                          + (suggestion(for: value, among: names).map { " (did you mean '\($0)'?)" } ?? ""))
            }
            loss = l
        case "batch": batchSize = try int()
        case "dsteps":
            let v = try int()
            guard v <= 1000 else { throw HyperparameterError(message: "dsteps must be 1…1000, found \(v)") }
            dSteps = v
        case "lambda": gpLambda = try float()
        case "gamma": r1Gamma = try float()
        case "clip": clip = try float()
        case "smooth":
            let v = try float()
            guard v >= 0 && v < 1 else { throw HyperparameterError(message: "smooth must be in [0, 1), found \(v)") }
            labelSmoothing = v
        case "noise":
            let v = try float()
            guard v >= 0 else { throw HyperparameterError(message: "noise must be zero or more, found \(v)") }
            instanceNoise = v
        case "ema":
            let v = try float()
            guard v >= 0 && v < 1 else { throw HyperparameterError(message: "ema must be in [0, 1), found \(v)") }
            emaDecay = v
        case "every":
            let v = try int()
            guard v <= 1000 else { throw HyperparameterError(message: "every must be 1…1000, found \(v)") }
            r1Every = v
        case "beta":
            let v = try float()
            guard v >= 0 else { throw HyperparameterError(message: "beta must be zero or more, found \(v)") }
            beta = v
        default:
            let keys = ["loss", "batch", "dsteps", "lambda", "gamma", "every", "clip", "smooth", "noise", "ema", "beta"]
            throw HyperparameterError(message: "unknown training option '\(key)'"
                                      + (suggestion(for: key, among: keys).map { "; did you mean '\($0)'?" } ?? ""))
        }
    }

    public init(text: String) throws {
        self.init()
        for word in text.split(separator: " ") {
            let kv = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw HyperparameterError(message: "expected key=value, found '\(word)'") }
            try set(kv[0], kv[1])
        }
    }
}

extension Trainer {
    static func optimizerText(_ o: Optimizer) -> String {
        ([o.name] + o.hyperparameters.map { "\($0.name)=\($0.value)" }).joined(separator: " ")
    }

    static func parseOptimizer(_ text: String, parameters: [Tensor]) throws -> Optimizer {
        let words = text.split(separator: " ").map(String.init)
        guard let name = words.first else { throw HyperparameterError(message: "empty optimizer description") }
        let hp: [(String, Float)] = try words.dropFirst().map { w in
            let kv = w.split(separator: "=").map(String.init)
            guard kv.count == 2, let v = Float(kv[1]) else { throw HyperparameterError(message: "bad optimizer setting '\(w)'") }
            return (kv[0], v)
        }
        return try makeOptimizer(name, parameters: parameters, hyperparameters: hp)
    }

    /// Everything needed to continue exactly: both networks, both optimizer
    /// states, the moving average, counters, options, the random generator,
    /// where the data iterator stands, the fixed noise and the history.
    public func save(to path: String) throws {
        try SafeTensors.write(archive(), to: path)
    }

    /// The checkpoint as an archive of the live tensors (copy them to keep a
    /// state that later steps must not change).
    public func archive() -> SafeTensorsArchive {
        var tensors: [(name: String, tensor: Tensor)] = []
        tensors += gan.generator.stateDict.map { ("G.\($0.name)", $0.tensor) }
        tensors += gan.discriminator.stateDict.map { ("D.\($0.name)", $0.tensor) }
        if let e = gan.labelEmbeddingG { tensors.append(("G.label_embedding", e)) }
        if let e = gan.labelEmbeddingD { tensors.append(("D.label_embedding", e)) }
        tensors += optimizerG.state.map { ("optG.\($0.name)", $0.tensor) }
        tensors += optimizerD.state.map { ("optD.\($0.name)", $0.tensor) }
        if let ema {   // with batch-norm statistics of its own, when they can be measured
            tensors += ((try? movingAverage()) ?? ema).stateDict.map { ("ema.\($0.name)", $0.tensor) }
        }
        tensors.append(("fixed_noise", fixedNoise))
        if let fixedLabels { tensors.append(("fixed_labels", fixedLabels)) }
        tensors.append(("data.order", Tensor(gan.data.cursor.order.map(Float.init))))
        tensors += historyColumns()
        let rng = Random.global.state
        let conditioning: String
        switch gan.conditioning {
        case nil: conditioning = "none"
        case .oneHot: conditioning = "onehot"
        case .embedding(let d): conditioning = "embedding \(d)"
        }
        let metadata: [String: String] = [
            "format": "pt", "gans.kind": "training",
            "gans.G": gan.generator.text, "gans.D": gan.discriminator.text,
            "gans.G.init": gan.generator.initialization.rawValue, "gans.D.init": gan.discriminator.initialization.rawValue,
            "gans.model": gan.model.rawValue, "gans.data": gan.data.name, "gans.noise": gan.noise.rawValue, "gans.conditioning": conditioning,
            "gans.options": options.text,
            "gans.optG": Trainer.optimizerText(optimizerG), "gans.optD": Trainer.optimizerText(optimizerD),
            "gans.counters": "d=\(dStepCount) g=\(gStepCount) epoch=\(epoch) batches=\(batchesInEpoch) optG=\(optimizerG.stepCount) optD=\(optimizerD.stepCount) position=\(gan.data.cursor.position)",
            "gans.rng": (rng.words.map { String($0) } + [rng.spareNormal.map { String($0.bitPattern) } ?? "-"]).joined(separator: " "),
        ]
        return SafeTensorsArchive(tensors: tensors, metadata: metadata)
    }

    /// Continues a run saved by `save`, on the same data. Restores the global random generator.
    public static func load(from path: String, data: DataSource) throws -> Trainer {
        try restore(from: SafeTensors.read(from: path), source: path, data: data)
    }

    /// Continues a run from an archive made by `archive()` (`source` names it in errors).
    public static func restore(from a: SafeTensorsArchive, source path: String, data: DataSource) throws -> Trainer {
        func meta(_ key: String) throws -> String {
            guard let v = a.metadata[key] else { throw CheckpointError(path: path, message: "has no \(key) metadata: it is not a gans training checkpoint") }
            return v
        }
        guard try meta("gans.kind") == "training" else { throw CheckpointError(path: path, message: "holds a \(a.metadata["gans.kind"] ?? "") checkpoint, not a training one") }
        let dataName = try meta("gans.data")
        guard dataName == data.name else {
            throw CheckpointError(path: path, message: "was trained on \(dataName), not \(data.name)")
        }
        let g = try Network.restore(text: try meta("gans.G"), initialization: a.metadata["gans.G.init"], tensors: a, prefix: "G.", path: path)
        let d = try Network.restore(text: try meta("gans.D"), initialization: a.metadata["gans.D.init"], tensors: a, prefix: "D.", path: path)
        var conditioning: Conditioning? = nil
        let c = try meta("gans.conditioning")
        if c == "onehot" { conditioning = .oneHot } else if c.hasPrefix("embedding "), let dim = Int(c.dropFirst(10)) { conditioning = .embedding(dim) }
        guard let model = GenerativeModel(rawValue: a.metadata["gans.model"] ?? "gan") else {
            throw CheckpointError(path: path, message: "holds a model of unknown kind '\(a.metadata["gans.model"] ?? "")'")
        }
        let gan = try GAN(generator: g, discriminator: d, data: data,
                          noise: NoiseDistribution(rawValue: try meta("gans.noise")) ?? .normal, conditioning: conditioning, model: model)
        if let e = gan.labelEmbeddingG, let s = a["G.label_embedding"], s.shape == e.shape { e.assign(s) }
        if let e = gan.labelEmbeddingD, let s = a["D.label_embedding"], s.shape == e.shape { e.assign(s) }
        let optG = try parseOptimizer(try meta("gans.optG"), parameters: gan.generatorParameters)
        let optD = try parseOptimizer(try meta("gans.optD"), parameters: gan.discriminatorParameters)
        for (opt, prefix) in [(optG, "optG."), (optD, "optD.")] {
            for (name, t) in opt.state {
                guard let s = a[prefix + name], s.shape == t.shape else {
                    throw CheckpointError(path: path, message: "optimizer state \(prefix + name) is missing or has the wrong shape")
                }
                t.assign(s)
            }
        }
        var counters: [String: Int] = [:]
        for w in try meta("gans.counters").split(separator: " ") {
            let kv = w.split(separator: "=")
            if kv.count == 2, let v = Int(kv[1]) { counters[String(kv[0])] = v }
        }
        let options = try TrainingOptions(text: try meta("gans.options"))
        guard let fixed = a["fixed_noise"], fixed.rank >= 1, Array(fixed.shape.dropFirst()) == gan.noiseShape, fixed.shape[0] > 0 else {
            throw CheckpointError(path: path, message: "has no fixed_noise of shape [N] + \(shapeString(gan.noiseShape))")
        }
        let trainer = try Trainer(gan: gan, options: options, optimizerG: optG, optimizerD: optD, fixedSamples: fixed.shape[0])
        trainer.fixedNoise.assign(fixed)
        if let fl = trainer.fixedLabels, let s = a["fixed_labels"], s.shape == fl.shape { fl.assign(s) }
        optG.stepCount = counters["optG"] ?? 0
        optD.stepCount = counters["optD"] ?? 0
        let history = try historyRows(a, path: path).map { row -> StepStats in
            var r = row
            let net = r.part == .generator ? g : d
            r.gradientNorms = r.gradientNorms.map { n in
                var n = n
                if net.layers.indices.contains(n.layer) { n.spec = net.layers[n.layer].spec.text }
                return n
            }
            return r
        }
        trainer.restoreProgress(history: history, dSteps: counters["d"] ?? 0, gSteps: counters["g"] ?? 0,
                                epoch: counters["epoch"] ?? 0, batchesInEpoch: counters["batches"] ?? 0)
        if options.emaDecay != nil, a["ema.\(g.stateDict.first?.name ?? "")"] != nil {
            let e = g.copy()
            try e.assign(from: a, prefix: "ema.", path: path)
            e.training = false
            trainer.ema = e
        }
        let order = (a["data.order"]?.scalars ?? []).map { wholeNumber($0) }
        guard order.allSatisfy({ $0 != nil }) else {
            throw CheckpointError(path: path, message: "data.order holds values that are not sample indices")
        }
        data.cursor = DataCursor(order: order.map { $0! }, position: counters["position"] ?? 0)
        let rngWords = try meta("gans.rng").split(separator: " ").map(String.init)
        guard rngWords.count == 5 else { throw CheckpointError(path: path, message: "has a malformed random state") }
        let words = rngWords.prefix(4).compactMap { UInt64($0) }
        let spare = UInt32(rngWords[4]).map { Float(bitPattern: $0) }
        do { try Random.global.restore(RandomGenerator.State(words: words, spareNormal: spare)) } catch {
            throw CheckpointError(path: path, message: "has a malformed random state: \(error)")
        }
        return trainer
    }

    /// The history as columns of floats (NaN where a value does not apply).
    func historyColumns() -> [(name: String, tensor: Tensor)] {
        func col(_ f: (StepStats) -> Float?) -> Tensor { Tensor(history.map { f($0) ?? .nan }) }
        var norms: [Float] = [], layers: [Float] = [], counts: [Float] = []
        for s in history {
            counts.append(Float(s.gradientNorms.count))
            for n in s.gradientNorms { norms.append(n.norm); layers.append(Float(n.layer)) }
        }
        return [
            ("history.part", col { $0.part == .discriminator ? 0 : 1 }), ("history.number", col { Float($0.number) }),
            ("history.epoch", col { Float($0.epoch) }), ("history.d_loss", col(\.dLoss)),
            ("history.d_loss_real", col(\.dLossReal)), ("history.d_loss_fake", col(\.dLossFake)),
            ("history.penalty", col(\.penalty)), ("history.g_loss", col(\.gLoss)),
            ("history.d_real", col(\.dReal)), ("history.d_fake", col(\.dFake)),
            ("history.wasserstein", col(\.wasserstein)), ("history.seconds", col { Float($0.seconds) }),
            ("history.grad_norm_counts", Tensor(counts)), ("history.grad_norm_layers", Tensor(layers)),
            ("history.grad_norms", Tensor(norms)),
            ("history.reconstruction", col(\.reconstruction)), ("history.kl", col(\.kl)),
        ]
    }

    static func historyRows(_ a: SafeTensorsArchive, path: String) throws -> [StepStats] {
        guard let part = a["history.part"] else { return [] }
        let n = part.count
        func col(_ name: String) throws -> [Float] {
            guard let t = a["history.\(name)"], t.count == n else { throw CheckpointError(path: path, message: "history column \(name) is missing or short") }
            return t.scalars
        }
        func opt(_ v: Float) -> Float? { v.isNaN ? nil : v }
        let number = try col("number"), epoch = try col("epoch"), dLoss = try col("d_loss"), dReal = try col("d_real")
        let dlr = try col("d_loss_real"), dlf = try col("d_loss_fake"), pen = try col("penalty"), gLoss = try col("g_loss")
        let dFake = try col("d_fake"), w = try col("wasserstein"), secs = try col("seconds")
        let counts = a["history.grad_norm_counts"]?.scalars ?? [], layers = a["history.grad_norm_layers"]?.scalars ?? []
        let norms = a["history.grad_norms"]?.scalars ?? []
        // Written since VAEs: absent in older checkpoints.
        let recon = a["history.reconstruction"].map(\.scalars) ?? [], kl = a["history.kl"].map(\.scalars) ?? []
        guard (recon.isEmpty || recon.count == n) && (kl.isEmpty || kl.count == n) else {
            throw CheckpointError(path: path, message: "history columns reconstruction and kl are short")
        }
        guard counts.count == n, layers.count == norms.count,
              counts.allSatisfy({ wholeNumber($0) != nil }), counts.reduce(0, { $0 + wholeNumber($1)! }) == norms.count else {
            throw CheckpointError(path: path, message: "history gradient norms are inconsistent")
        }
        let bad = CheckpointError(path: path, message: "history holds values that are not step numbers")
        guard counts.allSatisfy({ wholeNumber($0) != nil }), layers.allSatisfy({ wholeNumber($0) != nil }),
              number.allSatisfy({ wholeNumber($0) != nil }), epoch.allSatisfy({ wholeNumber($0) != nil }) else { throw bad }
        var k = 0
        return (0..<n).map { i in
            let c = wholeNumber(counts[i])!
            let gn = (k..<(k + c)).map { LayerGradientNorm(layer: wholeNumber(layers[$0])!, spec: "", norm: norms[$0]) }
            k += c
            return StepStats(part: part.scalars[i] == 0 ? .discriminator : .generator, number: wholeNumber(number[i])!,
                             epoch: wholeNumber(epoch[i])!,
                             dLoss: opt(dLoss[i]), dLossReal: opt(dlr[i]), dLossFake: opt(dlf[i]), penalty: opt(pen[i]),
                             gLoss: opt(gLoss[i]), dReal: opt(dReal[i]), dFake: opt(dFake[i]), wasserstein: opt(w[i]),
                             gradientNorms: gn, seconds: Double(secs[i]),
                             reconstruction: recon.isEmpty ? nil : opt(recon[i]), kl: kl.isEmpty ? nil : opt(kl[i]))
        }
    }
}
