import Foundation
import TestSupport
import XCTest

/// The `gans` executable itself: script mode, exit statuses, -c, pipes, options.
final class ExecutableTests: XCTestCase {
    /// `gans` is built beside the test bundle.
    var binary: String {
        let candidates = [Bundle(for: ExecutableTests.self).bundleURL.appendingPathComponent("gans"),
                          Bundle(for: ExecutableTests.self).bundleURL.deletingLastPathComponent().appendingPathComponent("gans"),
                          URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gans")]
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
        let t = try gans(["-c", "data ring8; net G = noise 2 | linear 8 | linear 2; net D = input 2 | linear 8 | linear 1; gan G D batch=8; train 3 epochs"])
        XCTAssertEqual(t.status, 0, t.err)
        XCTAssertFalse(t.err.contains("\r") || t.out.contains("\r") || t.out.contains("[#"), t.out)
        let ex = try gans(["--example", "nope"])
        XCTAssertNotEqual(ex.status, 0)
    }
}
