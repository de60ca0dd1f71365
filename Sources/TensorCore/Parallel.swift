import CKernels
import Foundation

/// Splits work into chunks run on all cores: the calling thread and the
/// core's worker pool (`gk_pool_run` in CKernels), whose helpers spin for a
/// moment between jobs so the next product or loop of a training step starts
/// without a wake-up. How work is split never depends on which thread runs a
/// chunk, so results are the same on any number of cores.
public enum Parallel {
    static let cores = max(1, Int(gk_pool_threads()))
    /// Cores the kernels split work across.
    public static var coreCount: Int { cores }

    /// Pins this process to one CPU (Linux); false where that is not possible.
    /// For benchmarks: a busy neighbour on a chosen core.
    public static func pinProcess(toCPU cpu: Int) -> Bool { gk_pin_to_cpu(Int32(cpu)) == 0 }

    /// Elements below which a transcendental map (exp, tanh, …) stays on one core.
    static let transcendentalThreshold = 1 << 14
    /// Default work items below which a loop stays on one core.
    static let elementwiseThreshold = 1 << 15
    /// The smallest chunk of a C pass over several arrays (a gradient mask,
    /// an optimizer update): a pass is split from twice this many elements,
    /// where the second core saves more than handing it a chunk costs.
    static let passThreshold = 1 << 13

    /// Runs `body(0)`, …, `body(chunks − 1)`, each once, across the pool;
    /// returns when all are done. A call from inside a chunk runs inline.
    public static func run(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 { if chunks == 1 { body(0) }; return }
        withoutActuallyEscaping(body) { body in
            var job = body
            withUnsafeMutablePointer(to: &job) { p in
                gk_pool_run(
                    chunks,
                    { context, i in
                        context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(i)
                    }, p)
            }
        }
    }

    @inline(__always)
    static func forEachChunk(
        _ count: Int, grain: Int = elementwiseThreshold,
        _ body: (Range<Int>) -> Void
    ) {
        forEachIndexedChunk(count, grain: grain) { _, range in body(range) }
    }

    /// How many chunks `forEachChunk` cuts `count` items into.
    static func chunkCount(_ count: Int, grain: Int) -> Int { max(1, min(cores, count / max(grain, 1))) }

    /// `forEachChunk` with each chunk's index, 0 ..< `chunkCount(count, grain:)`.
    @inline(__always)
    static func forEachIndexedChunk(_ count: Int, grain: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = chunkCount(count, grain: grain)
        if chunks == 1 { body(0, 0..<count); return }
        let step = (count + chunks - 1) / chunks
        run(chunks) { c in
            let lo = c * step
            let hi = min(count, lo + step)
            if lo < hi { body(c, lo..<hi) }
        }
    }
}
