import Foundation
@testable import GANKit
@testable import GANShell
import TensorCore
import TestSupport
import XCTest

final class InterpreterTests: XCTestCase {
    var shell: Interpreter!

    override func setUp() {
        Random.seed(0)
        var o = ShellOptions()
        o.timings = false
        shell = Interpreter(options: o)
    }

    /// The workspace goes with its test (XCTest keeps test cases alive; the tensor budget counts every live tensor).
    override func tearDown() {
        shell = nil
    }

    @discardableResult
    func run(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> [Output] {
        let r = shell.run(s)
        if let e = r.error { XCTFail("\(s): \(e.message)", file: file, line: line) }
        return r.outputs
    }

    func fails(_ s: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        let r = shell.run(s)
        guard let e = r.error else { return XCTFail("\(s) did not fail", file: file, line: line) }
        XCTAssertTrue(e.message.contains(fragment), "\(s): \(e.message)", file: file, line: line)
    }

    func tensor(_ name: String) -> Tensor? {
        if case .tensor(let t)? = shell.workspace.lookup(name) { return t }
        return nil
    }

    func testExpressionsAgainstNaiveArithmetic() {
        run("a = [[1, 2, 3], [4, 5, 6]]; b = [[1, 0], [0, 1], [2, 2]]; c = a @ b")
        // Naive matrix product.
        let a: [[Float]] = [[1, 2, 3], [4, 5, 6]], b: [[Float]] = [[1, 0], [0, 1], [2, 2]]
        var want: [Float] = []
        for i in 0..<2 { for j in 0..<2 { want.append((0..<3).reduce(0) { $0 + a[i][$1] * b[$1][j] }) } }
        XCTAssertEqual(tensor("c")?.scalars, want)
        XCTAssertEqual(tensor("c")?.shape, [2, 2])
        run("d = (a - 1) / 2 + a ** 2 * -1")
        XCTAssertEqual(tensor("d")?.scalars, [1, 2, 3, 4, 5, 6].map { ($0 - 1) / 2 - $0 * $0 })
        run("e = a[1, 1:]; f = a[:, -1]; g = sum(a, 1); h = mean(a)")
        XCTAssertEqual(tensor("e")?.scalars, [5, 6])
        XCTAssertEqual(tensor("f")?.scalars, [3, 6])
        XCTAssertEqual(tensor("g")?.scalars, [6, 15])
        XCTAssertEqual(tensor("h")?.item, 3.5)
        run("s = softmax([1, 2, 3])")
        let ex = [1, 2, 3].map { Foundation.exp(Float($0)) }
        for (x, y) in zip(tensor("s")!.scalars, ex.map { $0 / ex.reduce(0, +) }) {
            XCTAssertEqual(x, y, accuracy: 1e-6)
        }
    }

    /// Every command that declares its words is checked before it runs: a word past the last
    /// and an option it does not know are refused with its name, and nothing runs.
    func testDeclaredWordsAreCheckedBeforeACommandRuns() {
        run("x = ones(3)")
        for c in CommandTable.all {
            guard let most = c.takes.most else { continue }
            let extra = Array(repeating: "w", count: most) + ["past"]
            fails(c.name + " " + extra.joined(separator: " "), "\(c.name): unexpected 'past'")
            fails(c.name + " zz=1", "unknown option 'zz': \(c.name)")
            XCTAssertNotNil(tensor("x"), "\(c.name) ran before its words were checked")
            for option in c.takes.options {
                XCTAssertTrue(c.words.contains(option + "="), "completion lacks \(option)= of \(c.name)")
            }
        }
        XCTAssertFalse(shell.quitRequested, "quit ran with words it does not take")
    }

    /// A VAE's encoder's optimizer is optE (optD still reaches it); a GAN has no optE.
    func testAVAEsEncoderOptimizerIsOptE() {
        run("data digits; net E = input 1 8 8 | flatten | linear 8; net G = noise 4 | linear 64 | tanh | reshape 1 8 8")
        run("vae E G")
        guard case .optimizer(let name, let o)? = shell.workspace.lookup("optE") else { return XCTFail("no optE") }
        XCTAssertEqual(name, "optE")
        XCTAssertTrue(o === shell.workspace.session?.trainer.optimizerD)
        XCTAssertTrue(shell.workspace.names.contains("optE"))
        fails("optE = 3", "optE")
        run("net D = input 1 8 8 | flatten | linear 1; gan G D")
        fails("show optE", "unknown name 'optE'")
    }

    /// about names the CPU and the kernels that run, as gans-bench does.
    func testAboutNamesTheMachine() throws {
        guard case .table(let t)? = run("about").first else { return XCTFail("about gave no table") }
        let rows = Dictionary(uniqueKeysWithValues: t.rows.map { ($0[0], $0[1]) })
        XCTAssertEqual(rows["gans"], GANShellInfo.version)
        XCTAssertEqual(rows["BLAS kernels"], "\(BLAS.info.kernel) (\(BLAS.info.choice))")
        XCTAssertEqual(rows["C kernels"], CPU.current.kernelLevel)
        XCTAssertEqual(rows["largest tensor"], Format.count(shell.options.maxElements) + " values")
        XCTAssertFalse(rows["CPU", default: ""].isEmpty)
        XCTAssertEqual(
            rows["training steps"], trainingSplit(cores: BLAS.info.threads, policy: SplitChooser.processPolicy))
        XCTAssertEqual(trainingSplit(cores: 1, policy: .adaptive), "one core")
        XCTAssertEqual(trainingSplit(cores: 2, policy: .never), "one core (GANS_SPLIT=never)")
        XCTAssertTrue(trainingSplit(cores: 2, policy: .adaptive).hasPrefix("split over 2 cores or on one"))
    }

    func testShapeAndNameErrorsExplain() {
        run("a = randn(2, 3)")
        fails("a @ a", "inner sizes")
        fails("a + randn(4)", "cannot combine [2, 3] and [4]")
        fails("a[2]", "index 2 is outside axis 0 of size 2")
        fails("aa + 1", "unknown name 'aa'; defined: a")
        run("alpha = 1")
        fails("alpah * 2", "did you mean 'alpha'?")
        fails("randn(-1)", "sizes must be zero or more")
        fails("randn([-1e30, 2])", "sizes must be whole numbers")
        fails("a.grad", "no gradient yet")
        fails("reshape(a, 4)", "reshape")
        fails("a ** a", "exponent")
        fails("mean(a, 5)", "axis 5 is outside")
        fails("nosuch(1)", "unknown function")
    }

    func testSizeLimitGivesAnErrorNotACrash() {
        shell.options.maxElements = 1000
        fails("randn(100, 100)", "1000")
        run("set maxelements 100000")
        run("x = randn(100, 100)")
        fails("set maxelements 0", "maxelements")
    }

    func testFailingStatementLeavesWorkspaceAsItWas() {
        run(
            "data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D"
        )
        let before = shell.workspace.bindings.networks["G"]!
        let params = before.parameters.map { $0.tensor.scalars }
        // Each of these fails; nothing may change.
        fails("G add linear 3", "G is part of the GAN")
        fails("G remove 9", "layers 0…2")
        fails("net G = noise 2 | linear 3", "G makes samples of shape [3]")
        fails("x = 1; y = nosuch", "unknown name")
        fails("set lr 100", "lr")
        fails("gan G D loss=nope", "unknown loss")
        XCTAssertTrue(shell.workspace.bindings.networks["G"] === before)
        XCTAssertEqual(before.parameters.map { $0.tensor.scalars }, params)
        XCTAssertEqual(shell.workspace.session!.trainer.optimizerG.value(of: "lr"), 1e-3)
        // In a chunk, statements before the failing one stay done.
        XCTAssertNotNil(tensor("x"))
        XCTAssertNil(tensor("y"))
    }

    /// A line means what its statements mean one by one: each is parsed just before it runs.
    func testStatementsOfALineAreParsedOneByOne() {
        run("net D = input 2 | linear 1; D add relu")
        XCTAssertEqual(shell.workspace.bindings.networks["D"]?.text, "input 2 | linear 1 | relu")
        // A statement that does not parse stops the line there; those before it stay done.
        let r = shell.run("a = 1; b = 2 +; c = 3")
        XCTAssertTrue(r.error?.message.contains("a value expected") ?? false, "\(String(describing: r.error))")
        XCTAssertEqual(r.error?.location?.column, 15)
        XCTAssertNotNil(shell.workspace.bindings.variables["a"])
        XCTAssertNil(shell.workspace.bindings.variables["c"])
        // An unclosed bracket is found before anything runs.
        XCTAssertNotNil(shell.run("d = 4; e = (5").error)
        XCTAssertNil(shell.workspace.bindings.variables["d"])
    }

    /// Ctrl-C during `read` at the prompt stops the script read (and the line), and does not outlive the command.
    func testCtrlCStopsAReadScriptAndIsClearedAfterIt() throws {
        let scratch = try ScratchFolder()
        try scratch.write(
            "lesson.gans",
            Array(
                "data ring8\nnet G = noise 2 | linear 8 | linear 2\nnet D = input 2 | linear 8 | linear 1\ngan G D batch=8\ntrain 50 steps\nafter = 1\ntrain 5 steps\n"
                    .utf8))
        shell.options.directory = scratch.path
        var lines: [String] = []
        let runner = Runner(interpreter: shell, out: { lines.append($0) }, err: { lines.append("ERR " + $0) })
        // Ctrl-C arrives during the first train (from its progress report).
        var reports: [(Int, Int)] = []
        shell.progress = { done, total, _ in
            reports.append((done, total))
            if total == 50, done >= 10 { Interrupt.requested = 1 }
        }
        runner.repl(
            reader: ScriptedLineReader([.line("read lesson.gans; also = 2"), .line("later = 3"), .line("train 3 steps")]
            ))
        shell.progress = nil
        XCTAssertNil(shell.workspace.bindings.variables["after"], "the rest of the read script ran")
        XCTAssertNil(shell.workspace.bindings.variables["also"], "the rest of the line ran")
        XCTAssertNotNil(shell.workspace.bindings.variables["later"], "the next prompt's command did not run")
        let all = lines.joined(separator: "\n")
        XCTAssertTrue(all.contains("interrupted: lesson.gans stopped after line 5"), all)
        XCTAssertFalse(Interrupt.isRequested)
        // The first train stopped early; the next one is not stopped by a stale interrupt.
        XCTAssertLessThan(reports.filter { $0.1 == 50 }.map(\.0).max() ?? 50, 50)
        XCTAssertTrue(reports.contains { $0 == (3, 3) }, "\(reports.suffix(5))")
    }

    /// Redefining a network the GAN uses says so; it is never a silent swap.
    func testRedefiningANetworkOfTheGANSaysSo() {
        run(
            "data ring8; net G = noise 2 | linear 8 | linear 2; net D = input 2 | linear 8 | linear 1; gan G D batch=8; step"
        )
        let said = TextRenderer().render(run("net D = input 2 | linear 16 | relu | linear 1"))
        XCTAssertTrue(
            said.contains(
                "D is the GAN's discriminator: it now uses this new, untrained D; the 1 step taken and the other network are kept"
            ), said)
        XCTAssertTrue(said.contains("'gan G D'"), said)
        XCTAssertTrue(shell.workspace.session?.trainer.model.partner === shell.workspace.bindings.networks["D"])
        let quiet = TextRenderer().render(run("net H = noise 2 | linear 2"))
        XCTAssertFalse(quiet.contains("untrained"), quiet)
    }

    /// Snapshots keep gradients, and loading a network leaves the random generator alone.
    func testRestoreKeepsGradientsAndLoadKeepsTheRandomStream() throws {
        let scratch = try ScratchFolder()
        shell.options.directory = scratch.path
        run(
            "seed 5; data ring8; net G = noise 2 | linear 8 | linear 2; net D = input 2 | linear 8 | linear 1; gan G D batch=8; step"
        )
        let before = shell.workspace.bindings.networks["D"]!.parameters.map { $0.tensor.grad?.scalars }
        XCTAssertTrue(before.allSatisfy { $0 != nil })
        run("snapshot s; restore s")
        XCTAssertEqual(shell.workspace.bindings.networks["D"]!.parameters.map { $0.tensor.grad?.scalars }, before)
        run("save G g.safetensors")
        run("seed 9")
        let plain = TextRenderer().render(run("randn(3)"))
        run("seed 9; load H g.safetensors")
        XCTAssertEqual(TextRenderer().render(run("randn(3)")), plain)
    }

    /// Numbers and words written as the file's extension says.
    func testSaveAndSampleWriteCSVAndText() throws {
        let scratch = try ScratchFolder()
        shell.options.directory = scratch.path
        run("x = [[1, 2.5], [3, -4]]; save x pts.csv")
        XCTAssertEqual(
            String(decoding: try AtomicFile.read(scratch.path + "/pts.csv"), as: UTF8.self), "1.0,2.5\n3.0,-4.0\n")
        let back = try Loaders.csv(scratch.path + "/pts.csv")
        XCTAssertEqual(back.samples.scalars, [1, 2.5, 3, -4])
        fails("net G = noise 2 | linear 2; save G g.csv", "writes the numbers of a tensor")
        fails("save x pts.txt", "a tensor is drawn as samples of the data; load data first")
        fails(
            "save x pts.pgm",
            "save writes .safetensors (any value), .csv (a tensor of rank 1 or 2), .txt (words) or .png")
        run(
            "data ring8; net G = noise 2 | linear 8 | linear 2; net D = input 2 | linear 8 | linear 1; gan G D batch=8; sample 5 to s.csv"
        )
        let lines = String(decoding: try AtomicFile.read(scratch.path + "/s.csv"), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(lines.first, "x,y")
        fails("sample 5 to s.txt", "written as .csv or .png")
        run(
            "data names; net N = noise 8 | linear 432 | reshape 16 27 | softmax; net M = input 16 27 | flatten | linear 1; gan N M batch=8; sample 4 to w.txt"
        )
        XCTAssertEqual(
            String(decoding: try AtomicFile.read(scratch.path + "/w.txt"), as: UTF8.self).split(
                separator: "\n", omittingEmptySubsequences: false
            ).count, 5)
        fails("sample 4 to w.csv", "written as .txt")
        // A tensor of the data's sequences is written as its words, and drawn as them.
        run("s = \"a b\"; save s s.txt; y = N(randn(3, 8)); save y y.txt; save y y.png; sample y to y2.txt")
        XCTAssertEqual(String(decoding: try AtomicFile.read(scratch.path + "/s.txt"), as: UTF8.self), "a b\n")
        let words = String(decoding: try AtomicFile.read(scratch.path + "/y.txt"), as: UTF8.self)
        XCTAssertEqual(words.split(separator: "\n", omittingEmptySubsequences: false).count, 4)
        XCTAssertEqual(words, String(decoding: try AtomicFile.read(scratch.path + "/y2.txt"), as: UTF8.self))
        let code = try XCTUnwrap(
            {
                if case .sequences(let c) = shell.workspace.data!.kind { return c }; return nil
            }())
        guard case .tensor(let yt)? = shell.workspace.bindings.variables["y"] else { return XCTFail() }
        XCTAssertEqual(
            words, try code.decode(oneHot: yt).map { $0.isEmpty ? "(empty)" : $0 }.joined(separator: "\n") + "\n")
        XCTAssertEqual(Array(try AtomicFile.read(scratch.path + "/y.png").prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        fails("save N n.txt", "FILE.txt writes words")
        fails("save y y.csv", "a CSV holds a tensor of rank 1 or 2; this one is [3, 16, 27]")
    }

    /// A conditional GAN is asked for a class, or for a row of each.
    func testSampleAClassOfAConditionalGAN() throws {
        run(
            "data digits; net G = noise 14 | linear 64 | tanh | reshape 1 8 8; net D = input 11 8 8 | flatten | linear 16 | relu | linear 1; gan G D batch=8 cond=onehot"
        )
        let s = shell.workspace.session!
        // class=3 is G given the one-hot label 3 for every sample.
        Random.seed(4)
        guard case .images(let grid3)? = run("sample 4 class=3").first else { return XCTFail("no images") }
        let threes = grid3.images
        XCTAssertTrue(grid3.title.hasPrefix("4 samples, after 0 steps"), grid3.title)
        Random.seed(4)
        let z = s.trainer.model.sampleNoise(4)
        let expected = try s.trainer.model.generator.evaluating {
            try withNoGrad { try s.trainer.model.generate(z, labels: Tensor(full: 3, shape: [4])) }
        }
        XCTAssertEqual(threes.scalars, s.data.kind.denormalized(expected).scalars)
        guard case .images(let grid)? = run("sample 2 class=all").first else { return XCTFail("no grid") }
        XCTAssertEqual(grid.columns, 2)
        XCTAssertTrue(
            TextRenderer().render(run("show gan")).contains("G's 14 inputs are 4 noise values and 10 label values"))
        XCTAssertEqual(grid.images.shape[0], 20)
        fails("sample 4 class=10", "a class from 0 to 9")
        fails("sample 4 class=3 fixed", "leave out 'fixed'")
        run("data ring8; net A = noise 2 | linear 2; net B = input 2 | linear 1; gan A B batch=8")
        fails("sample 4 class=1", "not conditional")
    }

    /// "Did you mean" only for what could be a typo.
    func testSuggestionsNeedAPlausibleTypo() {
        XCTAssertEqual(shell.run("help foo").error?.message, "no command 'foo'")
        fails("stpe 10", "did you mean 'step'?")
        fails("help trian", "did you mean 'train'?")
    }

    func testEditingANetworkInTheGANReassemblesIt() {
        run(
            "data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=16"
        )
        run("step")
        let dState = shell.workspace.session!.trainer.optimizerD.state.map { $0.tensor.scalars }
        run("G insert 2 batchnorm")
        let s = shell.workspace.session!
        XCTAssertTrue(s.trainer.model.generator === shell.workspace.bindings.networks["G"])
        XCTAssertEqual(s.trainer.model.generator.layers.count, 4)
        XCTAssertEqual(s.trainer.history.count, 2)
        XCTAssertEqual(s.trainer.optimizerD.state.map { $0.tensor.scalars }, dState, "D's optimizer keeps its state")
        run("step")
        XCTAssertEqual(shell.workspace.session!.trainer.gStepCount, 2)
    }

    func testSnapshotRestoreGivesTheSameFuture() {
        run(
            "seed 5; data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=16"
        )
        run("step 3; snapshot s")
        run("step 4")
        let after = shell.workspace.bindings.networks["G"]!.parameters.map { $0.tensor.scalars }
        let history = shell.workspace.session!.trainer.history.map { $0.dLoss ?? $0.gLoss! }
        run("restore s")
        XCTAssertEqual(shell.workspace.session!.trainer.history.count, 6)
        run("step 4")
        XCTAssertEqual(shell.workspace.bindings.networks["G"]!.parameters.map { $0.tensor.scalars }, after)
        XCTAssertEqual(shell.workspace.session!.trainer.history.map { $0.dLoss ?? $0.gLoss! }, history)
        fails("restore t", "no snapshot named 't'")
    }

    func testRecordReplaysTheSession() throws {
        let scratch = try ScratchFolder()
        shell.options.directory = scratch.path
        run("seed 9; data ring8; net G = noise 2 | linear 8 | relu | linear 2")
        fails("G add conv 3", "conv")
        run("net D = input 2 | linear 8 | relu | linear 1; gan G D batch=8; step 2; G replace 1 leakyrelu 0.2; step")
        run("record session.gans")
        let want = shell.workspace.bindings.networks["G"]!.parameters.map { $0.tensor.scalars }
        let text = try String(contentsOfFile: scratch.path + "/session.gans", encoding: .utf8)
        XCTAssertFalse(text.contains("conv"), "failed commands are not recorded")
        let replay = Interpreter()
        replay.options.directory = scratch.path
        let r = replay.run("read session.gans")
        XCTAssertNil(r.error)
        XCTAssertEqual(replay.workspace.bindings.networks["G"]!.parameters.map { $0.tensor.scalars }, want)
    }

    func testSaveLoadAndNestedReadLimits() throws {
        let scratch = try ScratchFolder()
        shell.options.directory = scratch.path
        run("net G = noise 2 | linear 4 | tanh; save G g.safetensors; load H g.safetensors")
        XCTAssertEqual(
            shell.workspace.bindings.networks["H"]!.parameters.map { $0.tensor.scalars },
            shell.workspace.bindings.networks["G"]!.parameters.map { $0.tensor.scalars })
        fails("load K missing.safetensors", "missing.safetensors")
        try scratch.write("bad.safetensors", Array("not a file".utf8))
        fails("load K bad.safetensors", "not a valid safetensors file")
        try scratch.write("self.gans", Array("read self.gans\n".utf8))
        fails("read self.gans", "nest more than 8 deep")
        try scratch.write("ok.gans", Array("z = 3\n".utf8))
        run("read ok.gans")
        XCTAssertEqual(tensor("z")?.item, 3)
    }

    func testTrainingCommandsReport() {
        run("data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1")
        fails("step", "needs a GAN")
        run("gan G D batch=16 loss=wgan-gp dsteps=2")
        let out = TextRenderer(showTimings: false).render(run("step"))
        XCTAssertEqual(out.split(separator: "\n").count, 3, out)
        XCTAssertTrue(out.contains("penalty"), out)
        XCTAssertTrue(out.contains("W "), out)
        let epochs = TextRenderer(showTimings: false).render(run("train 1 epochs"))
        XCTAssertTrue(epochs.contains("means over each epoch"), epochs)
        fails("train 3 weeks", "train N epochs or train N steps")
        run("set loss hinge; set D.lr 2e-4")
        XCTAssertEqual(shell.workspace.session!.trainer.options.loss, .hinge)
        XCTAssertEqual(shell.workspace.session!.trainer.optimizerD.value(of: "lr"), 2e-4)
        XCTAssertEqual(shell.workspace.session!.trainer.optimizerG.value(of: "lr"), 1e-3)
        let m = TextRenderer().render(run("modes 500"))
        XCTAssertTrue(m.contains("modes covered"), m)
        XCTAssertNil(shell.run("expect modes >= 0 n=200").error)
        XCTAssertNil(shell.run("expect dloss > 0").error)
        let failed = shell.run("expect modes > 8 n=200").error?.message ?? ""
        XCTAssertTrue(failed.hasPrefix("expectation failed: modes > 8 n=200 (modes is "), failed)
        XCTAssertTrue(shell.run("expect coverage > 3").error!.message.contains("not measured for ring8"))
        XCTAssertNil(shell.run("expect 1 < 2").error)
        XCTAssertNotNil(shell.run("expect [1, 0] > 0").error)
    }

    func testVAECommands() throws {
        run(
            "data digits; net E = input 1 8 8 | flatten | linear 32 | relu | linear 8; net G = noise 4 | linear 32 | relu | linear 64 | tanh | reshape 1 8 8"
        )
        fails("vae E G loss=hinge", "unknown option")
        fails(
            "vae G E",
            "the decoder of a VAE takes a latent vector [k] (it starts with noise k), but this one takes [1, 8, 8]")
        run("net E3 = input 1 8 8 | flatten | linear 6")
        fails("vae E3 G", "end it with 'linear 8'")
        XCTAssertNil(shell.workspace.session)
        run("vae E G beta=0.5 batch=32 lrE=2e-3")
        let s = shell.workspace.session!
        XCTAssertTrue(s.trainer.model is VAE)
        XCTAssertEqual(s.trainer.optimizerD.value(of: "lr"), 2e-3)
        let one = TextRenderer(showTimings: false).render(run("step"))
        XCTAssertTrue(one.hasPrefix("step 1  loss ") && one.contains("reconstruction") && one.contains("KL"), one)
        fails("step d", "a VAE has no discriminator step")
        fails("set loss hinge", "a VAE has no adversarial setting 'loss'")
        fails("plot surface", "draws what a discriminator does; a VAE has none")
        run("set beta 0.25; set E.lr 1e-3")
        XCTAssertEqual(s.trainer.options.beta, 0.25)
        XCTAssertEqual(s.trainer.optimizerD.value(of: "lr"), 1e-3)
        let epochs = TextRenderer(showTimings: false).render(run("train 2 epochs"))
        XCTAssertTrue(epochs.contains("recon") && !epochs.contains("D(x)"), epochs)
        XCTAssertNotNil(tensor("recon")); XCTAssertNotNil(tensor("kld"))
        XCTAssertEqual(tensor("recon")!.item, s.trainer.history.last!.reconstruction!)
        guard case .images(let grid) = run("plot reconstructions 5").first else { return XCTFail("no image grid") }
        XCTAssertEqual(grid.images.shape, [10, 1, 8, 8])
        XCTAssertEqual(grid.columns, 5)
        let m = TextRenderer().render(run("metrics 200"))
        XCTAssertTrue(m.contains("classes covered") && m.contains("frechet"), m)
        let g = TextRenderer().render(run("grads"))
        XCTAssertTrue(g.contains("E after step") && g.contains("G after step"), g)
        // Saved and loaded as a VAE.
        let scratch = try ScratchFolder()
        shell.options.directory = scratch.path
        run("save vae vae.safetensors; reset; data digits; load vae vae.safetensors")
        XCTAssertTrue(shell.workspace.session?.trainer.model is VAE)
        XCTAssertEqual(shell.workspace.session?.trainer.options.beta, 0.25)
        // The statistics are the model's own: a VAE's history has no part column, and each
        // model names what its steps record when asked for another's.
        let h = TextRenderer(showTimings: false).render(run("history 3"))
        XCTAssertTrue(h.contains("recon") && !h.contains("part") && !h.contains("D(x)"), h)
        fails("plot dloss", "a VAE's steps record gloss, recon, kld")
        let shown = TextRenderer(showTimings: false).render(run("gan.E"))
        XCTAssertTrue(shown.contains("E: ") || shown.contains("E "), shown)
        XCTAssertEqual(shown, TextRenderer(showTimings: false).render(run("E")))
        fails("gan.X", "a VAE has .G, .E and .fixed, not .X")
        XCTAssertNotNil(run("plot losses").first)
        // A GAN has no reconstructions.
        run("net D = input 1 8 8 | flatten | linear 1; gan G D")
        fails("plot reconstructions", "needs a VAE")
        run("step 2")
        fails("plot kld", "a GAN's steps record dloss, gloss, dx, dgz, w, penalty")
        let gh = TextRenderer(showTimings: false).render(run("history 3"))
        XCTAssertTrue(gh.contains("part") && gh.contains("D(x)") && !gh.contains("recon"), gh)
    }

    /// On a terminal, train shows each epoch's row as it ends and a figure every K epochs, and
    /// returns them marked as shown; the progress bar's status carries the last statistics.
    func testTrainShowsEpochsAsTheyEnd() {
        run("data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1")
        run("gan G D batch=256")
        var shown: [Output] = [], statuses: [String] = []
        shell.live = { shown.append($0) }
        shell.progress = { [unowned shell] _, _, _ in statuses.append(shell!.progressStatus) }
        let out = run("train 4 epochs every=2 plot samples")
        shell.live = nil; shell.progress = nil
        let texts = shown.compactMap { if case .text(let t) = $0 { return t } else { return nil } }
        XCTAssertEqual(texts.count, 5, "a header and four rows: \(texts)")
        XCTAssertTrue(texts[0].contains("epoch") && texts[0].contains("D loss"), texts[0])
        XCTAssertEqual(shown.filter { if case .figure = $0 { return true } else { return false } }.count, 2)
        XCTAssertTrue(
            out.contains { if case .table(let t) = $0 { return t.streamed && t.rows.count == 4 } else { return false } }
        )
        let figures = out.compactMap { if case .figure(let f) = $0 { return f } else { return nil } }
        XCTAssertEqual(figures.count, 2)
        XCTAssertTrue(
            figures.allSatisfy(\.streamed) && figures[1].title.hasSuffix("(epoch 4)"), figures.map(\.title).joined())
        XCTAssertTrue(statuses.contains { $0.hasPrefix("D loss ") && $0.contains("D(G(z)) ") }, statuses.last ?? "")
        // Without a terminal nothing is marked as shown.
        let plain = run("train 2 epochs every=1 plot losses")
        XCTAssertEqual(
            plain.filter { if case .figure(let f) = $0 { return !f.streamed } else { return false } }.count, 2)
        fails("train 2 epochs plot samples", "needs every=K")
        fails("train 2 epochs every=2", "say what to plot")
        fails("train 5 steps every=2 plot samples", "every K epochs")
        fails("train 2 epochs every=0 plot samples", "every needs a whole number")
        let before = shell.workspace.session!.trainer.gStepCount
        fails("train 2 epochs every=1 plot sampels", "did you mean 'samples'?")
        XCTAssertEqual(shell.workspace.session!.trainer.gStepCount, before, "refused before training")
    }

    func testMetricsOfTheMovingAverage() {
        run(
            "data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=16"
        )
        fails("metrics ema", "G has no moving average; set one with 'set ema 0.999'")
        fails("sample 4 fixed ema", "G has no moving average; set one with 'set ema 0.999'")
        run("set ema 0.9")
        fails("metrics ema", "starts with the first G step")
        fails("sample 4 ema", "starts with the first G step")
        run("train 20 steps")
        XCTAssertNil(shell.run("sample 4 ema").error)
        let m = TextRenderer().render(run("metrics 300 ema"))
        XCTAssertTrue(m.contains("(the moving average of G)"), m)
        XCTAssertNil(shell.run("expect modes >= 0 n=200 ema").error)
        XCTAssertNil(shell.run("expect hq >= 0 ema n=200").error)
        fails("metrics ema 5", "unexpected '5'")
    }

    func testInterruptStopsTrainingAndKeepsSteps() {
        run(
            "data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=16"
        )
        // Ctrl-C sets the flag that training checks between steps; here it is already set when training starts.
        Interrupt.requested = 1
        let out = TextRenderer().render(run("train 100 steps"))
        Interrupt.clear()
        XCTAssertTrue(out.contains("interrupted after 0 of 100 steps"), out)
        XCTAssertEqual(shell.workspace.session!.trainer.history.count, 0)
    }

    /// At the prompt, Ctrl-C abandons a long command that is not training: nothing it would have
    /// changed is changed, the random generator included, and the next command is not affected.
    func testCtrlCAtThePromptAbandonsMetricsAndLeavesTheWorkspaceAsItWas() {
        run(
            "data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=16; train 5 steps"
        )
        let before = Random.global
        var pieces = 0
        shell.progress = { done, total, _ in
            pieces += 1
            if done > 0 { Interrupt.requested = 1 }
        }
        let r = shell.run("x = 1; metrics 20000; y = 2")
        shell.progress = nil
        Interrupt.clear()
        XCTAssertEqual(r.error?.kind, .interrupted)
        XCTAssertTrue(
            r.error?.message.contains("'metrics' was abandoned; the workspace is as it was") ?? false,
            "\(String(describing: r.error))")
        XCTAssertEqual(r.error?.location?.column, 8)
        XCTAssertEqual(pieces, 2, "it went on after Ctrl-C")
        XCTAssertTrue(
            r.outputs.allSatisfy {
                if case .table = $0 { return false }; return true
            }, "a table of the abandoned metrics was shown")
        XCTAssertNotNil(shell.workspace.bindings.variables["x"])
        XCTAssertNil(shell.workspace.bindings.variables["y"])
        XCTAssertEqual(Random.global, before, "the abandoned metrics drew random numbers")
    }

    /// Through the prompt: Ctrl-C while editing drops the line, during training stops after the step,
    /// during metrics abandons them; the prompt then asks again under the same number, and nothing leaks.
    func testCtrlCAtEachPointOfThePrompt() {
        var lines: [String] = []
        let runner = Runner(
            interpreter: shell, renderer: TextRenderer(showTimings: false), out: { lines.append($0) },
            err: { lines.append("ERR " + $0) })
        var pressAt: (total: Int, done: Int)? = nil
        shell.progress = { done, total, _ in
            if let p = pressAt, total == p.total, done >= p.done { Interrupt.requested = 1; pressAt = nil }
        }
        final class Reader: LineReader {
            var inputs: [LineInput]; var prompts: [String] = []; let before: (String) -> Void
            init(_ inputs: [LineInput], before: @escaping (String) -> Void) {
                self.inputs = inputs; self.before = before
            }
            func readLine(prompt: String) -> LineInput {
                prompts.append(prompt)
                guard !inputs.isEmpty else { return .end }
                let next = inputs.removeFirst()
                if case .line(let l) = next { before(l) }
                return next
            }
            func addHistory(_ entry: String) {}
        }
        let reader = Reader([
            .line(
                "data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=16"
            ),
            .line("x = (1 +"), .interrupt,  // editing: the line is dropped
            .line("train 100 steps"),  // training: stops after a step
            .line("metrics 20000"),  // a long command: abandoned
            .line("after = 1")
        ]) { line in
            if line == "train 100 steps" { pressAt = (100, 10) }
            if line == "metrics 20000" { pressAt = (20000, 1) }
        }
        runner.repl(reader: reader)
        shell.progress = nil
        let all = lines.joined(separator: "\n")
        XCTAssertNil(shell.workspace.bindings.variables["x"])
        XCTAssertTrue(all.contains("interrupted after"), all)
        let steps = shell.workspace.session!.trainer.gStepCount
        XCTAssertGreaterThanOrEqual(steps, 10)
        XCTAssertLessThan(steps, 100)
        XCTAssertTrue(all.contains("ERR error: interrupted: 'metrics' was abandoned"), all)
        XCTAssertFalse(all.contains("modes covered"), all)
        XCTAssertNotNil(shell.workspace.bindings.variables["after"], "the command after the abandoned one did not run")
        XCTAssertFalse(Interrupt.isRequested)
        // gans [1] ran, [2] was dropped while editing, [2] trained, [3] was abandoned and asked again as [3].
        XCTAssertEqual(
            reader.prompts,
            ["gans [1]> ", "gans [2]> ", "     ...> ", "gans [2]> ", "gans [3]> ", "gans [3]> ", "gans [4]> "])
    }

    /// In a script the first Ctrl-C lets the current command finish and stops the script after it;
    /// a second one abandons the command at once.
    func testCtrlCInAScriptFinishesOrAbandonsTheCurrentCommand() {
        let setup =
            "data ring8\nnet G = noise 2 | linear 8 | relu | linear 2\nnet D = input 2 | linear 8 | relu | linear 1\ngan G D batch=16\n"
        for presses: Int32 in [1, 2] {
            setUp()
            var lines: [String] = []
            let runner = Runner(interpreter: shell, out: { lines.append($0) }, err: { lines.append("ERR " + $0) })
            XCTAssertTrue(runner.runScript(setup, file: "setup.gans"))
            let state = Random.global
            shell.progress = { done, _, _ in if done > 0 { Interrupt.requested = presses } }
            let ok = runner.runScript("metrics 20000\nafter = 1\n", file: "lesson.gans")
            shell.progress = nil
            let all = lines.joined(separator: "\n")
            XCTAssertFalse(ok)
            XCTAssertTrue(runner.interrupted, "gans FILE would not exit 130")
            XCTAssertFalse(Interrupt.isRequested)
            XCTAssertEqual(Interrupt.abandonAt, 1, "the prompt's setting is back")
            XCTAssertNil(shell.workspace.bindings.variables["after"], "the script went on")
            if presses == 1 {
                XCTAssertTrue(all.contains("modes covered"), "the first Ctrl-C did not let metrics finish: \(all)")
                XCTAssertTrue(all.contains("lesson.gans:1: interrupted: the script stopped after this line"), all)
            } else {
                XCTAssertFalse(all.contains("modes covered"), all)
                XCTAssertTrue(all.contains("lesson.gans:1:1: error: interrupted: 'metrics' was abandoned"), all)
                XCTAssertEqual(Random.global, state)
            }
        }
    }

    /// `D(x)` is what the statistics call D(x); `D.logits(x)` is the raw score.
    func testDOfXIsTheProbabilityTheStatisticsShowAndLogitsTheScore() throws {
        run(
            "data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=16"
        )
        run("z = randn(64, 2); x = G(z); p = D(G(z)); s = D.logits(G(z)); H = D; h = H(x)")
        let v = shell.workspace.bindings.variables
        guard case .tensor(let p)? = v["p"], case .tensor(let s)? = v["s"], case .tensor(let h)? = v["h"] else {
            return XCTFail("missing values")
        }
        // A naive σ of the raw score, and the raw score from the layers one by one.
        for (pi, si) in zip(p.scalars, s.scalars) { XCTAssertEqual(pi, 1 / (1 + exp(-si)), accuracy: 1e-6) }
        XCTAssertEqual(h.scalars, s.scalars, "a copy of D is a network like any other: its output is the score")
        run("layers = D.2(D.1(D.0(x)))")
        guard case .tensor(let l)? = shell.workspace.bindings.variables["layers"] else { return XCTFail() }
        XCTAssertEqual(l.scalars, s.scalars)
        // The statistic D(G(z)) of a G step is the mean of that same probability on G's batch.
        let stats = try XCTUnwrap(shell.workspace.session?.trainer.step().last)
        XCTAssertEqual(stats.part, .generator)
        XCTAssertTrue((0...1).contains(stats.dFake ?? -1))
        // Under a loss that is not logistic, D(x) is the score.
        run("set loss hinge; q = D(x); r = D.logits(x)")
        guard case .tensor(let q)? = shell.workspace.bindings.variables["q"],
            case .tensor(let r)? = shell.workspace.bindings.variables["r"]
        else { return XCTFail() }
        XCTAssertEqual(q.scalars, r.scalars)
        fails("D.logits", "D.logits is applied to a tensor: D.logits(x)")
        fails("z.logits(x)", ".logits(x) applies a network")
    }

    /// A conditional GAN is asked for a class by sample, plot samples and metrics; a tensor is drawn as samples.
    func testConditionalClassesAndTensorsAsSamples() throws {
        let scratch = try ScratchFolder()
        shell.options.directory = scratch.path
        run(
            "data digits; net G = noise 42 | linear 32 | relu | linear 64 | tanh | reshape 1 8 8; net D = input 11 8 8 | flatten | linear 32 | relu | linear 1; gan G D cond=onehot batch=32; train 20 steps"
        )
        // class=all in plot samples: a row per class.
        let all = run("plot samples class=all to all.png")
        guard case .images(let grid)? = all.first else { return XCTFail("\(all)") }
        XCTAssertEqual(grid.columns, 8)
        XCTAssertEqual(grid.images.shape, [80, 1, 8, 8])
        XCTAssertTrue(grid.title.contains("8 of each class"), grid.title)
        guard case .images(let seven)? = run("plot samples 12 class=7").first else { return XCTFail() }
        XCTAssertEqual(seven.images.shape[0], 12)
        XCTAssertTrue(seven.title.contains("class 7"), seven.title)
        fails("plot samples class=10", "K is a class from 0 to 9")
        fails("plot samples colour=3", "unknown option 'colour'")
        // A tensor made by hand, labels and all, is drawn as samples are: the same pixels as G's samples of it.
        run("z = concat(randn(6, 32), onehot(arange(6), 10), axis=1); x = G(z)")
        guard case .tensor(let x)? = shell.workspace.bindings.variables["x"] else { return XCTFail() }
        guard case .samples(.images(let shown))? = run("sample x").first else { return XCTFail() }
        XCTAssertEqual(shown.scalars, x.scalars.map { min(max(($0 + 1) * 0.5, 0), 1) })
        guard case .samples(.images(let one))? = run("sample x[0]").first else { return XCTFail() }
        XCTAssertEqual(one.shape, [1, 1, 8, 8])
        guard case .images(let plotted)? = run("plot samples x to x.png").first else { return XCTFail() }
        XCTAssertEqual(plotted.images.shape[0], 6)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.path + "/x.png"))
        fails(
            "sample randn(3, 3)",
            "a batch of digits's samples [N, 1, 8, 8] (or one sample [1, 8, 8]) expected, found [3, 3]")
        fails("plot samples x extra", "unexpected 'extra'")
        // Per-class metrics: agreement counted against a naive count from the classifier.
        let out = run("metrics 40 class=all")
        guard case .table(let t)? = out.first else { return XCTFail() }
        XCTAssertEqual(t.rows.count, 10)
        XCTAssertEqual(t.rows.map { $0[0] }, (0..<10).map(String.init))
        let one3 = run("metrics 30 class=3")
        guard case .table(let t3)? = one3.first else { return XCTFail() }
        XCTAssertEqual(t3.rows.count, 1)
        XCTAssertEqual(t3.rows[0][0], "3")
        fails("metrics class=x", "K is a class from 0 to 9")
        fails("modes class=3", "unknown option 'class'")
    }

    /// Per-class agreement is the fraction of class-K samples the classifier calls K.
    func testPerClassAgreementMatchesANaiveCount() throws {
        run(
            "data digits; net G = noise 42 | linear 32 | relu | linear 64 | tanh | reshape 1 8 8; net D = input 11 8 8 | flatten | linear 32 | relu | linear 1; gan G D cond=onehot batch=32; train 40 steps"
        )
        let s = shell.workspace.session!
        let state = Random.global
        guard case .table(let t)? = run("metrics 50 class=4").first else { return XCTFail() }
        // The same 50 samples, again from the same random state, judged directly.
        Random.global = state
        let x = try shell.generate(s, 50, labels: Tensor(full: 4, shape: [50]))
        let (trainPart, _) = try s.data.samples!.split(heldOut: 0.2, seed: 0)
        let predicted = try ImageClassifier.cached(for: trainPart).probabilities(x).argmax(axis: -1).scalars
        let agree = Float(predicted.filter { $0 == 4 }.count) / 50 * 100
        XCTAssertEqual(t.rows[0][1], Format.number(agree, digits: 3) + "%")
    }

    /// An epoch cut short by Ctrl-C is shown as the next epoch, in part, not as the epoch before it again.
    func testAnEpochCutShortIsLabelledAsPart() {
        run(
            "data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=64; train 1 epoch"
        )
        shell.progress = { done, total, _ in if done >= total / 2 + 3 { Interrupt.requested = 1 } }
        let out = TextRenderer().render(run("train 2 epochs"))
        shell.progress = nil
        Interrupt.clear()
        // Epoch 1 ran before; this command finished epoch 2 and was stopped early in epoch 3.
        XCTAssertTrue(out.contains("\n       2 "), out)
        XCTAssertTrue(out.contains("\n3 (part) "), out)
        XCTAssertTrue(out.contains("interrupted; the steps taken are kept"), out)
    }

    func testEveryCommandHasHelpAndItsExamplesParse() {
        for c in CommandTable.all {
            XCTAssertFalse(c.summary.isEmpty, c.name)
            XCTAssertFalse(c.examples.isEmpty, "\(c.name) has no example")
            XCTAssertTrue(c.usage.contains(c.name), c.name)
            for ex in c.examples {
                XCTAssertNoThrow(
                    try Parser.parse(
                        ex, isCommand: { CommandTable.lookup($0) != nil }, isNetwork: { ["G", "D"].contains($0) }), ex)
            }
            let r = shell.run("help \(c.name)")
            XCTAssertNil(r.error, c.name)
        }
        XCTAssertEqual(Set(CommandTable.names).count, CommandTable.names.count, "command names are unique")
        for t in Topics.all { XCTAssertNil(shell.run("explain \(t.name)").error, t.name) }
        fails("help stpe", "did you mean 'step'?")
        fails("explain wasserstien", "did you mean 'wasserstein'?")
    }

    func testCommandReferenceInDocsIsGeneratedFromTheTable() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("docs/dsl.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        XCTAssertTrue(
            text.contains(Reference.commandsMarkdown()),
            "docs/dsl.md is out of date: scripts/docs regenerates its command reference")
    }

    /// The rows of `set` (no arguments) as setting → value.
    func settingRows() -> [String: String] {
        var rows: [String: String] = [:]
        for o in run("set") { if case .table(let t) = o { for r in t.rows { rows[r[0]] = r[1] } } }
        return rows
    }

    /// Checkpoints written before the settings table (kept in Tests/Fixtures) load with their settings.
    func testCheckpointsFromBeforeTheSettingsTableLoad() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/checkpoints-before-settings-table").path
        run("data ring8")
        run("load gan \"\(folder)/gan.safetensors\"")
        var rows = settingRows()
        XCTAssertEqual(rows["batch"], "8")
        XCTAssertEqual(rows["ema"], "0.9")
        XCTAssertEqual(rows["loss"], "nonsat")
        XCTAssertEqual(rows["z"], "normal")
        XCTAssertEqual(shell.workspace.session?.trainer.gStepCount, 2)
        run("step")
        XCTAssertEqual(shell.workspace.session?.trainer.gStepCount, 3)
        run("load gan \"\(folder)/vae.safetensors\"")
        rows = settingRows()
        XCTAssertEqual(rows["batch"], "8")
        XCTAssertEqual(rows["beta"], "1")
        XCTAssertNil(rows["loss"], "a VAE lists no adversarial setting")
        XCTAssertNotNil(rows["E.lr"])
        run("step")
    }

    /// Settings from the table: set, its errors, the noise distribution reaching the GAN, the VAE's own.
    func testSettingsComeFromTheTable() {
        run("data ring8; net G = noise 2 | linear 8 | linear 2; net D = input 2 | linear 8 | linear 1")
        run("gan G D batch=16 every=4 z=uniform")
        XCTAssertEqual(shell.workspace.session?.trainer.model.noise, .uniform)
        XCTAssertEqual(settingRows()["every"], "4")
        run("set z normal")
        XCTAssertEqual(shell.workspace.session?.trainer.model.noise, .normal)
        fails("set every 0", "every needs a positive whole number")
        fails("set smooth=0.1 batch=0", "batch needs a positive whole number")
        XCTAssertEqual(settingRows()["smooth"], "0", "a refused set changed another setting")
        fails("set lamda 3", "did you mean 'lambda'")
        fails("set beta 0.5", "a GAN has no 'beta' (a VAE's setting); its settings are loss, batch")
        // A setting added through the table alone (and its use in the loss): smoothing of the fake side.
        run("set smoothfake 0.2")
        XCTAssertEqual(shell.workspace.session?.trainer.options.fakeLabelSmoothing, 0.2)
        XCTAssertEqual(settingRows()["smoothfake"], "0.2")
        guard case .text(let summary)? = run("show gan").first else { return XCTFail("show gan gave no text") }
        XCTAssertTrue(summary.contains("fake targets 0.2"), summary)
        fails("gan G D beta=2", "beta")
        run("net E = input 2 | linear 8 | linear 4")
        run("vae E G beta=0.5")
        XCTAssertEqual(settingRows()["beta"], "0.5")
        fails("set dsteps 2", "a VAE has no adversarial setting 'dsteps'; its settings are batch, beta, ema")
    }

    /// One list of reserved names: commands and the shell's own names, for values, networks and loads.
    func testReservedNamesAreRefusedEverywhere() {
        fails("quick = 5", "'quick' is a built-in name")
        fails("net quick = noise 2 | linear 2", "'quick' is a built-in name")
        fails("net optD = noise 2 | linear 2", "'optD' is a built-in name")
        fails("gan = 3", "'gan' is a command name")
        fails("net train = noise 2 | linear 2", "'train' is a command name")
        fails("load optG x.safetensors", "'optG' is a built-in name")
        XCTAssertNil(shell.workspace.lookup("quick"))
    }

    /// A PyTorch state dict (Tests/Fixtures/torch/make_fixture.py: nn.Sequential with BatchNorm1d,
    /// saved with safetensors.torch.save_file) loads with the layers it fits, and gives PyTorch's outputs.
    func testAPyTorchStateDictLoadsWithItsLayers() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/torch/torch-D.safetensors").path
        let out = run("load D \"\(file)\" spec=\"input 2 | linear 8 | batchnorm | relu | linear 1\"")
        guard case .text(let said)? = out.first else { return XCTFail("load said nothing") }
        XCTAssertTrue(said.contains("ignored its counter 1.num_batches_tracked"), said)
        let d = try XCTUnwrap(shell.workspace.bindings.networks["D"])
        let y = try d.evaluating { try d(Tensor([0.5, -1, 2, 0.25, -1.5, 1], shape: [3, 2])) }
        // PyTorch 2.15's outputs for these inputs (printed by make_fixture.py).
        for (a, b) in zip(y.scalars, [-0.1951811, -0.2707242, -0.1812145] as [Float]) {
            XCTAssertEqual(a, b, accuracy: 2e-6)
        }
        // Layers that do not fit are refused with every key named, and D is left as it was.
        fails(
            "load D \"\(file)\" spec=\"input 2 | linear 4 | batchnorm | relu | linear 1\"",
            "of the wrong shape: 0.weight is [8, 2], the layers need [4, 2]")
        fails(
            "load D \"\(file)\" spec=\"input 2 | linear 8 | relu | linear 1\"",
            "missing 2.weight [1, 8], 2.bias [1]; not in the layers: 1.bias, 1.running_mean")
        fails("load D \"\(file)\" spec=\"input 2 | linaer 8\"", "do not make a network")
        fails(
            "load D \"\(file)\" spec=\"input 2 | linear 8 init=xavier\"",
            "init must be pytorch or dcgan, found 'xavier'")
        XCTAssertTrue(shell.workspace.bindings.networks["D"] === d)
        // Without the layers, load says how to give them.
        fails("load E \"\(file)\"", "spec=\"LAYERS\"")
        fails("load gan \"\(file)\" spec=\"input 2 | linear 1\"", "spec= loads one network")
    }

    /// export torch writes modules with every layer kind, the weights under the network's keys, and
    /// gans' outputs for its check inputs; it does not move the random stream. (scripts/check-torch
    /// runs the written models.py under PyTorch.)
    func testExportTorchWritesModulesWeightsAndACheck() throws {
        let scratch = try ScratchFolder()
        shell.options.directory = scratch.path
        run("data mnist5k")
        run(
            "net G = noise 16 | linear 392 | reshape 8 7 7 | batchnorm | relu | convt 4 k=4 s=2 p=1 | batchnorm | leakyrelu 0.2 | convt 1 k=3 s=2 p=1 op=1 | tanh"
        )
        run(
            "net D = input 1 28 28 | sn conv 4 k=4 s=2 p=1 | elu 1 | conv 8 k=4 s=2 p=1 bias=false | batchnorm | gelu | flatten | layernorm | dropout 0.3 | sn linear 16 | sigmoid | mbstd | linear 1"
        )
        run("gan G D ema=0.9 batch=16; train 2 steps")
        let before = Random.global
        run("export torch out")
        XCTAssertEqual(
            Random.global.nextNormal(),
            {
                var r = before; return r.nextNormal()
            }(), "export moved the random stream")
        let models = try String(contentsOfFile: scratch.path + "/out/models.py", encoding: .utf8)
        for line in [
            "class Generator(nn.Sequential):", "class Discriminator(nn.Sequential):",
            "class GeneratorEma(nn.Sequential):",
            "nn.BatchNorm2d(8, eps=1e-05, momentum=0.1),  # 2: batchnorm",
            "nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1, bias=True),  # 7: convt 1 k=3 s=2 p=1 op=1",
            "nn.utils.spectral_norm(nn.Conv2d(1, 4, 4, stride=2, padding=1, bias=True)),  # 0: sn conv 4 k=4 s=2 p=1",
            "nn.Conv2d(4, 8, 4, stride=2, padding=1, bias=False),", "nn.LayerNorm(392, eps=1e-05),",
            "MinibatchStd(),  # 10: mbstd",
            "nn.Linear(17, 1, bias=True),  # 11: linear 1", "Reshape(8, 7, 7),"
        ] {
            XCTAssertTrue(models.contains(line), "models.py lacks '\(line)'")
        }
        let weights = try SafeTensors.read(from: scratch.path + "/out/weights.safetensors")
        let g = try XCTUnwrap(shell.workspace.bindings.networks["G"]),
            d = try XCTUnwrap(shell.workspace.bindings.networks["D"])
        for (prefix, net) in [("generator.", g), ("discriminator.", d)] {
            for (name, t) in net.stateDict { XCTAssertEqual(weights[prefix + name]?.scalars, t.scalars, prefix + name) }
        }
        XCTAssertNotNil(weights["discriminator.0.weight_orig"])
        XCTAssertNotNil(weights["discriminator.0.weight_v"])
        XCTAssertEqual(weights.names.filter { $0.hasPrefix("generator_ema.") }.count, g.stateDict.count)
        // The check holds D's outputs in eval mode for its input, as gans computes them now.
        let check = try SafeTensors.read(from: scratch.path + "/out/check.safetensors")
        let x = try XCTUnwrap(check["discriminator.input"])
        XCTAssertEqual(x.shape, [4, 1, 28, 28])
        let y = try d.evaluating { try withNoGrad { try d(x) } }
        XCTAssertEqual(check["discriminator.output"]?.scalars, y.scalars)
        XCTAssertTrue(d.training, "export left D in eval mode")
        fails("export torch", "a folder for the PyTorch files")
        let readme = try String(contentsOfFile: scratch.path + "/out/README.md", encoding: .utf8)
        XCTAssertTrue(readme.contains("a GAN on mnist5k after 2 steps"), readme)
    }

    /// train.py carries the session's settings (read back from its JSON) and code for its loss, its
    /// data (a mixture's centres, or a fixed set with labels written beside it) and the session's
    /// training checkpoint it starts from; a VAE gets its own; the Python parses.
    func testExportTorchWritesTheTrainingScript() throws {
        let scratch = try ScratchFolder()
        shell.options.directory = scratch.path
        run("data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1")
        run(
            "gan G D loss=wgan-gp lambda=5 dsteps=3 opt=rmsprop lr=2e-4 batch=32 ema=0.99 z=uniform noise=0.05; train 2 steps"
        )
        run("export torch ring")
        let script = try String(contentsOfFile: scratch.path + "/ring/train.py", encoding: .utf8)
        let json = try XCTUnwrap(script.components(separatedBy: "\"\"\"").dropFirst().first)
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(config["lambda"] as? Double, 5)
        XCTAssertEqual(config["dsteps"] as? Int, 3)
        XCTAssertEqual(config["batch"] as? Int, 32)
        XCTAssertEqual(config["z"] as? String, "uniform")
        XCTAssertEqual(config["noise"] as? Double ?? 0, 0.05, accuracy: 1e-7)
        XCTAssertEqual(config["ema"] as? Double ?? 0, 0.99, accuracy: 1e-7)
        XCTAssertEqual(config["params_G"] as? [String], ["0.weight", "0.bias", "2.weight", "2.bias"])
        XCTAssertNil(config["gamma"], "an R1 setting in a WGAN-GP script")
        let optG = try XCTUnwrap(config["optG"] as? [String: Any])
        XCTAssertEqual(optG["name"] as? String, "rmsprop")
        XCTAssertEqual(optG["lr"] as? Double ?? 0, 2e-4, accuracy: 1e-9)
        let data = try XCTUnwrap(config["data"] as? [String: Any])
        XCTAssertEqual(data["kind"] as? String, "mixture")
        XCTAssertEqual((data["centers"] as? [[Double]])?.count, 8)
        for code in [
            "torch.nn.parallel.DistributedDataParallel", "D's wgan-gp loss", "penalty = CONFIG[\"lambda\"]",
            "torch.optim.RMSprop(", "parts = -d_real.mean(), d_fake.mean()"
        ] {
            XCTAssertTrue(script.contains(code), "train.py lacks '\(code)'")
        }
        for absent in ["torch.optim.Adam(", "F.softplus", "load_file(CONFIG[\"data\"]"] {
            XCTAssertFalse(script.contains(absent), "train.py has '\(absent)', which this run does not use")
        }
        XCTAssertLessThan(script.split(separator: "\n", omittingEmptySubsequences: false).count, 250)
        // It starts from the session's own checkpoint, which continues in gans as saved.
        let start = try SafeTensors.read(from: scratch.path + "/ring/checkpoint.safetensors")
        XCTAssertEqual(start.metadata["gans.kind"], "training")
        XCTAssertNotNil(start["optG.0.square_avg"])
        run("load gan \"\(scratch.path)/ring/checkpoint.safetensors\"")
        XCTAssertEqual(shell.workspace.session?.trainer.gStepCount, 2)
        let readme = try String(contentsOfFile: scratch.path + "/ring/README.md", encoding: .utf8)
        XCTAssertTrue(readme.contains("load gan out/checkpoint.safetensors"), readme)
        // A fixed set of samples is written beside the script, with labels for a conditional GAN.
        run(
            "data digits; net G2 = noise 14 | linear 64 | tanh | reshape 1 8 8; net D2 = input 11 8 8 | flatten | linear 1"
        )
        run("gan G2 D2 cond=embed:10; export torch digits")
        let set = try SafeTensors.read(from: scratch.path + "/digits/data.safetensors")
        XCTAssertEqual(set["samples"]?.shape, [1797, 1, 8, 8])
        XCTAssertEqual(set["labels"]?.shape, [1797])
        let models = try String(contentsOfFile: scratch.path + "/digits/models.py", encoding: .utf8)
        XCTAssertTrue(models.contains("class GeneratorLabels(Labels):"), models)
        let weights = try SafeTensors.read(from: scratch.path + "/digits/weights.safetensors")
        XCTAssertEqual(weights["generator_labels.weight"]?.shape, [10, 10])
        run("net E = input 1 8 8 | flatten | linear 8; net G3 = noise 4 | linear 64 | tanh | reshape 1 8 8; vae E G3")
        run("export torch vae")
        let vae = try String(contentsOfFile: scratch.path + "/vae/train.py", encoding: .utf8)
        XCTAssertTrue(vae.contains("def vae_objective(E, Dec, x, eps=None):"), vae)
        try compilesAsPython(
            ["ring", "digits", "vae"].flatMap { d in
                ["models.py", "train.py", "checkpoint.py"].map { "\(scratch.path)/\(d)/\($0)" }
            })
    }

    /// `python3 -m py_compile` on the files, when a python3 is installed (the project does not need one).
    func compilesAsPython(_ files: [String]) throws {
        guard
            let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(
                where: FileManager.default.isExecutableFile)
        else { throw XCTSkip("no python3 to compile the written Python with") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-m", "py_compile"] + files
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, said)
    }
}
