import XCTest
import TensorCore
import GANKit

final class DataTests: XCTestCase {
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

    func testGzipRefusesBrokenData() throws {
        XCTAssertThrowsError(try Gzip.decompress([1, 2, 3, 4, 5], source: "junk")) { e in
            XCTAssertTrue("\(e)".hasPrefix("junk: not valid gzip data:"), "\(e)")
        }
        // A real gzip member, then the same cut short.
        let member: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9,
                               0x07, 0x00, 0x86, 0xa6, 0x10, 0x36, 0x05, 0x00, 0x00, 0x00]
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
