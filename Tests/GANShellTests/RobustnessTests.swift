import Foundation
@testable import GANShell
@testable import GANKit
import TensorCore
import TestSupport
import XCTest

/// Inputs that once crashed the shell or made it hang: each must now end in
/// a clear error (or a result) with the workspace usable afterwards.
final class RobustnessTests: XCTestCase {
    func shell() -> Interpreter {
        var o = ShellOptions()
        o.timings = false
        return Interpreter(options: o)
    }

    /// Runs `line` and returns its error message, failing when it succeeds.
    func error(_ shell: Interpreter, _ line: String, file: StaticString = #filePath, line l: UInt = #line) -> String {
        let r = shell.run(line)
        XCTAssertNotNil(r.error, "no error for: \(line.prefix(80))", file: file, line: l)
        return r.error?.message ?? ""
    }

    func testDeepNestingIsAnErrorNotAStackOverflow() {
        let s = shell()
        _ = s.run("x = randn(2, 2)")
        let cases = [
            "x" + String(repeating: ".T", count: 100_000),
            String(repeating: "(", count: 50_000) + "1" + String(repeating: ")", count: 50_000),
            String(repeating: "[", count: 50_000) + "1" + String(repeating: "]", count: 50_000),
            String(repeating: "-", count: 50_000) + "1",
            Array(repeating: "1", count: 50_000).joined(separator: " + "),
            Array(repeating: "x", count: 50_000).joined(separator: " * "),
            "sum(" + String(repeating: "exp(", count: 10_000) + "x" + String(repeating: ")", count: 10_001),
            String(repeating: "time ", count: 5_000) + "seed 1"
        ]
        for c in cases {
            let m = error(s, c)
            XCTAssertTrue(m.contains("deeper than") || m.contains("other than time") || m.contains("longer than"), m)
        }
        // Nesting within the limit still works, and so does the workspace.
        XCTAssertNil(
            s.run("y = " + String(repeating: "(", count: 150) + "1" + String(repeating: ")", count: 150)).error)
        XCTAssertNil(s.run("x" + String(repeating: ".T", count: 150)).error)
        XCTAssertEqual(s.run("y").outputs.first.map { TextRenderer().render([$0]) }, "1")
    }

    func testLongLinesAreRefusedQuickly() {
        let s = shell()
        let long = "x = [" + Array(repeating: "1", count: 400_000).joined(separator: ",") + "]"
        let m = error(s, long)
        XCTAssertTrue(m.contains("longer than 65536 characters"), m)
        let formatted = Script.format(s.run(long).error!, file: "f.gans", source: long)
        XCTAssertLessThan(formatted.count, 400, "the error shows a window of the line, not all of it")
    }

    /// A script whose first line opens a bracket is split into statements in one pass.
    func testAnOpenBracketDoesNotMakeScriptsQuadratic() {
        let text = "x = (1 +\n" + String(repeating: "1 +\n", count: 20_000) + "1)"
        let chunks = Script.chunks(text)
        XCTAssertEqual(chunks.count, 1)
        XCTAssertEqual(chunks.first?.firstLine, 1)
        let unclosed = "x = (\n" + String(repeating: "1\n", count: 20_000)
        XCTAssertEqual(Script.chunks(unclosed).count, 1)
        XCTAssertEqual(Script.chunks("a = 1\nb = (2,\n3)\nc = 4").map(\.firstLine), [1, 2, 4])
    }

    func testPlotsOfDegenerateValuesDoNotTrap() throws {
        let scratch = try ScratchFolder()
        let s = shell()
        s.options.directory = scratch.path
        for line in [
            "plot hist (1) to \(scratch.path)/a.png", "plot hist (1)", "plot hist [1e38, -1e38]",
            "plot hist [0, 0, 0] to \(scratch.path)/b.png", "plot hist [1e-45, 2e-45]"
        ] {
            let r = s.run(line)
            _ = TextRenderer().render(r.outputs)
        }
    }

    /// A network copied after the element limit was lowered (snapshot, H = G).
    func testCopiesIgnoreALimitLoweredLater() {
        let s = shell()
        XCTAssertNil(s.run("net G = noise 2 | linear 64 | relu | linear 2; set maxelements 10").error)
        XCTAssertNil(s.run("snapshot s1").error)
        XCTAssertNil(s.run("H = G").error)
        // New tensors still obey it.
        XCTAssertTrue(error(s, "randn(4, 4)").contains("limit"))
    }

    func testTheMemoryBudgetCountsEveryTensor() {
        let s = shell()
        XCTAssertNil(s.run("set maxmemory 64").error)
        // Each layer is within maxelements; together they exceed the budget.
        let m = error(s, "net G = noise 2048 | linear 2048 | linear 2048 | linear 2048 | linear 2048 | linear 2048")
        XCTAssertTrue(m.contains("memory budget of 64 MiB"), m)
        XCTAssertNil(s.run("net G = noise 2 | linear 8 | linear 2").error)
    }
}

/// The fuzzers' seeds and every input they once crashed on (Tests/Fuzz),
/// replayed through the same entry points on each test run.
final class FuzzReplayTests: XCTestCase {
    func testSeedsAndRegressionsRunToTheirEnd() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz")
        var count = 0
        for target in FuzzTarget.allCases {
            for folder in ["seeds", "regressions"] {
                let dir = root.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
                let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
                for f in files.sorted() where !f.hasPrefix(".") {
                    let bytes = try AtomicFile.read(dir.appendingPathComponent(f).path)
                    target.run(bytes)
                    count += 1
                }
            }
        }
        XCTAssertGreaterThan(count, 50, "the seed corpora are missing")
    }
}

/// Bounded work for bounded input in the loaders.
final class LoaderBoundsTests: XCTestCase {
    func testAGzipBombStopsAtTheLimit() throws {
        let zeros = [UInt8](repeating: 48, count: 8 << 20)  // 8 MiB of '0' compresses to a few KB
        let stream = try Gzip.compress(zeros)
        XCTAssertLessThan(stream.count, 100_000)
        XCTAssertThrowsError(try Gzip.decompress(stream, source: "bomb", maxBytes: 1 << 20)) { e in
            XCTAssertTrue("\(e)".contains("expands past 1048576 bytes"), "\(e)")
        }
        XCTAssertEqual(try Gzip.decompress(stream, source: "ok", maxBytes: 16 << 20).count, zeros.count)
    }

    func testTheDatasetCacheIsVerifiedAndRebuilt() throws {
        let scratch = try ScratchFolder()
        setenv("XDG_CACHE_HOME", scratch.path, 1)
        defer { unsetenv("XDG_CACHE_HOME") }
        BuiltinData.decoded = [:]
        let first = try BuiltinData.digits()
        let cache = scratch.path + "/gans/digits.u8"
        var bytes = try AtomicFile.read(cache)
        // A flipped pixel byte, then a row count that overflows.
        bytes[bytes.count - 5] ^= 0x40
        try AtomicFile.write(bytes, to: cache)
        BuiltinData.decoded = [:]
        XCTAssertEqual(try BuiltinData.digits().samples.scalars, first.samples.scalars)
        var head = try AtomicFile.read(cache)
        let newline = head.firstIndex(of: 10)!
        var words = String(decoding: head[..<newline], as: UTF8.self).split(separator: " ").map(String.init)
        words[2] = String(Int.max)
        head.replaceSubrange(..<newline, with: Array(words.joined(separator: " ").utf8))
        try AtomicFile.write(head, to: cache)
        BuiltinData.decoded = [:]
        XCTAssertEqual(try BuiltinData.digits().samples.scalars, first.samples.scalars)
    }
}
