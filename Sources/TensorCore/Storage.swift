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

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var cachedBytes = 0
    private let lock = NSLock()
    private static let emptyBuffer = UnsafeMutablePointer<Float>.allocate(capacity: 1)

    /// Counters for tests and benchmarks.
    public private(set) var hits = 0
    public private(set) var misses = 0

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count == 0 { return Self.emptyBuffer }
        lock.lock()
        if var list = free[count], let p = list.popLast() {
            free[count] = list
            cachedBytes -= count * 4
            hits += 1
            lock.unlock()
            return p
        }
        misses += 1
        lock.unlock()
        return UnsafeMutablePointer<Float>.allocate(capacity: count)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        if count == 0 { return }
        lock.lock()
        if cachedBytes + count * 4 <= capacityBytes {
            free[count, default: []].append(pointer)
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
        for (_, list) in free { for p in list { p.deallocate() } }
        free = [:]
        cachedBytes = 0
        lock.unlock()
    }

    public var bytesCached: Int { lock.lock(); defer { lock.unlock() }; return cachedBytes }
}
