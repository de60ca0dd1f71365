/// Tensors read from or written to a safetensors file, in file order.
public struct SafeTensorsArchive {
    public var tensors: [(name: String, tensor: Tensor)]
    public var metadata: [String: String]
    /// Tensors of another dtype than F32 that the reader was told to leave out (their names).
    public var skipped: [String] = []

    public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
    public var names: [String] { tensors.map(\.name) }
}

/// What is wrong with a safetensors file, and where.
public struct SafeTensorsError: Error, CustomStringConvertible {
    public let source: String
    public let message: String
    public var description: String { "\(source): not a valid safetensors file: \(message)" }
}

/// The safetensors format: an 8-byte little-endian header length N, N bytes
/// of JSON (`{"__metadata__": {…strings…}, "name": {"dtype": "F32", "shape":
/// […], "data_offsets": [begin, end]}, …}`), then the data, whose byte ranges
/// (relative to the data's start) tile it exactly. gans stores F32.
public enum SafeTensors {
    /// The dtypes the format defines, with their sizes in bytes.
    static let dtypes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8
    ]
    static let maxHeaderBytes = 100 << 20

    public static func encode(_ archive: SafeTensorsArchive) throws -> [UInt8] {
        var seen = Set<String>()
        var header = "{"
        var parts: [String] = []
        if !archive.metadata.isEmpty {
            let items = archive.metadata.sorted { $0.key < $1.key }
                .map { JSONValue.quote($0.key) + ":" + JSONValue.quote($0.value) }
            parts.append("\"__metadata__\":{" + items.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, t) in archive.tensors {
            guard name != "__metadata__", seen.insert(name).inserted else {
                throw SafeTensorsError(source: "write", message: "tensor name \"\(name)\" is reserved or repeated")
            }
            let bytes = t.count * 4
            parts.append(
                JSONValue.quote(name) + ":{\"dtype\":\"F32\",\"shape\":["
                    + t.shape.map(String.init).joined(separator: ",")
                    + "],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        header += parts.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }  // aligns the data, as the reference writer does
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        var n = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for (_, t) in archive.tensors {
            t.withUnsafeBufferPointer { buf in
                let raw = UnsafeRawBufferPointer(buf)
                #if _endian(big)
                    for i in 0..<buf.count {
                        withUnsafeBytes(of: buf[i].bitPattern.littleEndian) { out.append(contentsOf: $0) }
                    }
                #else
                    out.append(contentsOf: raw)
                #endif
            }
        }
        return out
    }

    /// One tensor's place in the data, as the header gives it.
    struct Entry { var name: String; var shape: [Int]; var begin: Int; var end: Int; var skip = false }

    /// Reads and checks a header (the JSON after the 8-byte length) against a
    /// data section of `dataLength` bytes: dtypes, shapes, ranges that tile the
    /// data, and sizes within `Tensor.elementLimit` and `Tensor.memoryBudget`.
    static func parseHeader(
        _ header: [UInt8], dataLength: Int, source: String, skipping: (String) -> Bool = { _ in false }
    ) throws -> (
        metadata: [String: String], entries: [Entry]
    ) {
        func fail(_ m: String) -> SafeTensorsError { SafeTensorsError(source: source, message: m) }
        guard header.first == UInt8(ascii: "{") else { throw fail("the header does not start with '{'") }
        let json: JSONValue
        do { json = try JSONValue.parse(header) } catch let e as JSONValue.ParseError {
            throw fail("the header is not valid JSON: \(e.message) at byte \(8 + e.offset)")
        }
        guard case .object(let members) = json else { throw fail("the header is not a JSON object") }

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (key, value) in members {
            if key == "__metadata__" {
                guard case .object(let items) = value else { throw fail("__metadata__ is not an object") }
                for (k, v) in items {
                    guard case .string(let s) = v else { throw fail("__metadata__ value for \"\(k)\" is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let fields) = value else { throw fail("entry \"\(key)\" is not an object") }
            let f = Dictionary(fields, uniquingKeysWith: { _, last in last })
            guard case .string(let dtype)? = f["dtype"] else { throw fail("tensor \"\(key)\" has no dtype string") }
            guard let size = dtypes[dtype] else { throw fail("tensor \"\(key)\" has unknown dtype \"\(dtype)\"") }
            guard case .array(let dims)? = f["shape"] else { throw fail("tensor \"\(key)\" has no shape array") }
            var shape: [Int] = []
            for d in dims {
                guard let v = d.nonNegativeInt else {
                    throw fail("tensor \"\(key)\" has a shape entry that is not a non-negative integer")
                }
                guard v <= Int(Int32.max) else {
                    throw fail("tensor \"\(key)\" has a dimension of \(v), more than \(Int32.max)")
                }
                shape.append(v)
            }
            guard shape.count <= 8 else {
                throw fail("tensor \"\(key)\" has \(shape.count) dimensions; gans reads at most 8")
            }
            guard case .array(let offs)? = f["data_offsets"], offs.count == 2,
                let begin = offs[0].nonNegativeInt, let end = offs[1].nonNegativeInt
            else {
                throw fail("tensor \"\(key)\" needs data_offsets [begin, end] of non-negative integers")
            }
            guard begin <= end else {
                throw fail("tensor \"\(key)\" has data_offsets [\(begin), \(end)] with begin after end")
            }
            var elements = 1
            for d in shape {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw fail("tensor \"\(key)\" has a shape too large to address") }
                elements = p
            }
            let (expected, o) = elements.multipliedReportingOverflow(by: size)
            guard !o, expected == end - begin else {
                throw fail(
                    "tensor \"\(key)\" of shape \(shapeString(shape)) needs \(elements) × \(size) bytes, but data_offsets [\(begin), \(end)] cover \(end - begin)"
                )
            }
            guard end <= dataLength else {
                throw fail(
                    "tensor \"\(key)\" has data_offsets [\(begin), \(end)] outside the \(dataLength) bytes of data")
            }
            if dtype != "F32", skipping(key) {
                // Still part of the data's tiling, but not read.
                entries.append(Entry(name: key, shape: shape, begin: begin, end: end, skip: true))
                continue
            }
            guard dtype == "F32" else {
                throw fail("tensor \"\(key)\" has dtype \(dtype) (\(size) bytes); gans reads F32 tensors only")
            }
            do { try Tensor.checkShape(shape, op: "safetensors") } catch { throw fail("tensor \"\(key)\": \(error)") }
            entries.append(Entry(name: key, shape: shape, begin: begin, end: end))
        }
        // The ranges must tile the data: no overlap, no gap, nothing after.
        var position = 0
        for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            if e.begin < position {
                throw fail(
                    "tensor \"\(e.name)\" at [\(e.begin), \(e.end)] overlaps the tensor before it, which ends at \(position)"
                )
            }
            if e.begin > position { throw fail("bytes \(position)..<\(e.begin) of the data belong to no tensor") }
            position = e.end
        }
        guard position == dataLength else {
            throw fail("the data has \(dataLength - position) bytes after the last tensor")
        }
        do {
            try Tensor.checkMemory(bytes: dataLength, op: "safetensors", what: "the file's \(entries.count) tensors")
        } catch {
            throw fail("\(error)")
        }
        return (metadata, entries.sorted { $0.begin < $1.begin })
    }

    /// The header length from the first 8 bytes, checked against the file's size.
    static func headerLength(_ first8: [UInt8], fileSize: Int, source: String) throws -> Int {
        func fail(_ m: String) -> SafeTensorsError { SafeTensorsError(source: source, message: m) }
        guard fileSize >= 8, first8.count >= 8 else {
            throw fail("the file has \(fileSize) bytes, fewer than the 8 of the header length")
        }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(first8[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(fileSize - 8) else {
            throw fail("the header length \(n) runs past the end of the file (\(fileSize - 8) bytes follow it)")
        }
        guard n <= UInt64(maxHeaderBytes) else { throw fail("the header length \(n) exceeds the 100 MiB limit") }
        return Int(n)
    }

    static func tensors(_ entries: [Entry], data: UnsafeRawBufferPointer) -> [(name: String, tensor: Tensor)] {
        entries.filter { !$0.skip }.map { e in
            let t = Tensor(uninitialized: e.shape)
            guard t.count > 0, let base = data.baseAddress else { return (e.name, t) }
            let src = base + e.begin
            for i in 0..<t.count {
                t.pointer[i] = Float(
                    bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
            return (e.name, t)
        }
    }

    public static func decode(_ bytes: [UInt8], source: String = "safetensors") throws -> SafeTensorsArchive {
        let headerLen = try headerLength(Array(bytes.prefix(8)), fileSize: bytes.count, source: source)
        let (metadata, entries) = try parseHeader(
            Array(bytes[8..<(8 + headerLen)]), dataLength: bytes.count - 8 - headerLen,
            source: source)
        let tensors = bytes.withUnsafeBytes { raw in
            Self.tensors(entries, data: UnsafeRawBufferPointer(rebasing: raw[(8 + headerLen)...]))
        }
        return SafeTensorsArchive(tensors: tensors, metadata: metadata)
    }

    /// Writes atomically (temporary file, flush, rename).
    public static func write(_ archive: SafeTensorsArchive, to path: String) throws {
        try AtomicFile.write(try encode(archive), to: path)
    }

    /// Reads a file header first: the length and the header are checked
    /// against the file's size and the limits before the data is read, so a
    /// small file that claims large tensors costs nothing.
    /// `skipping` names tensors whose dtype is not F32 that may be left out rather than
    /// refused (PyTorch's I64 `num_batches_tracked` counters, say); they are listed in `skipped`.
    public static func read(from path: String, skipping: (String) -> Bool = { _ in false }) throws -> SafeTensorsArchive
    {
        let size = try AtomicFile.regularFileSize(path)
        let headerLen = try headerLength(
            try AtomicFile.read(path, range: 0..<min(8, size)), fileSize: size, source: path)
        let header = try AtomicFile.read(path, range: 8..<(8 + headerLen))
        let (metadata, entries) = try parseHeader(
            header, dataLength: size - 8 - headerLen, source: path, skipping: skipping)
        let data = try AtomicFile.read(path, range: (8 + headerLen)..<size)
        let tensors = data.withUnsafeBytes { Self.tensors(entries, data: $0) }
        var archive = SafeTensorsArchive(tensors: tensors, metadata: metadata)
        archive.skipped = entries.filter(\.skip).map(\.name)
        return archive
    }
}
