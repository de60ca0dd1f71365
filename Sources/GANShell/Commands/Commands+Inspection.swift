import Foundation
import GANKit
import TensorCore

extension CommandTable {
    static let inspectionCommands: [Command] = [
        Command("show", group: .inspection, usage: "show VALUE",
                summary: "shows anything: a tensor (shape, statistics, values, histogram), a network (its layers), a layer, gan, data, optG, optD",
                examples: ["show D.2.weight", "show D.2.weight.grad", "show G", "show gan", "show optD"]) { shell, args, _ in
            guard !args.isEmpty else { return try shell.variables() }
            let e = try args.expression()
            return try shell.show(try shell.evaluate(e), name: e.path)
        },
        Command("vars", aliases: ["who"], group: .inspection, usage: "vars", summary: "lists the names in the workspace",
                examples: ["vars"]) { shell, args, _ in
            try CommandWords(args, command: "vars", allowed: []).noMoreThan(0)
            return try shell.variables()
        },
        Command("sample", group: .inspection, usage: "sample [N] [fixed] [ema] [class=K | class=all] [to FILE.png | FILE.csv | FILE.txt]",
                summary: "draws N samples from the generator (16 by default): points, images or words; 'fixed' uses the fixed noise batch",
                details: "Networks run in eval mode and nothing is recorded for gradients. 'ema' samples the moving average of G (gan … ema=0.999). 'to' writes the samples: a picture (.png), points as CSV with a header x,y (.csv), words one per line (.txt). A picture shows at most 1,024 samples. For a conditional GAN, class=K asks for class K and class=all for N of each class, a row per class.",
                examples: ["sample", "sample 8", "sample 64 fixed to grid.png", "sample 8 class=3"], words: ["fixed", "ema", "to", "class="]) { shell, args, _ in
            try shell.sampleCommand(args)
        },
        Command("metrics", group: .inspection, usage: "metrics [N] [ema]",
                summary: "measures N generated samples (default 2,500 points, 1,000 images or words) with the metrics that fit the data",
                details: """
                Points of a ring or grid: modes covered and the high-quality fraction (within 3σ of a mode), as the
                reference workloads count them, plus the reverse KL of the mode histogram. Other points: the mean
                distance from each sample to its nearest real one. Labelled images: a classifier trained on four
                fifths of the data gives class coverage, KL from the data's class histogram, the classifier score and
                the Fréchet distance of its features; floor is that distance for the held-out fifth. Words: 4-gram JS
                divergence from the data (jsfloor: the same for as many real words), novelty and the well-formed
                fraction. With a conditional GAN, agreement: how often the classifier sees the class asked for.
                'ema' measures the moving average of G's weights instead of G (gan … ema=0.999; explain ema).
                """,
                examples: ["metrics", "metrics 5000", "metrics ema"], words: ["ema"]) { shell, args, _ in
            try shell.metrics(args, only: nil)
        },
        Command("modes", group: .inspection, usage: "modes [N]", summary: "modes covered and the high-quality fraction of N samples (ring and grid data)",
                examples: ["modes"]) { shell, args, _ in
            try shell.metrics(args, only: "modes")
        },
        Command("score", group: .inspection, usage: "score [N]", summary: "classifier metrics of N generated images (labelled image data)",
                examples: ["score"]) { shell, args, _ in
            try shell.metrics(args, only: "score")
        },
    ]
}

extension Interpreter {
    func show(_ v: Value, name: String?) throws -> [Output] {
        switch v {
        case .tensor(let t):
            return [.tensor(TensorView(t, name: name, histogram: true))]
        case .string(let s):
            return [.text("\"\(s)\"")]
        case .network(let n, let net):
            var table = flow(n, net)
            table.title = (table.title ?? "") + (net.training ? "" : " (eval mode)")
            return [.table(table)]
        case .layer(let n, let net, let i):
            let prefix = "\(i)."
            let rows = net.stateDict.filter { $0.name.hasPrefix(prefix) }.map { p -> [String] in
                [String(p.name.dropFirst(prefix.count)), Format.shape(p.tensor.shape), p.tensor.requiresGrad ? "parameter" : "buffer",
                 Format.number(p.tensor.sumOfSquares.squareRoot()), p.tensor.grad.map { Format.number($0.sumOfSquares.squareRoot()) } ?? ""]
            }
            let head = "\(n).\(i): \(net.layers[i].spec.text), \(Format.shape(net.inputShape(ofLayer: i))) → \(Format.shape(net.shapes[i]))"
            if rows.isEmpty { return [.text(head + ", no parameters")] }
            return [.table(Table(title: head, columns: ["name", "shape", "kind", "‖value‖", "‖grad‖"], rows: rows,
                                 rightAligned: [false, false, false, true, true]))]
        case .data(let d):
            return [.text(describe(d))]
        case .gan(let s):
            return [.text(describe(s))]
        case .optimizer(let n, let o):
            let head = "\(n): \(o.name), \(o.stepCount) update\(o.stepCount == 1 ? "" : "s"); " + o.hyperparameters.map { "\($0.name)=\(Format.number($0.value))" }.joined(separator: " ")
            let rows = o.state.map { [$0.name, Format.shape($0.tensor.shape), Format.number($0.tensor.sumOfSquares.squareRoot())] }
            if rows.isEmpty { return [.text(head + "\n(no state)")] }
            return [.table(Table(title: head, columns: ["state", "shape", "norm"], rows: rows, rightAligned: [false, false, true]))]
        }
    }

    func variables() throws -> [Output] {
        var rows: [[String]] = []
        for (k, n) in workspace.bindings.networks.sorted(by: { $0.key < $1.key }) {
            rows.append([k, "network", "\(Format.shape(n.inputShape)) → \(Format.shape(n.outputShape)), \(Format.count(n.parameterCount)) parameters"])
        }
        for (k, v) in workspace.bindings.variables.sorted(by: { $0.key < $1.key }) {
            switch v {
            case .tensor(let t): rows.append([k, "tensor", Format.shape(t.shape)])
            case .string(let s): rows.append([k, "string", "\"\(s)\""])
            default: rows.append([k, v.typeName, ""])
            }
        }
        if let d = workspace.data { rows.append(["data", "dataset", describe(d)]) }
        if let s = workspace.session {
            let vae = s.trainer.gan.model == .variational
            let names = vae ? "\(s.discriminatorName) and \(s.generatorName)" : "\(s.generatorName) and \(s.discriminatorName)"
            rows.append([vae ? "vae" : "gan", vae ? "VAE" : "GAN", "\(names), \(s.trainer.history.count) steps"])
        }
        if rows.isEmpty { return [.text("the workspace is empty: start with 'data ring8' (help for more)")] }
        return [.table(Table(columns: ["name", "kind", "value"], rows: rows))]
    }

    func sampleCommand(_ args: Arguments) throws -> [Output] {
        let s = try requireSession("sample")
        var w = try CommandWords(args, command: "sample", allowed: ["class"])
        var target: Arguments.Word? = nil
        if w.positional.count >= 2, w.positional[w.positional.count - 2].text == "to" {
            target = w.positional.removeLast()
            w.positional.removeLast()
        }
        var n = 16, fixed = false, ema = false
        for (i, word) in w.positional.enumerated() {
            switch word.text {
            case "fixed": fixed = true
            case "ema": ema = true
            default:
                n = try w.int(i, "a number of samples, 'fixed' or 'ema'")
            }
        }
        let t = s.trainer
        if ema { _ = try movingAverage(s) }   // says why there is none
        // class=K asks a conditional GAN for one class; class=all gives N of each, a row per class.
        var labels: Tensor? = nil, perRow: Int? = nil
        if let c = w.options.last(where: { $0.key == "class" }) {
            guard t.gan.conditioning != nil, let classes = s.data.source.classCount else {
                throw ShellError(.value, "sample class=…: this GAN is not conditional (assemble it with 'gan G D cond=onehot' on labelled data)", at: c.word.location, length: c.word.length)
            }
            guard !fixed else { throw ShellError(.value, "sample class=… draws fresh noise; leave out 'fixed'", at: c.word.location, length: c.word.length) }
            if c.value == "all" {
                labels = Tensor((0..<(classes * n)).map { Float($0 / n) })
                perRow = n
                n *= classes
            } else {
                guard let k = Int(c.value), k >= 0, k < classes else {
                    throw ShellError(.value, "sample class=K: K is a class from 0 to \(classes - 1), or all; found '\(c.value)'", at: c.word.location, length: c.word.length)
                }
                labels = Tensor(full: Float(k), shape: [n])
            }
        }
        var x: Tensor
        if fixed {
            x = try t.fixedSamples(useEMA: ema)
            if n < x.shape[0] { x = try x.slice(axis: 0, start: 0, end: n) }
        } else {
            x = try generate(s, n, ema: ema, labels: labels)
        }
        // A picture shows at most maxShown samples: more would be too small to see and costly to draw.
        var note: [Output] = []
        let maxShown = 1024
        if x.shape[0] > maxShown, !(s.data.kind == .points) {
            note = [.text("showing the first \(Format.count(maxShown)) of \(Format.count(x.shape[0])) samples")]
            x = try x.slice(axis: 0, start: 0, end: maxShown)
        }
        var out = Output.samples(view(x, s.data))
        if let perRow, case .samples(.images(let images)) = out {
            out = .images(ImageGrid(title: "\(perRow) of each class, a row per class", images: images, columns: perRow))
        }
        guard let target else { return note + [out] }
        // Numbers and words are written as they are: points as CSV, words as lines of text.
        let lower = target.text.lowercased()
        if lower.hasSuffix(".csv") || lower.hasSuffix(".txt") {
            let text: String
            switch view(x, s.data) {
            case .words(let words) where lower.hasSuffix(".txt"): text = words.joined(separator: "\n") + "\n"
            case .points(let g, _) where lower.hasSuffix(".csv"): text = "x,y\n" + (try Interpreter.csv(g))
            case .values(let v) where lower.hasSuffix(".csv") && v.rank <= 2: text = try Interpreter.csv(v)
            default:
                throw ShellError(.value, "sample … to FILE: these samples are written as " + (s.data.kind == .images ? ".png" : s.data.kind == .points ? ".csv or .png" : ".txt")
                                 + ", found '\(target.text)'", at: target.location, length: target.length)
            }
            try AtomicFile.write(Array(text.utf8), to: resolve(target.text))
            return note + [out, .text("wrote \(Format.count(x.shape[0])) samples to \(target.text)")]
        }
        var picture = out
        if case .samples(.points(let g, _)) = out {
            picture = .figure(PNGRenderer.scatter(generated: g, real: try s.data.realSamples(g.shape[0]), title: "\(g.shape[0]) samples, \(stepLabel(s))"))
        }
        return note + [out, try writePNG(picture, to: target)]
    }

    func view(_ x: Tensor, _ d: DataEntry) -> SampleView {
        switch d.kind {
        case .points where x.rank == 2 && x.shape[1] == 2:
            return .points(generated: x, real: nil)
        case .images where x.rank == 4:
            return .images(d.kind.denormalized(x))
        case .sequences(let code):
            if let words = try? code.decode(oneHot: x) { return .words(words.map { $0.isEmpty ? "(empty)" : $0 }) }
            return .values(x)
        default:
            return .values(x)
        }
    }

    /// One measured value: its name in `expect`, what it is, and how it prints.
    struct Measure {
        var key: String
        var label: String
        var value: Float
        var shown: String
    }

    /// The measures that fit the GAN's data, on n generated samples.
    func measure(_ s: Session, n: Int, ema: Bool = false) throws -> (title: String, values: [Measure]) {
        let d = s.data
        let x = try generate(s, n, ema: ema)
        func m(_ key: String, _ label: String, _ v: Float, _ shown: String? = nil) -> Measure {
            Measure(key: key, label: label, value: v, shown: shown ?? Format.number(v))
        }
        switch d.kind {
        case .points:
            if let mix = d.mixture {
                let c = mix.coverage(x)
                var out = [m("modes", "modes covered", Float(c.modes), "\(c.modes)/\(mix.centers.count)"),
                           m("hq", "high-quality fraction (within 3σ of a mode)", c.highQuality, Format.number(c.highQuality * 100, digits: 3) + "%")]
                if let kl = mix.reverseKL(x) { out.append(m("kl", "reverse KL of the mode histogram", Float(kl))) }
                return ("\(Format.count(n)) samples; per mode: " + c.perMode.map(String.init).joined(separator: " "), out)
            }
            let real = try d.realSamples(min(n, 5000))
            return ("\(Format.count(n)) samples", [m("nearest", "mean distance to the nearest real sample", try SampleMetrics.meanNearestDistance(x, training: real))])
        case .images:
            guard let set = d.samples, set.classCount != nil else { throw ShellError(.value, "the metrics of images need labelled data; \(d.name) has no labels") }
            // The classifier learns from four fifths of the data; the held-out fifth,
            // scored the same way, is the floor a perfect generator would reach (docs/data.md).
            let (trainPart, heldOut) = try set.split(heldOut: 0.2, seed: 0)
            let classifier = try ImageClassifier.cached(for: trainPart)
            let sc = try classifier.scores(x, real: trainPart)
            var out = [m("coverage", "classes covered", Float(sc.coverage), "\(sc.coverage)/\(classifier.classes)"),
                       m("classkl", "KL from the data's class histogram", Float(sc.klFromData)),
                       m("score", "classifier score", Float(sc.score)),
                       m("frechet", "Fréchet distance of classifier features", Float(sc.frechet))]
            try Interrupt.check()
            let floor = try classifier.scores(heldOut.samples, real: trainPart).frechet
            out.append(m("floor", "the same distance for \(Format.count(heldOut.count)) held-out real images", Float(floor)))
            if s.trainer.gan.conditioning != nil {
                // G was asked for classes 0, 1, 2, … in turn (see `generate`).
                let predicted = try classifier.probabilities(x).argmax(axis: -1).scalars
                let classes = max(s.trainer.gan.data.classCount ?? 1, 1)
                let agree = predicted.enumerated().filter { Int($0.element) == $0.offset % classes }.count
                out.append(m("agreement", "classifier agrees with the requested class", Float(agree) / Float(n),
                             Format.number(Float(agree) / Float(n) * 100, digits: 3) + "%"))
            }
            return ("\(Format.count(n)) samples, judged by a classifier trained on \(d.name)", out)
        case .sequences(let code):
            let generated = try code.decode(oneHot: x)
            try Interrupt.check()
            let realWords: [String]
            if let words = d.words { realWords = words } else if let set = d.samples {
                realWords = try code.decode(oneHot: try set.samples.slice(axis: 0, start: 0, end: min(set.count, 5000)))
            } else { realWords = [] }
            let js = Float(TextMetrics.ngramJS(generated, realWords, n: 4))
            let novelty = Float(TextMetrics.novelty(generated, training: Set(realWords)))
            var out = [m("js", "4-gram JS divergence from the data", js), m("novelty", "novel (not in the data)", novelty, Format.number(novelty * 100, digits: 3) + "%")]
            if !realWords.isEmpty {
                // The same divergence for as many real words: what sampling alone gives.
                let sample = Random.permutation(realWords.count).prefix(generated.count).map { realWords[$0] }
                out.append(m("jsfloor", "the same divergence for \(Format.count(sample.count)) real words", Float(TextMetrics.ngramJS(sample, realWords, n: 4))))
            }
            if d.name == "names" {
                let wf = Float(TextMetrics.wellFormedNames(generated))
                out.append(m("wellformed", "well formed", wf, Format.number(wf * 100, digits: 3) + "%"))
            }
            return ("\(Format.count(n)) generated sequences", out)
        }
    }

    func defaultSampleCount(_ s: Session) -> Int {
        if case .points = s.data.kind { return 2500 }
        return 1000
    }

    func metrics(_ args: Arguments, only: String?) throws -> [Output] {
        let s = try requireSession(only ?? "metrics")
        let w = try CommandWords(args, command: only ?? "metrics", allowed: [])
        var positional = w.positional
        let ema = positional.last?.text == "ema"
        if ema { positional.removeLast() }
        guard positional.count <= 1 else {
            throw ShellError(.syntax, "\(only ?? "metrics"): unexpected '\(positional[1].text)'; \(only ?? "metrics") [N] [ema]", at: positional[1].location, length: positional[1].length)
        }
        let n = positional.isEmpty ? defaultSampleCount(s) : try w.int(0, "a number of samples")
        guard n <= 100_000 else { throw ShellError(.limit, "metrics take at most 100,000 samples, found \(Format.count(n))") }
        switch (only, s.data.kind) {
        case ("modes", _) where s.data.mixture == nil:
            throw ShellError(.value, "modes: \(s.data.name) has no known modes (ring and grid data have); 'metrics' picks the measures that fit")
        case ("score", let k) where k != .images:
            throw ShellError(.value, "score: the classifier metrics need labelled images; 'metrics' picks the measures that fit \(s.data.name)")
        default: break
        }
        let (title, values) = try measure(s, n: n, ema: ema)
        return [.table(Table(title: title + (ema ? " (the moving average of \(s.generatorName))" : ""), columns: ["metric", "value", "name"], rows: values.map { [$0.label, $0.shown, $0.key] },
                             rightAligned: [false, true, false]))]
    }
}

extension CommandTable {
    static let metricNames = ["modes", "hq", "kl", "nearest", "coverage", "classkl", "score", "frechet", "floor", "agreement", "js", "jsfloor", "novelty", "wellformed"]

    static let expectCommands: [Command] = [
        Command("expect", group: .inspection, usage: "expect METRIC OP NUMBER [n=N] [ema] | expect EXPR",
                summary: "checks a measured result and fails (the script stops) when it does not hold",
                details: """
                METRIC is one of the names 'metrics' shows (modes, hq, kl, nearest, coverage, classkl, score,
                frechet, floor, agreement, js, jsfloor, novelty, wellformed), measured on N generated samples (as 'metrics'
                does by default), or a statistic of the last step (dloss, gloss, dx, dgz, w, penalty, gnorm, dnorm; these are
                names in any expression too: g0 = gnorm). A trailing 'ema' measures the moving average of G. OP is one of
                < <= > >= == !=. hq, novelty, wellformed and agreement are fractions: expect hq >= 0.95.
                Any other expression holds when every element of its value is non-zero: expect mean(x) < 1.
                """,
                examples: ["expect modes >= 8", "expect hq >= 0.9 n=5000", "expect dx > dgz", "expect norm(D.0.weight) < 100"],
                words: metricNames + Workspace.statisticNames + ["n=", "ema"]) { shell, args, _ in
            try shell.expect(args)
        },
    ]
}

extension Interpreter {
    func expect(_ args: Arguments) throws -> [Output] {
        guard !args.isEmpty else { throw ShellError(.syntax, "expect: a condition expected, as in 'expect modes >= 8'", at: args.end) }
        var tokens = args.tokens
        var n: Int? = nil, ema = false
        // A trailing n=N chooses the sample count of metrics, and 'ema' the moving average of G (in either order).
        for _ in 0..<2 {
            if tokens.count >= 3, tokens[tokens.count - 3].identifier == "n", tokens[tokens.count - 2].isSymbol("="),
               let v = tokens[tokens.count - 1].number, v >= 1, v <= 100_000, v == v.rounded(), tokens[tokens.count - 3].spaceBefore {
                n = Int(v)
                tokens.removeLast(3)
            } else if tokens.count >= 2, tokens[tokens.count - 1].identifier == "ema", tokens[tokens.count - 1].spaceBefore,
                      workspace.bindings.variables["ema"] == nil {
                ema = true
                tokens.removeLast()
            }
        }
        var p = Parser(tokens: tokens + [args.end], source: args.source)
        let e = try p.expression()
        guard p.peek.isEnd else { throw ShellError(.syntax, "expect: end of the condition expected, found '\(p.peek.text)'", at: p.peek) }
        // Metric and step names are values here, measured once.
        var measured: [String: Float] = [:]
        var shown: [String: String] = [:]
        func names(in e: Expr) -> [String] {
            switch e {
            case .name(let n, _): return [n]
            case .unary(_, let x, _): return names(in: x)
            case .binary(_, let a, let b, _): return names(in: a) + names(in: b)
            case .call(_, let xs, _): return xs.flatMap { names(in: $0.value) }
            case .index(let x, _, _), .attribute(let x, _, _): return names(in: x)
            case .list(let xs, _): return xs.flatMap(names)
            default: return []
            }
        }
        let used = Set(names(in: e)).filter { workspace.bindings.variables[$0] == nil && workspace.bindings.networks[$0] == nil }
        let wantedMetrics = used.intersection(CommandTable.metricNames)
        if !wantedMetrics.isEmpty {
            let s = try requireSession("expect")
            let (_, values) = try measure(s, n: n ?? defaultSampleCount(s), ema: ema)
            for v in values { measured[v.key] = v.value; shown[v.key] = v.shown }
            for name in wantedMetrics where measured[name] == nil {
                throw ShellError(.value, "expect: '\(name)' is not measured for \(s.data.name); it has " + values.map(\.key).joined(separator: ", "))
            }
        }
        for name in used.intersection(Workspace.statisticNames) {
            let s = try requireSession("expect")
            guard let v = Workspace.lastStatistic(name, s.trainer.history) else { throw ShellError(.value, "expect: no step has recorded \(name) yet") }
            measured[name] = v
            shown[name] = Format.number(v)
        }
        let saved = workspace.bindings.variables
        defer { workspace.bindings.variables = saved }
        for (k, v) in measured { workspace.bindings.variables[k] = .tensor(Tensor(v)) }
        let value = try tensor(e, "a condition")
        let holds = value.count > 0 && value.scalars.allSatisfy { $0 != 0 && !$0.isNaN }
        let text = args.rawText()
        let values = measured.keys.filter(used.contains).sorted().map { "\($0) is \(shown[$0]!)" }.joined(separator: ", ")
        guard holds else {
            throw ShellError(.value, "expectation failed: \(text)" + (values.isEmpty ? "" : " (\(values))"))
        }
        return [.text("ok: \(text)" + (values.isEmpty ? "" : " (\(values))"))]
    }
}
