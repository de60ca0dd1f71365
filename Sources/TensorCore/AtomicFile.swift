import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file-system problem, naming the file.
public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(_ path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

/// Writes a whole file so that readers see either the old content or the new,
/// never a part: a temporary file beside the target, flushed to disk, then
/// renamed over it.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw FileError(path, "cannot write: the folder \(dir) does not exist")
        }
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw FileError(path, "cannot write: \(String(cString: strerror(errno)))") }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        var written = 0
        let failure: String? = bytes.withUnsafeBytes { raw -> String? in
            while written < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                written += n
            }
            return nil
        }
        if let failure { close(fd); throw FileError(path, "cannot write: \(failure)") }
        guard fsync(fd) == 0 else {
            let m = String(cString: strerror(errno)); close(fd)
            throw FileError(path, "cannot flush to disk: \(m)")
        }
        close(fd)
        guard rename(tmp, path) == 0 else { throw FileError(path, "cannot replace the file: \(String(cString: strerror(errno)))") }
        ok = true
        let dfd = open(dir, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Reads a whole file, with a clear error when it cannot.
    public static func read(_ path: String, maxBytes: Int = 1 << 31) throws -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw FileError(path, "no such file")
        }
        guard !isDir.boolValue else { throw FileError(path, "is a folder, not a file") }
        // Devices and pipes could be endless: only regular files of a sane size are read.
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard attributes?[.type] as? FileAttributeType == .typeRegular else {
            throw FileError(path, "is not a regular file")
        }
        if let size = attributes?[.size] as? Int, size > maxBytes {
            throw FileError(path, "is \(size) bytes; files over \(maxBytes) bytes are not read")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(path, "cannot read the file")
        }
        return [UInt8](data)
    }
}
