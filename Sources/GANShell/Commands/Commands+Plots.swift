import Foundation
import GANKit
import TensorCore

extension CommandTable {
    static let plotKinds = [
        "samples", "reconstructions", "surface", "game", "manifold", "arrows", "losses", "scores", "wasserstein", "hist"
    ]
    static let statNames = GenerativeModel.statisticKeys

    static let plotCommands: [Command] = [
        Command(
            "plot", group: .inspection, usage: "plot WHAT [N] [smooth=K] [to FILE.png|FILE.svg]",
            summary:
                "draws samples, D's surface, the game, G's manifold, gradient arrows, losses or a histogram; 'to FILE' also writes a PNG or SVG",
            details: """
                samples [N]: real (green) and generated (purple) points, or a grid of N generated images, or words.
                  class=K draws class K of a conditional GAN (64), class=all N of each class (8), a row per class.
                  samples EXPR draws a tensor of the data's shape instead (plot samples x[0:16]).
                reconstructions [N]: a VAE's decoder applied to the encoder's mean code of N real samples (8),
                  the real images above their reconstructions.
                surface [N]: D over the plane in a diverging map centred on D = 1/2 (on 0 for a critic: wgan,
                  wgan-gp, hinge), its colours spanning the values D takes there, the D = 1/2 line drawn, N
                  generated points and N real ones on top (500). For 2-D data.
                arrows [N]: the surface under N generated points (150), each with the way G's loss pushes it
                  (−∇ of G's loss at the point); lengths on a square-root scale, as the figure's note says.
                game [N]: the whole game in one figure: surface, D = 1/2 line, N generated points (500), arrows on
                  150 of them, the real points on top.
                manifold: where G sends a grid of noise values (the first two noise dimensions vary, the others
                  are 0), each cell shaded by how much G stretches or compresses it (log of its area over the
                  median cell's), the images of the two noise axes drawn with their direction.
                losses: D's and G's loss per step (a VAE's loss, reconstruction error and KL), the penalty apart
                  when there is one (D's loss is drawn without it). scores: mean D(x) and D(G(z)). wasserstein:
                  the estimate. Any of dloss, gloss, dx, dgz, w, penalty, recon, kld, several at once: plot dloss
                  gloss. Dashed lines mark where theory puts a value at equilibrium (log 4 for D's loss, log 2
                  for G's non-saturating loss, 1/2 for D(x)). smooth=K draws the mean of the last K steps over
                  the faint per-step values. The x axis counts steps (a G step and the D steps before it).
                hist EXPR: a histogram of a tensor's values (weights, gradients, samples).
                Each quantity keeps its colour in every plot. 'to FILE.png' writes a PNG at twice the size
                (for projectors), 'to FILE.svg' an SVG.
                """,
            examples: [
                "plot samples", "plot samples class=all", "plot surface to surface.png", "plot game", "plot manifold",
                "plot arrows 200", "plot losses smooth=50", "plot game to game.svg",
                "plot dx dgz", "plot hist D.0.weight.grad"
            ],
            takes: .own(keywords: plotKinds + statNames + ["to"], options: ["class", "smooth"])
        ) { shell, args, w, _ in
            try shell.plot(args)
        }
    ]
}

extension Interpreter {
    func plot(_ args: Arguments) throws -> [Output] {
        var words = args.words
        var target: Arguments.Word? = nil
        if words.count >= 2, words[words.count - 2].text == "to" {
            target = words.removeLast()
            words.removeLast()
        }
        guard let kind = words.first else {
            throw ShellError(
                .syntax, "plot: what to draw expected: " + CommandTable.plotKinds.joined(separator: ", "), at: args.end)
        }
        func count(_ fallback: Int) throws -> Int {
            guard words.count > 1 else { return fallback }
            guard let n = words[1].int, n >= 1, n <= 100_000 else {
                throw ShellError(
                    .value, "plot \(kind.text): a number of samples in 1…100,000 expected, found '\(words[1].text)'",
                    at: words[1].location, length: words[1].length)
            }
            guard words.count == 2 else {
                throw ShellError(
                    .syntax, "plot: unexpected '\(words[2].text)'", at: words[2].location, length: words[2].length)
            }
            return n
        }
        let output: Output
        switch kind.text {
        case "hist":
            guard words.count > 1 else {
                throw ShellError(.syntax, "plot hist: a tensor expected, as in 'plot hist D.0.weight'", at: args.end)
            }
            let e = try trailingExpression(args, from: words[1], before: target)
            let t = try tensor(e)
            output = .histogram(
                Histogram(
                    title: "values of \(e.path ?? "the tensor") \(Format.shape(t.shape))", values: t.scalars, bins: 20))
        case "samples":
            // plot samples EXPR draws a tensor; class=K or class=all asks a conditional GAN.
            if words.count > 1, words[1].int == nil, words[1].option == nil {
                let (x, d) = try tensorAsSamples(args, from: words[1], before: target, command: "plot samples")
                output = try plotSamples(
                    x, d, title: "\(x.shape[0]) samples of \(words[1...].map(\.text).joined(separator: " "))")
            } else {
                let option = words.dropFirst().last { $0.option?.key == "class" }
                for w in words.dropFirst() where w.option != nil && w.option?.key != "class" {
                    throw ShellError(
                        .name,
                        "plot samples: unknown option '\(w.option!.key)'; plot samples [N] [class=K | class=all]",
                        at: w.location, length: w.length)
                }
                words.removeAll { $0.option != nil }
                let s = try requireSession("plot samples")
                var n = try count(500), labels: Tensor? = nil, perRow: Int? = nil
                if let option {
                    if words.count == 1 { n = option.option!.value == "all" ? 8 : 64 }
                    (labels, perRow, n) = try classLabels(
                        s, option.option!.value, option, n: n, command: "plot samples")
                }
                let x = try generate(s, n, labels: labels)
                let which =
                    option.map {
                        $0.option!.value == "all" ? ", \(perRow ?? 0) of each class" : ", class \($0.option!.value)"
                    } ?? ""
                output = try plotSamples(
                    x, s.data, title: "\(n) generated samples\(which), \(stepLabel(s))", perRow: perRow)
            }
        case "reconstructions": output = try plotReconstructions(try count(8))
        case "surface": output = try planeFigure(kind.text, points: try count(500), arrows: 0)
        case "manifold": try _ = count(1); output = try plotManifold()
        case "arrows": let n = try count(150); output = try planeFigure(kind.text, points: n, arrows: n)
        case "game": let n = try count(500); output = try planeFigure(kind.text, points: n, arrows: min(n, 150))
        default:
            var smooth: Int? = nil
            if let o = words.last(where: { $0.option?.key == "smooth" }) {
                guard let k = Int(o.option!.value), k >= 1, k <= 100_000 else {
                    throw ShellError(
                        .value, "plot: smooth=K takes a number of steps in 1…100,000, found '\(o.option!.value)'",
                        at: o.location, length: o.length)
                }
                smooth = k
            }
            words.removeAll { $0.option?.key == "smooth" }
            let penalised = workspace.session?.trainer.history.contains { $0.penalty != nil } ?? false
            let stats = words.map(\.text).flatMap { w -> [String] in
                switch w {
                case "losses":
                    // A penalty is drawn apart from the loss it is added to.
                    return (workspace.session.map { type(of: $0.trainer.model).lossKeys } ?? ["dloss", "gloss"])
                        + (penalised ? ["penalty"] : [])
                case "scores": return ["dx", "dgz"]
                case "wasserstein": return ["w"]
                default: return [w]
                }
            }
            for (w, s) in zip(words, words.map(\.text))
            where !(["losses", "scores", "wasserstein"] + CommandTable.statNames).contains(s) {
                throw ShellError(
                    .name,
                    "plot: unknown '\(s)'; plot "
                        + (CommandTable.plotKinds + CommandTable.statNames).joined(separator: ", ")
                        + didYouMean(s, among: CommandTable.plotKinds + CommandTable.statNames), at: w.location,
                    length: w.length)
            }
            output = try plotHistory(stats, smooth: smooth)
        }
        var out = [output]
        if let target { out.append(try writePicture(output, to: target)) }
        return out
    }

    /// Writes a picture of the output: PNG (two pixels a unit) or SVG, by the file's extension.
    func writePicture(_ output: Output, to word: Arguments.Word) throws -> Output {
        let ext = (word.text as NSString).pathExtension.lowercased()
        guard ext == "png" || ext == "svg" else {
            throw ShellError(
                .value, "plot … to FILE: the file must end in .png or .svg, found '\(word.text)'", at: word.location,
                length: word.length)
        }
        let figureOutput: Output
        if case .histogram(let h) = output { figureOutput = .figure(histogramFigure(h)) } else { figureOutput = output }
        let bytes: [UInt8]?
        if ext == "svg" {
            bytes = try Graphics.svg(figureOutput).map { Array($0.utf8) }
        } else {
            bytes = try Graphics.png(figureOutput)
        }
        guard let bytes else {
            throw ShellError(.value, "this output has no picture to write", at: word.location, length: word.length)
        }
        try AtomicFile.write(bytes, to: resolve(word.text))
        return .text("wrote \(word.text)")
    }

    func histogramFigure(_ h: Histogram) -> Figure {
        let width = (h.high - h.low) / Float(h.counts.count)
        var outline: [Figure.Point] = [Figure.Point(h.low, 0)]
        for (i, c) in h.counts.enumerated() {
            let a = h.low + Float(i) * width
            outline += [Figure.Point(a, Float(c)), Figure.Point(a + width, Float(c))]
        }
        outline.append(Figure.Point(h.high, 0))
        let top = Float(h.counts.max() ?? 1)
        let span = max(h.high - h.low, 1e-6)
        return Figure(
            title: h.title ?? "histogram", xRange: (h.low - span * 0.02)...(h.high + span * 0.02),
            yRange: 0...(top * 1.05 + 1e-6),
            series: ["", "", "", "count"], marks: [.line(outline, series: 3)])
    }

    func pointsOf(_ t: Tensor) -> [Figure.Point] {
        let v = t.scalars
        return (0..<t.shape[0]).map { Figure.Point(v[2 * $0], v[2 * $0 + 1]) }
    }

    func planarSession(_ what: String) throws -> Session {
        let s = try requireSession("plot \(what)")
        guard s.data.source.sampleShape == [2] else {
            throw ShellError(
                .value,
                "plot \(what) draws the plane: the data must be points [2], \(s.data.name) holds \(Format.shape(s.data.source.sampleShape))"
            )
        }
        return s
    }

    /// A session on the plane whose second network is a discriminator.
    func discriminatorSession(_ what: String) throws -> Session {
        let model = try requireSession("plot \(what)").trainer.model
        guard model.adversary != nil else {
            throw ShellError(
                .value,
                "plot \(what) draws what a discriminator does; \(model.withArticle) has none ('plot samples' and 'plot manifold' apply)"
            )
        }
        return try planarSession(what)
    }

    func stepLabel(_ s: Session) -> String {
        let n = s.trainer.gStepCount
        return "after \(n) step\(n == 1 ? "" : "s")"
    }

    /// Real samples and the decoder's output from their mean codes (a VAE).
    func plotReconstructions(_ n: Int) throws -> Output {
        let s = try requireSession("plot reconstructions")
        guard n <= 64 else { throw ShellError(.limit, "plot reconstructions draws at most 64 samples, found \(n)") }
        let x = try s.data.realSamples(n)
        let m = x.shape[0]
        let decoded: Tensor
        do { decoded = try s.trainer.model.reconstruct(x) } catch let e as ModelError {
            throw ShellError(.value, "plot reconstructions needs a VAE: \(e.message)")
        }
        switch (view(x, s.data), view(decoded, s.data)) {
        case (.images(let a), .images(let b)):
            return .images(
                ImageGrid(
                    title: "\(m) real images (top) and their reconstructions, \(stepLabel(s))",
                    images: try Tensor.concat([a, b], axis: 0), columns: m))
        case (.points, .points):
            var f = Figure.scatter(
                generated: decoded, real: x, title: "\(m) real points and their reconstructions, \(stepLabel(s))")
            f.series = ["real", "reconstructed"]
            return .figure(f)
        case (_, let other): return .samples(other)
        }
    }

    func plotSamples(_ x: Tensor, _ d: DataEntry, title: String, perRow: Int? = nil) throws -> Output {
        switch view(x, d) {
        case .points(let g, _):
            let real = try d.realSamples(x.shape[0])
            var f = Figure.scatter(generated: g, real: real, title: "real and " + title)
            f.series = ["real", "generated"]
            return .figure(f)
        case .images(let t):
            // Many images are shown as the first 1,024 (a picture of more is too small to read).
            let shown = t.shape[0] > 1024 ? try t.slice(axis: 0, start: 0, end: 1024) : t
            return .images(ImageGrid(title: title, images: shown, columns: perRow))
        case let other: return .samples(other)
        }
    }

    /// Statistics per step, each over the same x axis of steps; with `smooth` K, a moving average
    /// of the last K steps drawn over the faint raw trace.
    func plotHistory(_ stats: [String], smooth: Int? = nil) throws -> Output {
        let s = try requireSession("plot")
        let h = s.trainer.history
        guard !h.isEmpty else { throw ShellError(.value, "plot: no steps yet; take some with 'step' or 'train'") }
        let model = s.trainer.model
        var plotted: [StepStatistic] = []
        for k in stats {
            guard let statistic = model.statistic(k) else {
                let keys = model.statistics.map(\.key)
                throw ShellError(
                    .value, "plot \(k): \(model.withArticle)'s steps record \(keys.joined(separator: ", "))")
            }
            if !plotted.contains(where: { $0.key == k }) { plotted.append(statistic) }
        }
        var marks: [Figure.Mark] = []
        var all: [Figure.Point] = []
        var references: [Figure.Reference] = []
        for (i, k) in plotted.enumerated() {
            // x is the step (a G step and the D steps before it), so D's and G's lines share an axis.
            let series = h.compactMap { st in k.series(st).map { Figure.Point(Float(st.step), $0) } }
            guard !series.isEmpty else { throw ShellError(.value, "plot: no step has recorded \(k.legend) yet") }
            if let smooth, smooth > 1 {
                marks.append(.faintLine(Self.buckets(series), series: i + 2))
                marks.append(.line(Self.buckets(Self.movingAverage(series, smooth)), series: i + 2))
            } else {
                marks.append(.line(Self.buckets(series), series: i + 2))
            }
            all += Self.buckets(series)
            if let r = k.reference(s.trainer.options), !references.contains(where: { $0.y == r.value }) {
                references.append(Figure.Reference(y: r.value, label: r.label))
            }
        }
        var (xr, yr) = Figure.bounds(all + references.map { Figure.Point(all.first?.x ?? 0, $0.y) }, pad: 0.02)
        xr = max(0, xr.lowerBound)...xr.upperBound
        yr = Figure.bounds(all + references.map { Figure.Point(0, $0.y) }, pad: 0.08).1
        var f = Figure(
            title: plotted.map(\.legend).joined(separator: ", ") + " per step", xRange: xr, yRange: yr,
            series: ["", ""] + plotted.map(\.legend), marks: marks)
        f.references = references
        let parts = type(of: model).partsPerStep(dSteps: s.trainer.options.dSteps)
        f.xLabel = parts > 1 ? "step (each: \(parts - 1) D step\(parts == 2 ? "" : "s") and a G step)" : "step"
        if plotted.count == 1 { f.yLabel = plotted[0].legend }
        var notes: [String] = []
        if let smooth, smooth > 1 { notes.append("lines: mean of the last \(smooth) steps; faint: each step") }
        if plotted.contains(where: { $0.key == "dloss" }), h.contains(where: { $0.penalty != nil }) {
            notes.append(
                "D loss without its penalty"
                    + (plotted.contains { $0.key == "penalty" } ? "" : " (plot penalty draws it)"))
        }
        if !notes.isEmpty { f.note = notes.joined(separator: "; ") }
        return .figure(f)
    }

    /// At most `limit` points a line: means over equal buckets of them.
    static func buckets(_ series: [Figure.Point], limit: Int = 600) -> [Figure.Point] {
        let bucket = max(1, series.count / limit)
        guard bucket > 1 else { return series }
        return stride(from: 0, to: series.count, by: bucket).map { start -> Figure.Point in
            let part = series[start..<min(series.count, start + bucket)]
            return Figure.Point(
                part.map(\.x).reduce(0, +) / Float(part.count), part.map(\.y).reduce(0, +) / Float(part.count))
        }
    }

    /// The mean of each point's value and the `k − 1` before it (fewer at the start).
    static func movingAverage(_ series: [Figure.Point], _ k: Int) -> [Figure.Point] {
        var out: [Figure.Point] = [], sum: Double = 0
        for (i, p) in series.enumerated() {
            sum += Double(p.y)
            if i >= k { sum -= Double(series[i - k].y) }
            out.append(Figure.Point(p.x, Float(sum / Double(min(i + 1, k)))))
        }
        return out
    }
}
