@testable import GANShell
import TensorCore
import TestSupport
import XCTest

final class REPLTests: XCTestCase {
    func session(_ inputs: [LineInput]) -> (
        out: [String], err: [String], reader: ScriptedLineReader, interpreter: Interpreter
    ) {
        var out: [String] = [], err: [String] = []
        let interpreter = Interpreter()
        let runner = Runner(
            interpreter: interpreter, renderer: TextRenderer(showTimings: false), out: { out.append($0) },
            err: { err.append($0) })
        let reader = ScriptedLineReader(inputs)
        runner.repl(reader: reader)
        return (out, err, reader, interpreter)
    }

    func testNumberedPromptsContinuationAndHistory() {
        let s = session([.line("x = (1 +"), .line("  2)"), .line("x * 2"), .line("")])
        XCTAssertEqual(s.reader.prompts, ["gans [1]> ", "     ...> ", "gans [2]> ", "gans [3]> ", "gans [3]> "])
        XCTAssertEqual(s.out, ["x = 3", "6"])
        XCTAssertEqual(s.reader.history, ["x = (1 +\n  2)", "x * 2"])
        XCTAssertTrue(s.err.isEmpty)
    }

    func testCtrlCClearsTheLineAndCtrlDLeaves() {
        let s = session([.line("x = (1 +"), .interrupt, .line("y = 2"), .end, .line("never read")])
        XCTAssertEqual(s.out, ["y = 2"])
        XCTAssertNil(s.interpreter.workspace.lookup("x"))
        XCTAssertEqual(s.reader.prompts.count, 4)
    }

    func testErrorsAtThePromptShowTheLineAndCaretWithoutAFileName() {
        let s = session([.line("z = 1"), .line("z + zz"), .line("z")])
        XCTAssertEqual(s.err, ["error: unknown name 'zz'; defined: z\n    z + zz\n        ^~"])
        XCTAssertEqual(s.out, ["z = 1", "1"])
    }

    /// The prompt counts the lines that ran: a line that failed is tried again under the same number.
    func testThePromptDoesNotCountFailedLines() {
        let s = session([.line("z = 1"), .line("z + zz"), .line("z = (1 +"), .line("2 +)"), .line("z")])
        XCTAssertEqual(
            s.reader.prompts, ["gans [1]> ", "gans [2]> ", "gans [2]> ", "     ...> ", "gans [2]> ", "gans [3]> "])
        XCTAssertEqual(s.out, ["z = 1", "1"])
    }

    func testQuitEndsTheLoop() {
        let s = session([.line("quit"), .line("x = 1")])
        XCTAssertEqual(s.reader.prompts.count, 1)
    }

    func testCompletion() {
        let interpreter = Interpreter()
        _ = interpreter.run("net D = input 2 | linear 8 | relu | linear 1; w = randn(2)")
        let c = Completer(interpreter: interpreter)
        XCTAssertEqual(c.complete(word: "ste", before: ""), ["step"])
        XCTAssertEqual(c.complete(word: "D.", before: "show "), ["D.0", "D.1", "D.2"])
        XCTAssertEqual(c.complete(word: "D.lo", before: "p = "), ["D.logits("])
        XCTAssertEqual(c.complete(word: "D.0.", before: "show "), ["D.0.bias", "D.0.weight"])
        XCTAssertEqual(c.complete(word: "D.0.weight.g", before: "show "), ["D.0.weight.grad"])
        XCTAssertEqual(c.complete(word: "ad", before: "D "), ["add"])
        XCTAssertEqual(c.complete(word: "loss=hi", before: "gan G D "), ["loss=hinge"])
        XCTAssertEqual(c.complete(word: "mode", before: "explain "), ["mode-collapse"])
        XCTAssertEqual(c.complete(word: "batchn", before: "D add "), ["batchnorm"])
        XCTAssertEqual(c.complete(word: "w", before: "show "), ["w"])
        // set offers settings, not loss values; plot offers plot kinds, not networks.
        XCTAssertFalse(c.complete(word: "", before: "set ").contains("hinge"))
        XCTAssertTrue(c.complete(word: "", before: "set ").contains("lr"))
        XCTAssertEqual(c.complete(word: "hi", before: "set loss "), ["hinge"])
        // Values come from the settings' declarations, after 'set KEY', 'set KEY=' and 'gan … KEY='.
        XCTAssertEqual(c.complete(word: "", before: "set z "), ["normal", "uniform"])
        XCTAssertEqual(c.complete(word: "", before: "set lambda "), [])
        XCTAssertEqual(c.complete(word: "loss=wg", before: "set "), ["loss=wgan", "loss=wgan-gp"])
        XCTAssertEqual(c.complete(word: "z=u", before: "gan G D "), ["z=uniform"])
        XCTAssertEqual(c.complete(word: "opt=r", before: "gan G D "), ["opt=rmsprop"])
        XCTAssertTrue(c.complete(word: "", before: "gan G D ").contains("every="))
        XCTAssertTrue(c.complete(word: "", before: "vae E G ").contains("beta="))
        XCTAssertFalse(c.complete(word: "", before: "vae E G ").contains("loss="))
        XCTAssertFalse(c.complete(word: "", before: "plot ").contains("D"))
        XCTAssertTrue(c.complete(word: "", before: "plot ").contains("samples"))
    }

    /// Paths complete after the commands that take one; the line editor breaks words at / and -,
    /// so a candidate replaces only what follows the last break.
    func testFilePathsComplete() throws {
        let scratch = try ScratchFolder()
        try FileManager.default.createDirectory(atPath: scratch.path + "/runs", withIntermediateDirectories: true)
        try scratch.write("ring-G.safetensors", [0])
        try scratch.write("runs/a.gans", [0])
        var o = ShellOptions()
        o.directory = scratch.path
        let c = Completer(interpreter: Interpreter(options: o))
        XCTAssertEqual(c.complete(word: "ring", before: "load H "), ["ring-G.safetensors"])
        XCTAssertEqual(c.complete(word: "G.s", before: "load H ring-"), ["G.safetensors"])
        XCTAssertEqual(c.complete(word: "ru", before: "read "), ["runs/"])
        XCTAssertEqual(c.complete(word: "", before: "read runs/"), ["a.gans"])
        XCTAssertEqual(c.complete(word: "r", before: "data csv "), ["ring-G.safetensors", "runs/"])
        XCTAssertEqual(c.complete(word: "r", before: "sample 8 to "), ["ring-G.safetensors", "runs/"])
        XCTAssertEqual(c.complete(word: "us", before: "read /"), ["usr/"])
        // Elsewhere names, not files.
        XCTAssertFalse(c.complete(word: "r", before: "show ").contains("runs/"))
    }
}
