import Foundation
import TensorCore

/// Loaders for a user's own files. Every malformed input is refused with the
/// file and, where it applies, the byte offset or line; nothing traps.
public enum Loaders {
    static func bytes(_ path: String) throws -> [UInt8] {
        // A file, or what a compressed one expands to, may take no more than 256 MiB (MNIST's 60,000
        // images are 47 MB) and no more than the memory tensors may still take.
        let room = Swift.max(1 << 20, Swift.min(256 << 20, Tensor.memoryBudget - Tensor.bytesInUse))
        let raw = try AtomicFile.read(path, maxBytes: room)
        return raw.starts(with: [0x1f, 0x8b]) ? try Gzip.decompress(raw, source: path, maxBytes: room) : raw
    }

    /// An MNIST IDX file (raw or gzip): `[d0, d1, …]` of unsigned bytes,
    /// signed bytes, 16/32-bit integers, floats or doubles, big-endian.
    public static func idx(_ path: String) throws -> Tensor {
        let b = try bytes(path)
        func fail(_ m: String) -> FileError { FileError(path, "not an IDX file: \(m)") }
        guard b.count >= 4, b[0] == 0, b[1] == 0 else { throw fail("it does not start with two zero bytes") }
        let size: Int
        switch b[2] {
        case 0x08, 0x09: size = 1
        case 0x0B: size = 2
        case 0x0C, 0x0D: size = 4
        case 0x0E: size = 8
        default: throw fail("unknown data type 0x\(String(b[2], radix: 16)) at byte 2")
        }
        let rank = Int(b[3])
        guard rank >= 1, b.count >= 4 + 4 * rank else {
            throw fail("the header is cut short (\(rank) dimensions at byte 3)")
        }
        var shape: [Int] = []
        for d in 0..<rank {
            let o = 4 + 4 * d
            shape.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
        }
        do { try Tensor.checkShape(shape, op: "idx") } catch { throw fail("\(error)") }
        let count = shape.reduce(1, *)
        let start = 4 + 4 * rank
        guard b.count - start == count * size else {
            throw fail(
                "dimensions \(shapeString(shape)) need \(count * size) bytes of data after byte \(start), the file has \(b.count - start)"
            )
        }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let o = start + i * size
            var u: UInt64 = 0
            for k in 0..<size { u = u << 8 | UInt64(b[o + k]) }
            switch b[2] {
            case 0x08: values[i] = Float(b[o])
            case 0x09: values[i] = Float(Int8(bitPattern: b[o]))
            case 0x0B: values[i] = Float(Int16(bitPattern: UInt16(u)))
            case 0x0C: values[i] = Float(Int32(bitPattern: UInt32(u)))
            case 0x0D: values[i] = Float(bitPattern: UInt32(u))
            default: values[i] = Float(Double(bitPattern: u))
            }
        }
        return Tensor(values, shape: shape)
    }

    /// How a text file becomes samples.
    public enum TextMode: Equatable, Sendable {
        /// Each non-empty line is one item, padded with the end mark to `length`
        /// (nil: the longest line plus one); longer lines are skipped.
        case lines(length: Int?)
        /// Consecutive windows of `length` characters, at most `limit`.
        case characters(length: Int, limit: Int)
    }

    /// A text file as one-hot character sequences with a vocabulary built from it.
    public static func text(_ path: String, mode: TextMode) throws -> TensorDataset {
        let text = String(decoding: try bytes(path), as: UTF8.self)
        guard !text.isEmpty else { throw FileError(path, "is empty") }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        switch mode {
        case let .lines(length):
            let items = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
            guard !items.isEmpty else { throw FileError(path, "holds no lines") }
            let len = length ?? (items.map(\.count).max()! + 1)
            guard len >= 2 else { throw FileError(path, "lines need a length of at least 2, found \(len)") }
            let code = CharacterCode.of(items.joined(), length: len)
            let data = try code.dataset(name: name, words: items)
            data.kind = .sequences(code)
            return data
        case let .characters(length, limit):
            guard length > 0, limit > 0 else { throw FileError(path, "windows need a positive length and limit") }
            let code = CharacterCode.of(text, length: length)
            let data: TensorDataset
            do { data = try code.windows(name: name, text: text, limit: limit) } catch {
                throw FileError(path, "\(error)")
            }
            data.kind = .sequences(code)
            return data
        }
    }

    /// Where the class label is in each CSV row.
    public enum LabelColumn: Equatable, Sendable { case none, first, last, index(Int) }

    /// A CSV of numbers: one sample per row, an optional label column; a first
    /// row that is not all numbers is taken as a header and skipped.
    public static func csv(_ path: String, label: LabelColumn = .none) throws -> (samples: Tensor, labels: Tensor?) {
        let text = String(decoding: try bytes(path), as: UTF8.self)
        var rows: [[Float]] = []
        var width: Int? = nil
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            let numbers = fields.map { Float($0) }
            if rows.isEmpty && width == nil && numbers.contains(where: { $0 == nil }) && i == 0 {
                width = fields.count  // a header row
                continue
            }
            if let bad = numbers.firstIndex(where: { $0 == nil || !$0!.isFinite }) {
                throw FileError(path, "line \(i + 1), column \(bad + 1): '\(fields[bad])' is not a number")
            }
            if let w = width, w != fields.count {
                throw FileError(path, "line \(i + 1) has \(fields.count) columns, the lines before have \(w)")
            }
            width = fields.count
            rows.append(numbers.map { $0! })
            if rows.count % 4096 == 0 {
                // Rows of arrays cost about twice their floats; refuse before memory runs out.
                do {
                    try Tensor.checkMemory(bytes: rows.count * fields.count * 8, op: "csv", what: "\(rows.count) rows")
                } catch {
                    throw FileError(path, "\(error)")
                }
            }
        }
        guard let w = width, !rows.isEmpty else { throw FileError(path, "holds no rows of numbers") }
        var labelIndex: Int?
        switch label {
        case .none: labelIndex = nil
        case .first: labelIndex = 0
        case .last: labelIndex = w - 1
        case .index(let k):
            guard k >= 0 && k < w else { throw FileError(path, "there is no column \(k + 1): rows have \(w)") }
            labelIndex = k
        }
        let features = w - (labelIndex == nil ? 0 : 1)
        guard features > 0 else { throw FileError(path, "no columns are left besides the label") }
        var x: [Float] = [], y: [Float] = []
        x.reserveCapacity(rows.count * features)
        for r in rows {
            for (j, v) in r.enumerated() where j != labelIndex { x.append(v) }
            if let k = labelIndex { y.append(r[k]) }
        }
        do { try Tensor.checkShape([rows.count, features], op: "csv") } catch { throw FileError(path, "\(error)") }
        return (Tensor(x, shape: [rows.count, features]), labelIndex == nil ? nil : Tensor(y))
    }
}
