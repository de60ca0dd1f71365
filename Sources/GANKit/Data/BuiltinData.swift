import Foundation
import TensorCore
import CZlib

/// The real datasets shipped with gans (unchanged files, attribution in
/// docs/data.md): UCI digits 8×8, a 5,000-image MNIST subset, 32,033 names,
/// tiny Shakespeare. Images are scaled to [−1, 1].
public enum BuiltinData {
    static func resource(_ name: String) throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources") else {
            throw FileError(name, "the shipped data file is missing from the build")
        }
        return try AtomicFile.read(url.path)
    }

    /// Rows of comma-separated whole numbers: `columns` values per line.
    static func parseCSV(_ bytes: [UInt8], columns: Int, source: String) throws -> (values: [Float], rows: Int) {
        var values: [Float] = []
        values.reserveCapacity(bytes.count / 2)
        var rows = 0, column = 0, current = 0, inNumber = false, line = 1
        func endValue() throws {
            guard inNumber else { throw FileError(source, "line \(line): expected a number in column \(column + 1)") }
            values.append(Float(current))
            current = 0; inNumber = false; column += 1
        }
        for b in bytes {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                current = current * 10 + Int(b - 48)
                inNumber = true
                guard current < 1 << 24 else { throw FileError(source, "line \(line): a value is too large") }
            case UInt8(ascii: ","):
                try endValue()
            case UInt8(ascii: "\n"):
                if column == 0 && !inNumber { line += 1; continue }  // blank line
                try endValue()
                guard column == columns else {
                    throw FileError(source, "line \(line): expected \(columns) values, found \(column)")
                }
                rows += 1; column = 0; line += 1
            case UInt8(ascii: "\r"):
                continue
            default:
                throw FileError(source, "line \(line): unexpected character '\(Character(Unicode.Scalar(b)))'")
            }
        }
        if inNumber || column > 0 {
            try endValue()
            guard column == columns else {
                throw FileError(source, "line \(line): expected \(columns) values, found \(column)")
            }
            rows += 1
        }
        return (values, rows)
    }

    /// Images in rows of pixels then a label, scaled from 0…`maxValue` to [−1, 1].
    /// Decoded image sets, kept for the process: the tensors are never written to.
    nonisolated(unsafe) static var decoded: [String: (Tensor, Tensor)] = [:]

    /// Where decoded copies of the shipped image sets are kept between runs:
    /// `$XDG_CACHE_HOME/gans` (else `~/.cache/gans`), or nil without a home.
    static var cacheFolder: String? {
        let env = ProcessInfo.processInfo.environment
        if env["GANS_NO_CACHE"] == "1" { return nil }
        guard let base = env["XDG_CACHE_HOME"].flatMap({ $0.isEmpty ? nil : $0 }) ?? env["HOME"].map({ $0 + "/.cache" })
        else { return nil }
        return base + "/gans"
    }

    /// The CRC-32 that guards a decoded cache's bytes.
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt {
        UInt(Array(bytes).withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) })
    }

    static func labelledImages(_ file: String, side: Int, maxValue: Float, name: String) throws -> TensorDataset {
        func dataset(_ x: Tensor, _ y: Tensor) throws -> TensorDataset {
            let data = try TensorDataset(name: name, samples: x, labels: y, classCount: 10)
            data.kind = .images
            return data
        }
        if let (x, y) = decoded[file] { return try dataset(x, y) }
        // A decoded copy from an earlier run, if it is of this very file (size and checksum of the shipped
        // bytes): one text line, then the labels and the pixels as bytes.
        let raw = try resource(file)
        let stamp = "\(raw.count)-\(raw.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) })"
        let cachePath = cacheFolder.map { "\($0)/\(name).u8" }
        if let cachePath, let bytes = try? AtomicFile.read(cachePath), let newline = bytes.firstIndex(of: 10) {
            let head = String(decoding: bytes[..<newline], as: UTF8.self).split(separator: " ").map(String.init)
            let pixels = side * side
            // The cache is trusted only when its own checksum matches: a damaged one is decoded again and rewritten.
            let payload = bytes[(newline + 1)...]
            let sum = checksum(payload)
            if head.count == 5, head[0] == "gans-images2", head[1] == stamp, let rows = Int(head[2]), rows > 0,
                rows <= 1 << 24,
                Int(head[3]) == side, head[4] == String(sum), payload.count == rows * (pixels + 1),
                payload.prefix(rows).allSatisfy({ $0 < 10 })
            {
                let x = Tensor(zeros: [rows, 1, side, side]), y = Tensor(zeros: [rows])
                bytes.withUnsafeBufferPointer { b in
                    let base = newline + 1
                    y.withUnsafeMutableBufferPointer { py in for r in 0..<rows { py[r] = Float(b[base + r]) } }
                    x.withUnsafeMutableBufferPointer { px in
                        let p0 = base + rows
                        // The same arithmetic as decoding the CSV, so both give the same bits.
                        for i in 0..<(rows * pixels) { px[i] = Float(b[p0 + i]) / maxValue * 2 - 1 }
                    }
                }
                decoded[file] = (x, y)
                return try dataset(x, y)
            }
        }
        let csv = try Gzip.decompress(raw, source: file)
        let pixels = side * side
        let (values, rows) = try parseCSV(csv, columns: pixels + 1, source: file)
        let x = Tensor(zeros: [rows, 1, side, side]), y = Tensor(zeros: [rows])
        x.withUnsafeMutableBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                for r in 0..<rows {
                    for j in 0..<pixels { px[r * pixels + j] = values[r * (pixels + 1) + j] / maxValue * 2 - 1 }
                    py[r] = values[r * (pixels + 1) + pixels]
                }
            }
        }
        decoded[file] = (x, y)
        if let cachePath, let folder = cacheFolder {
            // Best effort: a cache that cannot be written is simply not used.
            var payload: [UInt8] = []
            payload.reserveCapacity(rows * (pixels + 1))
            for r in 0..<rows { payload.append(UInt8(values[r * (pixels + 1) + pixels])) }
            for r in 0..<rows { for j in 0..<pixels { payload.append(UInt8(values[r * (pixels + 1) + j])) } }
            let sum = checksum(payload[...])
            let bytes = Array("gans-images2 \(stamp) \(rows) \(side) \(sum)\n".utf8) + payload
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try? AtomicFile.write(bytes, to: cachePath)
        }
        return try dataset(x, y)
    }

    /// UCI optdigits test set: 1,797 labelled 8×8 images, [N, 1, 8, 8] in [−1, 1].
    public static func digits() throws -> TensorDataset {
        try labelledImages("digits.csv.gz", side: 8, maxValue: 16, name: "digits")
    }

    /// 5,000 labelled MNIST images, [N, 1, 28, 28] in [−1, 1].
    public static func mnist5k() throws -> TensorDataset {
        try labelledImages("mnist_5k.csv.gz", side: 28, maxValue: 255, name: "mnist5k")
    }

    /// The names as words (lower-case a–z), in file order.
    public static func nameList() throws -> [String] {
        let text = String(decoding: try resource("names.txt"), as: UTF8.self)
        return text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// The names as one-hot sequences `[N, length, 27]` (a–z and the end mark).
    public static func names(length: Int = 16) throws -> TensorDataset {
        let code = CharacterCode.lowercase(length: length)
        let data = try code.dataset(name: "names", words: try nameList())
        data.kind = .sequences(code)
        return data
    }

    /// Tiny Shakespeare as consecutive windows of `length` characters, one-hot
    /// over its 65 characters and the end mark; at most `limit` windows.
    public static func shakespeareWindows(length: Int = 32, limit: Int = 10_000) throws -> TensorDataset {
        let text = try shakespeare()
        let code = CharacterCode.of(text, length: length)
        let data = try code.windows(name: "shakespeare", text: text, limit: limit)
        data.kind = .sequences(code)
        return data
    }

    /// The tiny-Shakespeare text.
    public static func shakespeare() throws -> String {
        String(decoding: try resource("tinyshakespeare.txt"), as: UTF8.self)
    }
}
