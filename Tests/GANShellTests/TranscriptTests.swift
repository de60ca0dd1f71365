import Foundation
import GANShell
import TensorCore
import TestSupport
import XCTest

/// Golden transcripts: each `NAME.gans` in Transcripts runs with echo on, a
/// fixed seed and numbers rounded to 3 digits; its output and exit status
/// must equal `NAME.out` line for line. `GANS_RECORD=1` rewrites the .out
/// files in the source tree, and that run fails, so re-recording is never silent.
final class TranscriptTests: XCTestCase {
    static var sourceFolder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")
    }

    /// Runs a script as `gans --echo --no-timings FILE` would, in `folder`, and returns its transcript.
    static func transcript(of script: String, named name: String, in folder: String) -> String {
        Random.seed(0)
        let saved = Format.significantDigits
        Format.significantDigits = 3
        defer { Format.significantDigits = saved }
        var options = ShellOptions()
        options.timings = false
        options.directory = folder
        let interpreter = Interpreter(options: options)
        var lines: [String] = []
        let runner = Runner(
            interpreter: interpreter, renderer: TextRenderer(showTimings: false, width: 80),
            out: { lines.append($0) }, err: { lines.append($0) })
        runner.echo = true
        runner.keepGoing = script.hasPrefix("# keep-going")
        let ok = runner.runScript(script, file: name)
        lines.append("[exit \(ok ? 0 : 1)]")
        return lines.joined(separator: "\n") + "\n"
    }

    func testTranscripts() throws {
        let folder = Self.sourceFolder
        let scripts = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".gans") }
            .sorted()
        XCTAssertGreaterThanOrEqual(scripts.count, 8)
        let scratch = try ScratchFolder()
        for f in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            try FileManager.default.copyItem(
                atPath: folder.appendingPathComponent(f).path, toPath: scratch.path + "/" + f)
        }
        let record = ProcessInfo.processInfo.environment["GANS_RECORD"] == "1"
        for name in scripts {
            let script = try String(contentsOfFile: folder.appendingPathComponent(name).path, encoding: .utf8)
            let got = Self.transcript(of: script, named: name, in: scratch.path)
            let outPath = folder.appendingPathComponent(name.replacingOccurrences(of: ".gans", with: ".out")).path
            if record {
                try got.write(toFile: outPath, atomically: true, encoding: .utf8)
                continue
            }
            guard let want = try? String(contentsOfFile: outPath, encoding: .utf8) else {
                XCTFail("\(name): no \(outPath); run the tests with GANS_RECORD=1 to record it")
                continue
            }
            XCTAssertEqual(got, want, "\(name) differs from its transcript:\n" + lineDiff(want, got))
        }
        if record { XCTFail("transcripts re-recorded; run again without GANS_RECORD to check them") }
    }

    /// The first lines where two texts differ, as `-want` / `+got`.
    func lineDiff(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false),
            y = b.split(separator: "\n", omittingEmptySubsequences: false)
        var out: [String] = []
        for i in 0..<max(x.count, y.count) where (i < x.count ? x[i] : nil) != (i < y.count ? y[i] : nil) {
            out.append("line \(i + 1):\n-\(i < x.count ? String(x[i]) : "")\n+\(i < y.count ? String(y[i]) : "")")
            if out.count == 5 { break }
        }
        return out.joined(separator: "\n")
    }
}
