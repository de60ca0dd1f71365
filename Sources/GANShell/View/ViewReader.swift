import Foundation

/// A reader of the live view as a browser tab connects to it: a WebSocket client on a POSIX
/// socket (the handshake of RFC 6455 and the server's unmasked frames). `gans-bench view` and
/// the tests read the view with it; the shell itself never does.
public final class ViewReader {
    let fd: Int32
    var buffer: [UInt8] = []

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Connects to `path` (with its token) on the loopback port and sends the upgrade request;
    /// `status()` reads the answer. Reads wait at most `timeout` seconds.
    public init(port: UInt16, path: String, timeout: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "no socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard ok == 0 else {
            close(fd)
            throw Failure(description: "cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
        var t = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
    }

    deinit { close(fd) }

    func fill(_ n: Int) throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while buffer.count < n {
            let got = recv(fd, &chunk, chunk.count, 0)
            guard got > 0 else {
                throw Failure(description: got == 0 ? "the view closed the connection" : "no message in time")
            }
            buffer += chunk[0..<got]
        }
    }

    /// The handshake's status line ("HTTP/1.1 101 Switching Protocols" when accepted).
    public func status() throws -> String {
        while true {
            if let end = String(decoding: buffer, as: UTF8.self).range(of: "\r\n\r\n") {
                let head = String(String(decoding: buffer, as: UTF8.self)[..<end.lowerBound])
                buffer.removeFirst(head.utf8.count + 4)
                return String(head.prefix { $0 != "\r" })
            }
            try fill(buffer.count + 1)
        }
    }

    /// The next text message, its frames joined (a long message comes in several).
    public func text() throws -> String {
        var payload: [UInt8] = []
        while true {
            try fill(2)
            let fin = buffer[0] & 0x80 != 0
            var length = Int(buffer[1] & 0x7F)
            var header = 2
            if length == 126 {
                try fill(4)
                length = Int(buffer[2]) << 8 | Int(buffer[3])
                header = 4
            } else if length == 127 {
                try fill(10)
                length = (2..<10).reduce(0) { $0 << 8 | Int(buffer[$1]) }
                header = 10
            }
            try fill(header + length)
            payload += buffer[header..<(header + length)]
            buffer.removeFirst(header + length)
            if fin { return String(decoding: payload, as: UTF8.self) }
        }
    }
}
