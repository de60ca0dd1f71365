import Foundation
import GANKit
import TensorCore

extension CommandTable {
    /// Settings of the shell itself, beside the training settings.
    static let shellSettings = ["maxelements", "maxmemory", "view.every"]

    static let trainingCommands: [Command] = [
        Command(
            "set", group: .training, usage: "set KEY VALUE | set KEY=VALUE … | set",
            summary: "changes a training setting between steps, or lists them all",
            details: """
                Training: \(TrainingSetting.all.map(\.name).joined(separator: ", ")) (see 'help gan' and 'help vae'; a VAE
                has \(trainingKeys(.variational).joined(separator: ", "))).
                Optimizers: \(OptimizerKind.hyperparameterNames.joined(separator: ", ")) for both networks,
                or G.lr, D.beta1, … for one. Also maxelements (the largest tensor the shell will make) and
                maxmemory (MiB that all tensors may hold when a command makes one).
                """,
            examples: ["set lr 2e-4", "set loss hinge", "set D.lr 4e-4 ", "set dsteps=5 lambda=10"],
            takes: .own(keywords: TrainingSetting.all.map(\.name) + OptimizerKind.hyperparameterNames + shellSettings)
        ) { shell, args, w, _ in
            try shell.setOptions(args)
        },
        Command(
            "step", group: .training, usage: "step [d | g | N]",
            summary:
                "takes one training step: D's steps then G's; 'step d' or 'step g' for one network, 'step N' for N",
            details:
                "A step is dsteps D steps (each on its own batch) and then one G step; 'step 7 D' is a D step of the seventh step. Every count of steps — train N steps, show gan, history, plots, snapshots — counts these. Each step reports D's loss (with its real and fake parts), G's loss, mean D(x) and mean D(G(z)) — probabilities for the logistic losses, raw scores otherwise — and the Wasserstein estimate for the WGAN losses.",
            examples: ["step", "step d", "step g", "step 100"],
            takes: .words(1, keywords: ["d", "g"])
        ) { shell, args, w, _ in
            try shell.step(w)
        },
        Command(
            "train", group: .training, usage: "train N epochs [every=K plot WHAT] | train N [steps]",
            summary:
                "trains for N epochs (a line each) or N steps; Ctrl-C stops after the current step and keeps what was done",
            details:
                "A step is dsteps D steps and one G step (see 'help step'); an epoch is as many D steps as the data has batches. On a terminal each epoch's row shows as it ends (about a dozen rows in all) and the progress bar carries the last step's statistics. every=K plot WHAT draws that figure every K epochs (any 'plot' figure: samples, game, losses smooth=20, …), redrawn in place on a terminal, one figure each time in a notebook. An epoch cut short by Ctrl-C shows as '3 (part)'. In quick mode (gans --quick, for lessons in CI) train takes a tenth of N (at least 1) and says so.",
            examples: ["train 3 epochs", "train 500 steps", "train 20 epochs every=5 plot game"],
            takes: .own(keywords: ["epochs", "steps", "plot"], options: ["every"])
        ) { shell, args, _, _ in
            try shell.train(args)
        },
        Command(
            "grads", group: .training, usage: "grads",
            summary: "the gradient norm of every layer in the last D step and the last G step",
            examples: ["grads"],
            takes: .nothing
        ) { shell, args, w, _ in
            return try shell.gradients()
        },
        Command(
            "history", group: .training, usage: "history [N]",
            summary:
                "the statistics of the last N D and G steps (10 by default), each with the step it belongs to, and the totals",
            examples: ["history", "history 50"],
            takes: .words(1)
        ) { shell, args, w, _ in
            try shell.history(w)
        }
    ]
}

extension Interpreter {
    func requireSession(_ what: String) throws -> Session {
        guard let s = workspace.session else {
            throw ShellError(
                .value, "\(what) needs a GAN: build G and D with 'net', load data, then 'gan G D' (or a VAE: 'vae E G')"
            )
        }
        return s
    }

    func setOptions(_ args: Arguments) throws -> [Output] {
        var pairs: [(String, String, Arguments.Word)] = []
        let words = args.words
        if words.isEmpty { return try settings() }
        if words.allSatisfy({ $0.option != nil }) {
            pairs = words.map { ($0.option!.key, $0.option!.value, $0) }
        } else {
            guard words.count == 2 else {
                throw ShellError(
                    .syntax, "set KEY VALUE (or KEY=VALUE …), found \(words.count) word\(words.count == 1 ? "" : "s")",
                    at: words[0].location)
            }
            pairs = [(words[0].text, words[1].text, words[0])]
        }
        var changed: [String] = []
        // Checked on copies first, so a bad value changes nothing.
        let s = workspace.session
        var options = s?.trainer.options
        var maxElements = self.options.maxElements
        var maxMemory = self.options.maxMemory
        var hyper: [(Optimizer, String, Float)] = []
        for (key, value, word) in pairs {
            func fail(_ m: String) -> ShellError { ShellError(.value, m, at: word.location, length: word.length) }
            if key == "maxelements" {
                guard let v = Int(value), v >= 1, v <= 1 << 28 else {
                    throw fail("maxelements must be 1…\(1 << 28), found '\(value)'")
                }
                maxElements = v
                changed.append("maxelements \(v)")
                continue
            }
            if key == "view.every" {
                if value == "auto" { viewEvery = nil; changed.append("view.every auto"); continue }
                guard let v = Int(value), v >= 1, v <= 1_000_000 else {
                    throw fail("view.every is a number of steps in 1…1,000,000 or auto, found '\(value)'")
                }
                viewEvery = v
                changed.append("view.every \(v)")
                continue
            }
            if key == "maxmemory" {
                guard let v = Int(value), v >= 1, v <= 1 << 20 else {
                    throw fail("maxmemory must be 1…\(1 << 20) MiB, found '\(value)'")
                }
                maxMemory = v << 20
                changed.append("maxmemory \(v) MiB")
                continue
            }
            guard let session = s else {
                throw fail("set \(key): there is no GAN yet; its settings are given with 'gan G D \(key)=…'")
            }
            let model = session.trainer.model.kind
            if let setting = TrainingSetting.named(key) {
                guard setting.applies(to: model) else {
                    let what = model.type.lacks(setting: key)
                    throw fail(
                        "set \(key): \(what); its settings are \(CommandTable.trainingKeys(model).joined(separator: ", ")) and the optimizers'"
                    )
                }
                do { try options!.set(key, value) } catch { throw fail("\(error)") }
                changed.append("\(key) \(value)")
            } else {
                var targets: [(String, Optimizer)] = [
                    ("G", session.trainer.optimizerG), (model.partnerLetter, session.trainer.optimizerD)
                ]
                var name = key
                if targets.contains(where: { key.hasPrefix($0.0 + ".") }) {
                    targets = targets.filter { $0.0 == String(key.prefix(1)) }
                    name = String(key.dropFirst(2))
                }
                let known = Set(targets.flatMap { $0.1.hyperparameters.map(\.name) })
                guard known.contains(name) else {
                    let all = CommandTable.trainingKeys(model) + known.sorted() + CommandTable.shellSettings
                    throw fail(
                        "unknown setting '\(key)'; settings are " + all.joined(separator: ", ")
                            + didYouMean(name, among: all))
                }
                guard let v = Float(value), v.isFinite else { throw fail("\(key) needs a number, found '\(value)'") }
                for (label, o) in targets where o.value(of: name) != nil {
                    hyper.append((o, name, v))
                    changed.append("\(label).\(name) \(Format.number(v))")
                }
            }
        }
        // Validate optimizer values on throwaway optimizers of the same kind.
        for (o, name, v) in hyper {
            let probe = try makeOptimizer(o.name, parameters: [])
            do { try probe.set(name, v) } catch { throw ShellError(.value, "\(error)") }
        }
        if let options, let s { try checkBatch(options.batchSize, s.trainer.model) }
        for (o, name, v) in hyper { try o.set(name, v) }
        if let options { s?.trainer.options = options }
        self.options.maxElements = maxElements
        self.options.maxMemory = maxMemory
        return [.text("set " + changed.joined(separator: ", "))]
    }

    func settings() throws -> [Output] {
        var rows: [[String]] = [
            ["maxelements", Format.count(options.maxElements)],
            ["maxmemory", "\(Format.count(options.maxMemory >> 20)) MiB"],
            ["view.every", viewEvery.map { "\($0) steps" } ?? "auto"]
        ]
        if let s = workspace.session {
            let o = s.trainer.options, model = s.trainer.model.kind
            for setting in TrainingSetting.all where setting.applies(to: model) {
                let value = setting.value(in: o)
                rows.append([
                    setting.name, value.map { setting.choices.isEmpty ? Format.number(Float($0) ?? .nan) : $0 } ?? "off"
                ])
            }
            for (label, opt) in [("G", s.trainer.optimizerG), (model.partnerLetter, s.trainer.optimizerD)] {
                rows += opt.hyperparameters.map { ["\(label).\($0.name)", Format.number($0.value)] }
            }
        }
        return [.table(Table(columns: ["setting", "value"], rows: rows))]
    }

    func step(_ w: CommandWords) throws -> [Output] {
        let s = try requireSession("step")
        let t = s.trainer
        t.shouldStop = { Interrupt.isRequested }
        if let first = w.positional.first {
            switch first.text {
            case "d": return [.steps([try t.discriminatorStep()])]
            case "g": return [.steps([try t.generatorStep()])]
            default:
                let n = try w.int(0, "d, g or a number of steps")
                return try trainSteps(n, s)
            }
        }
        let parts = t.model.partsPerStep(dSteps: t.options.dSteps)
        guard parts <= options.maxSteps else {
            throw ShellError(
                .limit,
                "a step of \(parts) parts (\(t.options.dSteps) D steps and a G step) is more than the \(options.maxSteps) steps one command may take"
            )
        }
        return [.steps(try t.step())]
    }

    func trainSteps(_ n: Int, _ s: Session) throws -> [Output] {
        let parts = s.trainer.model.partsPerStep(dSteps: s.trainer.options.dSteps)
        guard n <= options.maxSteps / parts else {
            throw ShellError(
                .limit,
                "one command takes at most \(Format.count(options.maxSteps)) D and G steps; \(Format.count(n)) steps of \(parts) (D and G) are more"
            )
        }
        let t = s.trainer
        let start = Date()
        let before = t.history.count
        var last: [StepStats] = []
        let done = try t.train(steps: n) { k, stats in
            last = stats
            self.progress?(k, n, Date().timeIntervalSince(start))
            self.drawViewFigures(step: t.gStepCount)
        }
        let all = t.history[before...]
        var out: [Output] = []
        if n <= 5 {
            out.append(.steps(Array(all)))
        } else {
            out.append(
                .text(
                    "\(done) step\(done == 1 ? "" : "s")"
                        + parenthesised(type(of: t.model).partCounts(all)) + "; the last:"))
            out.append(.steps(last))
        }
        if done < n { out.append(.text("interrupted after \(done) of \(n) steps; the steps taken are kept")) }
        out.append(.timing("took", Date().timeIntervalSince(start)))
        return out
    }

    func train(_ args: Arguments) throws -> [Output] {
        // train N epochs [every=K] [plot WHAT …]: the words after 'plot' are plot's own.
        let all = args.words
        let plotAt = all.firstIndex { $0.text == "plot" && $0.option == nil }
        let head = Arguments(
            tokens: all[..<(plotAt ?? all.count)].flatMap(\.tokens), end: plotAt.map { all[$0].first } ?? args.end,
            source: args.source)
        let plotArgs = plotAt.map {
            Arguments(tokens: all[($0 + 1)...].flatMap(\.tokens), end: args.end, source: args.source)
        }
        let w = try CommandWords(head, command: "train", allowed: ["every"])
        try w.noMoreThan(2)
        let s = try requireSession("train")
        let asked = try w.int(0, "a number of epochs or steps")
        // Quick mode (lessons in CI) trains a tenth.
        let n = options.quick ? max(1, asked / 10) : asked
        let unit = w.positional.count > 1 ? w.positional[1].text : "steps"
        let t = s.trainer
        t.shouldStop = { Interrupt.isRequested }
        // Quick mode says what it ran, so a lesson's cell and its output agree.
        let quickNote: [Output] =
            options.quick && n != asked ? [.text("quick mode: \(n) of the \(asked) \(unit) asked for")] : []
        let every = try w.intOption("every", min: 1, max: 1_000_000)
        guard (every == nil) == (plotArgs == nil) else {
            throw ShellError(
                .syntax,
                every == nil
                    ? "train: 'plot WHAT' after the epochs needs every=K (how often to draw it)"
                    : "train N epochs every=K plot WHAT: say what to plot after every=K (plot game, plot samples, …)",
                at: plotAt.map { all[$0].first } ?? args.end)
        }
        if let plotArgs {
            // What to draw is checked before training, not after the first K epochs.
            guard let kind = plotArgs.words.first else {
                throw ShellError(.syntax, "train … plot: what to draw expected", at: args.end)
            }
            let known = CommandTable.plotKinds + CommandTable.statNames
            guard known.contains(kind.text) else {
                throw ShellError(
                    .name,
                    "train … plot: unknown '\(kind.text)'; plot " + known.joined(separator: ", ")
                        + didYouMean(kind.text, among: known), at: kind.location, length: kind.length)
            }
        }
        return quickNote + (try trainFor(n, unit: unit, s, w, every: every, plot: plotArgs))
    }

    func trainFor(_ n: Int, unit: String, _ s: Session, _ w: CommandWords, every: Int?, plot plotArgs: Arguments?)
        throws -> [Output]
    {
        let t = s.trainer
        switch unit {
        case "steps", "step":
            if every != nil {
                throw ShellError(
                    .syntax, "train: every=K plot WHAT draws every K epochs: train N epochs every=K plot WHAT")
            }
            return try trainSteps(n, s)
        case "epochs", "epoch":
            let parts = t.model.partsPerStep(dSteps: t.options.dSteps)
            let statistics = t.model.statistics.filter(\.inTables)
            guard n <= options.maxSteps / max(1, t.batchesPerEpoch * parts) else {
                let (batches, overflow) = n.multipliedReportingOverflow(by: t.batchesPerEpoch)
                throw ShellError(
                    .limit,
                    "at most \(Format.count(options.maxSteps)) steps per command; \(Format.count(n)) epochs are "
                        + (overflow ? "more batches than can be counted" : "\(Format.count(batches)) batches"))
            }
            var rows: [[String]] = []
            var figures: [Output] = []
            let start = Date()
            var stopped = false
            let total = n * t.batchesPerEpoch
            var finished = 0
            // A long run shows about a dozen rows: every k-th epoch and the last.
            let thin = n > 12 ? (n + 9) / 10 : 1
            var liveColumns: [Int]? = nil
            var nextStatus = Date.distantPast
            let width = 10
            func line(_ cells: [String]) -> String {
                cells.enumerated().map { i, c in
                    String(repeating: " ", count: max(0, (i == 0 ? 9 : width) - c.count)) + c
                }.joined(separator: "  ")
            }
            for e in 0..<n {
                let before = t.history.count, epochBefore = t.epoch
                let done = try t.trainEpoch { k, last in
                    // The state line is formatted only where it is shown, and at most ten times a second.
                    if self.progress != nil || self.view != nil, Date() >= nextStatus {
                        nextStatus = Date().addingTimeInterval(0.1)
                        self.progressStatus = statistics.prefix(4).compactMap { st in
                            last.compactMap(st.value).last.map { "\(st.label) \(Format.number($0))" }
                        }.joined(separator: "  ")
                    }
                    self.progress?(finished + k, total, Date().timeIntervalSince(start))
                    self.showStatus()
                    self.drawViewFigures(step: t.gStepCount)
                }
                finished += done
                let steps = t.history[before...]
                func mean(_ f: (StepStats) -> Float?) -> String {
                    let v = steps.compactMap(f)
                    return v.isEmpty ? "" : Format.number(v.reduce(0, +) / Float(v.count))
                }
                // An epoch cut short by Ctrl-C is the next epoch, in part.
                let label = t.epoch == epochBefore ? "\(t.epoch + 1) (part)" : String(t.epoch)
                let row = [label, String(done)] + statistics.map { mean($0.value) }
                rows.append(row)
                if Interrupt.isRequested { stopped = true }
                // On a terminal each row shows as its epoch ends, under the columns the first epoch filled.
                if live != nil || view != nil, (e + 1) % thin == 0 || e == 0 || e == n - 1 || stopped {
                    if liveColumns == nil {
                        let all = ["epoch", "steps"] + statistics.map(\.label)
                        let keep = all.indices.filter { $0 < 2 || !row[$0].isEmpty }
                        liveColumns = keep
                        showLive(.text(line(keep.map { all[$0] })))
                    }
                    showLive(.text(line(liveColumns!.map { row[$0] })))
                }
                // A figure every K epochs (and at a stop between them).
                if let every, let plotArgs, (e + 1) % every == 0 || stopped {
                    let f = try plot(plotArgs)
                    let marked = f.map { o -> Output in
                        guard case .figure(var fig) = o else { return o }
                        fig.title += " (epoch \(t.epoch))"
                        return .figure(fig)
                    }
                    figures += marked
                    for o in marked { showLive(o) }
                }
                if stopped { break }
            }
            progressStatus = ""
            // A statistic no step recorded (W of a loss that is not Wasserstein) has no column.
            // Wall times stay out of the table: the total is the line under it.
            var columns = ["epoch", "steps"] + statistics.map(\.label)
            let keep = columns.indices.filter { c in c < 2 || rows.contains { !$0[c].isEmpty } }
            columns = keep.map { columns[$0] }
            rows = rows.map { r in keep.map { r[$0] } }
            var title = "means over each epoch"
            if rows.count > 12 {
                rows = rows.enumerated().filter {
                    ($0.offset + 1) % thin == 0 || $0.offset == 0 || $0.offset == rows.count - 1
                }.map(\.element)
                title = "means over each epoch (a row every \(thin) epochs, and the last)"
            }
            var table = Table(title: title, columns: columns, rows: rows, rightAligned: columns.map { _ in true })
            // Shown as it ran on a terminal; kept whole for notebooks.
            table.streamed = live != nil
            var out: [Output] = figures.map { o -> Output in
                guard live != nil, case .figure(var f) = o else { return o }
                f.streamed = true
                return .figure(f)
            }
            out.append(.table(table))
            if stopped { out.append(.text("interrupted; the steps taken are kept")) }
            out.append(.timing("took", Date().timeIntervalSince(start)))
            return out
        default:
            let word = w.positional[1]
            throw ShellError(
                .value, "train N epochs or train N steps, found '\(word.text)'", at: word.location, length: word.length)
        }
    }

    func gradients() throws -> [Output] {
        let s = try requireSession("grads")
        let model = s.trainer.model
        return model.lastGradientNorms(s.trainer.history).map { partner, step, norms in
            let name = partner ? s.partnerName : s.generatorName
            guard let step else {
                return .text("\(name): no \(partner ? model.partnerLetter : "G") step yet")
            }
            let rows = norms.map { [String($0.layer), $0.spec, Format.number($0.norm)] }
            return .table(
                Table(
                    title: "\(name) after \(step): gradient norm per layer",
                    columns: ["#", "layer", "‖grad‖"], rows: rows, rightAligned: [true, false, true]))
        }
    }

    func history(_ w: CommandWords) throws -> [Output] {
        let s = try requireSession("history")
        let n = w.positional.isEmpty ? 10 : try w.int(0, "a number of steps")
        let h = s.trainer.history
        guard !h.isEmpty else { return [.text("no steps yet")] }
        let model = s.trainer.model
        let parts = type(of: model).partCounts(h[...])
        // A model whose steps have parts shows which part each row is.
        let columns = ["step"] + (parts.isEmpty ? [] : ["part"]) + ["epoch"] + model.historyStatistics.map(\.label)
        let rows = h.suffix(n).map { st -> [String] in
            [String(st.step)] + (parts.isEmpty ? [] : [st.part.rawValue]) + [String(st.epoch)]
                + model.historyStatistics.map { $0.value(st).map { Format.number($0) } ?? "" }
        }
        let keep = columns.indices.filter { c in rows.contains { !$0[c].isEmpty } }
        let steps = s.trainer.gStepCount
        let shown = min(n, h.count)
        let title =
            parts.isEmpty
            ? "last \(shown) of \(h.count) steps"
            : "the last \(shown) of \(h.count) D and G steps (\(parts); \(steps) step\(steps == 1 ? "" : "s"))"
        return [
            .table(
                Table(
                    title: title, columns: keep.map { columns[$0] }, rows: rows.map { r in keep.map { r[$0] } },
                    rightAligned: keep.map { columns[$0] != "part" }))
        ]
    }
}

/// " (text)", or nothing for empty text.
func parenthesised(_ text: String) -> String { text.isEmpty ? "" : " (\(text))" }
