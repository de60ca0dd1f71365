import CZlib

/// gzip (and zlib) decompression through zlib.
public enum Gzip {
    public struct DecodeError: Error, CustomStringConvertible {
        public let source: String
        public let message: String
        public var description: String { "\(source): not valid gzip data: \(message)" }
    }

    /// The whole decompressed content of gzip data (all members).
    /// Stops with an error once the output passes `maxBytes`, so a small file
    /// that expands to gigabytes costs no more than the limit.
    public static func decompress(_ data: [UInt8], source: String = "gzip data", maxBytes: Int = 1 << 30) throws
        -> [UInt8]
    {
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DecodeError(source: source, message: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        out.reserveCapacity(Swift.min(data.count * 4, maxBytes))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = data
        let total = input.count
        try input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(total)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                out.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                if out.count > maxBytes {
                    throw DecodeError(
                        source: source,
                        message: "it expands past \(maxBytes) bytes (\(maxBytes >> 20) MiB), more than gans reads")
                }
                if status == Z_STREAM_END {
                    // Another gzip member may follow.
                    if stream.avail_in == 0 { return }
                    guard inflateReset(&stream) == Z_OK else {
                        throw DecodeError(source: source, message: "cannot read the next member")
                    }
                    continue
                }
                guard status == Z_OK else {
                    let offset = total - Int(stream.avail_in)
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw DecodeError(source: source, message: "\(reason) near byte \(offset)")
                }
                if stream.avail_in == 0 && stream.avail_out != 0 {
                    throw DecodeError(source: source, message: "the data ends early (truncated after \(total) bytes)")
                }
            }
        }
        return out
    }

    /// zlib-compressed data (RFC 1950), which `decompress` reads as well.
    public static func compress(_ data: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var bound = compressBound(uLong(data.count))
        var packed = [UInt8](repeating: 0, count: Int(bound))
        let status = packed.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBufferPointer { inp in
                compress2(out.baseAddress, &bound, inp.baseAddress, uLong(inp.count), level)
            }
        }
        guard status == Z_OK else {
            throw DecodeError(source: "compress", message: "zlib could not compress (status \(status))")
        }
        packed.removeLast(packed.count - Int(bound))
        return packed
    }
}
