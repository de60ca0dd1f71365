import Foundation
@testable import GANShell
import TensorCore
import TestSupport
import XCTest

/// The fuzz harness: random and mutated command lines fed to one
/// interpreter. Nothing may trap; every error must carry a message and a
/// location on the line. GANS_FUZZ_LINES sets the count (10,000 by default)
/// and GANS_FUZZ_SEED the seed.
final class FuzzTests: XCTestCase {
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
    }

    /// Lines the mutations start from: the transcripts, the example and every command's examples.
    static func corpus() throws -> [String] {
        let folder = TranscriptTests.sourceFolder
        var lines: [String] = []
        for f in try FileManager.default.contentsOfDirectory(atPath: folder.path) where f.hasSuffix(".gans") {
            lines += try String(contentsOfFile: folder.appendingPathComponent(f).path, encoding: .utf8)
                .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.hasPrefix("read") }
        }
        lines += (GANShellInfo.example(named: "ring") ?? "").split(separator: "\n").map(String.init)
        lines += CommandTable.all.flatMap(\.examples).filter { !$0.hasPrefix("read") }
        return lines
    }

    static let vocabulary: [String] =
        CommandTable.names + Functions.all.map(\.name) + Completer.layerKinds + [
            "G", "D", "x", "z", "gan", "data", "optG", "optD", "=", "(", ")", "[", "]", ",", ".", ":", ";", "|", "+",
            "-", "*", "/",
            "@", "**", "<", "==", "0", "1", "2", "-1", "3.5", "1e9", "1e-3", "1e38", "-1e38", "99999999999999999999",
            "nan", "inf",
            "loss=hinge", "loss=wgan-gp", "batch=0", "batch=100000", "lr=-1", "lr=1e30", "dsteps=3", "ema=0.9",
            "cond=onehot",
            "noise", "input", "linear", "relu", "k=3", "s=2", "p=1", "epochs", "steps", "d", "g", "fixed", "ema", "'x'",
            "\"",
            "ring8", "grid25", "digits", "names", "D.0.weight", "G.0.weight.grad", ".grad", ".shape", ".T", "x[0]",
            "x[:, 1]",
            "E", "beta=0.5", "every=2", "loss=r1", "reconstructions", "recon", "kld", "lrE=1e-3",
            "é", "\u{0}", "\t", "#"
        ]

    func mutate(_ line: String, _ r: inout SplitMix) -> String {
        var chars = Array(line)
        switch r.below(8) {
        case 0 where !chars.isEmpty: chars.remove(at: r.below(chars.count))
        case 1:
            chars.insert(
                r.pick(Array("()[]{},.;:=|+-*/@'\"#$%^&~`\\0123456789 eE_xG\u{7F}λ")), at: r.below(chars.count + 1))
        case 2 where !chars.isEmpty: chars = Array(chars.prefix(r.below(chars.count)))
        case 3:
            var words = line.split(separator: " ").map(String.init)
            if words.count > 1 { words.swapAt(r.below(words.count), r.below(words.count)) }
            chars = Array(words.joined(separator: " "))
        case 4:
            var words = line.split(separator: " ").map(String.init)
            if !words.isEmpty { words[r.below(words.count)] = r.pick(Self.vocabulary) }
            chars = Array(words.joined(separator: " "))
        case 5: chars += Array(" " + r.pick(Self.vocabulary))
        case 7:
            // Hostile structure: deep nesting, long chains, long lines, control bytes.
            let depth = 1 + r.below(400)
            switch r.below(6) {
            case 0: chars = Array(String(repeating: "(", count: depth) + line + String(repeating: ")", count: depth))
            case 1: chars = Array(line + String(repeating: ".T", count: depth))
            case 2: chars = Array(String(repeating: "-", count: depth) + line)
            case 3: chars = Array(String(repeating: "time ", count: 1 + r.below(20)) + line)
            case 4: chars = Array(line + String(repeating: " " + line, count: r.below(50)))
            default: chars.insert(Character(Unicode.Scalar(UInt8(r.below(32)))), at: r.below(chars.count + 1))
            }
        default:
            let numbers = [
                "0", "-1", "1e9", "100000000", "3.7", "-0", "1e-45", "65536", "9223372036854775807",
                "4611686018427387904", "1e38"
            ]
            chars = Array(
                line.replacingOccurrences(of: #"\b\d+\b"#, with: r.pick(numbers), options: .regularExpression))
        }
        return String(chars)
    }

    /// Every function and operator on tensors of awkward shapes: scalars,
    /// vectors, empty axes, broadcastable and mismatched shapes.
    func testExpressionsOnOddShapesNeverCrash() throws {
        var r = SplitMix(state: ProcessInfo.processInfo.environment["GANS_FUZZ_SEED"].flatMap(UInt64.init) ?? 7)
        let shell = Interpreter()
        shell.options.maxElements = 1 << 16
        let shapes = ["", "3", "2, 3", "3, 2", "1, 3", "2, 1, 3", "0", "0, 3", "3, 3", "1"]
        let names = ["a", "b", "c", "d", "e"]
        for n in names { _ = shell.run("\(n) = randn(\(shapes[names.firstIndex(of: n)! * 2]))") }
        var failures = 0, lines = 0
        let small = ["-2", "-1", "0", "1", "2", "3", "5"]
        for _ in 0..<(ProcessInfo.processInfo.environment["GANS_FUZZ_LINES"].flatMap(Int.init).map { $0 / 2 } ?? 5000) {
            // Fresh operands now and then, of random shapes.
            if r.below(10) == 0 {
                for n in names { _ = shell.run("\(n) = randn(\(r.pick(shapes)))") }
            }
            let x = r.pick(names), y = r.pick(names), k = r.pick(small), j = r.pick(small)
            let f = r.pick(Functions.all.map(\.name))
            let line: String
            switch r.below(8) {
            case 0: line = "\(x) \(r.pick(["+", "-", "*", "/", "@", "**", "<", "==", ">="])) \(r.below(2) == 0 ? y : k)"
            case 1: line = "\(f)(\(x))"
            case 2: line = "\(f)(\(x), \(k))"
            case 3: line = "\(f)(\(x), \(y))"
            case 4: line = "\(x)[\(r.pick([k, k + ":" + j, ":" + j, ":", k + ", " + j, k + ":, " + j + ":"]))]"
            case 5: line = "\(f)(\(x), \(k), \(j))"
            case 6: line = "concat(\(x), \(y), axis=\(k))"
            default: line = "\(x).\(r.pick(["T", "shape", "grad"]))"
            }
            let result = shell.run(line)
            lines += 1
            if let e = result.error { failures += 1; XCTAssertFalse(e.message.isEmpty, line) }
        }
        // Both outcomes must be common, or the harness is not probing anything.
        XCTAssertGreaterThan(failures, lines / 10)
        XCTAssertLessThan(failures, lines * 9 / 10, "\(failures) of \(lines) failed")
    }

    func testFuzzedLinesNeverCrash() throws {
        let env = ProcessInfo.processInfo.environment
        let count = env["GANS_FUZZ_LINES"].flatMap(Int.init) ?? 10_000
        let trace = env["GANS_FUZZ_TRACE"] == "1"
        var r = SplitMix(state: env["GANS_FUZZ_SEED"].flatMap(UInt64.init) ?? 20261129)
        let corpus = try Self.corpus()
        let scratch = try ScratchFolder()
        var options = ShellOptions()
        options.maxSteps = 20
        options.maxElements = 1 << 20
        options.directory = scratch.path
        options.timings = false
        Random.seed(1)
        var shell = Interpreter(options: options)
        var errors = 0
        for i in 0..<count {
            if i % 400 == 0 {
                shell = Interpreter(options: options)
                // Start each round from a working GAN, or every third from a VAE, so that training commands get exercised.
                if (i / 400) % 3 == 2 {
                    _ = shell.run(
                        "data ring8; net E = input 2 | linear 8 | relu | linear 4; net G = noise 2 | linear 8 | relu | linear 2; vae E G batch=8"
                    )
                } else {
                    _ = shell.run(
                        "data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=8"
                    )
                }
            }
            var line: String
            switch r.below(3) {
            case 0:
                line = (0..<(1 + r.below(8))).map { _ in r.pick(Self.vocabulary) }.joined(
                    separator: r.below(2) == 0 ? " " : "")
            default:
                line = r.pick(corpus)
                for _ in 0..<(1 + r.below(3)) { line = mutate(line, &r) }
            }
            // Nothing may make a training command long in the harness.
            line = line.replacingOccurrences(of: "mnist5k", with: "digits")
            if trace { FileHandle.standardError.write(Data("fuzz \(i): \(line)\n".utf8)) }
            let result = shell.run(line)
            _ = TextRenderer().render(result.outputs)
            if let e = result.error {
                errors += 1
                XCTAssertFalse(e.message.isEmpty, "empty message for: \(line)")
                if let loc = e.location, e.file == nil {
                    let lines = line.split(separator: "\n", omittingEmptySubsequences: false)
                    XCTAssertTrue(
                        loc.line >= 1 && loc.line <= lines.count, "line \(loc.line) outside '\(line)': \(e.message)")
                    if loc.line >= 1 && loc.line <= lines.count {
                        XCTAssertTrue(
                            loc.column >= 1 && loc.column <= lines[loc.line - 1].count + 1,
                            "column \(loc.column) outside '\(line)': \(e.message)")
                    }
                }
                _ = Script.format(e, file: "fuzz.gans", source: line)
            }
        }
        // The harness is only useful if it reaches both outcomes.
        XCTAssertGreaterThan(errors, count / 10)
        XCTAssertLessThan(errors, count)
    }
}
