import FlyingFox
import Foundation

/// The session as a notebook in the browser, following the shell: a web server on the loopback
/// address (FlyingFox) that serves the page and pushes each new cell, and what training shows
/// live, to every open tab over a WebSocket. It is another renderer of the interpreter's outputs:
/// the interpreter hands it cells and live outputs; no command knows it exists.
///
/// Sending never waits for a browser: each tab has a buffer of the newest messages, and a tab
/// that reads too slowly loses old ones, never a training step.
public final class LiveView: @unchecked Sendable {
    /// The address to open, with the token that lets a tab in.
    public let url: String
    public let port: UInt16
    /// A random secret in the address: another local user cannot read the session without it.
    public let token: String
    let server: HTTPServer
    let hub: Hub

    /// What a tab needs: the page's fragments so far, and the tabs to push new ones to.
    final class Hub: @unchecked Sendable {
        let lock = NSLock()
        var fragments: [String] = []
        var status = ""
        /// What the running command shows so far, for a tab that opens in the middle of it.
        var liveRows: [String] = [], liveFigure = ""
        var clients: [UUID: AsyncStream<WSMessage>.Continuation] = [:]
        let title: String
        /// Messages a slow tab may fall behind by before the oldest are dropped.
        static let buffer = 256

        init(title: String) { self.title = title }

        func add(_ fragment: String) {
            lock.lock()
            fragments.append(fragment)
            liveRows = []; liveFigure = ""; status = ""
            lock.unlock()
            send(["kind": "cell", "html": fragment])
        }

        /// What the page shows of a command still running: `row` adds a row under the ones so far,
        /// `figure` replaces the figures below them. Each message carries only what is new.
        func live(_ kind: String, _ html: String, status: String) {
            lock.lock()
            self.status = status
            if kind == "row" { liveRows.append(html) } else { liveFigure = html }
            lock.unlock()
            send(["kind": kind, "html": html, "status": status])
        }

        /// Only the training state line (the figures stay as they are).
        func status(_ status: String) {
            lock.lock()
            self.status = status
            lock.unlock()
            send(["kind": "status", "status": status])
        }

        /// A message to every open tab; encoded only when there is one. Yielding never waits.
        func send(_ fields: [String: String]) {
            lock.lock()
            let targets = Array(clients.values)
            lock.unlock()
            guard !targets.isEmpty else { return }
            let message = WSMessage.text(LiveView.json(fields))
            for c in targets { c.yield(message) }
        }

        func connect() -> (UUID, AsyncStream<WSMessage>) {
            let id = UUID()
            var continuation: AsyncStream<WSMessage>.Continuation!
            let stream = AsyncStream<WSMessage>(bufferingPolicy: .bufferingNewest(Hub.buffer)) { continuation = $0 }
            lock.lock()
            clients[id] = continuation
            lock.unlock()
            continuation.onTermination = { [weak self] _ in self?.disconnect(id) }
            return (id, stream)
        }

        func disconnect(_ id: UUID) {
            lock.lock()
            clients[id] = nil
            lock.unlock()
        }

        var clientCount: Int { lock.lock(); defer { lock.unlock() }; return clients.count }

        func snapshot() -> [String] { lock.lock(); defer { lock.unlock() }; return fragments }

        func liveSnapshot() -> (rows: String, figure: String, status: String) {
            lock.lock(); defer { lock.unlock() }
            return (liveRows.joined(), liveFigure, status)
        }

        /// Tells every tab the session ended, and closes them.
        func finish() {
            lock.lock()
            let targets = Array(clients.values)
            clients = [:]
            lock.unlock()
            for c in targets {
                c.yield(.text(LiveView.json(["kind": "end"])))
                c.yield(.close(.normalClosure))
                c.finish()
            }
        }
    }

    /// The messages of a WebSocket: a tab's stream from the hub; what the tab sends is ignored.
    struct Socket: WSMessageHandler {
        let hub: Hub
        func makeMessages(for client: AsyncStream<WSMessage>) async throws -> AsyncStream<WSMessage> {
            let (id, stream) = hub.connect()
            Task {
                for await _ in client {}
                hub.disconnect(id)
            }
            return stream
        }
    }

    struct ViewError: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts serving on 127.0.0.1 (a free port when `port` is 0) and returns once it listens.
    public init(port: UInt16 = 0, title: String) throws {
        var bytes = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        token = bytes.map { String(format: "%02x", $0) }.joined()
        hub = Hub(title: title)
        let address: sockaddr_in
        do { address = try .inet(ip4: "127.0.0.1", port: port) } catch {
            throw ViewError(description: "view: cannot make the loopback address: \(error)")
        }
        server = HTTPServer(address: address, logger: .disabled)
        let (server, hub, token) = (server, hub, token)
        let listening = DispatchSemaphore(value: 0)
        let result = Box<Result<UInt16, Error>>(.failure(ViewError(description: "view: the server did not start")))
        Task {
            await server.appendRoute("GET /", to: Page(hub: hub, token: token))
            await server.appendRoute("GET /cells", to: Cells(hub: hub, token: token))
            await server.appendRoute(
                "GET /ws",
                to: Guarded(
                    token: token, inner: WebSocketHTTPHandler(handler: MessageFrameWSHandler(handler: Socket(hub: hub)))
                ))
            Task {
                do { try await server.run() } catch {
                    result.value = .failure(ViewError(description: "view: \(error)"))
                    listening.signal()
                }
            }
            do {
                try await server.waitUntilListening(timeout: 5)
                if case .ip4(_, let p)? = await server.listeningAddress {
                    result.value = .success(p)
                }
            } catch {
                result.value = .failure(ViewError(description: "view: the server did not start listening: \(error)"))
            }
            listening.signal()
        }
        guard listening.wait(timeout: .now() + 10) == .success else {
            throw ViewError(description: "view: the server did not start within 10 s")
        }
        switch result.value {
        case .success(let p): self.port = p
        case .failure(let e):
            Task { await server.stop() }
            throw e
        }
        url = "http://127.0.0.1:\(self.port)/?token=\(token)"
    }

    final class Box<T>: @unchecked Sendable {
        var value: T
        init(_ value: T) { self.value = value }
    }

    /// Adds a block of the notebook (a cell with its outputs, or prose) to every page.
    public func publish(_ html: String) { hub.add(html) }

    /// Adds a row (an epoch's) to what the running command shows on the page.
    public func liveRow(_ html: String, status: String) { hub.live("row", html, status: status) }

    /// Replaces the figures the running command shows on the page.
    public func liveFigure(_ html: String, status: String) { hub.live("figure", html, status: status) }

    /// Updates the training state line alone.
    public func status(_ status: String) { hub.status(status) }

    /// Open tabs.
    public var clients: Int { hub.clientCount }

    /// Tells open pages the session ended and stops serving.
    public func stop() {
        hub.finish()
        let done = DispatchSemaphore(value: 0)
        let server = self.server
        Task {
            await server.stop(timeout: 1)
            done.signal()
        }
        _ = done.wait(timeout: .now() + 3)
    }

    static func json(_ fields: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func forbidden() -> HTTPResponse {
        HTTPResponse(
            statusCode: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"],
            body: Data("this session's address has a token; use the address gans printed\n".utf8))
    }

    /// Refuses a request without the session's token.
    struct Guarded: HTTPHandler {
        let token: String
        let inner: any HTTPHandler
        func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
            guard request.query["token"] == token else { return LiveView.forbidden() }
            return try await inner.handleRequest(request)
        }
    }

    /// The fragments so far as JSON (tests and scripts read the session this way).
    struct Cells: HTTPHandler {
        let hub: Hub
        let token: String
        func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
            guard request.query["token"] == token else { return LiveView.forbidden() }
            let body = try JSONSerialization.data(withJSONObject: ["cells": hub.snapshot()], options: [])
            return HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json"], body: body)
        }
    }

    /// The page: the notebook so far, and a script that appends what the WebSocket brings.
    struct Page: HTTPHandler {
        let hub: Hub
        let token: String
        func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
            guard request.query["token"] == token else { return LiveView.forbidden() }
            let html = LiveView.page(
                title: hub.title, fragments: hub.snapshot(), live: hub.liveSnapshot(), token: token)
            return HTTPResponse(
                statusCode: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: Data(html.utf8))
        }
    }

    static func page(
        title: String, fragments: [String], live: (rows: String, figure: String, status: String) = ("", "", ""),
        token: String
    ) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(Notebook.escape(title)) — gans</title>
        <style>
        \(Notebook.style)
        #state { position: sticky; top: 0; background: #fffffff0; border-bottom: 1px solid #ddd; padding: .4em 0; font: 13px "DejaVu Sans Mono", monospace; color: #444; z-index: 1; }
        #state b { color: #7c5cbf; }
        #live { border-left: 3px solid #e0a000; margin: 1em 0; }
        #live:has(#rows:empty):has(#figure:empty) { display: none; }
        .ended { color: #b00020; }
        </style></head>
        <body>
        <div id="state"><b>gans</b> <span id="conn">live</span> <span id="status">\(Notebook.escape(live.status))</span></div>
        <h1>\(Notebook.prose(title))</h1>
        <div id="cells">\(fragments.joined())</div>
        <div id="live"><div id="rows">\(live.rows)</div><div id="figure">\(live.figure)</div></div>
        <script>
        (function () {
          const cells = document.getElementById("cells"), rows = document.getElementById("rows");
          const figure = document.getElementById("figure");
          const status = document.getElementById("status"), conn = document.getElementById("conn");
          // Follow the newest cell unless the reader has scrolled up.
          function atBottom() { return window.innerHeight + window.scrollY >= document.body.scrollHeight - 80; }
          function follow(was) { if (was) window.scrollTo(0, document.body.scrollHeight); }
          const ws = new WebSocket("ws://" + location.host + "/ws?token=\(token)");
          ws.onmessage = function (e) {
            const m = JSON.parse(e.data), was = atBottom();
            if (m.kind === "cell") {
              rows.innerHTML = ""; figure.innerHTML = ""; status.textContent = "";
              cells.insertAdjacentHTML("beforeend", m.html);
            }
            else if (m.kind === "row") { rows.insertAdjacentHTML("beforeend", m.html); status.textContent = m.status || ""; }
            else if (m.kind === "figure") { figure.innerHTML = m.html; status.textContent = m.status || ""; }
            else if (m.kind === "status") { status.textContent = m.status || ""; }
            else if (m.kind === "end") { conn.textContent = "the session ended"; conn.className = "ended"; }
            follow(was);
          };
          ws.onclose = function () {
            if (conn.className !== "ended") { conn.textContent = "the shell has closed this page's connection"; conn.className = "ended"; }
          };
          window.scrollTo(0, document.body.scrollHeight);
        })();
        </script>
        </body></html>

        """
    }
}
