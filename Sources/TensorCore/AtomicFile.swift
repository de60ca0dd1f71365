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
    /// What a temporary file's name carries after the target's name: `.NAME.gans-tmp-PID-RANDOM`.
    static let marker = ".gans-tmp-"

    /// Writes `bytes` to `path` through a temporary file beside it (flushed,
    /// then renamed over the target), so the path always holds the old
    /// content or the new. A file the user cannot write (no write permission
    /// for anyone) is not replaced, and a replaced file keeps its mode.
    /// Temporary files left by processes that died mid-write are removed.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw FileError(path, "cannot write: the folder \(dir) does not exist")
        }
        var mode: mode_t = 0o644
        var st = stat()
        if stat(path, &st) == 0 {
            let type = st.st_mode & S_IFMT
            if type == S_IFDIR { throw FileError(path, "cannot write: it is a folder") }
            guard type == S_IFREG else { throw FileError(path, "cannot write: it is not a regular file") }
            // Root may write anything; a file with no write bit is still one its owner protected.
            guard st.st_mode & 0o222 != 0, access(path, W_OK) == 0 else {
                throw FileError(
                    path,
                    "is read-only (mode \(String(st.st_mode & 0o777, radix: 8))): gans does not replace a file you cannot write"
                )
            }
            mode = st.st_mode & 0o7777
        }
        removeStaleTemporaries(in: dir)
        let tmp = dir + "/." + url.lastPathComponent + marker + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
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
        if let failure { close(fd); throw FileError(path, "cannot write: \(failure); the file is as it was") }
        _ = fchmod(fd, mode)
        guard fsync(fd) == 0 else {
            let m = String(cString: strerror(errno)); close(fd)
            throw FileError(path, "cannot flush to disk: \(m); the file is as it was")
        }
        close(fd)
        guard rename(tmp, path) == 0 else {
            throw FileError(path, "cannot replace the file: \(String(cString: strerror(errno)))")
        }
        ok = true
        let dfd = open(dir, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Removes the temporary files in `dir` whose writing process is gone (killed during a write).
    public static func removeStaleTemporaries(in dir: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names where name.hasPrefix(".") {
            guard let r = name.range(of: marker) else { continue }
            let rest = name[r.upperBound...].split(separator: "-")
            guard rest.count == 2, let pid = pid_t(rest[0]), UInt32(rest[1]) != nil, pid > 0 else { continue }
            if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH { unlink(dir + "/" + name) }
        }
    }

    /// The size of a regular file (symbolic links followed), with a clear error for anything else.
    public static func regularFileSize(_ path: String) throws -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { throw FileError(path, "no such file") }
            throw FileError(path, "cannot read: \(String(cString: strerror(errno)))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw FileError(path, "is a folder, not a file") }
        // Devices and pipes could be endless: only regular files are read.
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError(path, "is not a regular file") }
        return Int(st.st_size)
    }

    /// Reads a whole file, with a clear error when it cannot.
    public static func read(_ path: String, maxBytes: Int = 1 << 31) throws -> [UInt8] {
        let size = try regularFileSize(path)
        if size > maxBytes {
            throw FileError(path, "is \(size) bytes; files over \(maxBytes) bytes are not read")
        }
        return try read(path, range: 0..<size)
    }

    /// Reads bytes `range` of a file; fewer bytes than asked for is an error (the file changed or is short).
    public static func read(_ path: String, range: Range<Int>) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileError(path, "cannot read: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: range.count)
        var done = 0
        let failure: String? = out.withUnsafeMutableBytes { raw -> String? in
            while done < raw.count {
                let n = pread(fd, raw.baseAddress! + done, raw.count - done, off_t(range.lowerBound + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                if n == 0 { return "it ends after \(range.lowerBound + done) bytes, before byte \(range.upperBound)" }
                done += n
            }
            return nil
        }
        if let failure { throw FileError(path, "cannot read: \(failure)") }
        return out
    }
}
