import Foundation
import GANKit
import TensorCore

/// Settings of the interpreter that do not belong to a workspace.
public struct ShellOptions {
    /// The largest tensor an expression or command may create, in elements.
    public var maxElements = 1 << 26
    /// The most bytes all live tensors may hold when a command makes a new one
    /// from a shape it was given (`set maxmemory`, in MiB).
    public var maxMemory = 1 << 30
    /// Steps a single training command may take (the fuzz harness lowers it).
    public var maxSteps = 1_000_000
    /// How deeply `read` may nest scripts.
    public var maxReadDepth = 8
    /// Directory that relative paths in `read` resolve against.
    public var directory: String? = nil
    /// Keep every file the shell reads or writes inside `directory`: only the
    /// last component of a path is used (the fuzz harness sets this).
    public var confined = false
    /// Shorter training for lessons in CI (`quick` is 1 in expressions).
    public var quick = false
    /// Include wall times in outputs (transcript tests turn this off).
    public var timings = true
    public init() {}
}

/// The result of running one chunk of input: what it printed and the first error.
public struct ChunkResult {
    public var outputs: [Output]
    public var error: ShellError?
    /// `quit` was run.
    public var quit = false
}

/// Runs statements against a workspace. Every statement is a transaction:
/// if it fails, the workspace's bindings are put back as they were.
public final class Interpreter {
    public let workspace: Workspace
    public var options: ShellOptions
    var readDepth = 0
    var quitRequested = false
    /// The file being run, for `FILE:LINE:COL` in nested scripts.
    var currentFile: String?
    /// Every chunk run at the top level, with its outputs: the notebook `export` writes.
    public internal(set) var cells: [Cell] = []
    /// Told how a long command is getting on: steps done, steps in all, seconds so far.
    /// The REPL draws a progress bar from it on a terminal; scripts and pipes leave it unset.
    public var progress: ((_ done: Int, _ total: Int, _ seconds: Double) -> Void)?
    /// Where a long command shows outputs as they happen (a terminal); nil elsewhere. What it
    /// shows is returned too, marked `streamed`, so notebooks keep it.
    public var live: ((Output) -> Void)?
    /// The last step's statistics during training, for the progress bar ("D loss 1.3  G loss 0.7 …").
    public var progressStatus = ""
    /// The live view in the browser (`view`), when one is open: it gets each cell as it is
    /// made and what a long command shows as it runs.
    public var view: LiveView?
    /// Code cells published to the view so far (its numbering), figures on its page (their SVG
    /// ids), and when its state line was last sent.
    var viewCells = 0, viewFigures = 0, viewLastStatus = Date.distantPast
    /// Draw the view's figures every this many steps during training (`set view.every K`); nil:
    /// as often as keeps their drawing under 5% of the training time.
    public var viewEvery: Int?
    /// The figures the view draws during training (`view plot WHAT …`); empty: the data's own
    /// (the game for points, samples for images and words) and the losses.
    public var viewPlots: [String] = []
    /// When the view may draw next (automatic pacing), and training time since the last drawing.
    var viewNextDraw = Date.distantPast
    var viewDrawnAtStep = 0
    /// The last seed the session set (`seed N`), for a notebook's header.
    public var seed: UInt64?

    /// What runs this session, as a notebook's header shows it.
    public var runInfo: Notebook.RunInfo {
        let cpu = CPU.current, blas = BLAS.info
        return Notebook.RunInfo(
            version: GANShellInfo.version, seed: seed, quick: options.quick, date: Date(),
            cpu: (cpu.modelName.isEmpty ? cpu.vendor : cpu.modelName)
                + (cpu.vectorFeatures.isEmpty ? "" : " (" + cpu.vectorFeatures.joined(separator: ", ") + ")"),
            kernels: "\(blas.library) \(blas.kernels) kernels, \(blas.threads) thread\(blas.threads == 1 ? "" : "s")")
    }

    public init(workspace: Workspace = Workspace(), options: ShellOptions = ShellOptions()) {
        self.workspace = workspace
        self.options = options
    }

    public func isCommand(_ name: String) -> Bool { CommandTable.lookup(name) != nil }

    /// The names the shell gives meanings of its own, besides the commands: no value,
    /// network or loaded file may take one. The one list of reserved names.
    static let builtinNames: [(name: String, meaning: String)] = [
        ("gan", "the GAN or VAE"), ("data", "the loaded data"), ("optG", "G's optimizer"), ("optD", "D's optimizer"),
        ("optE", "a VAE encoder's optimizer"),
        ("quick", "1 in quick mode, else 0")
    ]

    /// Why `name` cannot name `what` (a command or a built-in name), or nil when it can.
    func reservedName(_ name: String, for what: String) -> String? {
        if isCommand(name) { return "'\(name)' is a command name; pick another name for \(what)" }
        if let b = Self.builtinNames.first(where: { $0.name == name }) {
            return "'\(name)' is a built-in name (\(b.meaning)); pick another name for \(what)"
        }
        return nil
    }

    /// Parses and runs a chunk (one or more complete lines). Stops at the first error.
    public func run(_ source: String, firstLine: Int = 1) -> ChunkResult {
        let result = execute(chunk: source, firstLine: firstLine)
        if readDepth == 0 {
            var shown = result.error
            // The cell's caret counts lines from the cell's first line.
            if let loc = shown?.location, shown?.file == nil {
                shown?.location = SourceLocation(line: loc.line - firstLine + 1, column: loc.column)
            }
            let cell = Cell(
                source: source, outputs: result.outputs,
                error: shown.map { Script.format($0, file: nil, source: source) })
            cells.append(cell)
            publish(cell)
        }
        return result
    }

    func execute(chunk source: String, firstLine: Int) -> ChunkResult {
        var result = ChunkResult(outputs: [])
        if readDepth == 0 { quitRequested = false }
        let pending: [Parser.Pending]
        do { pending = try Parser.split(source, firstLine: firstLine) } catch {
            result.error = shellError(error, at: nil)
            return result
        }
        // Each statement is parsed just before it runs: what it means may depend on those before it.
        for statement in pending {
            let p: ParsedStatement
            do {
                p = try statement.parse(
                    isCommand: isCommand, isNetwork: { [workspace] in workspace.bindings.networks[$0] != nil })
            } catch {
                result.error = shellError(error, at: nil)
                return result
            }
            let saved = workspace.bindings, savedRandom = Random.global
            let limit = Tensor.elementLimit, budget = Tensor.memoryBudget
            Tensor.elementLimit = min(limit, options.maxElements)
            Tensor.memoryBudget = min(budget, options.maxMemory)
            defer { Tensor.elementLimit = limit; Tensor.memoryBudget = budget }
            do {
                let out = try execute(p.statement)
                result.outputs += out
                if readDepth == 0 {
                    if case .command(let t, _) = p.statement, ["record", "quit", "exit"].contains(t.text) {
                    } else {
                        workspace.succeeded.append(p.text)
                    }
                }
            } catch let nested as NestedScriptError {
                // The nested script's statements that succeeded stay done.
                result.outputs += nested.outputs
                result.error = nested.error
                return result
            } catch is InterruptedError {
                // Abandoned by Ctrl-C: as if it had never run, random numbers included.
                workspace.bindings = saved
                Random.global = savedRandom
                let first = p.statement.firstToken
                result.error = ShellError(
                    .interrupted, "interrupted: '\(first.text)' was abandoned; the workspace is as it was before it",
                    at: first)
                return result
            } catch {
                workspace.bindings = saved
                result.error = shellError(error, at: p.statement.firstToken)
                return result
            }
            if quitRequested { result.quit = true; return result }
            // After Ctrl-C, the statements after the interrupted one do not run.
            if Interrupt.isRequested { return result }
        }
        return result
    }

    /// Any error as a located shell error.
    func shellError(_ error: Error, at token: Token?) -> ShellError {
        if let e = error as? ShellError {
            if e.location == nil, let token {
                var e = e; e.location = token.location; e.length = token.text.count; return e
            }
            return e
        }
        let kind: ShellError.Kind
        switch error {
        case is ShapeError, is TensorError: kind = .shape
        case is FileError, is CheckpointError, is SafeTensorsError: kind = .file
        case is NonFiniteError: kind = .training
        default: kind = .value
        }
        var message = "\(error)"
        if let e = error as? TensorError, e.message.contains("elements"), message.contains("limit") {
            message += " (see 'set maxelements')"
        }
        if let token { return ShellError(kind, message, at: token) }
        return ShellError(kind, message)
    }

    func execute(_ s: Statement) throws -> [Output] {
        switch s {
        case .assignment(let name, let e):
            let n = name.text
            if let why = reservedName(n, for: "the value") { throw ShellError(.name, why, at: name) }
            let v = try evaluate(e)
            switch v {
            case .tensor(let t):
                workspace.bindings.networks[n] = nil
                // A parameter is copied: the name keeps this value while training goes on.
                workspace.bindings.variables[n] = .tensor(t.requiresGrad ? t.copy() : t)
                return [
                    .text(t.rank == 0 ? "\(n) = \(Format.number(t.item))" : "\(n) = tensor \(Format.shape(t.shape))")
                ]
            case .network(_, let net):
                workspace.bindings.variables[n] = nil
                workspace.bindings.networks[n] = net.copy()
                return [.text("\(n) = a copy of the network, \(Format.count(net.parameterCount)) parameters")]
            case .string(let s):
                workspace.bindings.networks[n] = nil
                workspace.bindings.variables[n] = .string(s)
                return [.text("\(n) = \"\(s)\"")]
            default:
                throw ShellError(
                    .value, "only tensors, strings and networks can be named; this is \(v.typeName)", at: e.token)
            }
        case .expression(let e):
            return try display(try evaluate(e))
        case .command(let name, let args):
            guard let c = CommandTable.lookup(name.text) else { throw ShellError(.name, "unknown command", at: name) }
            return try c.run(self, args, try c.words(args), name)
        case .edit(let net, let verb, let args):
            return try editNetwork(net, verb, args)
        }
    }

    /// How a bare value prints.
    func display(_ v: Value) throws -> [Output] {
        switch v {
        case .tensor(let t):
            if t.rank == 0 { return [.text(Format.number(t.item))] }
            return [.text(t.formatted(threshold: 200, edgeItems: 3, precision: 4))]
        default:
            return try show(v, name: nil)
        }
    }
}

extension Interpreter {
    /// Sends a finished cell to the live view, as the exported notebook would show it.
    func publish(_ cell: Cell) {
        guard let view else { return }
        let block: Notebook.Block
        if cell.outputs.isEmpty, cell.error == nil, let lines = Notebook.commentLines(cell.source) {
            block = .prose(lines)
        } else {
            viewCells += 1
            block = .code(cell, number: viewCells)
        }
        if let html = try? Notebook.htmlBlock(block, timings: options.timings, figures: &viewFigures) {
            view.publish(html)
        }
    }

    /// What a long command shows as it runs: on the terminal (`live`) and in the view, where
    /// rows add up and a figure replaces the one before it.
    func showLive(_ output: Output) {
        live?(output)
        guard let view else { return }
        // Rows add up; a figure replaces the one before it, under the rows.
        let html = viewHTML(output)
        if case .figure = output {
            view.liveFigure(html, status: progressStatus)
        } else {
            view.liveRow(html, status: progressStatus)
        }
    }

    /// An output as the page shows it (the notebook's HTML, figures as SVG with ids of their own).
    func viewHTML(_ output: Output) -> String {
        let pieces = (try? Notebook.pieces(Cell(source: "", outputs: [output]), timings: false)) ?? []
        return pieces.map { (try? Notebook.htmlPiece($0, figures: &viewFigures)) ?? "" }.joined()
    }

    /// During training, the view's figures after step `step`: every `viewEvery` steps, or when the
    /// last drawing's cost is under 5% of the training time since it; never without an open tab.
    func drawViewFigures(step: Int) {
        guard let view, view.clients > 0, let s = workspace.session else { return }
        // A new run counts its steps from 0 again.
        if step < viewDrawnAtStep { viewDrawnAtStep = 0 }
        if let every = viewEvery {
            guard step - viewDrawnAtStep >= every else { return }
        } else {
            guard Date() >= viewNextDraw else { return }
        }
        let started = Date()
        var plots = viewPlots
        if plots.isEmpty {
            plots = [
                s.data.source.sampleShape == [2] && s.trainer.model.adversary != nil ? "game" : "samples",
                "losses smooth=50"
            ]
        }
        let html = plots.flatMap { (try? plot(try Arguments(text: $0))) ?? [] }.map(viewHTML).joined()
        viewDrawnAtStep = step
        view.liveFigure(html, status: progressStatus)
        // Drawing, encoding and sending (the last on another thread) stay under 5% of the time:
        // at most once a second, and at least 49 times what this drawing cost here apart.
        let cost = Date().timeIntervalSince(started)
        viewNextDraw = Date().addingTimeInterval(max(cost * 49, 1))
    }

    /// The training state line in the view, at most four times a second.
    func showStatus() {
        guard let view, Date().timeIntervalSince(viewLastStatus) >= 0.25 else { return }
        viewLastStatus = Date()
        view.status(progressStatus)
    }
}
