import Foundation
import GANShell
import TensorCore
import XCTest

/// Every lesson in docs/lessons runs in quick mode, and its `expect` lines hold.
final class LessonTests: XCTestCase {
    func testLessonsRunInQuickMode() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("docs/lessons")
        let lessons = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".gans") }
            .sorted()
        XCTAssertFalse(lessons.isEmpty)
        for name in lessons {
            var options = ShellOptions()
            options.quick = true
            options.timings = false
            options.directory = folder.path
            let interpreter = Interpreter(options: options)
            var errors: [String] = []
            var expectations = 0
            let runner = Runner(
                interpreter: interpreter, out: { if $0.hasPrefix("ok: ") { expectations += 1 } },
                err: { errors.append($0) })
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            let ok = runner.runScript(text, file: name)
            XCTAssertTrue(ok, "\(name):\n" + errors.joined(separator: "\n"))
            XCTAssertGreaterThan(expectations, 0, "\(name) checks nothing")
        }
    }
}
