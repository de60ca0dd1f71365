import Foundation
import GANKit
@testable import GANShell
import TensorCore
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The live view, served on a free loopback port and read by a real HTTP and WebSocket client.
final class LiveViewTests: XCTestCase {
    func get(_ url: String) throws -> (status: Int, body: String) {
        let result = Answer()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: URL(string: url)!) { data, response, _ in
            result.set(
                (response as? HTTPURLResponse)?.statusCode ?? 0, data.map { String(decoding: $0, as: UTF8.self) } ?? "")
            done.signal()
        }.resume()
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success, "no answer from \(url)")
        return try XCTUnwrap(result.get())
    }

    /// An HTTP answer, set on URLSession's queue and read by the test.
    final class Answer: @unchecked Sendable {
        private let lock = NSLock()
        private var value: (Int, String)?
        func set(_ status: Int, _ body: String) { lock.withLock { value = (status, body) } }
        func get() -> (Int, String)? { lock.withLock { value } }
    }

    /// The page and the cells over HTTP, with the token; a wrong token is refused.
    func testPageAndCellsNeedTheToken() throws {
        let view = try LiveView(title: "Lesson `one`")
        defer { view.stop() }
        XCTAssertTrue(view.url.hasPrefix("http://127.0.0.1:\(view.port)/?token="))
        XCTAssertEqual(view.token.count, 32)
        view.publish("<div class=\"cell\">first</div>")
        let page = try get(view.url)
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("<h1>Lesson <code>one</code></h1>") && page.body.contains("first"), page.body)
        XCTAssertTrue(page.body.contains("new WebSocket"))
        let cells = try get("http://127.0.0.1:\(view.port)/cells?token=\(view.token)")
        XCTAssertEqual(cells.status, 200)
        let json = try JSONSerialization.jsonObject(with: Data(cells.body.utf8)) as! [String: [String]]
        XCTAssertEqual(json["cells"], ["<div class=\"cell\">first</div>"])
        for path in ["/?token=wrong", "/cells?token=", "/ws?token=nope", "/"] {
            XCTAssertEqual(try get("http://127.0.0.1:\(view.port)\(path)").status, 403, path)
        }
    }

    /// A WebSocket client gets each new cell as a message; a client that stops reading does not
    /// hold up publishing, which only ever drops its oldest messages.
    func testCellsArriveOverTheWebSocket() throws {
        let view = try LiveView(title: "t")
        defer { view.stop() }
        XCTAssertTrue(try ViewReader(port: view.port, path: "/ws?token=wrong").status().contains("403"))
        let tab = try ViewReader(port: view.port, path: "/ws?token=\(view.token)")
        XCTAssertTrue(try tab.status().contains("101"))
        // A second tab that never reads.
        let idle = try ViewReader(port: view.port, path: "/ws?token=\(view.token)")
        let deadline = Date().addingTimeInterval(10)
        while view.clients < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertEqual(view.clients, 2)
        view.publish("<p>hello</p>")
        let message = try JSONSerialization.jsonObject(with: Data(try tab.text().utf8)) as! [String: String]
        XCTAssertEqual(message["kind"], "cell")
        XCTAssertEqual(message["html"], "<p>hello</p>")
        view.liveRow("<pre>row</pre>", status: "D loss 1")
        let live = try JSONSerialization.jsonObject(with: Data(try tab.text().utf8)) as! [String: String]
        XCTAssertEqual(live["kind"], "row")
        XCTAssertEqual(live["html"], "<pre>row</pre>")
        XCTAssertEqual(live["status"], "D loss 1")
        // 5,000 fragments of 20 KB to a tab that reads nothing: publishing returns, the server answers.
        let big = String(repeating: "x", count: 20_000)
        for _ in 0..<5000 { view.publish(big) }
        XCTAssertEqual(try get(view.url).status, 200, "the server still answers")
        _ = idle
        // Stopping tells the tabs the session ended (a tab that has read everything sees it).
        let fresh = try ViewReader(port: view.port, path: "/ws?token=\(view.token)")
        XCTAssertTrue(try fresh.status().contains("101"))
        while view.clients < 3 && Date() < deadline + 10 { Thread.sleep(forTimeInterval: 0.02) }
        view.stop()
        XCTAssertEqual(try fresh.text(), "{\"kind\":\"end\"}")
    }

    /// Training with a view open gives the same numbers as without one, and the view gets the cells.
    func testTrainingWithTheViewIsTheSame() throws {
        func run(view: Bool) throws -> (Interpreter, [Float]) {
            let shell = Interpreter()
            if view { shell.view = try LiveView(title: "t") }
            defer { shell.view?.stop() }
            for line in [
                "seed 3", "data ring8", "net G = noise 2 | linear 16 | relu | linear 2",
                "net D = input 2 | linear 16 | relu | linear 1", "gan G D batch=64",
                "train 3 epochs every=1 plot samples", "plot losses"
            ] {
                XCTAssertNil(shell.run(line).error, line)
            }
            if view {
                let cells = try get("http://127.0.0.1:\(shell.view!.port)/cells?token=\(shell.view!.token)")
                let json = try JSONSerialization.jsonObject(with: Data(cells.body.utf8)) as! [String: [String]]
                XCTAssertEqual(json["cells"]?.count, 7)
                XCTAssertTrue(json["cells"]!.last!.contains("<svg"), "figures are SVG")
            }
            return (shell, shell.workspace.session!.trainer.history.compactMap(\.dLoss))
        }
        let (_, without) = try run(view: false)
        let (_, with) = try run(view: true)
        XCTAssertEqual(with, without)
        XCTAssertFalse(with.isEmpty)
    }

    /// With a tab open, training redraws the chosen figures on the page every K steps; without
    /// one, nothing is drawn.
    func testTrainingRedrawsFiguresForAnOpenTab() throws {
        let shell = Interpreter()
        for line in [
            "seed 5", "data ring8", "net G = noise 2 | linear 16 | relu | linear 2",
            "net D = input 2 | linear 16 | relu | linear 1", "gan G D batch=64", "view"
        ] {
            XCTAssertNil(shell.run(line).error, line)
        }
        let view = try XCTUnwrap(shell.view)
        defer { view.stop() }
        XCTAssertNil(shell.run("train 100 steps").error)
        XCTAssertEqual(view.hub.liveSnapshot().figure, "", "no tab: nothing drawn")
        XCTAssertTrue(
            TextRenderer().render(shell.run("view plot game losses smooth=10").outputs).contains(
                "game, losses smooth=10"))
        XCTAssertEqual(shell.viewPlots, ["game", "losses smooth=10"])
        XCTAssertTrue(shell.run("view plot nosuch").error!.message.contains("unknown figure 'nosuch'"))
        XCTAssertNil(shell.run("set view.every 25").error)
        let tab = try ViewReader(port: view.port, path: "/ws?token=\(view.token)")
        XCTAssertTrue(try tab.status().contains("101"))
        let deadline = Date().addingTimeInterval(10)
        while view.clients < 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertNil(shell.run("train 100 steps").error)
        var figures = 0
        while let m = try? tab.text(), !m.contains("\"kind\":\"cell\"") {
            if m.contains("\"kind\":\"figure\"") && m.contains("the game on the plane") && m.contains("per step") {
                figures += 1
            }
        }
        XCTAssertEqual(figures, 4, "every 25 of 100 steps")
        XCTAssertNil(shell.run("set view.every auto").error)
        XCTAssertNil(shell.viewEvery)
        XCTAssertTrue(shell.run("set view.every 0").error!.message.contains("view.every"))
    }

    /// The command: a second 'view' says where it is, 'view stop' ends it, a port must be a port.
    func testViewCommand() throws {
        let shell = Interpreter()
        let first = TextRenderer().render(shell.run("view").outputs)
        XCTAssertTrue(first.hasPrefix("the view is at http://127.0.0.1:"), first)
        XCTAssertTrue(TextRenderer().render(shell.run("view").outputs).contains("the view is open at"))
        XCTAssertEqual(TextRenderer().render(shell.run("view stop").outputs), "view stopped")
        XCTAssertNil(shell.view)
        XCTAssertTrue(shell.run("view 80").error!.message.contains("1024"))
    }
}
