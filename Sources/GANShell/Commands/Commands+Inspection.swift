import Foundation
import GANKit
import TensorCore

extension CommandTable {
    static let inspectionCommands: [Command] = [
        Command(
            "show", group: .inspection, usage: "show VALUE",
            summary:
                "shows anything: a tensor (shape, statistics, values, histogram), a network (its layers), a layer, gan, data, optG, optD",
            examples: ["show D.2.weight", "show D.2.weight.grad", "show G", "show gan", "show optD"],
            takes: .own()
        ) { shell, args, w, _ in
            guard !args.isEmpty else { return try shell.variables() }
            let e = try args.expression()
            return try shell.show(try shell.evaluate(e), name: e.path)
        },
        Command(
            "vars", aliases: ["who"], group: .inspection, usage: "vars", summary: "lists the names in the workspace",
            examples: ["vars"],
            takes: .nothing
        ) { shell, args, w, _ in
            return try shell.variables()
        },
        Command(
            "sample", group: .inspection,
            usage: "sample [N] [fixed] [ema] [class=K | class=all] [to FILE] | sample EXPR [to FILE]",
            summary:
                "draws N samples from the generator (16 by default): points, images or words; 'fixed' uses the fixed noise batch",
            details:
                "Networks run in eval mode and nothing is recorded for gradients. 'ema' samples the moving average of G (gan … ema=0.999). 'to' writes the samples: a picture (.png), points as CSV with a header x,y (.csv), words one per line (.txt). A picture shows at most 1,024 samples. For a conditional GAN, class=K asks for class K and class=all for N of each class, a row per class. 'sample EXPR' draws a tensor of the data's shape (a batch [N, …] or one sample) as samples are drawn: images as a grid, points as a scatter, one-hot sequences as words.",
            examples: [
                "sample", "sample 8", "sample 64 fixed to grid.png", "sample 8 class=3", "sample G(randn(8, 32))"
            ],
            takes: .own(keywords: ["fixed", "ema", "to"], options: ["class"])
        ) { shell, args, w, _ in
            try shell.sampleCommand(args)
        },
        Command(
            "metrics", group: .inspection, usage: "metrics [N] [ema] [class=K | class=all]",
            summary:
                "measures N generated samples (default 2,500 points, 1,000 images or words) with the metrics that fit the data",
            details: """
                Points of a ring or grid: modes covered and the high-quality fraction (within 3σ of a mode), as the
                reference workloads count them, plus the reverse KL of the mode histogram. Other points: the mean
                distance from each sample to its nearest real one. Labelled images: a classifier trained on four
                fifths of the data gives class coverage, KL from the data's class histogram, the classifier score and
                the Fréchet distance of its features; floor is that distance for the held-out fifth. Words: 4-gram JS
                divergence from the data (jsfloor: the same for as many real words), novelty and the well-formed
                fraction. With a conditional GAN, agreement: how often the classifier sees the class asked for;
                class=K measures N samples of class K (1,000), class=all N of each class (200), a row per class:
                agreement, the Fréchet distance to that class's real images, and its floor from the class's
                held-out images (few, so the floor is rough).
                'ema' measures the moving average of G's weights instead of G (gan … ema=0.999; explain ema).
                """,
            examples: ["metrics", "metrics 5000", "metrics ema", "metrics class=all"],
            takes: .words(2, keywords: ["ema"], options: ["class"])
        ) { shell, args, w, _ in
            try shell.metrics(w, only: nil)
        },
        Command(
            "modes", group: .inspection, usage: "modes [N]",
            summary: "modes covered and the high-quality fraction of N samples (ring and grid data)",
            examples: ["modes"],
            takes: .words(2, keywords: ["ema"])
        ) { shell, args, w, _ in
            try shell.metrics(w, only: "modes")
        },
        Command(
            "score", group: .inspection, usage: "score [N]",
            summary: "classifier metrics of N generated images (labelled image data)",
            examples: ["score"],
            takes: .words(2, keywords: ["ema"])
        ) { shell, args, w, _ in
            try shell.metrics(w, only: "score")
        }
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
                [
                    String(p.name.dropFirst(prefix.count)), Format.shape(p.tensor.shape),
                    p.tensor.requiresGrad ? "parameter" : "buffer",
                    Format.number(p.tensor.sumOfSquares.squareRoot()),
                    p.tensor.grad.map { Format.number($0.sumOfSquares.squareRoot()) } ?? ""
                ]
            }
            let head =
                "\(n).\(i): \(net.layers[i].spec.text), \(Format.shape(net.inputShape(ofLayer: i))) → \(Format.shape(net.shapes[i]))"
            if rows.isEmpty { return [.text(head + ", no parameters")] }
            return [
                .table(
                    Table(
                        title: head, columns: ["name", "shape", "kind", "‖value‖", "‖grad‖"], rows: rows,
                        rightAligned: [false, false, false, true, true]))
            ]
        case .data(let d):
            return [.text(describe(d))]
        case .gan(let s):
            return [.text(describe(s))]
        case .optimizer(let n, let o):
            let head =
                "\(n): \(o.name), \(o.stepCount) update\(o.stepCount == 1 ? "" : "s"); "
                + o.hyperparameters.map { "\($0.name)=\(Format.number($0.value))" }.joined(separator: " ")
            let rows = o.state.map {
                [$0.name, Format.shape($0.tensor.shape), Format.number($0.tensor.sumOfSquares.squareRoot())]
            }
            if rows.isEmpty { return [.text(head + "\n(no state)")] }
            return [
                .table(
                    Table(
                        title: head, columns: ["state", "shape", "norm"], rows: rows, rightAligned: [false, false, true]
                    ))
            ]
        }
    }

    func variables() throws -> [Output] {
        var rows: [[String]] = []
        for (k, n) in workspace.bindings.networks.sorted(by: { $0.key < $1.key }) {
            rows.append([
                k, "network",
                "\(Format.shape(n.inputShape)) → \(Format.shape(n.outputShape)), \(Format.count(n.parameterCount)) parameters"
            ])
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
            let model = s.trainer.model.kind
            let names =
                model.partnerFirst
                ? "\(s.partnerName) and \(s.generatorName)" : "\(s.generatorName) and \(s.partnerName)"
            rows.append([model.rawValue, model.name, "\(names), \(s.trainer.history.count) steps"])
        }
        if rows.isEmpty { return [.text("the workspace is empty: start with 'data ring8' (help for more)")] }
        return [.table(Table(columns: ["name", "kind", "value"], rows: rows))]
    }

    func sampleCommand(_ args: Arguments) throws -> [Output] {
        var words = args.words
        var target: Arguments.Word? = nil
        if words.count >= 2, words[words.count - 2].text == "to" {
            target = words.removeLast()
            words.removeLast()
        }
        // sample EXPR: a tensor of the data's shape, drawn as samples are.
        if let first = words.first, first.int == nil, !["fixed", "ema"].contains(first.text), first.option == nil {
            let (x, d) = try tensorAsSamples(args, from: first, before: target, command: "sample")
            return try showSamples(x, d, perRow: nil, title: nil, note: [], to: target)
        }
        let s = try requireSession("sample")
        var w = try CommandWords(args, command: "sample", allowed: ["class"])
        if target != nil { w.positional.removeLast(2) }
        var n = 16, fixed = false, ema = false, counted = false
        for (i, word) in w.positional.enumerated() {
            switch word.text {
            case "fixed": fixed = true
            case "ema": ema = true
            default:
                // One count: 'sample 4 3' is a mistake (a class is asked for with class=3).
                guard !counted else {
                    throw ShellError(
                        .syntax,
                        "sample: one number of samples, found a second '\(word.text)'"
                            + (s.trainer.model.conditioning != nil
                                ? "; a class is asked for with class=\(word.text)" : ""),
                        at: word.location, length: word.length)
                }
                n = try w.int(i, "a number of samples, 'fixed' or 'ema'")
                counted = true
            }
        }
        let t = s.trainer
        if ema { _ = try movingAverage(s) }  // says why there is none
        // class=K asks a conditional GAN for one class; class=all gives N of each, a row per class.
        var labels: Tensor? = nil, perRow: Int? = nil
        if let c = w.options.last(where: { $0.key == "class" }) {
            guard !fixed else {
                throw ShellError(
                    .value, "sample class=… draws fresh noise; leave out 'fixed'", at: c.word.location,
                    length: c.word.length)
            }
            (labels, perRow, n) = try classLabels(s, c.value, c.word, n: n, command: "sample")
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
        return try showSamples(
            x, s.data, perRow: perRow,
            title:
                "\(x.shape[0]) samples\(ema ? " of the moving average" : "")\(fixed ? " from the fixed noise" : ""), \(stepLabel(s))",
            note: note, to: target)
    }

    /// Samples as the terminal shows them, and written to `target` if one was given: a picture
    /// (.png), points or numbers as CSV (.csv), words one per line (.txt).
    func showSamples(
        _ x: Tensor, _ d: DataEntry, perRow: Int?, title: String?, note: [Output], to target: Arguments.Word?
    ) throws -> [Output] {
        var out = Output.samples(view(x, d))
        if case .samples(.images(let images)) = out {
            // An image grid says what it shows and when, in the terminal and in a notebook.
            let what = perRow.map { "\($0) of each class, a row per class" }
            let heading = [title, what].compactMap { $0 }.joined(separator: "; ")
            if !heading.isEmpty || perRow != nil {
                out = .images(ImageGrid(title: heading, images: images, columns: perRow))
            }
        }
        guard let target else { return note + [out] }
        let lower = target.text.lowercased()
        if lower.hasSuffix(".csv") || lower.hasSuffix(".txt") {
            try AtomicFile.write(Array(try samplesText(x, d, lower, target).utf8), to: resolve(target.text))
            return note + [out, .text("wrote \(Format.count(x.shape[0])) samples to \(target.text)")]
        }
        var picture = out
        if case .samples(.points(let g, _)) = out {
            picture = .figure(
                Figure.scatter(
                    generated: g, real: try d.realSamples(g.shape[0]), title: title ?? "\(g.shape[0]) samples"))
        }
        return note + [out, try writePicture(picture, to: target)]
    }

    /// Numbers and words as they are: points or numbers as CSV, words as lines of text.
    func samplesText(_ x: Tensor, _ d: DataEntry, _ lower: String, _ target: Arguments.Word) throws -> String {
        switch view(x, d) {
        case .words(let words) where lower.hasSuffix(".txt"): return words.joined(separator: "\n") + "\n"
        case .points(let g, _) where lower.hasSuffix(".csv"): return "x,y\n" + (try Interpreter.csv(g))
        case .values(let v) where lower.hasSuffix(".csv") && v.rank <= 2: return try Interpreter.csv(v)
        default:
            throw ShellError(
                .value,
                "… to FILE: these samples are written as "
                    + (d.kind == .images ? ".png" : d.kind == .points ? ".csv or .png" : ".txt or .png")
                    + ", found '\(target.text)'", at: target.location, length: target.length)
        }
    }

    /// `class=K` (a class from 0) or `class=all` (n of each, a row per class) of a conditional GAN.
    func classLabels(_ s: Session, _ value: String, _ word: Arguments.Word, n: Int, command: String) throws -> (
        labels: Tensor, perRow: Int?, n: Int
    ) {
        guard s.trainer.model.conditioning != nil, let classes = s.data.source.classCount else {
            throw ShellError(
                .value,
                "\(command) class=…: this GAN is not conditional (assemble it with 'gan G D cond=onehot' on labelled data)",
                at: word.location, length: word.length)
        }
        if value == "all" {
            guard n <= 100_000 / classes else {
                throw ShellError(
                    .limit,
                    "\(command) class=all: \(Format.count(n)) of each of \(classes) classes is more than 100,000 samples",
                    at: word.location, length: word.length)
            }
            return (Tensor((0..<(classes * n)).map { Float($0 / n) }), n, n * classes)
        }
        guard let k = Int(value), k >= 0, k < classes else {
            throw ShellError(
                .value, "\(command) class=K: K is a class from 0 to \(classes - 1), or all; found '\(value)'",
                at: word.location, length: word.length)
        }
        return (Tensor(full: Float(k), shape: [n]), nil, n)
    }

    /// The expression that starts at `first` (and ends before `to FILE`), as a batch of the data's samples.
    func tensorAsSamples(_ args: Arguments, from first: Arguments.Word, before target: Arguments.Word?, command: String)
        throws -> (Tensor, DataEntry)
    {
        let e = try trailingExpression(args, from: first, before: target)
        return try asSamples(try tensor(e), command: command, at: e.token)
    }

    /// A tensor as a batch of the data's samples (one sample becomes a batch of one).
    func asSamples(_ t: Tensor, command: String, at token: Token) throws -> (Tensor, DataEntry) {
        guard let d = workspace.session?.data ?? workspace.data else {
            throw ShellError(
                .value, "\(command): a tensor is drawn as samples of the data; load data first ('data digits')",
                at: token)
        }
        let shape = d.source.sampleShape
        if t.shape == shape { return (try t.reshaped(to: [1] + shape), d) }
        guard t.rank == shape.count + 1, Array(t.shape.dropFirst()) == shape, t.shape[0] >= 1 else {
            throw ShellError(
                .shape,
                "\(command): a batch of \(d.name)'s samples [N, \(shape.map(String.init).joined(separator: ", "))] (or one sample \(Format.shape(shape))) expected, found \(Format.shape(t.shape))",
                at: token)
        }
        guard t.shape[0] <= 1024 || d.kind == .points else {
            throw ShellError(
                .limit,
                "\(command): at most 1,024 images or words are drawn, found \(Format.count(t.shape[0])); slice it (x[0:64])",
                at: token)
        }
        return (t, d)
    }

    /// The words of `args` from `first` up to `to FILE`, parsed as one expression.
    func trailingExpression(_ args: Arguments, from first: Arguments.Word, before target: Arguments.Word?) throws
        -> Expr
    {
        guard let i = args.tokens.firstIndex(where: { $0.offset == first.first.offset }) else {
            throw ShellError(.syntax, "an expression expected", at: args.end)
        }
        let end = target.map { t in args.tokens.firstIndex { $0.offset == t.first.offset }! - 1 } ?? args.tokens.count
        // The expression ends where 'to FILE' starts: an end token there, so nothing reads past it.
        var stop = args.end
        if args.tokens.indices.contains(end) {
            stop.location = args.tokens[end].location; stop.offset = args.tokens[end].offset; stop.text = ""
        }
        var sub = Parser(tokens: Array(args.tokens[i..<end]) + [stop], source: args.source)
        let e = try sub.expression()
        if sub.position < end - i {
            let extra = args.tokens[i + sub.position]
            throw ShellError(.syntax, "unexpected '\(extra.text)' after the expression", at: extra)
        }
        return e
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

    /// One measured value (GANKit's `Measure`) and how it prints.
    struct Measured {
        var measure: Measure
        var shown: String
        var key: String { measure.key }
        var label: String { measure.kind.label(count: measure.count.map(Format.count)) }
        var value: Float { measure.value }
    }

    /// The measures that fit the GAN's data, on n generated samples: GANKit measures, the shell formats.
    func measure(_ s: Session, n: Int, ema: Bool = false) throws -> (title: String, values: [Measured]) {
        let d = s.data
        let x = try generate(s, n, ema: ema)
        // A conditional G was asked for classes 0, 1, 2, … in turn (see `generate`).
        let classes = s.trainer.model.conditioning != nil ? max(s.trainer.model.data.classCount ?? 1, 1) : nil
        let data = MeasureData(
            name: d.name, kind: d.kind, mixture: d.mixture, samples: d.samples, words: d.words,
            realSamples: d.realSamples)
        let (context, values): (MeasureContext, [Measure])
        do { (context, values) = try Measures.measure(x, against: data, requestedClasses: classes) } catch let e
            as MeasureError
        {
            throw ShellError(.value, e.description)
        }
        let title: String
        switch context {
        case .modes(let perMode):
            title = "\(Format.count(n)) samples; per mode: " + perMode.map(String.init).joined(separator: " ")
        case .points: title = "\(Format.count(n)) samples"
        case .classifier(let name): title = "\(Format.count(n)) samples, judged by a classifier trained on \(name)"
        case .sequences: title = "\(Format.count(n)) generated sequences"
        }
        return (
            title,
            values.map { m in
                switch m.reading {
                case .plain: return Measured(measure: m, shown: Format.number(m.value))
                case .percent: return Measured(measure: m, shown: Format.number(m.value * 100, digits: 3) + "%")
                case .outOf(let total): return Measured(measure: m, shown: "\(Int(m.value))/\(total)")
                }
            }
        )
    }

    func defaultSampleCount(_ s: Session) -> Int {
        if case .points = s.data.kind { return 2500 }
        return 1000
    }

    func metrics(_ w: CommandWords, only: String?) throws -> [Output] {
        let s = try requireSession(only ?? "metrics")
        if let c = w.options.last { return try classMetrics(s, w, c) }
        var positional = w.positional
        let ema = positional.last?.text == "ema"
        if ema { positional.removeLast() }
        guard positional.count <= 1 else {
            throw ShellError(
                .syntax, "\(only ?? "metrics"): unexpected '\(positional[1].text)'; \(only ?? "metrics") [N] [ema]",
                at: positional[1].location, length: positional[1].length)
        }
        let n = positional.isEmpty ? defaultSampleCount(s) : try w.int(0, "a number of samples")
        guard n <= 100_000 else {
            throw ShellError(.limit, "metrics take at most 100,000 samples, found \(Format.count(n))")
        }
        switch (only, s.data.kind) {
        case ("modes", _) where s.data.mixture == nil:
            throw ShellError(
                .value,
                "modes: \(s.data.name) has no known modes (ring and grid data have); 'metrics' picks the measures that fit"
            )
        case ("score", let k) where k != .images:
            throw ShellError(
                .value,
                "score: the classifier metrics need labelled images; 'metrics' picks the measures that fit \(s.data.name)"
            )
        default: break
        }
        let (title, values) = try measure(s, n: n, ema: ema)
        return [
            .table(
                Table(
                    title: title + (ema ? " (the moving average of \(s.generatorName))" : ""),
                    columns: ["metric", "value", "name"], rows: values.map { [$0.label, $0.shown, $0.key] },
                    rightAligned: [false, true, false]))
        ]
    }
}

extension Interpreter {
    /// `metrics [N] class=K | class=all`: how well a conditional GAN makes each class, judged by the
    /// classifier: how often it sees the class asked for, and the Fréchet distance of the class's
    /// samples to that class's real images, beside the same distance for held-out real images of it.
    func classMetrics(_ s: Session, _ w: CommandWords, _ c: (key: String, value: String, word: Arguments.Word)) throws
        -> [Output]
    {
        var positional = w.positional
        let ema = positional.last?.text == "ema"
        if ema { positional.removeLast() }
        guard positional.count <= 1 else {
            throw ShellError(
                .syntax, "metrics: unexpected '\(positional[1].text)'; metrics [N] [ema] [class=K | class=all]",
                at: positional[1].location, length: positional[1].length)
        }
        if ema { _ = try movingAverage(s) }
        let all = c.value == "all"
        let n = positional.isEmpty ? (all ? 200 : 1000) : try w.int(0, "a number of samples")
        guard n <= 100_000 else {
            throw ShellError(.limit, "metrics take at most 100,000 samples, found \(Format.count(n))")
        }
        let (labels, _, total) = try classLabels(s, c.value, c.word, n: n, command: "metrics")
        guard s.data.kind == .images, let set = s.data.samples, set.labels != nil else {
            throw ShellError(
                .value,
                "metrics class=…: the classes are judged by a classifier of labelled images; \(s.data.name) holds \(s.data.kind == .points ? "points" : "sequences")",
                at: c.word.location, length: c.word.length)
        }
        let x = try generate(s, total, ema: ema, labels: labels)
        let (trainPart, heldOut) = try set.split(heldOut: 0.2, seed: 0)
        let classifier = try ImageClassifier.cached(for: trainPart)
        let predicted = try classifier.probabilities(x).argmax(axis: -1).scalars
        let asked = labels.scalars
        func rows(_ images: Tensor, _ labels: Tensor, _ k: Int) throws -> Tensor {
            let idx = labels.scalars.enumerated().filter { Int($0.element) == k }.map { Float($0.offset) }
            return try images.gatherRows(Tensor(idx))
        }
        let classes = all ? Array(0..<(s.data.source.classCount ?? 1)) : [Int(asked[0])]
        var table: [[String]] = []
        for k in classes {
            try Interrupt.check()
            let mine = asked.indices.filter { Int(asked[$0]) == k }
            let agree = mine.filter { Int(predicted[$0]) == k }.count
            let generated = try x.gatherRows(Tensor(mine.map(Float.init)))
            let real = try classifier.features(try rows(trainPart.samples, trainPart.labels!, k))
            let held = try rows(heldOut.samples, heldOut.labels!, k)
            let frechet = try Fréchet.distance(try classifier.features(generated), real)
            let floor =
                held.shape[0] > 1
                ? Format.number(Float(try Fréchet.distance(try classifier.features(held), real))) : "–"
            table.append([
                String(k), Format.number(Float(agree) / Float(mine.count) * 100, digits: 3) + "%",
                Format.number(Float(frechet)), floor, String(held.shape[0])
            ])
        }
        let title =
            (all ? "\(Format.count(n)) samples of each class" : "\(Format.count(n)) samples of class \(c.value)")
            + ", judged by a classifier trained on \(s.data.name)"
            + (ema ? " (the moving average of \(s.generatorName))" : "")
        return [
            .table(
                Table(
                    title: title, columns: ["class", "agreement", "Fréchet", "floor", "held out"], rows: table,
                    rightAligned: [true, true, true, true, true]))
        ]
    }
}

extension CommandTable {
    static let metricNames = MeasureKind.allCases.map(\.rawValue)

    static let expectCommands: [Command] = [
        Command(
            "expect", group: .inspection, usage: "expect METRIC OP NUMBER [n=N] [ema] | expect EXPR",
            summary: "checks a measured result and fails (the script stops) when it does not hold",
            details: """
                METRIC is one of the names 'metrics' shows (modes, hq, kl, nearest, coverage, classkl, score,
                frechet, floor, agreement, js, jsfloor, novelty, wellformed), measured on N generated samples (as 'metrics'
                does by default), or a statistic of the last step (dloss, gloss, dx, dgz, w, penalty, gnorm, dnorm; these are
                names in any expression too: g0 = gnorm). A trailing 'ema' measures the moving average of G. OP is one of
                < <= > >= == !=. hq, novelty, wellformed and agreement are fractions: expect hq >= 0.95.
                Any other expression holds when every element of its value is non-zero: expect mean(x) < 1.
                """,
            examples: [
                "expect modes >= 8", "expect hq >= 0.9 n=5000", "expect dx > dgz", "expect norm(D.0.weight) < 100"
            ],
            takes: .own(keywords: metricNames + Workspace.statisticNames + ["ema"], options: ["n"])
        ) { shell, args, w, _ in
            try shell.expect(args)
        }
    ]
}

extension Interpreter {
    func expect(_ args: Arguments) throws -> [Output] {
        guard !args.isEmpty else {
            throw ShellError(.syntax, "expect: a condition expected, as in 'expect modes >= 8'", at: args.end)
        }
        var tokens = args.tokens
        var n: Int? = nil, ema = false
        // A trailing n=N chooses the sample count of metrics, and 'ema' the moving average of G (in either order).
        for _ in 0..<2 {
            if tokens.count >= 3, tokens[tokens.count - 3].identifier == "n", tokens[tokens.count - 2].isSymbol("="),
                let v = tokens[tokens.count - 1].number, v >= 1, v <= 100_000, v == v.rounded(),
                tokens[tokens.count - 3].spaceBefore
            {
                n = Int(v)
                tokens.removeLast(3)
            } else if tokens.count >= 2, tokens[tokens.count - 1].identifier == "ema",
                tokens[tokens.count - 1].spaceBefore,
                workspace.bindings.variables["ema"] == nil
            {
                ema = true
                tokens.removeLast()
            }
        }
        var p = Parser(tokens: tokens + [args.end], source: args.source)
        let e = try p.expression()
        guard p.peek.isEnd else {
            throw ShellError(.syntax, "expect: end of the condition expected, found '\(p.peek.text)'", at: p.peek)
        }
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
        let used = Set(names(in: e)).filter {
            workspace.bindings.variables[$0] == nil && workspace.bindings.networks[$0] == nil
        }
        let wantedMetrics = used.intersection(CommandTable.metricNames)
        if !wantedMetrics.isEmpty {
            let s = try requireSession("expect")
            let (_, values) = try measure(s, n: n ?? defaultSampleCount(s), ema: ema)
            for v in values { measured[v.key] = v.value; shown[v.key] = v.shown }
            for name in wantedMetrics where measured[name] == nil {
                throw ShellError(
                    .value,
                    "expect: '\(name)' is not measured for \(s.data.name); it has "
                        + values.map(\.key).joined(separator: ", "))
            }
        }
        for name in used.intersection(Workspace.statisticNames) {
            let s = try requireSession("expect")
            guard let v = Workspace.lastStatistic(name, s.trainer.history) else {
                throw ShellError(.value, "expect: no step has recorded \(name) yet")
            }
            measured[name] = v
            shown[name] = Format.number(v)
        }
        let saved = workspace.bindings.variables
        defer { workspace.bindings.variables = saved }
        for (k, v) in measured { workspace.bindings.variables[k] = .tensor(Tensor(v)) }
        let value = try tensor(e, "a condition")
        let holds = value.count > 0 && value.scalars.allSatisfy { $0 != 0 && !$0.isNaN }
        let text = args.rawText()
        let values = measured.keys.filter(used.contains).sorted().map { "\($0) is \(shown[$0]!)" }.joined(
            separator: ", ")
        guard holds else {
            throw ShellError(.value, "expectation failed: \(text)" + (values.isEmpty ? "" : " (\(values))"))
        }
        return [.text("ok: \(text)" + (values.isEmpty ? "" : " (\(values))"))]
    }
}
