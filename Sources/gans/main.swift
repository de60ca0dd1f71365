import ArgumentParser
import Foundation
import GANShell
import TensorCore

#if canImport(Glibc)
    import Glibc
#endif

@main
struct Gans: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gans",
        abstract: "Build, train and look inside generative adversarial networks.",
        discussion:
            "Without a script, gans starts an interactive shell on a terminal, or reads commands from standard input when it is a pipe. Type 'help' in the shell for the commands.",
        version: GANShellInfo.version)

    @Argument(help: "A .gans script to run.")
    var script: String?

    @Option(name: .customShort("c"), help: "Commands to run, separated by ';'.")
    var command: String?

    @Option(help: "Run a built-in example script (\(GANShellInfo.examples.joined(separator: ", "))).")
    var example: String?

    @Flag(help: "Continue a script after a failing command (the exit status is still 1).")
    var keepGoing = false

    @Flag(help: "Print each command before its output, as a transcript.")
    var echo = false

    @Option(help: "Seed the random generator before anything runs.")
    var seed: UInt64?

    @Flag(help: "No colour, even on a terminal (NO_COLOR does the same).")
    var noColor = false

    @Flag(help: "Print only errors.")
    var quiet = false

    @Flag(help: "Leave wall times out of the output (for comparable transcripts).")
    var noTimings = false

    @Flag(help: "Shorter training for lessons (the variable 'quick' is 1).")
    var quick = false

    @Flag(help: "Show the run in the browser as a live notebook that follows it (see 'help view').")
    var view = false

    @Flag(help: "Print the command reference of docs/dsl.md (Markdown) and exit.")
    var reference = false

    @Option(help: "After the script, write it with its outputs as one self-contained HTML page.")
    var html: String?

    @Option(help: "After the script, write it as a Jupyter notebook (nbformat 4).")
    var ipynb: String?

    @Option(help: "After the script, write it as Markdown, its images in a folder beside it.")
    var md: String?

    @Option(
        help:
            "After the script, write its GAN's networks as PyTorch modules with their weights into this folder (export torch)."
    )
    var torch: String?

    mutating func run() throws {
        if reference {
            print(Reference.commandsMarkdown())
            return
        }
        if let seed { Random.seed(seed) }
        var options = ShellOptions()
        options.quick = quick
        options.timings = !noTimings
        let interpreter = Interpreter(options: options)
        let stdoutTTY = isatty(STDOUT_FILENO) == 1
        let colorAllowed = !noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        var style = TextStyle.plain
        if stdoutTTY {
            let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
            let truecolor = ["truecolor", "24bit"].contains(ProcessInfo.processInfo.environment["COLORTERM"] ?? "")
            style = TextStyle(
                unicode: term != "dumb",
                colors: !colorAllowed || term == "dumb" ? .none : truecolor ? .truecolor : .ansi256)
        }
        let runner = Runner(
            interpreter: interpreter,
            renderer: TextRenderer(showTimings: !noTimings, width: terminalWidth(), style: style),
            out: { print($0) },
            err: {
                // What was printed before the error comes before it, in a pipe too.
                fflush(stdout)
                FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!)
            })
        if stdoutTTY { runner.windowSize = { Self.terminalSize() } }
        runner.echo = echo
        runner.quiet = quiet
        runner.keepGoing = keepGoing
        runner.color = colorAllowed && isatty(STDERR_FILENO) == 1
        installInterruptHandler()
        // A progress bar only where a person watches: standard error on a terminal, and not in --quiet.
        if isatty(STDERR_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 && !quiet {
            runner.progressSink = { FileHandle.standardError.write(Data($0.utf8)) }
        }
        // Line-buffered in a pipe too: when the process is ended (SIGTERM, a
        // closed pipe) every line it printed has already been written.
        setvbuf(stdout, nil, _IOLBF, 0)
        defer { fflush(stdout) }

        if let example {
            guard let text = GANShellInfo.example(named: example) else {
                throw ValidationError(
                    "no example '\(example)'; there are \(GANShellInfo.examples.joined(separator: ", "))")
            }
            guard runner.runScript(text, file: "\(example).gans") else { throw ExitCode(runner.interrupted ? 130 : 1) }
            return
        }
        if let command {
            guard runner.runScript(command, file: nil) else { throw ExitCode(runner.interrupted ? 130 : 1) }
            return
        }
        if let script {
            let bytes: [UInt8]
            do { bytes = try AtomicFile.read(script) } catch let e as FileError {
                FileHandle.standardError.write(Data("\(script): error: \(e.message)\n".utf8))
                throw ExitCode(1)
            }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                FileHandle.standardError.write(Data("\(script): error: the file is not UTF-8 text\n".utf8))
                throw ExitCode(1)
            }
            if view {
                let title = ((script as NSString).lastPathComponent as NSString).deletingPathExtension
                do { interpreter.view = try LiveView(title: title) } catch {
                    FileHandle.standardError.write(Data("gans: \(error)\n".utf8))
                    throw ExitCode(1)
                }
                FileHandle.standardError.write(Data("gans: the view is at \(interpreter.view!.url)\n".utf8))
            }
            defer { interpreter.view?.stop() }
            let ok = runner.runScript(text, file: script)
            // The notebook is written even when the script failed: it shows where.
            let title = ((script as NSString).lastPathComponent as NSString).deletingPathExtension
            for path in [html, ipynb, md].compactMap({ $0 }) {
                do {
                    try Notebook.write(
                        interpreter.cells, title: title, to: path, timings: !noTimings,
                        info: noTimings ? nil : interpreter.runInfo)
                } catch {
                    FileHandle.standardError.write(Data("gans: cannot write \(path): \(error)\n".utf8))
                    throw ExitCode(1)
                }
            }
            guard ok else { throw ExitCode(runner.interrupted ? 130 : 1) }
            if let torch {
                let quoted =
                    "\""
                    + torch.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    + "\""
                guard runner.runScript("export torch " + quoted, file: nil) else { throw ExitCode(1) }
            }
            return
        }
        if html != nil || ipynb != nil || md != nil || torch != nil {
            throw ValidationError("--html, --ipynb, --md and --torch export a script: give its path")
        }
        if isatty(STDIN_FILENO) == 1 {
            if !quiet {
                print(
                    TextRenderer.wrap(
                        "gans \(GANShellInfo.version): type 'help' for the commands, 'explain gan' to begin, Ctrl-D to leave.",
                        width: terminalWidth()))
            }
            runner.repl(reader: EditLineReader(completer: Completer(interpreter: interpreter)))
            interpreter.view?.stop()
            return
        }
        let text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        guard runner.runScript(text, file: "<stdin>") else { throw ExitCode(runner.interrupted ? 130 : 1) }
    }

    /// The window's columns and lines: COLUMNS and LINES when set, else the terminal's, else 80 × 24.
    static func terminalSize() -> (columns: Int, lines: Int) {
        var size = winsize()
        let known = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0
        let env = ProcessInfo.processInfo.environment
        let columns =
            env["COLUMNS"].flatMap(Int.init).flatMap { $0 >= 20 ? $0 : nil }
            ?? (known && size.ws_col >= 20 ? Int(size.ws_col) : 80)
        let lines =
            env["LINES"].flatMap(Int.init).flatMap { $0 >= 10 ? $0 : nil }
            ?? (known && size.ws_row >= 10 ? Int(size.ws_row) : 24)
        return (columns, lines)
    }

    func terminalWidth() -> Int { Self.terminalSize().columns }
}
