import Foundation
import CZlib
import TensorCore

/// Image files to tensors `[channels, height, width]` with values in [0, 1].
extension Loaders {
    /// PGM and PPM: P2/P5 (grey) and P3/P6 (RGB), ASCII or binary, 8- or 16-bit.
    public static func netpbm(_ path: String) throws -> Tensor {
        let b = try AtomicFile.read(path)
        func fail(_ m: String, _ at: Int) -> FileError {
            FileError(path, "not a valid PGM/PPM file: \(m) at byte \(at)")
        }
        guard b.count >= 2, b[0] == UInt8(ascii: "P"),
            [UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "5"), UInt8(ascii: "6")].contains(b[1])
        else {
            throw fail("it does not start with P2, P3, P5 or P6", 0)
        }
        let kind = b[1] - UInt8(ascii: "0")
        var i = 2
        func token() throws -> Int {
            while i < b.count {
                if b[i] == UInt8(ascii: "#") {
                    while i < b.count && b[i] != 10 { i += 1 }
                } else if b[i] == 32 || (9...13).contains(b[i]) {
                    i += 1
                } else {
                    break
                }
            }
            let start = i
            var v = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                v = v * 10 + Int(b[i] - 48)
                guard v < 1 << 24 else { throw fail("a number is too large", start) }
                i += 1
            }
            guard i > start else { throw fail(i < b.count ? "expected a number" : "the file ends early", start) }
            return v
        }
        let w = try token(), h = try token(), maxv = try token()
        guard w > 0, h > 0, w * h <= 1 << 26 else { throw fail("the size \(w)x\(h) is not usable", 2) }
        guard maxv > 0, maxv <= 65535 else { throw fail("the maximum value \(maxv) is outside 1…65535", i) }
        let channels = kind == 3 || kind == 6 ? 3 : 1
        let n = w * h * channels
        var values = [Float](repeating: 0, count: n)
        if kind == 2 || kind == 3 {
            for k in 0..<n {
                let v = try token()
                guard v <= maxv else { throw fail("value \(v) exceeds the maximum \(maxv)", i) }
                values[k] = Float(v) / Float(maxv)
            }
        } else {
            i += 1  // the single whitespace byte after the header
            let size = maxv > 255 ? 2 : 1
            guard b.count - i >= n * size else {
                throw fail("the pixels need \(n * size) bytes, \(Swift.max(0, b.count - i)) remain", i)
            }
            for k in 0..<n {
                let v = size == 1 ? Int(b[i + k]) : Int(b[i + 2 * k]) << 8 | Int(b[i + 2 * k + 1])
                values[k] = Float(Swift.min(v, maxv)) / Float(maxv)
            }
        }
        // Interleaved pixels to [C, H, W].
        let out = Tensor(zeros: [channels, h, w])
        out.withUnsafeMutableBufferPointer { p in
            for y in 0..<h {
                for x in 0..<w { for c in 0..<channels { p[(c * h + y) * w + x] = values[(y * w + x) * channels + c] } }
            }
        }
        return out
    }

    /// PNG: 8-bit grey, grey+alpha, RGB or RGBA, not interlaced.
    public static func png(_ path: String) throws -> Tensor {
        let b = try AtomicFile.read(path)
        func fail(_ m: String, _ at: Int) -> FileError { FileError(path, "not a usable PNG file: \(m) at byte \(at)") }
        guard b.count >= 8, b.prefix(8).elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw fail("the PNG signature is missing", 0)
        }
        func u32(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        var o = 8
        var w = 0, h = 0, channels = 0
        var idat: [UInt8] = []
        var seenEnd = false
        while o + 12 <= b.count && !seenEnd {
            let len = u32(o)
            guard len <= b.count - o - 12 else { throw fail("a chunk of \(len) bytes runs past the end", o) }
            let type = String(decoding: b[(o + 4)..<(o + 8)], as: UTF8.self)
            let data = Array(b[(o + 8)..<(o + 8 + len)])
            let stored = UInt(u32(o + 8 + len))
            let crc =
                b[(o + 4)..<(o + 8 + len)].withContiguousStorageIfAvailable {
                    crc32(0, $0.baseAddress, UInt32($0.count))
                }
                ?? Array(b[(o + 4)..<(o + 8 + len)]).withUnsafeBufferPointer {
                    crc32(0, $0.baseAddress, UInt32($0.count))
                }
            guard UInt(crc) == stored else { throw fail("chunk \(type) has a wrong CRC", o) }
            switch type {
            case "IHDR":
                guard len == 13 else { throw fail("IHDR has \(len) bytes, not 13", o) }
                w = Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])
                h = Int(data[4]) << 24 | Int(data[5]) << 16 | Int(data[6]) << 8 | Int(data[7])
                guard data[8] == 8 else { throw fail("bit depth \(data[8]) is not supported (8 only)", o + 16) }
                switch data[9] {
                case 0: channels = 1
                case 2: channels = 3
                case 4: channels = 2
                case 6: channels = 4
                default: throw fail("colour type \(data[9]) is not supported (grey, grey+alpha, RGB, RGBA)", o + 17)
                }
                guard data[12] == 0 else { throw fail("interlaced PNG is not supported", o + 20) }
                guard w > 0, h > 0, w * h <= 1 << 26 else { throw fail("the size \(w)x\(h) is not usable", o + 8) }
            case "IDAT": idat += data
            case "IEND": seenEnd = true
            default: break
            }
            o += 12 + len
        }
        guard channels > 0 else { throw fail("there is no IHDR chunk", 8) }
        guard !idat.isEmpty else { throw fail("there is no image data (IDAT)", o) }
        let raw = try Gzip.decompress(idat, source: path)
        let stride = w * channels
        guard raw.count >= h * (stride + 1) else {
            throw fail("the image data holds \(raw.count) bytes, \(h * (stride + 1)) are needed", o)
        }
        var pixels = [UInt8](repeating: 0, count: h * stride)
        for y in 0..<h {
            let filter = raw[y * (stride + 1)]
            let src = y * (stride + 1) + 1, dst = y * stride
            for x in 0..<stride {
                let a = x >= channels ? Int(pixels[dst + x - channels]) : 0
                let up = y > 0 ? Int(pixels[dst - stride + x]) : 0
                let c = (x >= channels && y > 0) ? Int(pixels[dst - stride + x - channels]) : 0
                let v = Int(raw[src + x])
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = up
                case 3: predicted = (a + up) / 2
                case 4:
                    let p = a + up - c, pa = Swift.abs(p - a), pb = Swift.abs(p - up), pc = Swift.abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? up : c)
                default: throw fail("row \(y) has unknown filter \(filter)", o)
                }
                pixels[dst + x] = UInt8(truncatingIfNeeded: v + predicted)
            }
        }
        let out = Tensor(zeros: [channels, h, w])
        out.withUnsafeMutableBufferPointer { p in
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<channels {
                        p[(c * h + y) * w + x] = Float(pixels[y * stride + x * channels + c]) / 255
                    }
                }
            }
        }
        return out
    }

    /// Every PNG, PGM and PPM in a folder, converted to `channels` (1 or 3; alpha
    /// dropped), resized to `size`×`size` (bilinear) and scaled to [−1, 1].
    public static func imageFolder(_ path: String, size: Int, channels: Int = 1) throws -> TensorDataset {
        guard size > 0, size <= 1024, channels == 1 || channels == 3 else {
            throw FileError(path, "images need a size in 1…1024 and 1 or 3 channels")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            .filter { ["png", "pgm", "ppm"].contains(($0 as NSString).pathExtension.lowercased()) }
        guard !names.isEmpty else { throw FileError(path, "holds no .png, .pgm or .ppm files") }
        let out = Tensor(zeros: [names.count, channels, size, size])
        for (k, name) in names.enumerated() {
            let file = path + "/" + name
            let img = name.lowercased().hasSuffix(".png") ? try png(file) : try netpbm(file)
            let (c, h, w) = (img.shape[0], img.shape[1], img.shape[2])
            let colour = Swift.min(c, 3) == 3 ? 3 : 1  // drop alpha
            let src = img.scalars
            out.withUnsafeMutableBufferPointer { p in
                for y in 0..<size {
                    for x in 0..<size {
                        let fy = (Float(y) + 0.5) * Float(h) / Float(size) - 0.5,
                            fx = (Float(x) + 0.5) * Float(w) / Float(size) - 0.5
                        let y0 = Swift.max(0, Swift.min(h - 1, Int(fy.rounded(.down)))),
                            x0 = Swift.max(0, Swift.min(w - 1, Int(fx.rounded(.down))))
                        let y1 = Swift.min(h - 1, y0 + 1), x1 = Swift.min(w - 1, x0 + 1)
                        let ty = Swift.max(0, Swift.min(1, fy - Float(y0))),
                            tx = Swift.max(0, Swift.min(1, fx - Float(x0)))
                        func at(_ ch: Int, _ yy: Int, _ xx: Int) -> Float { src[(ch * h + yy) * w + xx] }
                        func sample(_ ch: Int) -> Float {
                            (1 - ty) * ((1 - tx) * at(ch, y0, x0) + tx * at(ch, y0, x1)) + ty
                                * ((1 - tx) * at(ch, y1, x0) + tx * at(ch, y1, x1))
                        }
                        for oc in 0..<channels {
                            let v: Float
                            if channels == 1 {
                                v = colour == 3 ? (sample(0) + sample(1) + sample(2)) / 3 : sample(0)
                            } else {
                                v = colour == 3 ? sample(oc) : sample(0)
                            }
                            p[((k * channels + oc) * size + y) * size + x] = v * 2 - 1
                        }
                    }
                }
            }
        }
        let data = try TensorDataset(name: (path as NSString).lastPathComponent, samples: out)
        data.kind = .images
        return data
    }
}
