import Foundation
import GANKit
import TensorCore

extension CommandTable {
    static let sessionCommands: [Command] = [
        Command(
            "snapshot", group: .session, usage: "snapshot NAME",
            summary:
                "keeps the whole state in memory: networks, optimizers, tensors, the random generator and the history",
            examples: ["snapshot before-hinge"],
            takes: .words(1)
        ) { shell, args, w, _ in
            let name = try w.word(0, "a snapshot name").text
            shell.workspace.bindings.snapshots[name] = shell.workspace.takeSnapshot()
            // Steps are counted as everywhere: a step is the D steps before a G step and that G step.
            return [.text("snapshot \(name)" + (shell.workspace.session.map { " " + shell.stepLabel($0) } ?? ""))]
        },
        Command(
            "restore", group: .session, usage: "restore NAME",
            summary: "goes back to a snapshot (it stays available); names made since are kept",
            examples: ["restore before-hinge"],
            takes: .words(1)
        ) { shell, args, w, _ in
            let word = try w.word(0, "a snapshot name")
            guard let snap = shell.workspace.bindings.snapshots[word.text] else {
                throw notFound(
                    "no snapshot named '\(word.text)'", word, among: shell.workspace.bindings.snapshots.keys,
                    ifNone: "take one with 'snapshot NAME'", listed: "there are ")
            }
            try shell.workspace.restore(snap)
            return [
                .text(
                    "restored \(word.text)" + (shell.workspace.session.map { " (" + shell.stepLabel($0) + ")" } ?? ""))
            ]
        },
        Command(
            "snapshots", group: .session, usage: "snapshots", summary: "lists the snapshots", examples: ["snapshots"],
            takes: .nothing
        ) { shell, args, w, _ in
            let snaps = shell.workspace.bindings.snapshots
            guard !snaps.isEmpty else { return [.text("no snapshots; take one with 'snapshot NAME'")] }
            let rows = snaps.keys.sorted().map { k -> [String] in
                let s = snaps[k]!
                return [k, s.networks.keys.sorted().joined(separator: " "), s.training != nil ? String(s.steps) : ""]
            }
            return [
                .table(
                    Table(columns: ["snapshot", "networks", "steps"], rows: rows, rightAligned: [false, false, true]))
            ]
        },
        Command(
            "save", group: .session, usage: "save NAME FILE | save gan FILE | save vae FILE",
            summary: "writes a network, a tensor, or the whole training run (gan) to a safetensors file",
            details:
                "Networks keep PyTorch's state-dict names and their layer text in the metadata, so 'load' rebuilds them from the file alone. 'save gan' keeps both networks, both optimizers, the counters, the random generator and the history: loading it continues exactly. The extension says what is written: .safetensors (any value), .csv (a tensor of rank 1 or 2 as plain numbers, one row a line), .txt (words: a string, or a tensor of the data's one-hot sequences, one word a line), .png (a tensor of the data's samples drawn as 'sample' draws them: images in a grid, points over the data, words); any other ending is refused. Files are written atomically, and a read-only file is not replaced.",
            examples: ["save G ring-G.safetensors", "save gan ring-run.safetensors"],
            takes: .words(2, keywords: ["gan", "vae"])
        ) { shell, args, w, _ in
            try shell.save(args, w)
        },
        Command(
            "load", group: .session,
            usage: "load NAME PATH | load NAME PATH spec=\"LAYERS\" | load gan PATH [G D] | load vae PATH [E G]",
            summary:
                "reads a network or tensor saved by 'save' into NAME, or continues a saved training run on the loaded data",
            details:
                "A run's networks are bound to G and D (a VAE's to E and G) unless other names follow the path. Nothing in the file is trusted: its header is checked against its size before the data are read; repeated keys, weights, optimizer state, moving average or fixed noise that are not finite, counters, options and layer text out of their ranges, missing or extra tensors, and a run trained on other data are each refused with an error naming the problem, and the workspace is left as it was. A plain tensor may hold NaN or infinities: load says how many. With spec=\"LAYERS\" (the layers as typed after 'net NAME ='), the file may be any state dict in safetensors, such as PyTorch's safetensors.torch.save_file(model.state_dict(), PATH) writes for an nn.Sequential of the same layers: its keys must be the layers' (0.weight, 2.running_mean, …), batch norm's num_batches_tracked counters are ignored, and every key missing, extra or of the wrong shape is named.",
            examples: [
                "load G ring-G.safetensors", "load gan ring-run.safetensors",
                "load D torch-D.safetensors spec=\"input 2 | linear 128 | relu | linear 1\""
            ],
            takes: .words(4, keywords: ["gan", "vae"], options: ["spec"])
        ) { shell, args, w, _ in
            try shell.load(args, w)
        },
        Command(
            "read", group: .session, usage: "read FILE.gans",
            summary: "runs the commands of a script file here (scripts may read others, up to a depth limit)",
            examples: ["read setup.gans"],
            takes: .words(1)
        ) { shell, args, w, t in
            let p = try w.word(0, "a script path")
            return try shell.readScript(p)
        },
        Command(
            "record", group: .session, usage: "record FILE.gans",
            summary: "writes the commands of this session that succeeded, so that the file replays it",
            examples: ["record my-session.gans"],
            takes: .words(1)
        ) { shell, args, w, _ in
            let p = try w.word(0, "a file path")
            guard p.text.lowercased().hasSuffix(".gans") else {
                throw ShellError(
                    .value, "record writes a script: the path must end in .gans, found '\(p.text)'", at: p.location,
                    length: p.length)
            }
            let lines = shell.workspace.succeeded
            let text = "# recorded by gans\n" + lines.joined(separator: "\n") + "\n"
            try AtomicFile.write(Array(text.utf8), to: shell.resolve(p.text))
            return [.text("wrote \(lines.count) command\(lines.count == 1 ? "" : "s") to \(p.text)")]
        },
        Command(
            "seed", group: .session, usage: "seed N",
            summary: "seeds the random generator: the same commands then give the same numbers",
            examples: ["seed 42"],
            takes: .words(1)
        ) { shell, args, w, _ in
            let n = try w.int(0, "a seed", min: 0, max: Int.max)
            Random.seed(UInt64(n))
            shell.seed = UInt64(n)
            return [.text("seed \(n)")]
        },
        Command(
            "reset", group: .session, usage: "reset",
            summary: "forgets every name, the data, the GAN and the snapshots",
            examples: ["reset"],
            takes: .nothing
        ) { shell, args, w, _ in
            shell.workspace.bindings = Workspace.Bindings()
            return [.text("the workspace is empty")]
        },
        Command(
            "time", group: .session, usage: "time COMMAND", summary: "runs a command and says how long it took",
            examples: ["time step 100"],
            takes: .own()
        ) { shell, args, w, t in
            guard !args.isEmpty else { throw ShellError(.syntax, "time: a command expected", at: args.end) }
            guard args.tokens[0].text != "time" else {
                throw ShellError(.syntax, "time: a command other than time expected", at: args.tokens[0])
            }
            let start = Date()
            var p = Parser(tokens: args.tokens + [args.end], source: args.source)
            p.isCommand = shell.isCommand
            p.isNetwork = { shell.workspace.bindings.networks[$0] != nil }
            let out = try shell.execute(try p.statement())
            return out + [.timing("time:", Date().timeIntervalSince(start))]
        },
        Command(
            "quit", aliases: ["exit"], group: .session, usage: "quit", summary: "leaves the shell (Ctrl-D too)",
            examples: ["quit"],
            takes: .nothing
        ) { shell, _, w, _ in
            shell.quitRequested = true
            return []
        }
    ]
}

/// A nested script failed: the outputs it made before the error, and the error.
struct NestedScriptError: Error {
    var outputs: [Output]
    var error: ShellError
}

extension Interpreter {
    /// A tensor of rank 0, 1 or 2 as CSV: one row per line (a vector is one value per line), values as Swift prints floats.
    static func csv(_ t: Tensor) throws -> String {
        guard t.rank <= 2 else {
            throw ShellError(.value, "a CSV holds a tensor of rank 1 or 2; this one is \(Format.shape(t.shape))")
        }
        let columns = t.rank == 2 ? t.shape[1] : 1
        let values = t.scalars
        guard columns > 0 else { return "" }
        var out = ""
        for r in 0..<(values.count / columns) {
            out += values[(r * columns)..<((r + 1) * columns)].map { "\($0)" }.joined(separator: ",") + "\n"
        }
        return out
    }

    func save(_ args: Arguments, _ w: CommandWords) throws -> [Output] {
        let what = try w.word(0, "what to save (a network, a tensor or gan)")
        let p = try w.word(1, "a file path")
        // The extension says what a file holds: .safetensors for anything, .csv for the numbers of a tensor.
        let path = resolve(p.text)
        if p.text.lowercased().hasSuffix(".csv") {
            guard case .tensor(let t)? = workspace.lookup(what.text) else {
                throw ShellError(
                    .value,
                    "save … FILE.csv writes the numbers of a tensor; \(what.text) is not one (use .safetensors)",
                    at: what.location, length: what.length)
            }
            try AtomicFile.write(Array(try Interpreter.csv(t).utf8), to: path)
            return [.text("wrote \(what.text) \(Format.shape(t.shape)) to \(p.text) as CSV")]
        }
        // .txt: words (a string, or one-hot sequences of the data); .png: samples of the data as a picture.
        let lower = p.text.lowercased()
        if lower.hasSuffix(".txt") || lower.hasSuffix(".png") {
            switch workspace.lookup(what.text) {
            case .string(let text)? where lower.hasSuffix(".txt"):
                try AtomicFile.write(Array((text.hasSuffix("\n") ? text : text + "\n").utf8), to: path)
                return [.text("wrote \(what.text) to \(p.text)")]
            case .tensor(let t)?:
                let (x, d) = try asSamples(t, command: "save \(what.text) \(p.text)", at: what.first)
                if lower.hasSuffix(".txt") {
                    try AtomicFile.write(Array(try samplesText(x, d, lower, p).utf8), to: path)
                    return [
                        .text(
                            "wrote \(what.text) \(Format.shape(t.shape)) to \(p.text) as \(Format.count(x.shape[0])) words"
                        )
                    ]
                }
                _ = try writePicture(try plotSamples(x, d, title: "\(what.text) \(Format.shape(t.shape))"), to: p)
                return [.text("wrote \(what.text) \(Format.shape(t.shape)) to \(p.text) as a picture")]
            case let v?:
                throw ShellError(
                    .value,
                    "save … \(lower.hasSuffix(".txt") ? "FILE.txt writes words (a string or a tensor of the data's sequences)" : "FILE.png draws a tensor of the data's samples"); \(what.text) is \(v.typeName)",
                    at: what.location, length: what.length)
            case nil:
                throw ShellError(
                    .name, "nothing named '\(what.text)'" + didYouMean(what.text, among: workspace.names),
                    at: what.location, length: what.length)
            }
        }
        guard lower.hasSuffix(".safetensors") else {
            throw ShellError(
                .value,
                "save writes .safetensors (any value), .csv (a tensor of rank 1 or 2), .txt (words) or .png (a tensor of the data's samples); found '\(p.text)'",
                at: p.location, length: p.length)
        }
        switch workspace.lookup(what.text) {
        case .network(_, let n)?:
            try n.save(to: path)
            return [.text("saved \(what.text) (\(Format.count(n.parameterCount)) parameters) to \(p.text)")]
        case .gan(let s)?:
            try s.trainer.save(to: path)
            return [.text("saved the training run (\(s.trainer.history.count) steps) to \(p.text)")]
        case .tensor(let t)?:
            try SafeTensors.write(
                SafeTensorsArchive(tensors: [(what.text, t)], metadata: ["gans.kind": "tensor"]), to: path)
            return [.text("saved \(what.text) \(Format.shape(t.shape)) to \(p.text)")]
        case let v?:
            throw ShellError(
                .value, "save writes networks, tensors and gan; \(what.text) is \(v.typeName)", at: what.location,
                length: what.length)
        case nil:
            throw ShellError(
                .name, "nothing named '\(what.text)'" + didYouMean(what.text, among: workspace.names),
                at: what.location, length: what.length)
        }
    }

    func load(_ args: Arguments, _ w: CommandWords) throws -> [Output] {
        let target = try w.word(0, "a name to load into (or gan)")
        let p = try w.word(1, "a file path")
        let path = resolve(p.text)
        if let spec = w.options.last(where: { $0.key == "spec" }) {
            return try loadStateDict(target, p, spec: spec.value, at: spec.word, w)
        }
        if target.text == "gan" || target.text == "vae" {
            guard let data = workspace.data else {
                throw ShellError(
                    .value, "load \(target.text): load the data the run was trained on first", at: target.location)
            }
            let t = try Trainer.load(from: path, data: data.source)
            let model = t.model.kind
            let defaults = model.partnerFirst ? (model.partnerLetter, "G") : ("G", model.partnerLetter)
            let first = w.positional.count > 2 ? w.positional[2].text : defaults.0
            let second = w.positional.count > 3 ? w.positional[3].text : defaults.1
            let (g, d) = model.partnerFirst ? (second, first) : (first, second)
            workspace.bindings.networks[g] = t.model.generator
            workspace.bindings.networks[d] = t.model.partner
            workspace.bindings.variables[g] = nil
            workspace.bindings.variables[d] = nil
            let s = Session(trainer: t, generatorName: g, partnerName: d, data: data)
            workspace.bindings.session = s
            return [.text("loaded the training run from \(p.text)\n" + describe(s))]
        }
        try w.noMoreThan(2)
        guard target.first.identifier != nil, target.tokens.count == 1 else {
            throw ShellError(
                .name, "load: '\(target.text)' cannot be a name", at: target.location, length: target.length)
        }
        if let why = reservedName(target.text, for: "what is loaded") {
            throw ShellError(.name, "load: " + why, at: target.location, length: target.length)
        }
        let archive = try SafeTensors.read(from: path, skipping: { $0.hasSuffix("num_batches_tracked") })
        switch archive.metadata["gans.kind"] {
        case "network":
            let net = try Network.load(from: path)
            try bind(loaded: net, to: target.text)
            return [.text("loaded \(target.text) from \(p.text)"), .table(flow(target.text, net))]
        case "training":
            throw ShellError(
                .value, "\(p.text) holds a training run: load it with 'load gan \(p.text)'", at: p.location,
                length: p.length)
        case let kind? where kind != "tensor":
            throw ShellError(
                .file, "\(p.text) says it holds a '\(kind)'; gans writes network, training and tensor files",
                at: p.location, length: p.length)
        default:
            guard archive.tensors.count == 1, archive.skipped.isEmpty, let t = archive.tensors.first?.tensor else {
                throw ShellError(
                    .file,
                    "\(p.text) holds \(archive.tensors.count + archive.skipped.count) tensors and no gans network; load reads one tensor or a network saved by gans, "
                        + "and a state dict (PyTorch's, say) with the layers it fits: load \(target.text) \(p.text) spec=\"LAYERS\"",
                    at: p.location, length: p.length)
            }
            workspace.bindings.networks[target.text] = nil
            workspace.bindings.variables[target.text] = .tensor(t)
            // A plain tensor may hold NaN or infinities on purpose; say so, never silently.
            let bad = t.allFinite ? 0 : t.scalars.filter { !$0.isFinite }.count
            return [
                .text(
                    "loaded \(target.text) \(Format.shape(t.shape)) from \(p.text)"
                        + (bad > 0 ? " (\(Format.count(bad)) of its values are NaN or infinite)" : ""))
            ]
        }
    }

    /// `export torch DIR [debug]`: the session's networks as PyTorch modules, their weights and a
    /// check; the training as train.py from the session's checkpoint; with `debug`, a gradient check.
    func exportTorch(to dir: Arguments.Word, debug: Bool) throws -> [Output] {
        let s = try requireSession("export torch")
        let t = s.trainer, gan = t.model
        let model = gan
        var parts = [
            TorchExport.Part(role: model.generatorRole, shellName: s.generatorName, network: gan.generator),
            TorchExport.Part(role: model.partnerRole, shellName: s.partnerName, network: gan.partner)
        ]
        if model.partnerFirst { parts.reverse() }
        if let ema = try t.movingAverage() {
            parts.append(
                TorchExport.Part(
                    role: model.generatorRole + "_ema", shellName: s.generatorName + " (moving average)",
                    network: ema))
        }
        var labels: [TorchExport.LabelPart] = []
        if gan.conditioning != nil, let classes = gan.data.classCount {
            labels = [
                TorchExport.LabelPart(role: "generator_labels", classes: classes, table: gan.labelEmbeddings.generator),
                TorchExport.LabelPart(
                    role: "discriminator_labels", classes: classes, table: gan.labelEmbeddings.partner)
            ]
        }
        // Check inputs: each network's own input shape, drawn without moving the training stream.
        let saved = Random.global
        defer { Random.global = saved }
        Random.seed(20261202)
        // D sees G's samples when it takes them as they are; other inputs are standard normal.
        let samples = try gan.generator.evaluating {
            try withNoGrad { try gan.generate(gan.sampleNoise(4), labels: gan.cyclingLabels(4)) }
        }
        let inputs = try parts.map { p -> Tensor in
            if case .embedding(let ids, _)? = p.network.layers.first?.spec {  // token ids
                let n = 4 * p.network.inputShape.reduce(1, *)
                return try Tensor((0..<n).map { _ in Float(Random.global.nextInt(below: ids)) })
                    .reshaped(to: [4] + p.network.inputShape)
            }
            return p.network === gan.adversary && p.network.inputShape == Array(samples.shape.dropFirst())
                ? samples : Tensor.randn([4] + p.network.inputShape)
        }
        let description = "\(model.withArticle) on \(s.data.name) after \(t.gStepCount) steps"
        // train.py needs the data: a fixed set (written beside it) or a Gaussian mixture.
        var train: (script: TrainScript, session: SafeTensorsArchive)? = nil
        var why = ""
        let data: TrainScript.Data?
        if let mix = s.data.mixture {
            data = .mixture(centers: mix.centers, std: mix.std)
        } else if let set = s.data.samples {
            data = .samples(set.samples, labels: gan.conditioning == nil ? nil : set.labels)
        } else {
            data = nil
        }
        if let data {
            train = (TrainScript(trainer: t, data: data, dataName: s.data.name), t.archive())
        } else {
            why = "; train.py needs a fixed set of samples or a Gaussian mixture, and \(s.data.name) is neither"
        }
        let check = debug ? try t.gradientCheck() : nil
        let path = resolve(dir.text)
        let written: [String]
        do {
            written = try TorchExport.write(
                parts, labels: labels, checkInputs: inputs, description: description, train: train, debug: check,
                to: path)
        } catch let e as ShellError { throw e } catch {
            throw ShellError(.file, "export torch: \(error)", at: dir.location, length: dir.length)
        }
        return [
            .text(
                "wrote " + written.joined(separator: ", ") + " to \(dir.text) ("
                    + parts.map { "\($0.role) \($0.shellName)" }.joined(separator: ", ") + ")" + why)
        ]
    }

    /// Binds a network (built or loaded) to `name`; when the GAN uses a network of that name, the GAN takes it.
    func bind(loaded net: Network, to name: String) throws {
        if let s = workspace.session, s.generatorName == name || s.partnerName == name {
            let t = try s.trainer.reassembled(
                generator: s.generatorName == name ? net : nil,
                partner: s.partnerName == name ? net : nil)
            workspace.bindings.session = Session(
                trainer: t, generatorName: s.generatorName, partnerName: s.partnerName, data: s.data)
        }
        workspace.bindings.variables[name] = nil
        workspace.bindings.networks[name] = net
    }

    /// `load NAME FILE spec="LAYERS"`: a plain state dict (PyTorch's, say) into a network built from the layers.
    func loadStateDict(
        _ target: Arguments.Word, _ p: Arguments.Word, spec: String, at word: Arguments.Word, _ w: CommandWords
    )
        throws -> [Output]
    {
        try w.noMoreThan(2)
        guard target.first.identifier != nil, target.tokens.count == 1, target.text != "gan", target.text != "vae"
        else {
            throw ShellError(
                .name, "load: spec= loads one network; '\(target.text)' cannot be its name", at: target.location,
                length: target.length)
        }
        if let why = reservedName(target.text, for: "what is loaded") {
            throw ShellError(.name, "load: " + why, at: target.location, length: target.length)
        }
        let (text, initialization) = try Self.layersAndInit(spec, at: word.first)
        let (net, ignored) = try Network.load(from: resolve(p.text), spec: text, initialization: initialization)
        try bind(loaded: net, to: target.text)
        let note =
            ignored.isEmpty
            ? ""
            : " (ignored \(ignored.count == 1 ? "its counter" : "\(ignored.count) counters") \(ignored.joined(separator: ", ")))"
        return [.text("loaded \(target.text) from the state dict \(p.text)" + note), .table(flow(target.text, net))]
    }

    func readScript(_ p: Arguments.Word) throws -> [Output] {
        guard readDepth < options.maxReadDepth else {
            throw ShellError(
                .limit, "read: scripts nest more than \(options.maxReadDepth) deep (does a script read itself?)",
                at: p.location, length: p.length)
        }
        var path = resolve(p.text)
        if !path.hasPrefix("/"), let current = currentFile {
            let beside = ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(p.text)
            if FileManager.default.fileExists(atPath: beside) { path = beside }
        }
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path) } catch {
            throw ShellError(.file, "read: \(error)", at: p.location, length: p.length)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ShellError(.file, "read: \(p.text) is not UTF-8 text", at: p.location, length: p.length)
        }
        readDepth += 1
        let savedFile = currentFile, savedAbandon = Interrupt.abandonAt
        currentFile = path
        // In a script the first Ctrl-C stops it after the current command; the second abandons that command.
        Interrupt.abandonAt = 2
        defer { readDepth -= 1; currentFile = savedFile; Interrupt.abandonAt = savedAbandon }
        var outputs: [Output] = []
        for chunk in Script.chunks(text) {
            let r = run(chunk.text, firstLine: chunk.firstLine)
            outputs += r.outputs
            if var e = r.error {
                if e.file == nil { e.file = p.text; e.sourceLine = Script.line(text, e.location?.line) }
                e.trace.append("in the script read at \(currentFileLabel(savedFile)):\(p.location)")
                throw NestedScriptError(outputs: outputs, error: e)
            }
            if r.quit { quitRequested = true; break }
            // Ctrl-C stops the whole script after the current step; the flag stays set
            // so that every script reading this one stops too.
            if Interrupt.isRequested {
                outputs.append(
                    .text(
                        "interrupted: \(p.text) stopped after line \(chunk.firstLine + chunk.text.filter { $0 == "\n" }.count); the rest of it did not run"
                    ))
                break
            }
        }
        return outputs
    }

    func currentFileLabel(_ f: String?) -> String { f.map { ($0 as NSString).lastPathComponent } ?? "the prompt" }
}

extension CommandTable {
    static let exportCommands: [Command] = [
        Command(
            "export", group: .session, usage: "export FILE.html | FILE.ipynb | FILE.md | export torch DIR [debug]",
            summary: "writes the session so far as a notebook, or the GAN's networks as PyTorch modules",
            details:
                "HTML is one self-contained file (images embedded); .ipynb is Jupyter's nbformat 4; Markdown writes its images to FILE_files/ beside it. From the command line: gans FILE.gans --html OUT.html --ipynb OUT.ipynb --md OUT.md. 'export torch DIR' writes DIR/models.py (an nn.Sequential per network with the keys gans writes, so load_state_dict(strict=True) takes them; a comment per layer gives its gans text), DIR/weights.safetensors (G, D and the moving average of G; a VAE's encoder and decoder), DIR/check.safetensors (inputs and gans' outputs, which 'python models.py' compares) and DIR/README.md; with them DIR/train.py, the same training in PyTorch (GAN, conditional GAN or VAE) on one process or under torchrun (DistributedDataParallel), starting from DIR/checkpoint.safetensors (the session as 'save' writes it) and writing out/checkpoint.safetensors in the same format, which 'load gan' continues; DIR/checkpoint.py reads and writes that format, and the data go beside it as DIR/data.safetensors when they are a fixed set. 'export torch DIR debug' adds DIR/debug.safetensors: one step's gradients, not applied, with the batch and noise behind them (scripts/check-torch compares them with PyTorch's).",
            examples: ["export ring.html", "export ring.ipynb", "export torch ring-torch"],
            takes: .words(3, keywords: ["torch", "debug"])
        ) { shell, args, w, _ in
            let p = try w.word(0, "a file path ending in .html, .ipynb or .md, or torch DIR")
            if p.text == "torch" {
                let dir = try w.word(1, "a folder for the PyTorch files")
                var debug = false
                if w.positional.count > 2 {
                    let flag = try w.word(2, "debug or nothing")
                    guard flag.text == "debug" else {
                        throw ShellError(
                            .value, "export torch DIR takes 'debug' after the folder, found '\(flag.text)'",
                            at: flag.location, length: flag.length)
                    }
                    debug = true
                }
                return try shell.exportTorch(to: dir, debug: debug)
            }
            try w.noMoreThan(1)
            guard Notebook.format(of: p.text) != nil else {
                throw ShellError(
                    .value, "export writes .html, .ipynb or .md, found '\(p.text)'", at: p.location, length: p.length)
            }
            try Notebook.write(
                shell.cells, title: "gans session", to: shell.resolve(p.text), timings: shell.options.timings,
                info: shell.runInfo)
            return [.text("wrote \(shell.cells.count) cell\(shell.cells.count == 1 ? "" : "s") to \(p.text)")]
        }
    ]
}
