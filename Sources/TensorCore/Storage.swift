import Foundation

/// A contiguous buffer of `Float`s. Several tensors may share one storage
/// (`reshaped(to:)` does); the buffer returns to the caching allocator when the
/// last of them goes away.
final class Storage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        self.pointer = BufferPool.shared.take(count)
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(count: count)
        pointer.update(repeating: value, count: count)
    }

    deinit { BufferPool.shared.give(pointer, count: count) }

    var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
}

/// A small caching allocator: a training step allocates the same shapes again
/// and again, so freed buffers are kept by exact size and handed out again.
/// The cache is bounded; beyond the bound buffers are really freed.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    /// Most bytes kept in the cache at once.
    public var capacityBytes = 512 << 20

    /// Free buffers by exact size, in a small hash table with a cheap
    /// multiplicative hash (SipHash on every allocation costs more than the
    /// allocation it saves).
    private struct Bucket { var count: Int; var buffers: [UnsafeMutablePointer<Float>] }
    private static let slots = 256
    private var table = [[Bucket]](repeating: [], count: slots)

    @inline(__always)
    private static func slot(_ count: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(count) &* 0x9E37_79B9_7F4A_7C15) >> 56)
    }
    private var cachedBytes = 0
    private var liveBytes = 0
    private var peakLive = 0
    private var peakHeld = 0
    private let lock = NSLock()
    private static let emptyBuffer = UnsafeMutablePointer<Float>.allocate(capacity: 1)

    /// Counters for tests and benchmarks.
    public private(set) var hits = 0
    public private(set) var misses = 0
    /// Bytes in all buffers handed out since the process started.
    public private(set) var bytesHandedOut = 0

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count == 0 { return Self.emptyBuffer }
        let s = Self.slot(count)
        lock.lock()
        liveBytes &+= count &* 4
        bytesHandedOut &+= count &* 4
        if liveBytes > peakLive { peakLive = liveBytes }
        for b in table[s].indices where table[s][b].count == count {
            if let p = table[s][b].buffers.popLast() {
                cachedBytes -= count * 4
                hits += 1
                lock.unlock()
                return p
            }
            break
        }
        misses += 1
        if liveBytes + cachedBytes > peakHeld { peakHeld = liveBytes + cachedBytes }
        lock.unlock()
        return UnsafeMutablePointer<Float>.allocate(capacity: count)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        if count == 0 { return }
        lock.lock()
        liveBytes &-= count &* 4
        if cachedBytes + count * 4 <= capacityBytes {
            let s = Self.slot(count)
            if let b = table[s].firstIndex(where: { $0.count == count }) {
                table[s][b].buffers.append(pointer)
            } else {
                table[s].append(Bucket(count: count, buffers: [pointer]))
            }
            cachedBytes += count * 4
            lock.unlock()
            return
        }
        lock.unlock()
        pointer.deallocate()
    }

    /// Frees every cached buffer.
    public func trim() {
        lock.lock()
        for chain in table { for b in chain { for p in b.buffers { p.deallocate() } } }
        table = [[Bucket]](repeating: [], count: Self.slots)
        cachedBytes = 0
        lock.unlock()
    }

    /// Bytes in buffers handed out and not given back: what live tensors hold.
    public var bytesInUse: Int { lock.lock(); defer { lock.unlock() }; return liveBytes }

    public var bytesCached: Int { lock.lock(); defer { lock.unlock() }; return cachedBytes }

    /// The most bytes live tensors held at once, and the most the pool held
    /// (live and cached) since the process started.
    public var peaks: (live: Int, held: Int) { lock.lock(); defer { lock.unlock() }; return (peakLive, peakHeld) }
}
