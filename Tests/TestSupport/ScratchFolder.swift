import Foundation
import TensorCore

/// A temporary folder for tests that write files, removed when released.
public final class ScratchFolder {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "gans-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to a file of this folder; returns its path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = path + "/" + name
        try AtomicFile.write(bytes, to: p)
        return p
    }
}
