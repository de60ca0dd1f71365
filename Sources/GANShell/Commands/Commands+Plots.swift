import Foundation
import GANKit
import TensorCore

extension CommandTable {
    static let plotKinds = [
        "samples", "reconstructions", "surface", "manifold", "arrows", "losses", "scores", "wasserstein", "hist"
    ]
    static let statNames = ["dloss", "gloss", "dx", "dgz", "w", "penalty", "recon", "kld"]

    static let plotCommands: [Command] = [
        Command(
            "plot", group: .inspection, usage: "plot WHAT [N] [to FILE.png]",
            summary:
                "draws samples, D's surface, G's manifold, gradient arrows, losses or a histogram; 'to FILE.png' also writes a PNG",
            details: """
                samples [N]: real (green) and generated (purple) points, or a grid of N generated images, or words.
                  class=K draws class K of a conditional GAN (64), class=all N of each class (8), a row per class.
                  samples EXPR draws a tensor of the data's shape instead (plot samples x[0:16]).
                reconstructions [N]: a VAE's decoder applied to the encoder's mean code of N real samples (8),
                  the real images above their reconstructions.
                surface: D's output over the plane as a heatmap (D(x) for the logistic losses, raw scores
                  otherwise), the samples on top. For 2-D data.
                manifold: a grid of noise values and where G sends it (the first two noise dimensions vary,
                  the others are 0), over the real data.
                arrows [N]: N generated points and the direction each would move to lower G's loss (−∇ of
                  G's loss with respect to the point: the push D's gradient gives G).
                losses: D's and G's loss per step (a VAE's loss, reconstruction error and KL). scores: mean D(x)
                  and D(G(z)). wasserstein: the estimate. Any of dloss, gloss, dx, dgz, w, penalty, recon, kld,
                  several at once: plot dloss gloss.
                hist EXPR: a histogram of a tensor's values (weights, gradients, samples).
                """,
            examples: [
                "plot samples", "plot samples class=all", "plot surface to surface.png", "plot manifold",
                "plot arrows 200", "plot losses",
                "plot dx dgz", "plot hist D.0.weight.grad"
            ],
            takes: .own(keywords: plotKinds + statNames + ["to"], options: ["class"])
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
        case "surface": output = try plotSurface(try count(500))
        case "manifold": try _ = count(1); output = try plotManifold()
        case "arrows": output = try plotArrows(try count(150))
        default:
            let stats = words.map(\.text).flatMap { w -> [String] in
                switch w {
                case "losses":
                    return workspace.session.map { type(of: $0.trainer.model).lossKeys } ?? ["dloss", "gloss"]
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
            output = try plotHistory(stats)
        }
        var out = [output]
        if let target { out.append(try writePNG(output, to: target)) }
        return out
    }

    func writePNG(_ output: Output, to word: Arguments.Word) throws -> Output {
        guard word.text.lowercased().hasSuffix(".png") else {
            throw ShellError(
                .value, "plot … to FILE: the file must end in .png, found '\(word.text)'", at: word.location,
                length: word.length)
        }
        let figureOutput: Output
        if case .histogram(let h) = output { figureOutput = .figure(histogramFigure(h)) } else { figureOutput = output }
        guard let bytes = try PNGRenderer.png(figureOutput) else {
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
            var f = PNGRenderer.scatter(
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
            var f = PNGRenderer.scatter(generated: g, real: real, title: "real and " + title)
            f.series = ["real", "generated"]
            return .figure(f)
        case .images(let t):
            // Many images are shown as the first 1,024 (a picture of more is too small to read).
            let shown = t.shape[0] > 1024 ? try t.slice(axis: 0, start: 0, end: 1024) : t
            return .images(ImageGrid(title: title, images: shown, columns: perRow))
        case let other: return .samples(other)
        }
    }

    /// D's readout on a grid over the plane of the samples.
    func plotSurface(_ n: Int) throws -> Output {
        let s = try discriminatorSession("surface")
        let gan = s.trainer.model
        let fake = pointsOf(try generate(s, n)), real = pointsOf(try s.data.realSamples(n))
        let (xr, yr) = Figure.bounds(fake + real, pad: 0.15)
        let side = 64
        var grid: [Float] = []
        for r in 0..<side {
            for c in 0..<side {
                grid += [
                    xr.lowerBound + (xr.upperBound - xr.lowerBound) * (Float(c) + 0.5) / Float(side),
                    yr.upperBound - (yr.upperBound - yr.lowerBound) * (Float(r) + 0.5) / Float(side)
                ]
            }
        }
        let labels = gan.conditioning != nil ? Tensor(zeros: [side * side]) : nil
        var scores = try gan.partner.evaluating {
            try withNoGrad { try gan.discriminate(Tensor(grid, shape: [side * side, 2]), labels: labels) }
        }.scalars
        let logistic = s.trainer.options.loss.isLogistic
        if logistic { scores = scores.map { 1 / (1 + Foundation.exp(-$0)) } }
        let low = logistic ? 0 : scores.min() ?? 0, high = logistic ? 1 : scores.max() ?? 1
        return .figure(
            Figure(
                title: "D over the plane, \(stepLabel(s))", xRange: xr, yRange: yr, series: ["real", "generated"],
                marks: [
                    .heatmap(values: scores, rows: side, columns: side, low: low, high: high),
                    .points(real, series: 0), .points(fake, series: 1)
                ],
                heatLabel: logistic ? "D(x)" : "D score (scaled)", equalAspect: true))
    }

    /// Where G sends a grid of noise values.
    func plotManifold() throws -> Output {
        let s = try planarSession("manifold")
        let gan = s.trainer.model
        guard gan.noiseShape.count == 1 else {
            throw ShellError(.value, "plot manifold needs vector noise; G takes \(Format.shape(gan.noiseShape))")
        }
        let dim = gan.noiseShape[0], side = 21
        let span: Float = gan.noise == .uniform ? 1 : 2.5
        var z = [Float](repeating: 0, count: side * side * dim)
        for i in 0..<side {
            for j in 0..<side {
                let k = i * side + j
                z[k * dim] = -span + 2 * span * Float(j) / Float(side - 1)
                if dim > 1 { z[k * dim + 1] = -span + 2 * span * Float(i) / Float(side - 1) }
            }
        }
        let labels = gan.conditioning != nil ? Tensor(zeros: [side * side]) : nil
        let mapped = pointsOf(
            try gan.generator.evaluating {
                try withNoGrad { try gan.generate(Tensor(z, shape: [side * side, dim]), labels: labels) }
            })
        var segments: [(Figure.Point, Figure.Point)] = []
        for i in 0..<side {
            for j in 0..<side {
                if j + 1 < side { segments.append((mapped[i * side + j], mapped[i * side + j + 1])) }
                if i + 1 < side { segments.append((mapped[i * side + j], mapped[(i + 1) * side + j])) }
            }
        }
        let real = pointsOf(try s.data.realSamples(500))
        let (xr, yr) = Figure.bounds(mapped + real)
        return .figure(
            Figure(
                title: "G's image of a noise grid, \(stepLabel(s))", xRange: xr, yRange: yr,
                series: ["real", "G(noise grid)"],
                marks: [.points(real, series: 0), .segments(segments, series: 1)], equalAspect: true))
    }

    /// Each generated point and the way G's loss would move it.
    func plotArrows(_ n: Int) throws -> Output {
        let s = try discriminatorSession("arrows")
        let gan = s.trainer.model
        let x = try generate(s, n)
        let labels = gan.cyclingLabels(n)
        let xg = x.detached().requiringGrad()
        let gradient = try gan.partner.evaluating {
            try withGrad {
                let loss = try s.trainer.options.loss.generator(fake: try gan.discriminate(xg, labels: labels))
                return try grad(of: loss, wrt: [xg])[0]
            }
        }
        let pts = pointsOf(x), g = pointsOf(gradient)
        let real = pointsOf(try s.data.realSamples(500))
        let (xr, yr) = Figure.bounds(pts + real)
        let longest = g.map { ($0.x * $0.x + $0.y * $0.y).squareRoot() }.filter(\.isFinite).max() ?? 0
        let scale = longest > 0 ? 0.08 * max(xr.upperBound - xr.lowerBound, yr.upperBound - yr.lowerBound) / longest : 0
        let arrows = zip(pts, g).map { p, v in (p, Figure.Point(p.x - v.x * scale, p.y - v.y * scale)) }
        return .figure(
            Figure(
                title: "G's loss pushes samples, \(stepLabel(s))", xRange: xr, yRange: yr,
                series: ["real", "generated"],
                marks: [.points(real, series: 0), .arrows(arrows, series: 1)], equalAspect: true))
    }

    func plotHistory(_ stats: [String]) throws -> Output {
        let s = try requireSession("plot")
        let h = s.trainer.history
        guard !h.isEmpty else { throw ShellError(.value, "plot: no steps yet; take some with 'step' or 'train'") }
        let model = s.trainer.model
        var plotted: [StepStatistic] = []
        for k in stats {
            guard let statistic = model.statistic(k, s.trainer.options) else {
                let keys = model.statistics(s.trainer.options).map(\.key)
                throw ShellError(
                    .value, "plot \(k): \(model.withArticle)'s steps record \(keys.joined(separator: ", "))")
            }
            plotted.append(statistic)
        }
        var marks: [Figure.Mark] = []
        var all: [Figure.Point] = []
        for (i, k) in plotted.enumerated() {
            // x is the step (a G step and the D steps before it), so D's and G's lines share an axis.
            let series = h.compactMap { st in k.series(st).map { Figure.Point(Float(st.step), $0) } }
            guard !series.isEmpty else { throw ShellError(.value, "plot: no step has recorded \(k.legend) yet") }
            // At most 600 points a line: averages over equal buckets of steps.
            let bucket = max(1, series.count / 600)
            let reduced = stride(from: 0, to: series.count, by: bucket).map { start -> Figure.Point in
                let part = series[start..<min(series.count, start + bucket)]
                return Figure.Point(
                    part.map(\.x).reduce(0, +) / Float(part.count), part.map(\.y).reduce(0, +) / Float(part.count))
            }
            marks.append(.line(reduced, series: i + 2))
            all += reduced
        }
        var (xr, yr) = Figure.bounds(all, pad: 0.02)
        xr = max(0, xr.lowerBound)...xr.upperBound
        yr = Figure.bounds(all, pad: 0.08).1
        return .figure(
            Figure(
                title: plotted.map(\.legend).joined(separator: ", ") + " per step", xRange: xr, yRange: yr,
                series: ["", ""] + plotted.map(\.legend), marks: marks))
    }
}
