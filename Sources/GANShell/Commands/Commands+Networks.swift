import Foundation
import GANKit
import TensorCore

extension CommandTable {
    static let layerHelp = """
        Layers: linear N, conv C k= s= p=, convt C k= s= p=, batchnorm, layernorm, dropout P, relu, leakyrelu A,
        tanh, sigmoid, gelu, elu A, softmax (over the last axis), mbstd (appends the batch's spread as a feature),
        reshape D…, flatten, upsample S (nearest-neighbour, an image S times larger each way), embedding N D, and
        'sn' before linear or conv for spectral normalisation. A network starts with 'noise N' (a generator) or 'input D…'.
        """

    static let editNote =
        "Editing a network that is part of the GAN reassembles the GAN; an edit that would break it is refused."

    static let networkCommands: [Command] = [
        Command(
            "net", group: .networks, usage: "net NAME = noise N | LAYER | LAYER … [init=pytorch|dcgan]",
            summary: "builds a network in one line and shows its shape flow",
            details: layerHelp
                + "\ninit=dcgan draws weights from N(0, 0.02) as in the DCGAN paper; the default is PyTorch's.",
            examples: [
                "net G = noise 2 | linear 128 | relu | linear 2",
                "net D = input 1 28 28 | conv 32 k=4 s=2 p=1 | leakyrelu 0.2 | flatten | linear 1"
            ],
            takes: .own(keywords: ["noise", "input", "init=dcgan", "init=pytorch"])
        ) { shell, args, w, _ in
            try shell.defineNetwork(args)
        },
        Command(
            "add", group: .networks, usage: "NET add LAYER", summary: "appends a layer to a network",
            details: editNote, examples: ["G add batchnorm", "D add linear 1"],
            takes: .own()
        ) { _, _, w, t in
            throw ShellError(.syntax, "name the network first: NET add LAYER (for example 'G add relu')", at: t)
        },
        Command(
            "insert", group: .networks, usage: "NET insert INDEX LAYER", summary: "inserts a layer before layer INDEX",
            details: editNote, examples: ["G insert 2 dropout 0.3"],
            takes: .own()
        ) { _, _, w, t in
            throw ShellError(
                .syntax, "name the network first: NET insert INDEX LAYER (for example 'G insert 2 dropout 0.3')", at: t)
        },
        Command(
            "remove", group: .networks, usage: "NET remove INDEX", summary: "removes layer INDEX",
            details: editNote, examples: ["G remove 4"],
            takes: .own()
        ) { _, _, w, t in
            throw ShellError(.syntax, "name the network first: NET remove INDEX (for example 'G remove 4')", at: t)
        },
        Command(
            "replace", group: .networks, usage: "NET replace INDEX LAYER", summary: "replaces layer INDEX by another",
            details: editNote, examples: ["D replace 1 leakyrelu 0.2"],
            takes: .own()
        ) { _, _, w, t in
            throw ShellError(
                .syntax, "name the network first: NET replace INDEX LAYER (for example 'D replace 1 leakyrelu 0.2')",
                at: t)
        },
        Command(
            "gan", group: .networks, usage: "gan G D [key=value …]",
            summary: "assembles a GAN from a generator, a discriminator and the loaded data, checking their shapes",
            details: """
                Training settings, each changeable later with 'set':

                """ + settingsHelp(.adversarial) + """


                    Optimizer: opt=\(OptimizerKind.allCases.map(\.rawValue).joined(separator: "|")) (default adam) and its
                    settings \(OptimizerKind.hyperparameterNames.map { $0 + "=" }.joined(separator: ", ")) for both networks;
                    lrG= and lrD= for one. cond=onehot|embed:N makes a conditional GAN: labels reach G and D; G's input
                    holds the noise and then the label values, so 'noise 42' with 10 classes and cond=onehot is 32 noise
                    values, and the GAN's summary says so.
                    """,
            examples: [
                "gan G D loss=nonsat opt=adam lr=1e-3 beta1=0.5 batch=256", "gan G D loss=wgan-gp lambda=10 dsteps=5"
            ],
            takes: .words(2, options: ganOptions)
        ) { shell, args, w, _ in
            try shell.assembleGAN(w)
        },
        Command(
            "vae", group: .networks, usage: "vae E G [key=value …]",
            summary: "assembles a variational autoencoder: encoder E, decoder G, the loaded data",
            details: """
                E maps a sample to k means and k log-variances (output [2k]) for G's k latent values; G is the
                decoder and, as in a GAN, the generator: samples are G(z) with z ~ N(0, I). Each step encodes a
                real batch, draws z = μ + σ·ε, decodes, and steps both networks on the squared reconstruction
                error plus beta × KL(q(z|x) ‖ N(0, I)), the negative ELBO. Its settings:

                """ + settingsHelp(.variational) + """


                    The optimizer settings of 'gan', with lrG= and lrE= for one network (optE is E's optimizer, also reachable as optD; later,
                    set E.lr). Then step, train, sample, metrics and plot work as for a GAN (explain vae).
                    """,
            examples: ["vae E G beta=1 lr=1e-3 batch=128"],
            takes: .words(2, options: vaeOptions)
        ) { shell, args, w, _ in
            try shell.assembleGAN(w, model: .variational)
        }
    ]

    /// A list item per training setting of `model` (`- name=default: help`), from `TrainingSetting.all`.
    static func settingsHelp(_ model: GenerativeModel) -> String {
        TrainingSetting.all.filter { $0.applies(to: model) }.map { s in
            guard let value = s.defaultValue else { return "- \(s.name)=…: \(s.help), \(s.rule)" }
            let shown = s.choices.isEmpty ? Format.number(Float(value) ?? .nan) : value
            return "- \(s.name)=\(shown)"
                + (s.choices.isEmpty ? "" : " (or \(s.choices.filter { $0 != value }.joined(separator: ", ")))")
                + ": \(s.help)"
        }.joined(separator: "\n")
    }

    /// The training settings of a model, by name.
    static func trainingKeys(_ model: GenerativeModel) -> [String] {
        TrainingSetting.all.filter { $0.applies(to: model) }.map(\.name)
    }

    static let optimizerKeys = ["opt"] + OptimizerKind.hyperparameterNames
    static let ganOptions = trainingKeys(.adversarial) + optimizerKeys + ["lrG", "lrD", "cond"]
    static let vaeOptions = trainingKeys(.variational) + optimizerKeys + ["lrG", "lrE"]
}

/// An unknown name: "did you mean" the nearest of `names`, else what there is, else how to make one.
func notFound(
    _ message: String, _ word: Arguments.Word, among names: some Collection<String>, ifNone: String, listed: String
) -> ShellError {
    let sorted = names.sorted()
    let hint =
        nearest(to: word.text, among: sorted).map { "; did you mean '\($0)'?" }
        ?? (sorted.isEmpty ? "; " + ifNone : "; " + listed + sorted.joined(separator: ", "))
    return ShellError(.name, message + hint, at: word.location, length: word.length)
}

extension Interpreter {
    /// Layer text with a trailing `init=pytorch|dcgan` split off (PyTorch's when none is given).
    static func layersAndInit(_ typed: String, at token: Token) throws -> (layers: String, initialization: WeightInit) {
        guard let r = typed.range(of: #"\s*init=(\S*)\s*$"#, options: .regularExpression) else {
            return (typed, .pytorch)
        }
        let value = typed[r].trimmingCharacters(in: .whitespaces).dropFirst(5)
        guard let i = WeightInit(rawValue: String(value)) else {
            throw ShellError(.value, "init must be pytorch or dcgan, found '\(value)'", at: token)
        }
        return (String(typed[..<r.lowerBound]), i)
    }

    func defineNetwork(_ args: Arguments) throws -> [Output] {
        let tokens = args.tokens
        guard let nameToken = tokens.first, let name = nameToken.identifier else {
            throw ShellError(
                .syntax, "net: a name expected, as in 'net G = noise 2 | linear 2'", at: tokens.first ?? args.end)
        }
        guard tokens.count > 1, tokens[1].isSymbol("=") else {
            throw ShellError(.syntax, "net: '=' expected after the name", at: tokens.count > 1 ? tokens[1] : args.end)
        }
        if let why = reservedName(name, for: "the network") { throw ShellError(.name, why, at: nameToken) }
        let (text, initialization) = try Self.layersAndInit(args.rawText(from: 2), at: nameToken)
        guard !text.isEmpty else {
            throw ShellError(
                .syntax, "net: layers expected after '=', starting with 'noise N' or 'input D…'", at: args.end)
        }
        let net: Network
        do { net = try Network.parse(text, initialization: initialization) } catch {
            throw ShellError(.value, "\(error)", at: tokens[2].location, length: text.count)
        }
        var note: [Output] = []
        if let s = workspace.session, s.generatorName == name || s.partnerName == name {
            // Never a silent swap: say what the GAN now holds.
            let model = s.trainer.model.kind
            let role = s.generatorName == name ? model.generatorRole : model.partnerRole
            let taken = s.trainer.gStepCount
            let names =
                model.partnerFirst
                ? s.partnerName + " " + s.generatorName : s.generatorName + " " + s.partnerName
            note = [
                .text(
                    "\(name) is the \(model.name)'s \(role): it now uses this new, untrained \(name)"
                        + (taken > 0
                            ? "; the \(Format.count(taken)) step\(taken == 1 ? "" : "s") taken and the other network are kept. For a fresh run, assemble it again with '\(model.rawValue) \(names)'"
                            : ""))
            ]
        }
        try bind(loaded: net, to: name)
        return [.table(flow(name, net))] + note
    }

    /// The shape flow of a network: one row per layer with its output shape and parameters.
    func flow(_ name: String, _ net: Network) -> Table {
        var rows = [["", "input", Format.shape(net.inputShape), ""]]
        for r in net.summary {
            rows.append([String(r.index), r.layer, Format.shape(r.output), Format.count(r.parameters)])
        }
        return Table(
            title:
                "\(name): \(Format.shape(net.inputShape)) → \(Format.shape(net.outputShape)), \(Format.count(net.parameterCount)) parameters",
            columns: ["#", "layer", "output", "params"], rows: rows, rightAligned: [true, false, false, true])
    }

    func editNetwork(_ netToken: Token, _ verb: Token, _ args: Arguments) throws -> [Output] {
        let name = netToken.text
        guard let net = workspace.bindings.networks[name] else {
            throw ShellError(.name, "unknown network '\(name)'", at: netToken)
        }
        let words = args.words
        func index(_ w: Arguments.Word?, count: Int) throws -> Int {
            guard let w else { throw ShellError(.syntax, "\(verb.text): a layer index expected", at: args.end) }
            guard let i = w.int else {
                throw ShellError(
                    .value, "\(verb.text): a layer index expected, found '\(w.text)'", at: w.location, length: w.length)
            }
            guard i >= 0 && i < count else {
                throw ShellError(
                    .value,
                    "\(name) has layers 0…\(net.layers.count - 1); \(i) is not one"
                        + (verb.text == "insert" ? " (insert takes 0…\(net.layers.count))" : ""),
                    at: w.location, length: w.length)
            }
            return i
        }
        func spec(from k: Int) throws -> LayerSpec {
            guard k < words.count else {
                throw ShellError(
                    .syntax, "\(verb.text): a layer expected (for example 'linear 64' or 'relu')", at: args.end)
            }
            let text = args.rawText(from: args.tokens.firstIndex { $0.offset == words[k].first.offset } ?? 0)
            do { return try LayerSpec(parsing: text) } catch {
                throw ShellError(.value, "\(error)", at: words[k].location, length: text.count)
            }
        }
        let inSession = workspace.session.map { $0.generatorName == name || $0.partnerName == name } ?? false
        let target = inSession ? net.copy() : net
        let described: String
        do {
            switch verb.text {
            case "add":
                let s = try spec(from: 0)
                try target.add(s)
                described = "added \(s.text) as layer \(target.layers.count - 1)"
            case "insert":
                let i = try index(words.first, count: net.layers.count + 1)
                let s = try spec(from: 1)
                try target.insert(s, at: i)
                described = "inserted \(s.text) as layer \(i)"
            case "remove":
                let i = try index(words.first, count: net.layers.count)
                if words.count > 1 {
                    throw ShellError(
                        .syntax, "remove: unexpected '\(words[1].text)'", at: words[1].location, length: words[1].length
                    )
                }
                let old = net.layers[i].spec.text
                try target.remove(at: i)
                described = "removed layer \(i) (\(old))"
            default:
                let i = try index(words.first, count: net.layers.count)
                let s = try spec(from: 1)
                let old = net.layers[i].spec.text
                try target.replace(at: i, with: s)
                described = "replaced layer \(i) (\(old)) by \(s.text)"
            }
        } catch let e as ShellError { throw e } catch {
            throw ShellError(.shape, "\(error); \(name) is unchanged", at: verb)
        }
        if inSession, let s = workspace.session {
            let t: Trainer
            do {
                t = try s.trainer.reassembled(
                    generator: s.generatorName == name ? target : nil,
                    partner: s.partnerName == name ? target : nil)
            } catch {
                throw ShellError(
                    .shape,
                    "\(name) is part of the \(s.trainer.model.name), and after this edit: \(error); \(name) is unchanged",
                    at: verb)
            }
            workspace.bindings.networks[name] = target
            workspace.bindings.session = Session(
                trainer: t, generatorName: s.generatorName, partnerName: s.partnerName, data: s.data)
        }
        var table = flow(name, target)
        table.title = "\(described)\n" + (table.title ?? "")
        return [.table(table)]
    }

    func assembleGAN(_ w: CommandWords, model: GenerativeModel = .adversarial) throws -> [Output] {
        let command = model.rawValue
        let (firstRole, secondRole) =
            model.partnerFirst ? (model.partnerRole, model.generatorRole) : (model.generatorRole, model.partnerRole)
        let first = try w.word(0, "the \(firstRole)'s name")
        let second = try w.word(1, "the \(secondRole)'s name")
        let (gWord, dWord) = model.partnerFirst ? (second, first) : (first, second)
        func network(_ word: Arguments.Word, _ role: String) throws -> Network {
            guard let n = workspace.bindings.networks[word.text] else {
                throw notFound(
                    "\(role): no network named '\(word.text)'", word, among: workspace.bindings.networks.keys,
                    ifNone: "build one first with 'net'", listed: "networks: ")
            }
            return n
        }
        let g = try network(gWord, "the " + model.generatorRole), d = try network(dWord, "the " + model.partnerRole)
        guard g !== d else {
            throw ShellError(
                .value,
                model.partnerFirst
                    ? "the \(model.partnerRole) and the \(model.generatorRole) must be two different networks"
                    : "G and D must be two different networks", at: second.location)
        }
        guard let data = workspace.data else {
            throw ShellError(.value, "\(command): load data first (for example 'data digits')", at: first.location)
        }
        var options = TrainingOptions()
        for (key, value, word) in w.options where TrainingSetting.named(key) != nil {
            do { try options.set(key, value) } catch {
                throw ShellError(.value, "\(error)", at: word.location, length: word.length)
            }
        }
        var conditioning: Conditioning? = nil
        if let c = w.option("cond") {
            if c == "onehot" {
                conditioning = .oneHot
            } else if c.hasPrefix("embed:"), let k = Int(c.dropFirst(6)), k > 0, k <= 4096 {
                conditioning = .embedding(k)
            } else {
                throw ShellError(.value, "cond must be onehot or embed:N, found '\(c)'")
            }
        }
        let gan = try model.type.assemble(
            generator: g, partner: d, data: data.source, noise: options.noise, conditioning: conditioning)
        let optName = w.option("opt") ?? "adam"
        let probe: Optimizer
        do { probe = try makeOptimizer(optName, parameters: []) } catch {
            let o = w.options.last(where: { $0.key == "opt" })
            throw ShellError(.value, "\(error)", at: o?.word.location, length: o?.word.length ?? 1)
        }
        var shared: [(String, Float)] = []
        for key in OptimizerKind.hyperparameterNames + ["lrG", "lrD", "lrE"] {
            guard let v = try w.float(key), let word = w.options.last(where: { $0.key == key })?.word else { continue }
            let name = key.hasPrefix("lr") ? "lr" : key
            do { try probe.set(name, v) } catch {
                throw ShellError(
                    .value,
                    "\(error)"
                        + (probe.value(of: name) == nil
                            ? " (\(optName) has " + probe.hyperparameters.map(\.name).joined(separator: ", ") + ")"
                            : ""),
                    at: word.location, length: word.length)
            }
            if !key.hasPrefix("lr") || key == "lr" { shared.append((key, v)) }
        }
        let optG = try makeOptimizer(
            optName, parameters: gan.generatorParameters,
            hyperparameters: shared + (try w.float("lrG").map { [("lr", $0)] } ?? []))
        let optD = try makeOptimizer(
            optName, parameters: gan.partnerParameters,
            hyperparameters: shared + (try w.float("lr" + model.partnerLetter).map { [("lr", $0)] } ?? []))
        try checkBatch(options.batchSize, gan)
        let trainer = try Trainer(model: gan, options: options, optimizerG: optG, optimizerD: optD)
        let session = Session(trainer: trainer, generatorName: gWord.text, partnerName: dWord.text, data: data)
        workspace.bindings.session = session
        return [.text(describe(session))]
    }

    /// A batch whose largest activation would exceed the tensor size limit is refused before training.
    func checkBatch(_ batch: Int, _ gan: any GenerativeNetworks) throws {
        let largest =
            ([gan.generator.inputShape, gan.partner.inputShape] + gan.generator.shapes + gan.partner.shapes)
            .map { $0.reduce(1, *) }.max() ?? 1
        let (total, overflow) = batch.multipliedReportingOverflow(by: largest)
        guard !overflow, total <= options.maxElements else {
            throw ShellError(
                .limit,
                "a batch of \(Format.count(batch)) would make activations of \(Format.count(batch)) × \(Format.count(largest)) values, more than maxelements (\(Format.count(options.maxElements)))"
            )
        }
    }

    func describe(_ s: Session) -> String {
        s.trainer.model.summary(
            s.trainer, generator: s.generatorName, partner: s.partnerName, number: { Format.number($0) }
        ).joined(separator: "\n")
    }
}
