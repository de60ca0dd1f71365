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
    /// Elements a chunk of a pass over several arrays (a gradient mask, an
    /// optimizer update) gets at least: at half of it the second core saves
    /// more than handing over the chunk costs.
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
        let chunks = min(cores, count / max(grain, 1))
        if chunks <= 1 { body(0..<count); return }
        let step = (count + chunks - 1) / chunks
        run(chunks) { c in
            let lo = c * step
            let hi = min(count, lo + step)
            if lo < hi { body(lo..<hi) }
        }
    }
}
