import Foundation
#if canImport(Accelerate)
import Accelerate
#elseif os(Linux)
import Glibc
import COpenBLAS
#endif

/// The GEMM every compute-heavy op funnels into.
///
/// On Linux, OpenBLAS is opened at run time rather than linked: it reads
/// `OPENBLAS_CORETYPE` once, while loading, and Debian's 0.3.21 falls back to
/// slow generic kernels on CPUs newer than it knows. So the core decides the
/// kernel family first (from the CPU's features, unless the user set the
/// variable), then loads the library. On Apple platforms it is Accelerate.
/// Without either, a plain Swift GEMM keeps everything working, slowly.
public enum BLAS {
    /// What GEMM runs on, for `gans-bench` and the shell to report.
    public struct Info: Sendable, CustomStringConvertible {
        /// The library, e.g. `OpenBLAS 0.3.21 (libopenblas.so.0)`.
        public var library: String
        /// The kernel family in use, e.g. `SkylakeX`.
        public var kernel: String
        /// Why that kernel: set by the user, chosen by the core, or the library's own pick.
        public var choice: String
        public var threads: Int

        public var description: String { "\(library), \(kernel) kernels (\(choice)), \(threads) threads" }
    }

    typealias SgemmFunction = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                               UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
                                               Float, UnsafeMutablePointer<Float>?, Int32) -> Void

    private struct Backend: @unchecked Sendable {
        var sgemm: SgemmFunction?
        var setThreads: gans_openblas_set_num_threads_fn?
        var info: Info
    }

    /// Multiply-adds below which a GEMM runs on one thread: handing a small
    /// product to a second thread costs more than it saves.
    nonisolated(unsafe) public static var singleThreadBelow = 1 << 18
    nonisolated(unsafe) private static var currentThreads = 0
    /// Multiply-adds from which a product is split into two halves run on
    /// the core's own threads, OpenBLAS single-threaded in each: OpenBLAS's
    /// idle threads spin and take the core that parallel loops around a large
    /// product (im2col, col2im) need, while for mid-size products their quick
    /// wake-up wins.
    nonisolated(unsafe) public static var splitAbove = 1 << (ProcessInfo.processInfo.environment["GANS_BLAS_SPLIT_LOG2"].flatMap { Int($0) }.map { Swift.min(Swift.max($0, 10), 40) } ?? 26)
    /// Whether the core splits large products itself (`GANS_BLAS_SPLIT=0` turns it off).
    nonisolated(unsafe) public static var splitGEMM = ProcessInfo.processInfo.environment["GANS_BLAS_SPLIT"] != "0"

    /// Whether mid-size products pick their thread count by measurement
    /// (`GANS_BLAS_ADAPTIVE=1`); off by default: always all threads. OpenBLAS
    /// blocks the sum over k differently on one thread and on several, so
    /// the two give different bits for most shapes; a choice made by timing
    /// would make a seeded run's numbers depend on the machine's load.
    nonisolated(unsafe) public static var adaptiveThreads = ProcessInfo.processInfo.environment["GANS_BLAS_ADAPTIVE"] == "1"
    nonisolated(unsafe) static var tuner = ThreadTuner()

    /// One thread or all of them, per size class of product (powers of two
    /// of multiply-adds): a moving average of the time per multiply-add under
    /// each, the faster one used, the other tried again now and then. On a
    /// virtual machine whose two CPUs sometimes share a physical core, a
    /// second OpenBLAS thread can cost more than it brings, for minutes at a
    /// time; the measurement follows that. The result's last bits do depend
    /// on the choice, so it is off unless asked for (`adaptiveThreads`).
    public struct ThreadTuner: Sendable {
        public static let classes = 10
        /// Calls between two tries of the other choice, and the calls a try lasts.
        public static let retry = 256, run = 8
        /// Nanoseconds per multiply-add, [one thread, all threads], per size class.
        public private(set) var average = [[Double]](repeating: [0, 0], count: classes)
        var calls = [Int](repeating: 0, count: classes)

        /// The thread count for the next product of size class `size`.
        public mutating func choose(_ size: Int, all: Int) -> Int {
            calls[size] += 1
            let one = average[size][0], many = average[size][1]
            if many == 0 { return all }               // first: all threads
            if one == 0 { return 1 }                  // second: one
            let best = one < many ? 1 : all
            // The other choice for a run of calls: its first call pays for
            // waking OpenBLAS's threads (or for their spinning down) and is
            // not recorded.
            return calls[size] % ThreadTuner.retry < ThreadTuner.run ? (best == 1 ? all : 1) : best
        }

        public init() {}

        public mutating func record(_ size: Int, threads: Int, nanosecondsPerMAC t: Double) {
            if calls[size] % ThreadTuner.retry == 0 && average[size][0] != 0 { return }
            let i = threads == 1 ? 0 : 1
            // One slow call (the thread preempted) moves the average by a
            // bounded step; a lasting change still moves it within a few calls.
            let a = average[size][i]
            average[size][i] = a == 0 ? t : 0.8 * a + 0.2 * Swift.min(t, 1.5 * a)
        }
    }

    private static let backend: Backend = load()

    public static var info: Info { backend.info }

    /// The kernel family the core picks for this CPU when the user set none:
    /// SkylakeX with AVX-512, Haswell with AVX2 and FMA, otherwise nil
    /// (OpenBLAS's own detection).
    public static func preferredCoreType(cpuFlags: Set<String>) -> String? {
        let avx512: Set = ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"]
        if avx512.isSubset(of: cpuFlags) { return "SkylakeX" }
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
        return nil
    }

    static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            if let colon = line.firstIndex(of: ":") {
                return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
            }
        }
        return []
    }

    private static func load() -> Backend {
        #if canImport(Accelerate)
        return Backend(sgemm: nil, setThreads: nil, info: Info(library: "Accelerate", kernel: "Accelerate", choice: "system", threads: Parallel.cores))
        #elseif os(Linux)
        var choice: String
        var forced: String? = nil
        if let user = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !user.isEmpty {
            choice = "OPENBLAS_CORETYPE=\(user) set in the environment"
        } else if let pick = preferredCoreType(cpuFlags: cpuFlags()) {
            forced = pick
            choice = "chosen for this CPU"
        } else {
            choice = "OpenBLAS's own detection"
        }
        if let forced { setenv("OPENBLAS_CORETYPE", forced, 1) }
        defer { if forced != nil { unsetenv("OPENBLAS_CORETYPE") } }
        // OpenBLAS's idle threads spin for 2^28 cycles (about 0.1 s) before
        // sleeping, holding the core our own parallel loops need; 2^22 keeps
        // them awake across a tight sequence of products and no longer.
        let setTimeout = ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] == nil
        if setTimeout { setenv("OPENBLAS_THREAD_TIMEOUT", "22", 1) }
        defer { if setTimeout { unsetenv("OPENBLAS_THREAD_TIMEOUT") } }
        let candidates = ["libopenblas.so.0", "libopenblas.so",
                          "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
                          "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0"]
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL),
                  let sym = dlsym(handle, "cblas_sgemm") else { continue }
            let sgemm = unsafeBitCast(sym, to: SgemmFunction.self)
            var kernel = "unknown"
            if let f = dlsym(handle, "openblas_get_corename") {
                let corename = unsafeBitCast(f, to: gans_openblas_get_corename_fn.self)
                if let c = corename() { kernel = String(cString: c) }
            }
            var version = ""
            if let f = dlsym(handle, "openblas_get_config") {
                let config = unsafeBitCast(f, to: gans_openblas_get_corename_fn.self)
                if let c = config() {
                    let words = String(cString: c).split(separator: " ")
                    if words.count > 1 { version = " " + words[1] }
                }
            }
            var threads = 1
            if let f = dlsym(handle, "openblas_get_num_threads") {
                threads = Int(unsafeBitCast(f, to: gans_openblas_get_num_threads_fn.self)())
            }
            let setThreads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: gans_openblas_set_num_threads_fn.self) }
            if let forced, kernel.lowercased() != forced.lowercased() {
                choice = "chose \(forced) for this CPU; the library runs \(kernel)"
            }
            return Backend(sgemm: sgemm, setThreads: setThreads,
                           info: Info(library: "OpenBLAS\(version) (\(name))", kernel: kernel, choice: choice, threads: threads))
        }
        return Backend(sgemm: nil, setThreads: nil, info: Info(library: "built-in Swift GEMM (OpenBLAS not found: run scripts/setup)",
                                              kernel: "scalar", choice: "fallback", threads: 1))
        #else
        return Backend(sgemm: nil, setThreads: nil, info: Info(library: "built-in Swift GEMM", kernel: "scalar", choice: "fallback", threads: 1))
        #endif
    }

    /// C ← α·op(A)·op(B) + β·C, row-major; op(A) is m×k, op(B) is k×n.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        #if canImport(Accelerate)
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        #else
        if let f = backend.sgemm {
            let lda = Int32(max(1, lda)), ldb = Int32(max(1, ldb)), ldc32 = Int32(max(1, ldc))
            let ta: Int32 = transA ? 112 : 111, tb: Int32 = transB ? 112 : 111
            // Large products: two blocks of C, one per core.
            if splitGEMM && Parallel.cores > 1 && m * n * k >= splitAbove && max(m, n) >= 16 {
                if let setThreads = backend.setThreads, currentThreads != 1 { setThreads(1); currentThreads = 1 }
                if m >= n {
                    let half = (m + 1) / 2
                    DispatchQueue.concurrentPerform(iterations: 2) { part in
                        let r0 = part * half, rows = Swift.min(m, r0 + half) - r0
                        guard rows > 0 else { return }
                        f(101, ta, tb, Int32(rows), Int32(n), Int32(k), alpha, transA ? a + r0 : a + r0 * Int(lda), lda,
                          b, ldb, beta, c + r0 * ldc, ldc32)
                    }
                } else {
                    let half = (n + 1) / 2
                    DispatchQueue.concurrentPerform(iterations: 2) { part in
                        let c0 = part * half, cols = Swift.min(n, c0 + half) - c0
                        guard cols > 0 else { return }
                        f(101, ta, tb, Int32(m), Int32(cols), Int32(k), alpha, a, lda,
                          transB ? b + c0 * Int(ldb) : b + c0, ldb, beta, c + c0, ldc32)
                    }
                }
                return
            }
            if let setThreads = backend.setThreads, backend.info.threads > 1 {
                let macs = m * n * k
                if macs < singleThreadBelow {
                    if currentThreads != 1 { setThreads(1); currentThreads = 1 }
                } else if adaptiveThreads {
                    // Mid-size: whichever of one thread and all threads has
                    // been faster for products of this size lately.
                    let size = Swift.min(ThreadTuner.classes - 1, Swift.max(0, macs.bitWidth - macs.leadingZeroBitCount - 18))
                    let want = tuner.choose(size, all: backend.info.threads)
                    if want != currentThreads { setThreads(Int32(want)); currentThreads = want }
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    f(101, ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, lda, b, ldb, beta, c, ldc32)
                    tuner.record(size, threads: want, nanosecondsPerMAC: Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(macs))
                    return
                } else if currentThreads != backend.info.threads {
                    setThreads(Int32(backend.info.threads)); currentThreads = backend.info.threads
                }
            }
            f(101, ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, lda, b, ldb, beta, c, ldc32)
        } else {
            fallbackGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                         a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        #endif
    }

    /// A cache-friendlier loop GEMM for machines without a BLAS.
    static func fallbackGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        Parallel.forEachChunk(m, grain: max(1, 4096 / max(n * k / 64, 1))) { rows in
            var row = [Float](repeating: 0, count: n)
            for i in rows {
                for j in 0..<n { row[j] = 0 }
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    if transB {
                        for j in 0..<n { row[j] += av * b[j * ldb + p] }
                    } else {
                        let bp = b + p * ldb
                        for j in 0..<n { row[j] += av * bp[j] }
                    }
                }
                for j in 0..<n {
                    c[i * ldc + j] = alpha * row[j] + (beta == 0 ? 0 : beta * c[i * ldc + j])
                }
            }
        }
    }

    /// The test oracle: the textbook triple loop, accumulating in Double.
    public static func naiveGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                 a: [Float], lda: Int, b: [Float], ldb: Int,
                                 beta: Float, c: inout [Float], ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                c[i * ldc + j] = Float(Double(alpha) * s + Double(beta) * Double(c[i * ldc + j]))
            }
        }
    }
}
