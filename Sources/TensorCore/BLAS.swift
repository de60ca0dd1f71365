import CKernels
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
        /// Cores a large product is split across (one OpenBLAS thread on each).
        public var threads: Int
        /// Whether products 8 or more columns wide run on the core's own
        /// AVX2 kernel (`gk_sgemm`) instead of the library's.
        public var ownKernel: Bool = false

        /// The kernels, e.g. `Haswell` or `own AVX2 6×16, Haswell below 8 columns`.
        public var kernels: String { ownKernel ? "own AVX2 6×16, \(kernel) below 8 columns" : kernel }

        public var description: String {
            "\(library), \(kernels) kernels (\(choice)), products split over \(threads) cores"
        }
    }

    typealias SgemmFunction =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float,
            UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
            Float, UnsafeMutablePointer<Float>?, Int32
        ) -> Void

    private struct Backend: @unchecked Sendable {
        var sgemm: SgemmFunction?
        var info: Info
    }

    /// Whether the core's own AVX2 kernel takes the products 8 or more
    /// columns wide: on CPUs with AVX2 and FMA but no AVX-512, where
    /// OpenBLAS's Haswell kernels run the networks' mid-sized products (128
    /// to 1,568 rows, 64 to 512 columns) at a third to a half of the core's
    /// peak (docs/performance.md). `GANS_GEMM=openblas` or `GANS_GEMM=own`
    /// overrides the choice.
    static func prefersOwnKernel(cpuFlags: Set<String>, setting: String?) -> Bool {
        guard gk_sgemm_available() != 0 else { return false }
        switch setting?.lowercased() {
        case "openblas": return false
        case "own": return true
        default: return preferredCoreType(cpuFlags: cpuFlags) == "Haswell"
        }
    }

    /// Multiply-adds from which a product is split into two blocks of C,
    /// run on two cores of the pool with OpenBLAS single-threaded in each.
    /// Below it, handing half to a second core costs more than it saves.
    nonisolated(unsafe) public static var splitFrom = 1 << 18

    /// Where a product of this shape is split: the larger of C's two sides,
    /// if it has at least 64, halved at a multiple of 32 (`rows` says which
    /// side); nil for one block. A function of the shape alone, so the
    /// numbers never depend on the load or the number of cores. (With
    /// SkylakeX kernels or the core's own, the blocks even give the bits
    /// of one whole call.)
    public static func split(m: Int, n: Int, k: Int) -> (rows: Bool, at: Int)? {
        guard m * n * k >= splitFrom else { return nil }
        let rows = m >= n ? m >= 64 : n < 64
        let side = rows ? m : n
        guard side >= 64 else { return nil }
        return (rows, (side / 2 + 31) / 32 * 32)
    }

    private static let backend: Backend = load()

    /// Whether products are split by the core (OpenBLAS, single-threaded).
    private static var usesCoreSplit: Bool {
        #if canImport(Accelerate)
            return false
        #else
            return backend.sgemm != nil
        #endif
    }

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

    private static func load() -> Backend {
        #if canImport(Accelerate)
            return Backend(
                sgemm: nil,
                info: Info(library: "Accelerate", kernel: "Accelerate", choice: "system", threads: Parallel.cores))
        #elseif os(Linux)
            var choice: String
            var forced: String? = nil
            if let user = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !user.isEmpty {
                choice = "OPENBLAS_CORETYPE=\(user) set in the environment"
            } else if let pick = preferredCoreType(cpuFlags: CPU.current.flags) {
                forced = pick
                choice = "chosen for this CPU"
            } else {
                choice = "OpenBLAS's own detection"
            }
            if let forced { setenv("OPENBLAS_CORETYPE", forced, 1) }
            defer { if forced != nil { unsetenv("OPENBLAS_CORETYPE") } }
            // OpenBLAS runs single-threaded inside the core's own split (its
            // threads would block the sum over k differently and spin on the
            // cores the pool needs), so it starts none.
            let setOne = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil
            if setOne { setenv("OPENBLAS_NUM_THREADS", "1", 1) }
            defer { if setOne { unsetenv("OPENBLAS_NUM_THREADS") } }
            let candidates = [
                "libopenblas.so.0", "libopenblas.so",
                "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
                "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0"
            ]
            for name in candidates {
                guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL),
                    let sym = dlsym(handle, "cblas_sgemm")
                else { continue }
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
                if let f = dlsym(handle, "openblas_set_num_threads") {
                    unsafeBitCast(f, to: gans_openblas_set_num_threads_fn.self)(1)
                }
                if let forced, kernel.lowercased() != forced.lowercased() {
                    choice = "chose \(forced) for this CPU; the library runs \(kernel)"
                }
                let own = prefersOwnKernel(
                    cpuFlags: CPU.current.flags, setting: ProcessInfo.processInfo.environment["GANS_GEMM"])
                return Backend(
                    sgemm: sgemm,
                    info: Info(
                        library: "OpenBLAS\(version) (\(name))", kernel: kernel, choice: choice,
                        threads: Parallel.cores,
                        ownKernel: own))
            }
            return Backend(
                sgemm: nil,
                info: Info(
                    library: "built-in Swift GEMM (OpenBLAS not found: run scripts/setup)",
                    kernel: "scalar", choice: "fallback", threads: 1))
        #else
            return Backend(
                sgemm: nil, info: Info(library: "built-in Swift GEMM", kernel: "scalar", choice: "fallback", threads: 1)
            )
        #endif
    }

    /// Multiply-adds of the products `sgemm` was asked for since the process
    /// started (m·n·k each), for tests and benchmarks.
    nonisolated(unsafe) public private(set) static var multiplyAdds = 0

    /// C ← α·op(A)·op(B) + β·C, row-major; op(A) is m×k, op(B) is k×n.
    /// With `rowBias` (n values), C is first set to it in every row and β is
    /// taken as 1: C ← α·op(A)·op(B) + bias, each block of a split product
    /// filling its own part of C on the core that computes it. With
    /// `activationSlope` (≥ 0), each block then goes through leaky relu with
    /// that slope (0: relu) while it is in that core's cache.
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        rowBias: UnsafePointer<Float>? = nil, activationSlope: Float? = nil
    ) {
        multiplyAdds &+= m * n * k
        if m == 0 || n == 0 { return }
        let beta = rowBias == nil ? beta : 1
        if k == 0 {
            if let rowBias {
                gk_fill_rows(c, ldc, rowBias, m, n)
            } else {
                for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            }
            if let activationSlope { gk_leaky_relu_rows(c, ldc, m, n, activationSlope) }
            return
        }
        // One block of C, rows r0..<r0 + mb and columns c0..<c0 + nb, on the calling thread.
        func block(_ r0: Int, _ mb: Int, _ c0: Int, _ nb: Int) {
            product(r0, mb, c0, nb)
            if let activationSlope { gk_leaky_relu_rows(c + r0 * ldc + c0, ldc, mb, nb, activationSlope) }
        }
        func product(_ r0: Int, _ mb: Int, _ c0: Int, _ nb: Int) {
            let ab = transA ? a + r0 : a + r0 * lda, bb = transB ? b + c0 * ldb : b + c0, cb = c + r0 * ldc + c0
            #if !canImport(Accelerate)
                // The own kernel adds the bias as it stores C: one pass over C, not two.
                if backend.info.ownKernel && nb >= 8
                    && gk_sgemm(
                        transA ? 1 : 0, transB ? 1 : 0, mb, nb, k, alpha, ab, lda, bb, ldb, beta, cb, ldc,
                        rowBias.map { $0 + c0 }) == 0
                {
                    return
                }
            #endif
            if let rowBias { gk_fill_rows(cb, ldc, rowBias + c0, mb, nb) }
            #if canImport(Accelerate)
                cblas_sgemm(
                    CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(mb), Int32(nb), Int32(k), alpha, ab, Int32(lda), bb, Int32(ldb), beta, cb, Int32(ldc))
            #else
                if let f = backend.sgemm {
                    f(
                        101, transA ? 112 : 111, transB ? 112 : 111, Int32(mb), Int32(nb), Int32(k), alpha,
                        ab, Int32(max(1, lda)), bb, Int32(max(1, ldb)), beta, cb, Int32(max(1, ldc)))
                } else {
                    fallbackGEMM(
                        transA: transA, transB: transB, m: mb, n: nb, k: k, alpha: alpha,
                        a: ab, lda: lda, b: bb, ldb: ldb, beta: beta, c: cb, ldc: ldc)
                }
            #endif
        }
        // OpenBLAS runs single-threaded, so the core splits large products
        // itself; Accelerate and the fallback parallelise on their own.
        guard usesCoreSplit, let (rows, at) = split(m: m, n: n, k: k) else { block(0, m, 0, n); return }
        Parallel.run(2) { part in
            let start = part == 0 ? 0 : at
            if rows { block(start, part == 0 ? at : m - at, 0, n) } else { block(0, m, start, part == 0 ? at : n - at) }
        }
    }

    /// A cache-friendlier loop GEMM for machines without a BLAS.
    static func fallbackGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
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
    public static func naiveGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: [Float], lda: Int, b: [Float], ldb: Int,
        beta: Float, c: inout [Float], ldc: Int
    ) {
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
