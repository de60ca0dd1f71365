import XCTest
import Foundation
import TensorCore
import TestSupport

final class SafeTensorsTests: XCTestCase {
    var scratch: ScratchFolder!
    var dir: String { scratch.path }
    override func setUpWithError() throws { scratch = try ScratchFolder() }
    override func tearDown() { scratch = nil }

    func testRoundTripWithMetadata() throws {
        Random.seed(1)
        let a = Tensor.randn([3, 4]), b = Tensor([1.5]), s = Tensor(2), e = Tensor(zeros: [0, 7])
        let archive = SafeTensorsArchive(
            tensors: [("0.weight", a), ("0.bias", b), ("scalar", s), ("empty", e)],
            metadata: ["spec": "linear 4 -> 3 \"quoted\"\n", "format": "pt"])
        let path = dir + "/m.safetensors"
        try SafeTensors.write(archive, to: path)
        let back = try SafeTensors.read(from: path)
        XCTAssertEqual(back.names, ["0.weight", "0.bias", "scalar", "empty"])
        XCTAssertEqual(back["0.weight"]?.shape, [3, 4])
        XCTAssertEqual(back["0.weight"]?.scalars, a.scalars)
        XCTAssertEqual(back["scalar"]?.shape, [])
        XCTAssertEqual(back["empty"]?.shape, [0, 7])
        XCTAssertEqual(back.metadata, archive.metadata)
        // Header length is a multiple of 8 and the JSON is what the format says.
        let bytes = try AtomicFile.read(path)
        let n = Int(bytes[0]) | Int(bytes[1]) << 8
        XCTAssertEqual(n % 8, 0)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(
            header.hasPrefix(
                "{\"__metadata__\":{\"format\":\"pt\",\"spec\":\"linear 4 -> 3 \\\"quoted\\\"\\n\"},\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}"
            ), header)
        // No temporary files are left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["m.safetensors"])
    }

    /// A file written by the reference implementation (Python safetensors),
    /// reproduced byte for byte: header padded with spaces, two tensors.
    func testReadsReferenceLayout() throws {
        let header =
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}"#
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { bytes += $0 }
        bytes += h
        for v: Float in [1, -2, 0.5] { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        let archive = try SafeTensors.decode(bytes)
        XCTAssertEqual(archive["a"]?.scalars, [1, -2])
        XCTAssertEqual(archive["b"]?.shape, [1, 1])
        XCTAssertEqual(archive["b"]?.scalars, [0.5])
    }

    func file(header: String, data: Int, declaredLength: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian) { bytes += $0 }
        return bytes + h + [UInt8](repeating: 0, count: data)
    }

    /// A corpus of broken files: each is refused with its own message, never a trap.
    func testBrokenFilesAreRefusedWithClearErrors() throws {
        let good = try SafeTensors.encode(SafeTensorsArchive(tensors: [("w", Tensor([1, 2, 3, 4], shape: [2, 2]))]))
        let t = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let corpus: [(String, [UInt8], String)] = [
            ("empty file", [], "fewer than the 8"),
            ("truncated length", [1, 0, 0], "fewer than the 8"),
            ("length past end", file(header: t, data: 8, declaredLength: 10_000), "runs past the end"),
            ("huge length", file(header: t, data: 8, declaredLength: UInt64.max), "runs past the end"),
            ("truncated data", Array(good.dropLast(3)), "outside the 13 bytes of data"),
            ("trailing bytes", good + [0, 0, 0, 0], "4 bytes after the last tensor"),
            ("not JSON", file(header: "{\"w\": nope}", data: 0), "not valid JSON"),
            ("unterminated JSON", file(header: "{\"w\":{\"dtype\":\"F32\"", data: 0), "not valid JSON"),
            ("not an object", file(header: "[1,2]", data: 0), "does not start with '{'"),
            ("entry not object", file(header: #"{"w":3}"#, data: 0), "entry \"w\" is not an object"),
            (
                "unknown dtype", file(header: #"{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#, data: 4),
                "unknown dtype \"F33\""
            ),
            (
                "unsupported dtype", file(header: #"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: 4),
                "gans reads F32 tensors only"
            ),
            ("missing dtype", file(header: #"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: 4), "no dtype"),
            (
                "negative shape", file(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4),
                "not a non-negative integer"
            ),
            (
                "fractional shape", file(header: #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: 4),
                "not a non-negative integer"
            ),
            (
                "shape bytes mismatch",
                file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8), "needs 3 × 4 bytes"
            ),
            (
                "offsets reversed", file(header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: 8),
                "begin after end"
            ),
            (
                "offsets out of range",
                file(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#, data: 8),
                "outside the 8 bytes"
            ),
            (
                "overlapping",
                file(
                    header:
                        #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                    data: 12), "overlaps"
            ),
            (
                "gap",
                file(
                    header:
                        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                    data: 12), "belong to no tensor"
            ),
            (
                "duplicate name",
                file(
                    header:
                        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                    data: 8), "appears twice"
            ),
            ("bad metadata", file(header: #"{"__metadata__":{"k":1}}"#, data: 0), "is not a string"),
            (
                "shape overflow",
                file(
                    header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}"#, data: 4),
                "more than 2147483647"
            ),
            (
                "shape overflow in the product",
                file(
                    header: #"{"w":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,4]}}"#,
                    data: 4), "too large"
            ),
            (
                "repeated key in metadata", file(header: #"{"__metadata__":{"a":"1","a":"2"}}"#, data: 0),
                "appears twice"
            ),
            (
                "repeated field",
                file(header: #"{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 4),
                "appears twice"
            ),
            (
                "huge integer",
                file(header: #"{"w":{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,4]}}"#, data: 4),
                "not a non-negative integer"
            ),
            (
                "deep nesting",
                file(
                    header: "{\"w\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}",
                    data: 0), "nested too deeply"
            ),
            ("bad escape", file(header: #"{"w\q":1}"#, data: 0), "invalid escape")
        ]
        for (name, bytes, expected) in corpus {
            XCTAssertThrowsError(try SafeTensors.decode(bytes, source: name), name) { e in
                XCTAssertTrue("\(e)".contains(expected), "\(name): got \(e)")
                XCTAssertTrue("\(e)".hasPrefix("\(name): not a valid safetensors file: "), "\(e)")
            }
        }
        // Every truncation of a good file is refused, none traps.
        for cut in 0..<good.count {
            XCTAssertThrowsError(try SafeTensors.decode(Array(good.prefix(cut))), "cut at \(cut)")
        }
        // Random byte flips never trap (they may or may not still parse).
        var g = RandomGenerator(seed: 1)
        for _ in 0..<2000 {
            var b = good
            for _ in 0..<3 { b[g.nextInt(below: b.count)] = UInt8(g.nextInt(below: 256)) }
            _ = try? SafeTensors.decode(b)
        }
    }

    func testMissingFileAndFolderErrors() {
        XCTAssertThrowsError(try SafeTensors.read(from: dir + "/nope.safetensors")) { e in
            XCTAssertTrue("\(e)".hasSuffix("nope.safetensors: no such file"), "\(e)")
        }
        XCTAssertThrowsError(try SafeTensors.read(from: dir)) { e in
            XCTAssertTrue("\(e)".contains("is a folder"), "\(e)")
        }
        XCTAssertThrowsError(try SafeTensors.write(SafeTensorsArchive(tensors: []), to: dir + "/missing/x.safetensors"))
        { e in
            XCTAssertTrue("\(e)".contains("does not exist"), "\(e)")
        }
    }

    /// An existing file is replaced whole, and a failed write leaves it as it was.
    func testAtomicReplace() throws {
        let path = dir + "/w.safetensors"
        try SafeTensors.write(SafeTensorsArchive(tensors: [("a", Tensor([1]))]), to: path)
        XCTAssertThrowsError(
            try SafeTensors.write(SafeTensorsArchive(tensors: [("a", Tensor([2])), ("a", Tensor([3]))]), to: path))
        XCTAssertEqual(try SafeTensors.read(from: path)["a"]?.scalars, [1])
        try SafeTensors.write(SafeTensorsArchive(tensors: [("a", Tensor([2]))]), to: path)
        XCTAssertEqual(try SafeTensors.read(from: path)["a"]?.scalars, [2])
    }
}
