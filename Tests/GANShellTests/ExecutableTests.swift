import Foundation
import GANKit
import GANShell
import TensorCore
import TestSupport
import XCTest

/// Running the `gans` executable from a test.
extension XCTestCase {
    /// `gans` is built beside the test bundle.
    var binary: String {
        let candidates = [
            Bundle(for: ExecutableTests.self).bundleURL.appendingPathComponent("gans"),
            Bundle(for: ExecutableTests.self).bundleURL.deletingLastPathComponent().appendingPathComponent("gans"),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gans")
        ]
        return (candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]).path
    }

    func gans(_ args: [String], stdin: String? = nil) throws -> (status: Int32, out: String, err: String) {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            XCTFail("no gans executable at \(binary)")
            return (-1, "", "")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["XDG_STATE_HOME"] = NSTemporaryDirectory()
        p.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// The `gans` executable itself: script mode, exit statuses, -c, pipes, options.
final class ExecutableTests: XCTestCase {

    func testScriptStopsAtTheFirstErrorWithFileLineColumn() throws {
        let scratch = try ScratchFolder()
        let path = try scratch.write("bad.gans", Array("x = 2\ny = x @ [1, 2]\nz = 3\n".utf8))
        let r = try gans([path, "--no-color"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.out, "x = 2\n")
        XCTAssertTrue(r.err.hasPrefix("\(path):2:7: error: '@' multiplies matrices or vectors"), r.err)
        XCTAssertTrue(r.err.contains("    y = x @ [1, 2]\n          ^"), r.err)
        let k = try gans([path, "--keep-going"])
        XCTAssertEqual(k.status, 1)
        XCTAssertEqual(k.out, "x = 2\nz = 3\n")
    }

    func testCommandsFromTheCommandLineAndFromAPipe() throws {
        let c = try gans(["-c", "seed 1; x = randn(2); sum(x * 0) + 4"])
        XCTAssertEqual(c.status, 0, c.err)
        XCTAssertEqual(c.out, "seed 1\nx = tensor [2]\n4\n")
        let p = try gans([], stdin: "a = [1, 2, 3]\nmean(a)\n")
        XCTAssertEqual(p.status, 0, p.err)
        XCTAssertEqual(p.out, "a = tensor [3]\n2\n")
        let bad = try gans([], stdin: "nosuch\n")
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.hasPrefix("<stdin>:1:1: error: unknown name 'nosuch'"), bad.err)
    }

    func testOptions() throws {
        let v = try gans(["--version"])
        XCTAssertEqual(v.status, 0)
        XCTAssertFalse(v.out.isEmpty)
        let q = try gans(["--quiet", "-c", "x = 1; x + 1"])
        XCTAssertEqual(q.out, "")
        let same1 = try gans(["--seed", "5", "-c", "randn(3)"]), same2 = try gans(["--seed", "5", "-c", "randn(3)"])
        XCTAssertEqual(same1.out, same2.out)
        let h = try gans(["--help"])
        XCTAssertTrue(h.out.contains("--keep-going"), h.out)
        // Training in a pipe draws no progress bar.
        let t = try gans([
            "-c",
            "data ring8; net G = noise 2 | linear 8 | linear 2; net D = input 2 | linear 8 | linear 1; gan G D batch=8; train 3 epochs"
        ])
        XCTAssertEqual(t.status, 0, t.err)
        XCTAssertFalse(t.err.contains("\r") || t.out.contains("\r") || t.out.contains("[#"), t.out)
        let ex = try gans(["--example", "nope"])
        XCTAssertNotEqual(ex.status, 0)
        XCTAssertTrue(ex.err.contains("there are ring, digits, names, grid"), ex.err)
    }

    /// Every built-in example runs to the end (in quick mode, a tenth of the training).
    func testEveryExampleRuns() throws {
        for name in GANShellInfo.examples {
            let r = try gans(["--quick", "--example", name])
            XCTAssertEqual(r.status, 0, "\(name): \(r.err)")
            XCTAssertTrue(r.err.isEmpty, "\(name): \(r.err)")
        }
        XCTAssertTrue(try gans(["--quick", "--example", "digits"]).out.contains("agreement"))
        XCTAssertTrue(try gans(["--quick", "--example", "grid"]).out.contains("restored start"))
    }
}

/// Files as a careful tool treats them, seen from the executable.
final class FileSafetyTests: XCTestCase {
    func testAMissingOrNonUTF8ScriptExitsOneWithAClearError() throws {
        let scratch = try ScratchFolder()
        let missing = try gans([scratch.path + "/none.gans"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.err, "\(scratch.path)/none.gans: error: no such file\n")
        let binary = try scratch.write("bin.gans", [0xFF, 0xFE, 0x00])
        let b = try gans([binary])
        XCTAssertEqual(b.status, 1)
        XCTAssertTrue(b.err.hasSuffix("error: the file is not UTF-8 text\n"), b.err)
    }

    /// kill -9 during a save: the path always holds a whole old or new file,
    /// and the next save removes what the dead processes left behind.
    func testKillDuringSaveLeavesNothingBehind() throws {
        let scratch = try ScratchFolder()
        let target = scratch.path + "/big.safetensors"
        let make = "net G = noise 512 | linear 2048 | linear 2048 | linear 512; "
        XCTAssertEqual(try gans(["-c", make + "save G \(target)"]).status, 0)
        var killed = 0
        for trial in 0..<12 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["-c", make + "save G \(target); save G \(target); save G \(target)"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(useconds_t(100_000 + 40_000 * trial))
            if p.isRunning { kill(p.processIdentifier, SIGKILL); killed += 1 }
            p.waitUntilExit()
            // Whatever the moment, the file is whole.
            XCTAssertNoThrow(try Network.load(from: target), "trial \(trial)")
        }
        XCTAssertGreaterThan(killed, 0)
        XCTAssertEqual(try gans(["-c", "net G = noise 2 | linear 2; save G \(target)"]).status, 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter {
            $0.contains(".gans-tmp-")
        }
        XCTAssertEqual(left, [], "temporary files survived the next save")
    }

    func testReadOnlyFilesAreNotReplacedAndModesAreKept() throws {
        let scratch = try ScratchFolder()
        let locked = scratch.path + "/locked.safetensors"
        XCTAssertEqual(try gans(["-c", "x = [1, 2]; save x \(locked)"]).status, 0)
        chmod(locked, 0o444)
        let r = try gans(["-c", "x = [3, 4, 5]; save x \(locked)"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("is read-only (mode 444)"), r.err)
        XCTAssertEqual(try SafeTensors.read(from: locked).tensors.first?.tensor.shape, [2])
        let shared = scratch.path + "/shared.safetensors"
        XCTAssertEqual(try gans(["-c", "x = [1]; save x \(shared)"]).status, 0)
        chmod(shared, 0o664)
        XCTAssertEqual(try gans(["-c", "x = [1, 2]; save x \(shared)"]).status, 0)
        let mode = (try FileManager.default.attributesOfItem(atPath: shared)[.posixPermissions] as? Int) ?? 0
        XCTAssertEqual(mode, 0o664)
    }

    func testExtensionsSayWhatIsWritten() throws {
        let scratch = try ScratchFolder()
        let data = try scratch.write("points.csv", Array("1,2\n3,4\n".utf8))
        let r = try gans(["-c", "net G = noise 2 | linear 2; save G \(data)"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("save … FILE.csv writes the numbers of a tensor; G is not one"), r.err)
        XCTAssertEqual(try AtomicFile.read(data), Array("1,2\n3,4\n".utf8))
        let rec = try gans(["-c", "x = 1; record \(data)"])
        XCTAssertTrue(rec.err.contains("must end in .gans"), rec.err)
        XCTAssertEqual(try AtomicFile.read(data), Array("1,2\n3,4\n".utf8))
    }

    /// `gans FILE.gans --torch DIR` runs the script, then exports its GAN for PyTorch.
    func testTorchFlagExportsAfterTheScript() throws {
        let scratch = try ScratchFolder()
        let script = try scratch.write(
            "ring.gans",
            Array(
                "data ring8\nnet G = noise 2 | linear 8 | relu | linear 2\nnet D = input 2 | linear 8 | relu | linear 1\ngan G D batch=8\ntrain 2 steps\n"
                    .utf8))
        let dir = scratch.path + "/with \"quote\" and space"
        let r = try gans([script, "--quiet", "--torch", dir])
        XCTAssertEqual(r.status, 0, r.err)
        for file in ["models.py", "weights.safetensors", "check.safetensors", "README.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + file), file)
        }
        let none = try gans(["--torch", dir])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.err.contains("--torch export a script"), none.err)
        let noGAN = try gans([try scratch.write("x.gans", Array("x = 1\n".utf8)), "--torch", dir])
        XCTAssertEqual(noGAN.status, 1)
        XCTAssertTrue(noGAN.err.contains("export torch needs a GAN"), noGAN.err)
    }

    /// SIGTERM in the middle of training: what was printed before it reaches the pipe.
    func testSIGTERMLosesNoPrintedLine() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = [
            "-c",
            "x = 41\nx + 1\ndata ring8\nnet G = noise 2 | linear 8 | linear 2; net D = input 2 | linear 8 | linear 1; gan G D batch=8\ntrain 400000 steps"
        ]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(1_500_000)
        p.terminate()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        XCTAssertTrue(text.hasPrefix("x = 41\n42\nring8"), text)
    }

    /// Ctrl-C in `gans FILE`: the script stops after the current step, says where, and exits 130.
    func testCtrlCStopsTheWholeScript() throws {
        let scratch = try ScratchFolder()
        let script = try scratch.write(
            "long.gans",
            Array(
                """
                x = 41
                data ring8
                net G = noise 2 | linear 8 | linear 2; net D = input 2 | linear 8 | linear 1; gan G D batch=8
                train 400000 steps
                y = 2
                train 10 steps
                """.utf8))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = [script]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        usleep(1_500_000)
        kill(p.processIdentifier, SIGINT)
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        XCTAssertTrue(text.hasPrefix("x = 41\n"), text)
        XCTAssertFalse(text.contains("y = 2"), text)
        XCTAssertTrue(errors.contains("long.gans:4: interrupted: the script stopped after this line"), errors)
    }

    func testSymbolicLinksAreFollowedForReading() throws {
        let scratch = try ScratchFolder()
        XCTAssertEqual(try gans(["-c", "net G = noise 2 | linear 2; save G \(scratch.path)/g.safetensors"]).status, 0)
        try FileManager.default.createSymbolicLink(
            atPath: scratch.path + "/link.safetensors", withDestinationPath: scratch.path + "/g.safetensors")
        let r = try gans(["-c", "load H \(scratch.path)/link.safetensors"])
        XCTAssertEqual(r.status, 0, r.err)
    }
}
