import Foundation

/// Splits `0..<count` into contiguous chunks run on all cores, when the work
/// is large enough to pay for the hand-off; otherwise runs inline.
public enum Parallel {
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Cores the kernels split work across.
    public static var coreCount: Int { cores }

    /// Elements below which a transcendental map (exp, tanh, …) stays on one core.
    static let transcendentalThreshold = 1 << 14
    /// Default work items below which a loop stays on one core.
    static let elementwiseThreshold = 1 << 15

    @inline(__always)
    static func forEachChunk(_ count: Int, grain: Int = elementwiseThreshold,
                             _ body: (Range<Int>) -> Void) {
        let chunks = min(cores, count / max(grain, 1))
        if chunks <= 1 { body(0..<count); return }
        let step = (count + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * step
            let hi = min(count, lo + step)
            if lo < hi { body(lo..<hi) }
        }
    }
}
