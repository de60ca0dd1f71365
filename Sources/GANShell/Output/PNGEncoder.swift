import CZlib
import GANKit
import Foundation
import TensorCore

/// Writes 8-bit RGB PNG images through zlib (the reader is `Loaders.png`).
public enum PNGEncoder {
    /// PNG bytes of `rgb` (width × height × 3 bytes, rows top to bottom).
    public static func encode(rgb: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        guard width > 0, height > 0, rgb.count == width * height * 3 else {
            throw FileError(
                "png", "an RGB image of \(width)x\(height) needs \(width * height * 3) bytes, found \(rgb.count)")
        }
        // Each row: filter byte 0 (none), then its pixels.
        var raw = [UInt8]()
        raw.reserveCapacity(height * (width * 3 + 1))
        for y in 0..<height {
            raw.append(0)
            raw += rgb[(y * width * 3)..<((y + 1) * width * 3)]
        }
        let packed: [UInt8]
        do { packed = try Gzip.compress(raw) } catch { throw FileError("png", "zlib could not compress the image") }

        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func be32(_ v: Int) -> [UInt8] {
            [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        func chunk(_ type: String, _ data: [UInt8]) {
            let body = Array(type.utf8) + data
            let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
            out += be32(data.count) + body + be32(Int(crc))
        }
        chunk("IHDR", be32(width) + be32(height) + [8, 2, 0, 0, 0])
        chunk("IDAT", packed)
        chunk("IEND", [])
        return out
    }
}
