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
        Command("sample", group: .inspection, usage: "sample [N] [fixed] [ema] [to FILE.png]",
                summary: "draws N samples from the generator (16 by default): points, images or words; 'fixed' uses the fixed noise batch",
                details: "Networks run in eval mode and nothing is recorded for gradients. 'ema' samples the moving average of G (gan … ema=0.999).",
                examples: ["sample", "sample 8", "sample 64 fixed to grid.png"], words: ["fixed", "ema", "to"]) { shell, args, _ in
            try shell.sampleCommand(args)
        },
        Command("metrics", group: .inspection, usage: "metrics [N]",
                summary: "measures N generated samples (default 2,500 points, 1,000 images or words) with the metrics that fit the data",
                details: """
                Points of a ring or grid: modes covered and the high-quality fraction (within 3σ of a mode), as the
                reference workloads count them, plus the reverse KL of the mode histogram. Other points: the mean
                distance from each sample to its nearest real one. Labelled images: a classifier trained on the data
                gives class coverage, KL from the data's class histogram, the classifier score and the Fréchet distance
                of its features. Words: 4-gram JS divergence from the data, novelty and the well-formed fraction.
                """,
                examples: ["metrics", "metrics 5000"]) { shell, args, _ in
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
            rows.append(["gan", "GAN", "\(s.generatorName) and \(s.discriminatorName), \(s.trainer.history.count) steps"])
        }
        if rows.isEmpty { return [.text("the workspace is empty: start with 'data ring8' (help for more)")] }
        return [.table(Table(columns: ["name", "kind", "value"], rows: rows))]
    }

    func sampleCommand(_ args: Arguments) throws -> [Output] {
        let s = try requireSession("sample")
        var w = try CommandWords(args, command: "sample", allowed: [])
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
        guard !ema || t.ema != nil else { throw ShellError(.value, "sample ema: there is no moving average of G; set one with 'set ema 0.999'") }
        var x: Tensor
        if fixed {
            x = try t.fixedSamples(useEMA: ema)
            if n < x.shape[0] { x = try x.slice(axis: 0, start: 0, end: n) }
        } else if ema, let e = t.ema {
            try Tensor.checkShape([n] + e.outputShape, op: "sample")
            let labels = t.gan.conditioning != nil ? Tensor((0..<n).map { Float($0 % max(t.gan.data.classCount ?? 1, 1)) }) : nil
            x = try withNoGrad { try t.gan.generate(t.gan.sampleNoise(n), labels: labels, using: e) }
        } else {
            x = try generate(s, n)
        }
        let out = Output.samples(view(x, s.data))
        guard let target else { return [out] }
        var picture = out
        if case .samples(.points(let g, _)) = out {
            picture = .figure(PNGRenderer.scatter(generated: g, real: try s.data.realSamples(g.shape[0]), title: "\(g.shape[0]) samples, \(stepLabel(s))"))
        }
        return [out, try writePNG(picture, to: target)]
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

    func metrics(_ args: Arguments, only: String?) throws -> [Output] {
        let s = try requireSession(only ?? "metrics")
        let w = try CommandWords(args, command: only ?? "metrics", allowed: [])
        try w.noMoreThan(1)
        let d = s.data
        let defaultCount: Int
        switch d.kind { case .points: defaultCount = 2500; default: defaultCount = 1000 }
        let n = w.positional.isEmpty ? defaultCount : try w.int(0, "a number of samples")
        guard n <= 100_000 else { throw ShellError(.limit, "metrics take at most 100,000 samples, found \(Format.count(n))") }
        func unsupported(_ what: String) -> ShellError {
            ShellError(.value, "\(only ?? "metrics"): \(what); 'metrics' picks the measures that fit \(d.name)")
        }
        let x = try generate(s, n)
        switch d.kind {
        case .points:
            if let m = d.mixture {
                let c = m.coverage(x)
                var lines = ["modes \(c.modes)/\(m.centers.count), high quality \(Format.number(c.highQuality * 100, digits: 3))% of \(Format.count(n)) samples"]
                if let kl = m.reverseKL(x) { lines.append("reverse KL of the mode histogram \(Format.number(kl))") }
                lines.append("per mode: " + c.perMode.map(String.init).joined(separator: " "))
                return [.text(lines.joined(separator: "\n"))]
            }
            guard only != "modes" else { throw unsupported("\(d.name) has no known modes") }
            guard only == nil else { throw unsupported("the classifier metrics need labelled images") }
            let real = try d.realSamples(min(n, 5000))
            let dist = try SampleMetrics.meanNearestDistance(x, training: real)
            return [.text("mean distance to the nearest real sample \(Format.number(dist)) (\(Format.count(n)) samples)")]
        case .images:
            guard only != "modes" else { throw unsupported("modes are counted for ring and grid data") }
            guard let set = d.samples, set.classCount != nil else { throw unsupported("the classifier metrics need labelled images") }
            let classifier = try ImageClassifier.cached(for: set)
            let sc = try classifier.scores(x, real: set)
            return [.table(Table(title: "\(Format.count(n)) samples, judged by a classifier trained on \(d.name)",
                                 columns: ["metric", "value"],
                                 rows: [["classes covered", "\(sc.coverage)/\(classifier.classes)"],
                                        ["KL from the data's class histogram", Format.number(sc.klFromData)],
                                        ["classifier score", Format.number(sc.score)],
                                        ["Fréchet distance of features", Format.number(sc.frechet)]],
                                 rightAligned: [false, true]))]
        case .sequences(let code):
            guard only == nil else { throw unsupported("\(d.name) holds text") }
            let generated = try code.decode(oneHot: x)
            let realWords: [String]
            if let words = d.words { realWords = words } else if let set = d.samples {
                realWords = try code.decode(oneHot: try set.samples.slice(axis: 0, start: 0, end: min(set.count, 5000)))
            } else { realWords = [] }
            let js = TextMetrics.ngramJS(generated, realWords, n: 4)
            let novelty = TextMetrics.novelty(generated, training: Set(realWords))
            var rows = [["4-gram JS divergence from the data", Format.number(js)], ["novel (not in the data)", Format.number(novelty * 100, digits: 3) + "%"]]
            if d.name == "names" { rows.append(["well formed", Format.number(TextMetrics.wellFormedNames(generated) * 100, digits: 3) + "%"]) }
            return [.table(Table(title: "\(Format.count(n)) generated sequences", columns: ["metric", "value"], rows: rows, rightAligned: [false, true]))]
        }
    }
}
