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
        try SafeTensors.write(
            SafeTensorsArchive(
                tensors: stateDict,
                metadata: [
                    "format": "pt", "gans.kind": "network", "gans.network": text, "gans.init": initialization.rawValue
                ]), to: path)
    }

    /// Rebuilds a network from a file written by `save`.
    public static func load(from path: String) throws -> Network {
        let archive = try SafeTensors.read(from: path)
        guard let text = archive.metadata["gans.network"] else {
            throw CheckpointError(
                path: path, message: "has no gans.network metadata: it was not saved as a gans network")
        }
        let net = try Network.restore(
            text: text, initialization: archive.metadata["gans.init"],
            tensors: archive, prefix: "", path: path)
        try checkNoOthers(archive, used: Set(net.stateDict.map(\.name)), path: path)
        return net
    }

    /// Builds the network `spec` (layer text, as typed after `net NAME =`) and fills it
    /// from a plain state dict in safetensors, such as PyTorch's `save_file(model.state_dict())`
    /// writes: no gans metadata needed. Batch norm's I64 `num_batches_tracked` counters are
    /// ignored (returned as `ignored`); any key missing, extra or of the wrong shape is refused,
    /// with all of them named.
    public static func load(from path: String, spec: String, initialization: WeightInit = .pytorch) throws
        -> (network: Network, ignored: [String])
    {
        let archive = try SafeTensors.read(from: path, skipping: { $0.hasSuffix("num_batches_tracked") })
        let net: Network
        do { net = try Network.parse(spec, initialization: initialization) } catch {
            throw CheckpointError(path: path, message: "the layers '\(spec)' do not make a network: \(error)")
        }
        let wanted = net.stateDict
        let have = Dictionary(archive.tensors.map { ($0.name, $0.tensor.shape) }, uniquingKeysWith: { a, _ in a })
        let wantedNames = Set(wanted.map(\.name))
        let missing = wanted.filter { have[$0.name] == nil }.map { "\($0.name) \(shapeText($0.tensor.shape))" }
        let wrong = wanted.compactMap { w in
            have[w.name].flatMap {
                $0 == w.tensor.shape
                    ? nil : "\(w.name) is \(shapeText($0)), the layers need \(shapeText(w.tensor.shape))"
            }
        }
        let extra = archive.names.filter { !wantedNames.contains($0) }
        var problems: [String] = []
        func list(_ items: [String]) -> String {
            items.prefix(6).joined(separator: ", ") + (items.count > 6 ? " and \(items.count - 6) more" : "")
        }
        if !missing.isEmpty { problems.append("missing \(list(missing))") }
        if !wrong.isEmpty { problems.append("of the wrong shape: \(list(wrong))") }
        if !extra.isEmpty { problems.append("not in the layers: \(list(extra))") }
        guard problems.isEmpty else {
            throw CheckpointError(
                path: path,
                message: "does not fit '\(spec)': tensors " + problems.joined(separator: "; ")
                    + " (the layers' keys are " + list(wanted.map(\.name)) + ")")
        }
        try net.assign(from: archive, prefix: "", path: path)
        return (net, archive.skipped)
    }

    static func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    /// Refuses an archive holding tensors that nothing reads (a layer text with fewer layers than the tensors, say).
    static func checkNoOthers(_ archive: SafeTensorsArchive, used: Set<String>, path: String) throws {
        let extra = archive.names.filter { !used.contains($0) }
        guard extra.isEmpty else {
            throw CheckpointError(
                path: path,
                message: "holds tensors that its network does not have: "
                    + extra.prefix(5).joined(separator: ", ") + (extra.count > 5 ? " and \(extra.count - 5) more" : ""))
        }
    }

    static func restore(
        text: String, initialization: String?, tensors: SafeTensorsArchive, prefix: String,
        path: String
    ) throws -> Network {
        let net: Network
        // The network's weights are all in the file: building it may not take
        // much more memory than the file's tensors do, so a small file whose
        // text claims a huge network is refused before the weights are made.
        let stored = tensors.tensors.filter { $0.name.hasPrefix(prefix) }.reduce(0) { $0 + $1.tensor.count * 4 }
        let budget = Tensor.memoryBudget
        Tensor.memoryBudget = min(budget, Tensor.bytesInUse + 2 * stored + (1 << 20))
        // The fresh weights are overwritten from the file: making them must not move the random generator.
        let generator = Random.global
        defer { Tensor.memoryBudget = budget; Random.global = generator }
        do {
            net = try Network.parse(text, initialization: WeightInit(rawValue: initialization ?? "") ?? .pytorch)
        } catch {
            throw CheckpointError(
                path: path,
                message:
                    "its network '\(text.prefix(200))' cannot be rebuilt from its \(stored) bytes of \(prefix.isEmpty ? "" : prefix + "* ")tensors: \(error)"
            )
        }
        try net.assign(from: tensors, prefix: prefix, path: path)
        return net
    }

    /// Copies values from an archive's `prefix + name` tensors; every tensor must be there with the right shape.
    func assign(from archive: SafeTensorsArchive, prefix: String, path: String) throws {
        var pending: [(Tensor, Tensor)] = []
        for (name, t) in stateDict {
            let stored = try archive.tensor(prefix + name, shape: t.shape, path: path)
            if name.hasSuffix("running_var"), stored.scalars.contains(where: { $0 < 0 }) {
                throw CheckpointError(path: path, message: "tensor \(prefix + name) holds a negative variance")
            }
            pending.append((t, stored))
        }
        for (t, stored) in pending { t.assign(stored) }
    }
}

extension SafeTensorsArchive {
    /// The tensor `name`, which must be there with this shape and hold finite values only.
    func tensor(_ name: String, shape: [Int], path: String) throws -> Tensor {
        guard let t = self[name] else { throw CheckpointError(path: path, message: "has no tensor \(name)") }
        guard t.shape == shape else {
            throw CheckpointError(
                path: path, message: "tensor \(name) has shape \(shapeString(t.shape)), \(shapeString(shape)) is needed"
            )
        }
        try Self.checkFinite(t, name, path: path)
        return t
    }

    static func checkFinite(_ t: Tensor, _ name: String, path: String) throws {
        guard !t.allFinite else { return }
        let bad = t.scalars.filter { !$0.isFinite }.count
        throw CheckpointError(
            path: path,
            message:
                "tensor \(name) holds \(bad) value\(bad == 1 ? "" : "s") that \(bad == 1 ? "is" : "are") not finite (NaN or infinite)"
        )
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
            guard kv.count == 2, let v = Float(kv[1]) else {
                throw HyperparameterError(message: "bad optimizer setting '\(w)'")
            }
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
        let (gKey, dKey) = type(of: model).checkpointNames
        tensors += model.generator.stateDict.map { ("\(gKey).\($0.name)", $0.tensor) }
        tensors += model.partner.stateDict.map { ("\(dKey).\($0.name)", $0.tensor) }
        if let e = model.labelEmbeddings.generator { tensors.append(("G.label_embedding", e)) }
        if let e = model.labelEmbeddings.partner { tensors.append(("D.label_embedding", e)) }
        tensors += optimizerG.state.map { ("optG.\($0.name)", $0.tensor) }
        tensors += optimizerD.state.map { ("optD.\($0.name)", $0.tensor) }
        if let ema {  // with batch-norm statistics of its own, when they can be measured
            tensors += ((try? movingAverage()) ?? ema).stateDict.map { ("ema.\($0.name)", $0.tensor) }
        }
        tensors.append(("fixed_noise", fixedNoise))
        if let fixedLabels { tensors.append(("fixed_labels", fixedLabels)) }
        tensors.append(("data.order", Tensor(model.data.cursor.order.map(Float.init))))
        tensors += historyColumns()
        let rng = Random.global.state
        let conditioning: String
        switch model.conditioning {
        case nil: conditioning = "none"
        case .oneHot: conditioning = "onehot"
        case .embedding(let d): conditioning = "embedding \(d)"
        }
        let metadata: [String: String] = [
            "format": "pt", "gans.kind": "training",
            "gans.\(gKey)": model.generator.text, "gans.\(dKey)": model.partner.text,
            "gans.\(gKey).init": model.generator.initialization.rawValue,
            "gans.\(dKey).init": model.partner.initialization.rawValue,
            "gans.model": model.kind.rawValue, "gans.data": model.data.name,
            "gans.data.fingerprint": model.data.fingerprint, "gans.noise": model.noise.rawValue,
            "gans.conditioning": conditioning,
            "gans.options": options.text,
            "gans.optG": Trainer.optimizerText(optimizerG), "gans.optD": Trainer.optimizerText(optimizerD),
            "gans.counters":
                "d=\(dStepCount) g=\(gStepCount) epoch=\(epoch) batches=\(batchesInEpoch) optG=\(optimizerG.stepCount) optD=\(optimizerD.stepCount) position=\(model.data.cursor.position)",
            "gans.rng": (rng.words.map { String($0) } + [rng.spareNormal.map { String($0.bitPattern) } ?? "-"]).joined(
                separator: " ")
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
            guard let v = a.metadata[key] else {
                throw CheckpointError(
                    path: path, message: "has no \(key) metadata: it is not a gans training checkpoint")
            }
            return v
        }
        guard try meta("gans.kind") == "training" else {
            throw CheckpointError(
                path: path, message: "holds a \(a.metadata["gans.kind"] ?? "") checkpoint, not a training one")
        }
        let dataName = try meta("gans.data")
        guard dataName == data.name else {
            throw CheckpointError(path: path, message: "was trained on \(dataName), not \(data.name)")
        }
        // Written since checkpoints record it; older ones are trusted by name.
        if let f = a.metadata["gans.data.fingerprint"], f != data.fingerprint {
            throw CheckpointError(
                path: path,
                message: "was trained on other data named \(dataName) (\(f)); the loaded data are \(data.fingerprint)")
        }
        guard let kind = GenerativeModel(rawValue: a.metadata["gans.model"] ?? "gan") else {
            throw CheckpointError(
                path: path, message: "holds a model of unknown kind '\(a.metadata["gans.model"] ?? "")'")
        }
        // A VAE saved before its parts had names of their own keeps them under G and D.
        var (gKey, dKey) = kind.type.checkpointNames
        if a.metadata["gans.\(gKey)"] == nil, a.metadata["gans.\(dKey)"] == nil, a.metadata["gans.G"] != nil {
            (gKey, dKey) = ("G", "D")
        }
        let g = try Network.restore(
            text: try meta("gans.\(gKey)"), initialization: a.metadata["gans.\(gKey).init"], tensors: a,
            prefix: gKey + ".", path: path)
        let d = try Network.restore(
            text: try meta("gans.\(dKey)"), initialization: a.metadata["gans.\(dKey).init"], tensors: a,
            prefix: dKey + ".", path: path)
        var conditioning: Conditioning? = nil
        switch try meta("gans.conditioning") {
        case "none": conditioning = nil
        case "onehot": conditioning = .oneHot
        case let c where c.hasPrefix("embedding "):
            guard let dim = Int(c.dropFirst(10)), dim > 0, dim <= 4096 else {
                throw CheckpointError(
                    path: path, message: "has conditioning '\(c)'; an embedding needs a size of 1…4096")
            }
            conditioning = .embedding(dim)
        case let c:
            throw CheckpointError(
                path: path, message: "has unknown conditioning '\(c)'; it is none, onehot or embedding N")
        }
        let noiseName = try meta("gans.noise")
        guard let noise = NoiseDistribution(rawValue: noiseName) else {
            throw CheckpointError(path: path, message: "has unknown noise '\(noiseName)'; it is normal or uniform")
        }
        let model: any GenerativeNetworks
        do {
            model = try kind.type.assemble(
                generator: g, partner: d, data: data, noise: noise, conditioning: conditioning)
        } catch { throw CheckpointError(path: path, message: "its networks do not fit the data: \(error)") }
        if let e = model.labelEmbeddings.generator {
            e.assign(try a.tensor("G.label_embedding", shape: e.shape, path: path))
        }
        if let e = model.labelEmbeddings.partner {
            e.assign(try a.tensor("D.label_embedding", shape: e.shape, path: path))
        }
        let optG: Optimizer, optD: Optimizer
        do {
            optG = try parseOptimizer(try meta("gans.optG"), parameters: model.generatorParameters)
            optD = try parseOptimizer(try meta("gans.optD"), parameters: model.partnerParameters)
        } catch let e as HyperparameterError {
            throw CheckpointError(path: path, message: "its optimizer settings are invalid: \(e.message)")
        }
        for (opt, prefix) in [(optG, "optG."), (optD, "optD.")] {
            for (name, t) in opt.state {
                let s = try a.tensor(prefix + name, shape: t.shape, path: path)
                if name.hasSuffix("_sq") || name.hasSuffix("square_avg"), s.scalars.contains(where: { $0 < 0 }) {
                    throw CheckpointError(
                        path: path,
                        message: "optimizer state \(prefix + name) holds negative values; it averages squares")
                }
                t.assign(s)
            }
        }
        let counters = try Self.counters(try meta("gans.counters"), path: path)
        let options: TrainingOptions
        do { options = try TrainingOptions(text: try meta("gans.options")) } catch let e as HyperparameterError {
            throw CheckpointError(path: path, message: "its training options are invalid: \(e.message)")
        }
        let largest = ([g.inputShape, d.inputShape] + g.shapes + d.shapes).map { $0.reduce(1, *) }.max() ?? 1
        let (activations, overflow) = options.batchSize.multipliedReportingOverflow(by: largest)
        guard !overflow, activations <= Tensor.elementLimit else {
            throw CheckpointError(
                path: path,
                message:
                    "its batch of \(options.batchSize) would make activations of \(options.batchSize) × \(largest) values, more than the element limit of \(Tensor.elementLimit)"
            )
        }
        guard let fixed = a["fixed_noise"], fixed.rank >= 1, Array(fixed.shape.dropFirst()) == model.noiseShape,
            fixed.shape[0] > 0, fixed.shape[0] <= 4096
        else {
            throw CheckpointError(
                path: path,
                message: "has no fixed_noise of shape [N] + \(shapeString(model.noiseShape)) with N from 1 to 4096")
        }
        try SafeTensorsArchive.checkFinite(fixed, "fixed_noise", path: path)
        let trainer = try Trainer(
            model: model, options: options, optimizerG: optG, optimizerD: optD, fixedSamples: fixed.shape[0])
        trainer.fixedNoise.assign(fixed)
        if let fl = trainer.fixedLabels {
            let s = try a.tensor("fixed_labels", shape: fl.shape, path: path)
            let classes = data.classCount ?? 0
            guard s.scalars.allSatisfy({ wholeNumber($0, below: classes) != nil }) else {
                throw CheckpointError(
                    path: path, message: "fixed_labels holds values that are not class indices below \(classes)")
            }
            fl.assign(s)
        }
        optG.stepCount = counters.optG
        optD.stepCount = counters.optD
        var history = try historyRows(a, path: path).map { row -> StepStats in
            var r = row
            let net = r.part == .generator ? g : d
            r.gradientNorms = r.gradientNorms.map { n in
                var n = n
                if net.layers.indices.contains(n.layer) { n.spec = net.layers[n.layer].spec.text }
                return n
            }
            return r
        }
        history.numberSteps(next: counters.g + 1)
        trainer.restoreProgress(
            history: history, dSteps: counters.d, gSteps: counters.g,
            epoch: counters.epoch, batchesInEpoch: counters.batches)
        var used = Set(["fixed_noise", "fixed_labels", "data.order", "G.label_embedding", "D.label_embedding"])
        used.formUnion(g.stateDict.map { "\(gKey)." + $0.name })
        used.formUnion(d.stateDict.map { "\(dKey)." + $0.name })
        used.formUnion(optG.state.map { "optG." + $0.name })
        used.formUnion(optD.state.map { "optD." + $0.name })
        if options.emaDecay != nil, a["ema.\(g.stateDict.first?.name ?? "")"] != nil || counters.g > 0 {
            // The moving average exists from the first G step on, and is saved with it.
            let e = g.copy()
            try e.assign(from: a, prefix: "ema.", path: path)
            e.training = false
            trainer.ema = e
            used.formUnion(g.stateDict.map { "ema." + $0.name })
        }
        let extra = a.names.filter { !used.contains($0) && !$0.hasPrefix("history.") }
        guard extra.isEmpty else {
            throw CheckpointError(
                path: path,
                message: "holds tensors that this run does not have: "
                    + extra.prefix(5).joined(separator: ", ") + (extra.count > 5 ? " and \(extra.count - 5) more" : ""))
        }
        let order = (a["data.order"]?.scalars ?? []).map { wholeNumber($0) }
        guard order.allSatisfy({ $0 != nil }) else {
            throw CheckpointError(path: path, message: "data.order holds values that are not sample indices")
        }
        let indices = order.map { $0! }
        if !(data is TensorDataset), !indices.isEmpty {
            throw CheckpointError(
                path: path,
                message:
                    "data.order holds \(indices.count) indices, but \(data.name) draws fresh samples and has no order")
        }
        if let t = data as? TensorDataset, !indices.isEmpty {
            // An epoch's order is a permutation of the samples.
            guard indices.count == t.count, Set(indices).count == t.count, indices.allSatisfy({ $0 < t.count }) else {
                throw CheckpointError(
                    path: path, message: "data.order is not an order of the \(t.count) samples of \(data.name)")
            }
        }
        guard counters.position <= indices.count else {
            throw CheckpointError(
                path: path,
                message:
                    "gans.counters has position \(counters.position), past the \(indices.count) samples of data.order")
        }
        data.cursor = DataCursor(order: indices, position: counters.position)
        let rngWords = try meta("gans.rng").split(separator: " ").map(String.init)
        let words = rngWords.prefix(4).compactMap { UInt64($0) }
        let spare: Float?? =
            rngWords.count == 5
            ? (rngWords[4] == "-" ? .some(nil) : UInt32(rngWords[4]).map { Float(bitPattern: $0) }) : nil
        guard rngWords.count == 5, words.count == 4, let spare, spare?.isFinite ?? true else {
            throw CheckpointError(
                path: path,
                message:
                    "has a malformed random state: 4 whole numbers and a spare normal expected, found '\(try meta("gans.rng"))'"
            )
        }
        do { try Random.global.restore(RandomGenerator.State(words: words, spareNormal: spare)) } catch {
            throw CheckpointError(path: path, message: "has a malformed random state: \(error)")
        }
        return trainer
    }

    /// A run's counters as a checkpoint stores them (`gans.counters`).
    struct Counters {
        var d = 0, g = 0, epoch = 0, batches = 0, optG = 0, optD = 0, position = 0
    }

    /// The run's counters: every one present once, each a whole number from 0 to 2⁴⁰.
    static func counters(_ text: String, path: String) throws -> Counters {
        let keys: [(String, WritableKeyPath<Counters, Int>)] = [
            ("d", \.d), ("g", \.g), ("epoch", \.epoch), ("batches", \.batches),
            ("optG", \.optG), ("optD", \.optD), ("position", \.position)
        ]
        var counters = Counters()
        var seen = Set<String>()
        for w in text.split(separator: " ") {
            let kv = w.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, let field = keys.first(where: { $0.0 == kv[0] })?.1, seen.insert(kv[0]).inserted else {
                throw CheckpointError(
                    path: path,
                    message:
                        "gans.counters has '\(w)'; expected each of \(keys.map(\.0).joined(separator: ", ")) once as key=N"
                )
            }
            guard let v = Int(kv[1]), v >= 0, v <= 1 << 40 else {
                throw CheckpointError(
                    path: path,
                    message: "gans.counters has \(kv[0])=\(kv[1]); a count is a whole number from 0 to \(1 << 40)")
            }
            counters[keyPath: field] = v
        }
        let missing = keys.map(\.0).filter { !seen.contains($0) }
        guard missing.isEmpty else {
            throw CheckpointError(path: path, message: "gans.counters lacks \(missing.joined(separator: ", "))")
        }
        return counters
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
            ("history.reconstruction", col(\.reconstruction)), ("history.kl", col(\.kl))
        ]
    }

    static func historyRows(_ a: SafeTensorsArchive, path: String) throws -> [StepStats] {
        guard let part = a["history.part"] else {
            // No history at all is a run saved without one; a part of one is a damaged file.
            if let other = a.names.first(where: { $0.hasPrefix("history.") }) {
                throw CheckpointError(
                    path: path, message: "has \(other) but no history.part: its history is incomplete")
            }
            return []
        }
        guard part.scalars.allSatisfy({ $0 == 0 || $0 == 1 }) else {
            throw CheckpointError(path: path, message: "history.part holds values other than 0 (D) and 1 (G)")
        }
        let n = part.count
        func col(_ name: String) throws -> [Float] {
            guard let t = a["history.\(name)"], t.count == n else {
                throw CheckpointError(path: path, message: "history column \(name) is missing or short")
            }
            return t.scalars
        }
        func opt(_ v: Float) -> Float? { v.isNaN ? nil : v }
        let number = try col("number"), epoch = try col("epoch"), dLoss = try col("d_loss"), dReal = try col("d_real")
        let dlr = try col("d_loss_real"), dlf = try col("d_loss_fake"), pen = try col("penalty"),
            gLoss = try col("g_loss")
        let dFake = try col("d_fake"), w = try col("wasserstein"), secs = try col("seconds")
        let counts = a["history.grad_norm_counts"]?.scalars ?? [], layers = a["history.grad_norm_layers"]?.scalars ?? []
        let norms = a["history.grad_norms"]?.scalars ?? []
        // Written since VAEs: absent in older checkpoints.
        let recon = a["history.reconstruction"].map(\.scalars) ?? [], kl = a["history.kl"].map(\.scalars) ?? []
        guard recon.isEmpty && kl.isEmpty || recon.count == n && kl.count == n else {
            throw CheckpointError(
                path: path, message: "history columns reconstruction and kl are short, or one is missing")
        }
        guard counts.count == n, layers.count == norms.count,
            counts.allSatisfy({ wholeNumber($0) != nil }), counts.reduce(0, { $0 + wholeNumber($1)! }) == norms.count
        else {
            throw CheckpointError(path: path, message: "history gradient norms are inconsistent")
        }
        let bad = CheckpointError(path: path, message: "history holds values that are not step numbers")
        guard counts.allSatisfy({ wholeNumber($0) != nil }), layers.allSatisfy({ wholeNumber($0) != nil }),
            number.allSatisfy({ wholeNumber($0) != nil }), epoch.allSatisfy({ wholeNumber($0) != nil })
        else { throw bad }
        var k = 0
        return (0..<n).map { i in
            let c = wholeNumber(counts[i])!
            let gn = (k..<(k + c)).map { LayerGradientNorm(layer: wholeNumber(layers[$0])!, spec: "", norm: norms[$0]) }
            k += c
            return StepStats(
                part: part.scalars[i] == 0 ? .discriminator : .generator, number: wholeNumber(number[i])!,
                epoch: wholeNumber(epoch[i])!,
                dLoss: opt(dLoss[i]), dLossReal: opt(dlr[i]), dLossFake: opt(dlf[i]), penalty: opt(pen[i]),
                gLoss: opt(gLoss[i]), dReal: opt(dReal[i]), dFake: opt(dFake[i]), wasserstein: opt(w[i]),
                gradientNorms: gn, seconds: Double(secs[i]),
                reconstruction: recon.isEmpty ? nil : opt(recon[i]), kl: kl.isEmpty ? nil : opt(kl[i]))
        }
    }
}
