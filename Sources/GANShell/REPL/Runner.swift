import Foundation
import TensorCore

/// What a line reader gives back.
public enum LineInput: Equatable {
    case line(String)
    /// Ctrl-C at the prompt: the line is dropped.
    case interrupt
    /// Ctrl-D or the end of input.
    case end
}

/// A source of typed lines: libedit on a terminal, a list of lines in tests.
public protocol LineReader: AnyObject {
    func readLine(prompt: String) -> LineInput
    func addHistory(_ entry: String)
}

/// Runs scripts, `-c` commands, piped input and the REPL on one interpreter,
/// writing rendered outputs and errors through the given sinks.
public final class Runner {
    public let interpreter: Interpreter
    public var renderer: TextRenderer
    public var echo = false
    public var quiet = false
    public var keepGoing = false
    /// Colour for error headers (terminal only).
    public var color = false
    /// Where a progress bar goes (standard error on a terminal), or nil for none.
    public var progressSink: ((String) -> Void)? {
        didSet { installProgress() }
    }
    var progressShown = false
    var lastProgress = 0.0
    /// The terminal's size, read before each output so figures follow the window; nil keeps the renderer's.
    public var windowSize: (() -> (columns: Int, lines: Int))?
    /// Lines the last live figure took, so the next one redraws it in place.
    var liveFigureLines = 0

    func installProgress() {
        guard let sink = progressSink else { interpreter.progress = nil; interpreter.live = nil; return }
        interpreter.live = { [unowned self] output in
            self.clearProgress()
            self.fitWindow()
            let text = self.renderer.render([output])
            if case .figure = output {
                // The figure replaces the one before it: up over its lines, clear to the end.
                if self.liveFigureLines > 0 { sink("\u{1B}[\(self.liveFigureLines)A\u{1B}[J") }
                self.liveFigureLines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            } else {
                self.liveFigureLines = 0
            }
            self.out(text)
        }
        interpreter.progress = { [unowned self] done, total, seconds in
            // At most ten redraws a second, and none for commands shorter than half a second.
            guard seconds >= 0.5, seconds - self.lastProgress >= 0.1 || done == total else { return }
            self.lastProgress = seconds
            sink(
                "\r"
                    + Runner.progressLine(
                        done: done, total: total, seconds: seconds, width: min(self.renderer.width, 100),
                        status: self.interpreter.progressStatus) + "\u{1B}[K")
            self.progressShown = true
        }
    }

    /// `[#######-------]  45%  450/1,000 steps  1,234/s  ETA 0.4 s`
    public static func progressLine(done: Int, total: Int, seconds: Double, width: Int, status: String = "")
        -> String
    {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let percent = String(Int(fraction * 100))
        let tail =
            " " + String(repeating: " ", count: 3 - percent.count) + percent
            + "%  \(Format.count(done))/\(Format.count(total)) steps  \(Format.count(Int(rate)))/s  ETA \(Format.seconds(eta))"
        // The statistics go after the bar when the line has room for them and a bar of 10.
        let extra = status.isEmpty || width - tail.count - status.count - 4 < 10 ? "" : "  " + status
        let barWidth = max(10, width - tail.count - extra.count - 2)
        let filled = Int(fraction * Double(barWidth))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: barWidth - filled) + "]"
            + tail + extra
    }

    func clearProgress() {
        if progressShown { progressSink?("\r\u{1B}[K") }
        progressShown = false
        lastProgress = 0
    }
    let out: (String) -> Void
    let err: (String) -> Void

    public init(
        interpreter: Interpreter, renderer: TextRenderer = TextRenderer(),
        out: @escaping (String) -> Void, err: @escaping (String) -> Void
    ) {
        self.interpreter = interpreter
        self.renderer = renderer
        self.out = out
        self.err = err
    }

    func fitWindow() {
        guard let size = windowSize?() else { return }
        renderer.width = max(20, size.columns)
        // A plot takes about half the window's height, between 8 and 40 rows.
        renderer.plotHeight = max(8, min(40, size.lines / 2 - 4))
    }

    func emit(_ outputs: [Output]) {
        guard !quiet else { return }
        fitWindow()
        liveFigureLines = 0
        // What a command already showed as it ran is not shown again.
        let fresh = outputs.filter { o in
            switch o {
            case .table(let t): return !t.streamed
            case .figure(let f): return !f.streamed
            default: return true
            }
        }
        let text = renderer.render(fresh)
        if !text.isEmpty { out(text) }
    }

    func report(_ e: ShellError, file: String?, source: String) {
        var text = Script.format(e, file: file, source: source)
        if color, let r = text.range(of: "error:") { text.replaceSubrange(r, with: "\u{1B}[1;31merror:\u{1B}[0m") }
        err(text)
    }

    /// The last script run was stopped by Ctrl-C (`gans FILE` then exits 130).
    public private(set) var interrupted = false

    /// Runs a whole script. Returns false when any statement failed (it stops
    /// at the first failure unless `keepGoing`) or Ctrl-C stopped it, else
    /// true; `quit` ends it early. Ctrl-C stops the script after the current
    /// step and says where; what was done stays done.
    @discardableResult
    public func runScript(_ text: String, file: String?) -> Bool {
        let savedFile = interpreter.currentFile
        interpreter.currentFile = file
        defer { interpreter.currentFile = savedFile }
        var ok = true
        interrupted = false
        Interrupt.clear()
        // The first Ctrl-C stops the script after the current command; the second abandons that command.
        let savedAbandon = Interrupt.abandonAt
        Interrupt.abandonAt = 2
        defer { Interrupt.abandonAt = savedAbandon }
        for chunk in Script.chunks(text) {
            if echo {
                out(
                    chunk.text.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(
                        separator: "\n"))
            }
            let r = interpreter.run(chunk.text, firstLine: chunk.firstLine)
            clearProgress()
            emit(r.outputs)
            if let e = r.error {
                report(e, file: file, source: text)
                ok = false
                if e.kind == .interrupted { interrupted = true; break }
                if !keepGoing { break }
            }
            if r.quit { break }
            if Interrupt.isRequested {
                let last = chunk.firstLine + chunk.text.filter { $0 == "\n" }.count
                err(
                    "\(file ?? "gans"):\(last): interrupted: the script stopped after this line; what ran before stays done"
                )
                interrupted = true
                ok = false
                break
            }
        }
        Interrupt.clear()
        return ok
    }

    /// The interactive loop: numbered prompts, continuation lines while
    /// brackets are open, Ctrl-C clears the line, Ctrl-D leaves.
    public func repl(reader: LineReader) {
        var cell = 1
        while true {
            var buffer = ""
            var prompt = "gans [\(cell)]> "
            var interrupted = false
            while true {
                switch reader.readLine(prompt: prompt) {
                case .end:
                    if buffer.isEmpty { return }
                    interrupted = true
                case .interrupt:
                    interrupted = true
                case .line(let l):
                    buffer += buffer.isEmpty ? l : "\n" + l
                }
                if interrupted || !Lexer.needsMoreInput(buffer) { break }
                prompt = String(repeating: " ", count: max(0, prompt.count - 5)) + "...> "
            }
            if interrupted { continue }
            guard !buffer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
            reader.addHistory(buffer)
            Interrupt.clear()
            let r = interpreter.run(buffer, firstLine: 1)
            clearProgress()
            if Interrupt.isRequested { out("") }  // after the terminal's ^C
            emit(r.outputs)
            if let e = r.error { report(e, file: nil, source: buffer) }
            // Whatever happened, no interrupt outlives its command.
            Interrupt.clear()
            // The prompt counts the lines that ran; a failed line is tried again under its number.
            if r.error == nil { cell += 1 }
            if r.quit { return }
        }
    }
}

/// Reads lines from a list (tests) and records the prompts it was shown.
public final class ScriptedLineReader: LineReader {
    var inputs: [LineInput]
    public private(set) var prompts: [String] = []
    public private(set) var history: [String] = []

    public init(_ inputs: [LineInput]) { self.inputs = inputs }

    public func readLine(prompt: String) -> LineInput {
        prompts.append(prompt)
        return inputs.isEmpty ? .end : inputs.removeFirst()
    }

    public func addHistory(_ entry: String) { history.append(entry) }
}
