import XCTest
import Foundation
import TensorCore
import TestSupport
@testable import GANKit

final class DataTests: XCTestCase {
    /// The decoded copy kept between runs gives the very bits the CSV gives,
    /// and a copy of another file (a different stamp) is not used.
    func testDecodedImageCacheMatchesTheCSV() throws {
        let scratch = try ScratchFolder()
        let saved = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"]
        setenv("XDG_CACHE_HOME", scratch.path, 1)
        defer { if let saved { setenv("XDG_CACHE_HOME", saved, 1) } else { unsetenv("XDG_CACHE_HOME") } }
        BuiltinData.decoded = [:]
        let fromCSV = try BuiltinData.digits()
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.path + "/gans/digits.u8"))
        BuiltinData.decoded = [:]
        let fromCache = try BuiltinData.digits()
        XCTAssertFalse(fromCache.samples.sharesStorage(with: fromCSV.samples), "the second load read the cache")
        XCTAssertEqual(fromCache.samples.scalars, fromCSV.samples.scalars)
        XCTAssertEqual(fromCache.labels!.scalars, fromCSV.labels!.scalars)
        // The cache is what the second load read: a changed pixel there, with its checksum, shows up.
        var bytes = try AtomicFile.read(scratch.path + "/gans/digits.u8")
        var marked = bytes
        marked[marked.count - 1] = 16 - marked[marked.count - 1]
        let newline = marked.firstIndex(of: 10)!
        var head = String(decoding: marked[..<newline], as: UTF8.self).split(separator: " ").map(String.init)
        head[4] = String(BuiltinData.checksum(marked[(newline + 1)...]))
        marked.replaceSubrange(..<newline, with: Array(head.joined(separator: " ").utf8))
        try AtomicFile.write(marked, to: scratch.path + "/gans/digits.u8")
        BuiltinData.decoded = [:]
        let changed = try BuiltinData.digits().samples.scalars
        XCTAssertEqual(
            zip(changed, fromCSV.samples.scalars).filter { $0 != $1 }.count,
            changed.last == fromCSV.samples.scalars.last ? 0 : 1)
        XCTAssertNotEqual(changed.last, fromCSV.samples.scalars.last)
        // A stale or damaged cache is ignored and rewritten.
        bytes[3] = UInt8(ascii: "X")
        try AtomicFile.write(bytes, to: scratch.path + "/gans/digits.u8")
        BuiltinData.decoded = [:]
        XCTAssertEqual(try BuiltinData.digits().samples.scalars, fromCSV.samples.scalars)
        BuiltinData.decoded = [:]
    }

    /// The shipped files load with the counts, classes and ranges their provenance gives.
    func testShippedDatasets() throws {
        let digits = try BuiltinData.digits()
        XCTAssertEqual(digits.samples.shape, [1797, 1, 8, 8])
        XCTAssertEqual(digits.classCount, 10)
        var perClass = [Int](repeating: 0, count: 10)
        for l in digits.labels!.scalars { perClass[Int(l)] += 1 }
        XCTAssertEqual(perClass, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        let d = digits.samples.scalars
        XCTAssertEqual(d.min(), -1)
        XCTAssertEqual(d.max(), 1)

        let mnist = try BuiltinData.mnist5k()
        XCTAssertEqual(mnist.samples.shape, [5000, 1, 28, 28])
        var mnistClasses = [Int](repeating: 0, count: 10)
        for l in mnist.labels!.scalars { mnistClasses[Int(l)] += 1 }
        XCTAssertEqual(mnistClasses, [Int](repeating: 500, count: 10))
        let m = mnist.samples.scalars
        XCTAssertEqual(m.min(), -1)
        XCTAssertEqual(m.max(), 1)

        let names = try BuiltinData.nameList()
        XCTAssertEqual(names.count, 32_033)
        XCTAssertEqual(Set(names).count, 29_494)
        XCTAssertEqual(names.prefix(3), ["emma", "olivia", "ava"])
        XCTAssertEqual(names.last, "zzyzx")
        XCTAssertEqual(names.map(\.count).max(), 15)
        XCTAssertEqual(names.map(\.count).min(), 2)

        let text = try BuiltinData.shakespeare()
        XCTAssertEqual(text.utf8.count, 1_115_394)
        XCTAssertTrue(text.hasPrefix("First Citizen:\nBefore we proceed any further, hear me speak."))
    }

    func testKindsSplitsAndNames() throws {
        let digits = try BuiltinData.digits()
        XCTAssertEqual(digits.kind, .images)
        let (train, held) = try digits.split(heldOut: 0.2, seed: 1)
        XCTAssertEqual(train.count + held.count, 1797)
        XCTAssertEqual(held.count, 359)
        XCTAssertEqual(held.name, "digits.heldout")
        XCTAssertEqual(held.kind, .images)
        XCTAssertEqual(held.classCount, 10)
        let again = try digits.split(heldOut: 0.2, seed: 1).heldOut
        XCTAssertEqual(again.labels?.scalars, held.labels?.scalars, "the split is seeded")
        XCTAssertThrowsError(try digits.split(heldOut: 1.5))
        let shown = digits.kind.denormalized(digits.samples)
        XCTAssertEqual(shown.scalars.min(), 0); XCTAssertEqual(shown.scalars.max(), 1)
        let names = try BuiltinData.names()
        XCTAssertEqual(names.samples.shape, [32_033, 16, 27])
        guard case .sequences(let code) = names.kind else { return XCTFail("names are sequences") }
        XCTAssertEqual(
            try code.decode(oneHot: try names.samples.slice(axis: 0, start: 0, end: 3)), ["emma", "olivia", "ava"])
    }

    func testGzipRefusesBrokenData() throws {
        XCTAssertThrowsError(try Gzip.decompress([1, 2, 3, 4, 5], source: "junk")) { e in
            XCTAssertTrue("\(e)".hasPrefix("junk: not valid gzip data:"), "\(e)")
        }
        // A real gzip member, then the same cut short.
        let member: [UInt8] = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9,
            0x07, 0x00, 0x86, 0xa6, 0x10, 0x36, 0x05, 0x00, 0x00, 0x00
        ]
        XCTAssertEqual(String(decoding: try Gzip.decompress(member), as: UTF8.self), "hello")
        XCTAssertEqual(String(decoding: try Gzip.decompress(member + member), as: UTF8.self), "hellohello")
        XCTAssertThrowsError(try Gzip.decompress(Array(member.prefix(14)), source: "cut")) { e in
            XCTAssertTrue("\(e)".contains("ends early"), "\(e)")
        }
        var flipped = member
        flipped[12] ^= 0xff
        XCTAssertThrowsError(try Gzip.decompress(flipped, source: "flipped"))
    }
}

final class MetricTests: XCTestCase {
    func testSyntheticShapesAndTheirParameters() throws {
        Random.seed(1)
        for shape in [Synthetic2D.ring(), .grid(), .spiral(), .moons(), .circles(), .gaussian(), .line()] {
            let x = try shape.sample(500)
            XCTAssertEqual(x.shape, [500, 2])
            XCTAssertTrue(x.allFinite)
        }
        let circle = try Synthetic2D.circles(factor: 0.5, noise: 0).sample(200).scalars
        for i in 0..<200 {
            let r = (circle[2 * i] * circle[2 * i] + circle[2 * i + 1] * circle[2 * i + 1]).squareRoot()
            XCTAssertTrue(abs(r - 2) < 1e-4 || abs(r - 1) < 1e-4, "radius \(r)")
        }
        let line = try Synthetic2D.line(length: 4, noise: 0).sample(300).scalars
        XCTAssertTrue(stride(from: 0, to: 600, by: 2).allSatisfy { abs(line[$0]) <= 2 && line[$0 + 1] == 0 })
        let g = try Synthetic2D.gaussian(meanX: 3, meanY: -1, std: 0.5).sample(20_000).scalars
        XCTAssertEqual(stride(from: 0, to: 40_000, by: 2).map { g[$0] }.reduce(0, +) / 20_000, 3, accuracy: 0.02)
        XCTAssertThrowsError(try Synthetic2D.circles(factor: 1.5).sample(3))
        XCTAssertThrowsError(try Synthetic2D.spiral(turns: -1).sample(3))
        XCTAssertEqual(try Synthetic2D.grid().mixture()?.centers.count, 25)
        XCTAssertNil(try Synthetic2D.moons().mixture())
    }

    func testModeMetricsOnKnownCases() throws {
        Random.seed(2)
        let grid = try GaussianMixture.grid()
        let (x, _) = grid.sample(2500)
        let c = grid.coverage(x)
        XCTAssertEqual(c.modes, 25)
        // Within 3σ of a 2-D Gaussian's centre: 1 − e^(−9/2) = 98.89% of it.
        XCTAssertEqual(Double(c.highQuality), 1 - Foundation.exp(-4.5), accuracy: 0.006)
        XCTAssertEqual(try XCTUnwrap(grid.reverseKL(x)), 0, accuracy: 0.02)
        let oneMode = Tensor((0..<100).flatMap { _ in [grid.centers[7].0, grid.centers[7].1] }, shape: [100, 2])
        XCTAssertEqual(grid.coverage(oneMode).modes, 1)
        XCTAssertEqual(try XCTUnwrap(grid.reverseKL(oneMode)), Foundation.log(25.0), accuracy: 1e-9)  // all mass on 1 of 25
        XCTAssertNil(grid.reverseKL(Tensor(full: 100, shape: [5, 2])))
    }

    func testTextMetricsOnKnownCases() throws {
        let words = ["anna", "bob", "carla", "dave"]
        for n in 1...4 { XCTAssertEqual(TextMetrics.ngramJS(words, words.reversed(), n: n), 0, accuracy: 1e-12) }
        XCTAssertEqual(TextMetrics.ngramJS(["aaa"], ["bbb"], n: 1), Foundation.log(2.0) * 3 / 4 + 0, accuracy: 0.2)
        XCTAssertEqual(TextMetrics.ngramJS(["xy"], ["zw"], n: 2), Foundation.log(2.0), accuracy: 1e-9)  // no shared bigram
        XCTAssertEqual(TextMetrics.novelty(["anna", "zed", "bob", "qux"], training: Set(words)), 0.5)
        XCTAssertEqual(TextMetrics.wellFormedNames(["anna", "a", "b0b", "carla"]), 0.5)
        let code = CharacterCode.lowercase(length: 6)
        XCTAssertEqual(code.encode("emma"), [5, 13, 13, 1, 0, 0])
        XCTAssertNil(code.encode("olivias"))
        XCTAssertNil(code.encode("Emma"))
        XCTAssertEqual(code.decode([5, 13, 13, 1, 0, 0]), "emma")
        let data = try code.dataset(name: "names", words: ["emma", "ava", "toolongname"])
        XCTAssertEqual(data.samples.shape, [2, 6, 27])
        XCTAssertEqual(try code.decode(oneHot: data.samples), ["emma", "ava"])
        // The held-out floor on the real names is small but not zero.
        let names = try BuiltinData.nameList()
        let js4 = TextMetrics.ngramJS(Array(names.prefix(16_000)), Array(names.suffix(16_000)), n: 4)
        XCTAssertGreaterThan(js4, 0)
        XCTAssertLessThan(js4, 0.2)
    }

    func testNearestDistanceSeesCopies() throws {
        Random.seed(3)
        let train = Tensor.randn([50, 3])
        XCTAssertEqual(
            try SampleMetrics.meanNearestDistance(try train.slice(axis: 0, start: 0, end: 10), training: train), 0,
            accuracy: 2e-3)
        let shifted = try train.slice(axis: 0, start: 0, end: 10) + Tensor([0, 0, 100])
        XCTAssertGreaterThan(try SampleMetrics.meanNearestDistance(shifted, training: train), 90)
        XCTAssertThrowsError(try SampleMetrics.meanNearestDistance(Tensor(zeros: [2, 4]), training: train))
    }
}

final class LoaderTests: XCTestCase {
    var scratch: ScratchFolder!
    var dir: String { scratch.path }
    override func setUpWithError() throws { scratch = try ScratchFolder() }
    override func tearDown() { scratch = nil }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String { try scratch.write(name, bytes) }

    func testIDXFilesAndTheirErrors() throws {
        // 2 images of 2×3 unsigned bytes.
        let header: [UInt8] = [0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]
        let good = try write("x.idx", header + Array(0..<12))
        let t = try Loaders.idx(good)
        XCTAssertEqual(t.shape, [2, 2, 3])
        XCTAssertEqual(t.scalars, (0..<12).map(Float.init))
        // Labels as 32-bit big-endian integers.
        let labels = try write("y.idx", [0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xfe])
        XCTAssertEqual(try Loaders.idx(labels).scalars, [7, -2])
        let cases: [(String, [UInt8], String)] = [
            ("magic", [1, 0, 8, 1, 0, 0, 0, 1, 5], "two zero bytes"),
            ("type", [0, 0, 0x07, 1, 0, 0, 0, 1, 5], "unknown data type 0x7 at byte 2"),
            ("header", [0, 0, 0x08, 3, 0, 0], "cut short"),
            ("data", header + Array(0..<11), "need 12 bytes of data after byte 16, the file has 11"),
            ("huge", [0, 0, 0x08, 2, 0, 1, 0, 0, 0, 1, 0, 0], "more than the limit"),
            ("overflow", [0, 0, 0x08, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "too many elements")
        ]
        for (name, bytes, expected) in cases {
            let p = try write(name, bytes)
            XCTAssertThrowsError(try Loaders.idx(p), name) {
                XCTAssertTrue("\($0)".contains(expected), "\(name): \($0)")
            }
        }
    }

    func testTextFilesAsLinesAndWindows() throws {
        let p = try write("pets.txt", Array("cat\ndog.\n\nkitten\n".utf8))
        let lines = try Loaders.text(p, mode: .lines(length: nil))
        XCTAssertEqual(lines.samples.shape, [3, 7, 12])  // the end mark and 11 characters: . a c d e g i k n o t
        guard case .sequences(let code) = lines.kind else { return XCTFail() }
        XCTAssertEqual(code.symbols.first, CharacterCode.endMark)
        XCTAssertEqual(try code.decode(oneHot: lines.samples), ["cat", "dog.", "kitten"])
        XCTAssertEqual(try Loaders.text(p, mode: .lines(length: 5)).count, 2)  // "kitten" does not fit
        let windows = try Loaders.text(p, mode: .characters(length: 4, limit: 100))
        XCTAssertEqual(windows.count, 4)  // 18 characters → 4 windows of 4
        XCTAssertThrowsError(try Loaders.text(try write("empty.txt", []), mode: .lines(length: nil))) {
            XCTAssertTrue("\($0)".hasSuffix("is empty"))
        }
        XCTAssertThrowsError(try Loaders.text(p, mode: .characters(length: 100, limit: 5)))
        let shakespeare = try BuiltinData.shakespeareWindows(length: 16, limit: 500)
        XCTAssertEqual(shakespeare.samples.shape, [500, 16, 66])
        guard case .sequences(let sc) = shakespeare.kind else { return XCTFail() }
        let first = try sc.decode(oneHot: try shakespeare.samples.slice(axis: 0, start: 0, end: 1))
        XCTAssertEqual(first, ["First Citizen:\nB"])
    }

    func testCSVFilesAndTheirErrors() throws {
        let p = try write("a.csv", Array("x,y,label\n1,2,0\n3.5,-4,1\n\n".utf8))
        let (x, y) = try Loaders.csv(p, label: .last)
        XCTAssertEqual(x.shape, [2, 2])
        XCTAssertEqual(x.scalars, [1, 2, 3.5, -4])
        XCTAssertEqual(y?.scalars, [0, 1])
        let (x2, y2) = try Loaders.csv(try write("b.csv", Array("1,2\n3,4".utf8)))
        XCTAssertEqual(x2.shape, [2, 2]); XCTAssertNil(y2)
        XCTAssertThrowsError(try Loaders.csv(try write("c.csv", Array("1,2\n3,oops\n".utf8)))) { e in
            XCTAssertTrue("\(e)".hasSuffix("line 2, column 2: 'oops' is not a number"), "\(e)")
        }
        XCTAssertThrowsError(try Loaders.csv(try write("d.csv", Array("1,2\n3,4,5\n".utf8)))) { e in
            XCTAssertTrue("\(e)".hasSuffix("line 2 has 3 columns, the lines before have 2"), "\(e)")
        }
        XCTAssertThrowsError(try Loaders.csv(try write("e.csv", Array("a,b\n".utf8)))) {
            XCTAssertTrue("\($0)".hasSuffix("holds no rows of numbers"))
        }
        XCTAssertThrowsError(try Loaders.csv(p, label: .index(9)))
        XCTAssertThrowsError(try Loaders.csv(dir + "/missing.csv")) { XCTAssertTrue("\($0)".hasSuffix("no such file")) }
        // gzip is recognised by its magic bytes.
        let member: [UInt8] = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9,
            0x07, 0x00, 0x86, 0xa6, 0x10, 0x36, 0x05, 0x00, 0x00, 0x00
        ]
        XCTAssertThrowsError(try Loaders.csv(try write("hello.csv.gz", member))) { e in
            XCTAssertTrue(
                "\(e)".contains("line 1, column 1: 'hello' is not a number") || "\(e)".contains("no rows"), "\(e)")
        }
    }
}

/// A minimal PNG writer for fixtures: stored deflate blocks, each row with its own filter.
enum PNGFixture {
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }
    static func be(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)]
    }
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be(UInt32(data.count)) + body + be(crc32(body))
    }
    /// `pixels` rows of interleaved channel bytes; row y uses filter y % 5.
    static func encode(
        width: Int, height: Int, colorType: UInt8, channels: Int, pixels: [[UInt8]], interlace: UInt8 = 0
    ) -> [UInt8] {
        var raw: [UInt8] = []
        let stride = width * channels
        for y in 0..<height {
            let f = UInt8(y % 5)
            raw.append(f)
            for x in 0..<stride {
                let a = x >= channels ? Int(pixels[y][x - channels]) : 0
                let up = y > 0 ? Int(pixels[y - 1][x]) : 0
                let c = x >= channels && y > 0 ? Int(pixels[y - 1][x - channels]) : 0
                let pred: Int
                switch f {
                case 0: pred = 0
                case 1: pred = a
                case 2: pred = up
                case 3: pred = (a + up) / 2
                default:
                    let p = a + up - c, pa = abs(p - a), pb = abs(p - up), pc = abs(p - c)
                    pred = pa <= pb && pa <= pc ? a : (pb <= pc ? up : c)
                }
                raw.append(UInt8(truncatingIfNeeded: Int(pixels[y][x]) - pred))
            }
        }
        var s1: UInt32 = 1, s2: UInt32 = 0
        for b in raw { s1 = (s1 + UInt32(b)) % 65521; s2 = (s2 + s1) % 65521 }
        let n = UInt16(raw.count)
        let zlib: [UInt8] =
            [0x78, 0x01, 0x01, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8(~n >> 8)] + raw + be(s2 << 16 | s1)
        let ihdr = be(UInt32(width)) + be(UInt32(height)) + [8, colorType, 0, 0, interlace]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", zlib)
            + chunk("IEND", [])
    }
}

final class ImageLoaderTests: XCTestCase {
    var scratch: ScratchFolder!
    var dir: String { scratch.path }
    override func setUpWithError() throws { scratch = try ScratchFolder() }
    override func tearDown() { scratch = nil }
    func write(_ name: String, _ bytes: [UInt8]) throws -> String { try scratch.write(name, bytes) }

    func testPNGDecodesEveryFilterAndColourType() throws {
        var g = RandomGenerator(seed: 5)
        for (colorType, channels) in [(UInt8(0), 1), (2, 3), (4, 2), (6, 4)] {
            let w = 7, h = 10
            let pixels = (0..<h).map { _ in (0..<(w * channels)).map { _ in UInt8(g.nextInt(below: 256)) } }
            let p = try write(
                "t\(colorType).png",
                PNGFixture.encode(width: w, height: h, colorType: colorType, channels: channels, pixels: pixels))
            let t = try Loaders.png(p)
            XCTAssertEqual(t.shape, [channels, h, w])
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<channels {
                        XCTAssertEqual(
                            t[c, y, x], Float(pixels[y][x * channels + c]) / 255, "type \(colorType) at \(c),\(y),\(x)")
                    }
                }
            }
        }
    }

    func testBrokenPNGsAreRefused() throws {
        let good = PNGFixture.encode(width: 2, height: 2, colorType: 0, channels: 1, pixels: [[0, 1], [2, 3]])
        var badCRC = good; badCRC[20] ^= 1
        let cases: [(String, [UInt8], String)] = [
            ("signature", Array(good.dropFirst()), "signature is missing"),
            ("crc", badCRC, "wrong CRC"),
            (
                "interlaced",
                PNGFixture.encode(
                    width: 2, height: 2, colorType: 0, channels: 1, pixels: [[0, 1], [2, 3]], interlace: 1),
                "interlaced"
            ),
            (
                "palette", PNGFixture.encode(width: 2, height: 2, colorType: 3, channels: 1, pixels: [[0, 1], [2, 3]]),
                "colour type 3"
            ),
            ("cut", Array(good.prefix(45)), "runs past the end")
        ]
        for (name, bytes, expected) in cases {
            XCTAssertThrowsError(try Loaders.png(try write(name + ".png", bytes)), name) {
                XCTAssertTrue("\($0)".contains(expected), "\(name): \($0)")
            }
        }
        for cut in stride(from: 0, to: good.count, by: 3) {
            _ = try? Loaders.png(try write("c.png", Array(good.prefix(cut))))
        }
    }

    func testNetpbmFormats() throws {
        let p2 = try write("a.pgm", Array("P2\n# a comment\n3 2\n4\n0 1 2\n3 4 4\n".utf8))
        XCTAssertEqual(try Loaders.netpbm(p2).scalars, [0, 0.25, 0.5, 0.75, 1, 1])
        let p5 = try write("b.pgm", Array("P5 2 1 255\n".utf8) + [0, 255])
        XCTAssertEqual(try Loaders.netpbm(p5).scalars, [0, 1])
        let p6 = try write("c.ppm", Array("P6\n1 1\n65535\n".utf8) + [0xff, 0xff, 0x00, 0x00, 0x80, 0x00])
        let t6 = try Loaders.netpbm(p6)
        XCTAssertEqual(t6.shape, [3, 1, 1])
        XCTAssertEqual(t6.scalars[0], 1); XCTAssertEqual(t6.scalars[1], 0);
        XCTAssertEqual(t6.scalars[2], Float(0x8000) / 65535, accuracy: 1e-6)
        let p3 = try write("d.ppm", Array("P3 1 2 10  10 0 0  0 0 10".utf8))
        XCTAssertEqual(try Loaders.netpbm(p3).scalars, [1, 0, 0, 0, 0, 1])
        for (name, text, expected) in [
            ("e.pgm", "P7 1 1 1", "does not start with"), ("f.pgm", "P2 2 2 3 1 2 3", "ends early"),
            ("g.pgm", "P2 1 1 3 9", "exceeds the maximum"), ("h.pgm", "P5 4 4 255\n12", "the pixels need 16 bytes")
        ] {
            XCTAssertThrowsError(try Loaders.netpbm(try write(name, Array(text.utf8)))) {
                XCTAssertTrue("\($0)".contains(expected), "\(name): \($0)")
            }
        }
    }

    func testImageFolderResizesAndConverts() throws {
        _ = try write("a.pgm", Array("P2 2 2 255 0 0 255 255".utf8))
        _ = try write(
            "b.png",
            PNGFixture.encode(
                width: 4, height: 4, colorType: 2, channels: 3,
                pixels: (0..<4).map { _ in [UInt8](repeating: 255, count: 12) }))
        _ = try write("notes.txt", Array("skip me".utf8))
        let data = try Loaders.imageFolder(dir, size: 3)
        XCTAssertEqual(data.samples.shape, [2, 1, 3, 3])
        let s = data.samples.scalars
        XCTAssertEqual(s[0], -1)  // top row of a.pgm is black
        XCTAssertEqual(s[8], 1)  // bottom row is white
        XCTAssertTrue(s[9...].allSatisfy { $0 == 1 })  // b.png is white
        XCTAssertEqual(try Loaders.imageFolder(dir, size: 2, channels: 3).samples.shape, [2, 3, 2, 2])
        XCTAssertThrowsError(try Loaders.imageFolder(dir + "/nope", size: 2))
        XCTAssertThrowsError(try Loaders.imageFolder(dir, size: 0))
    }
}

final class ClassifierMetricTests: XCTestCase {
    func testFrechetDistanceOnKnownGaussians() throws {
        Random.seed(4)
        let a = Tensor.randn([4000, 3]), b = Tensor.randn([4000, 3])
        XCTAssertEqual(try Fréchet.distance(a, a), 0, accuracy: 1e-6)
        XCTAssertEqual(try Fréchet.distance(a, b), 0, accuracy: 0.02)
        // Shift the mean by (2, 0, 0) and scale one axis by 3: ‖Δμ‖² = 4, Tr term (3 − 1)² = 4.
        let c = try b * Tensor([3, 1, 1]) + Tensor([2, 0, 0])
        XCTAssertEqual(try Fréchet.distance(a, c), 8, accuracy: 0.4)
        XCTAssertThrowsError(try Fréchet.distance(a, Tensor.randn([10, 2])))
    }

    /// The classifier reaches at least 95% on held-out digits; real data scores
    /// full coverage and near-zero distances, noise does not.
    func testDigitClassifierAndItsScores() throws {
        let (train, held) = try BuiltinData.digits().split(heldOut: 0.2, seed: 0)
        let classifier = try ImageClassifier.cached(for: train)
        XCTAssertTrue(try ImageClassifier.cached(for: train) === classifier, "trained once per session")
        let accuracy = try classifier.accuracy(on: held)
        XCTAssertGreaterThanOrEqual(accuracy, 0.95)
        let floor = try classifier.scores(held.samples, real: train)
        XCTAssertEqual(floor.coverage, 10)
        XCTAssertLessThan(floor.klFromData, 0.05)
        XCTAssertGreaterThan(floor.score, 8)
        Random.seed(9)
        let noise = Tensor.rand([359, 1, 8, 8], low: -1, high: 1)
        let bad = try classifier.scores(noise, real: train)
        XCTAssertGreaterThan(bad.frechet, 5 * floor.frechet)
        XCTAssertLessThan(bad.score, floor.score)
        // All copies of one digit: one class covered.
        let zeros = try train.samples.gatherRows(
            Tensor([Float](repeating: Float(train.labels!.scalars.firstIndex(of: 0)!), count: 100)))
        XCTAssertEqual(try classifier.scores(zeros, real: train).coverage, 1)
    }
}
