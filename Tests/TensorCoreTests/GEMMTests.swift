import XCTest
import Foundation
import CKernels
import TensorCore
import TestSupport

final class GEMMTests: XCTestCase {
    /// The BLAS GEMM equals the naive triple loop on odd shapes, every
    /// transpose combination, α/β variants and padded leading dimensions.
    func testBLASMatchesNaiveOnOddShapesAndAllTransposes() {
        var g = RandomGenerator(seed: 3)
        let shapes = [
            (1, 1, 1), (3, 5, 7), (17, 1, 9), (1, 13, 4), (33, 31, 29), (64, 65, 63), (130, 7, 257), (5, 5, 0)
        ]
        var failures: [String] = []
        for (m, n, k) in shapes {
            for ta in [false, true] {
                for tb in [false, true] {
                    for (alpha, beta) in [(Float(1), Float(0)), (0.5, 2)] {
                        let pad = 3
                        let (ar, ac) = ta ? (k, m) : (m, k)
                        let (br, bc) = tb ? (n, k) : (k, n)
                        let lda = ac + pad, ldb = bc + pad, ldc = n + pad
                        let a = (0..<(ar * lda)).map { _ in g.nextUniform() * 2 - 1 }
                        let b = (0..<(br * ldb)).map { _ in g.nextUniform() * 2 - 1 }
                        let c0 = (0..<(m * ldc)).map { _ in g.nextUniform() * 2 - 1 }
                        // β = 0 must not read C, so C's block holds NaN; the naive
                        // reference multiplies β by C, so it gets zeros there instead.
                        var expected = c0.map { $0.isNaN ? 0 : $0 }
                        BLAS.naiveGEMM(
                            transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                            b: b, ldb: ldb, beta: beta, c: &expected, ldc: ldc)
                        var got = c0
                        a.withUnsafeBufferPointer { pa in
                            b.withUnsafeBufferPointer { pb in
                                got.withUnsafeMutableBufferPointer { pc in
                                    BLAS.sgemm(
                                        transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha,
                                        a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                        beta: beta, c: pc.baseAddress!, ldc: ldc)
                                }
                            }
                        }
                        // Only the m×n block is written; the padding must be untouched.
                        let tol = 1e-5 * Float(max(k, 1)) + 1e-5
                        let name = "m=\(m) n=\(n) k=\(k) tA=\(ta) tB=\(tb) α=\(alpha) β=\(beta)"
                        failures += GradCheck.compare(name, got, expected, atol: tol, rtol: 1e-4)
                    }
                }
            }
        }
        XCTAssertEqual(failures, [])
    }

    /// Products above the split threshold run as two blocks on two cores:
    /// lowered here so the test stays small. Every transpose, split by rows
    /// and by columns (and too small a side to split), with padded leading
    /// dimensions, β ≠ 0, and a bias row filled by each block; the padding
    /// of C stays untouched.
    func testSplitProductsMatchNaive() {
        let saved = BLAS.splitFrom
        BLAS.splitFrom = 1 << 12
        defer { BLAS.splitFrom = saved }
        var g = RandomGenerator(seed: 4)
        var failures: [String] = []
        for (m, n, k) in [(301, 97, 45), (21, 333, 47), (16, 16, 16), (64, 64, 9), (97, 301, 45)] {
            for ta in [false, true] {
                for tb in [false, true] {
                    for mode in ["β=0", "β=0.5", "bias"] {
                        let pad = 3
                        let lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad
                        let a = (0..<((ta ? k : m) * lda)).map { _ in g.nextUniform() - 0.5 }
                        let b = (0..<((tb ? n : k) * ldb)).map { _ in g.nextUniform() - 0.5 }
                        let bias = (0..<n).map { _ in g.nextUniform() - 0.5 }
                        var c0 = (0..<(m * ldc)).map { _ in g.nextUniform() - 0.5 }
                        if mode == "bias" { for i in 0..<m { for j in 0..<n { c0[i * ldc + j] = bias[j] } } }
                        // β = 0 must not read C, so C's block holds NaN; the naive
                        // reference multiplies β by C, so it gets zeros there instead.
                        var expected = c0.map { $0.isNaN ? 0 : $0 }
                        BLAS.naiveGEMM(
                            transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                            beta: mode == "β=0" ? 0 : mode == "bias" ? 1 : 0.5, c: &expected, ldc: ldc)
                        var got = c0
                        if mode == "bias" { for i in 0..<m { for j in 0..<n { got[i * ldc + j] = .nan } } }
                        a.withUnsafeBufferPointer { pa in
                            b.withUnsafeBufferPointer { pb in
                                got.withUnsafeMutableBufferPointer { pc in
                                    bias.withUnsafeBufferPointer { pbias in
                                        BLAS.sgemm(
                                            transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!,
                                            lda: lda,
                                            b: pb.baseAddress!, ldb: ldb, beta: mode == "β=0.5" ? 0.5 : 0,
                                            c: pc.baseAddress!, ldc: ldc,
                                            rowBias: mode == "bias" ? pbias.baseAddress! : nil)
                                    }
                                }
                            }
                        }
                        failures += GradCheck.compare(
                            "split m=\(m) n=\(n) k=\(k) tA=\(ta) tB=\(tb) \(mode)", got, expected, atol: 1e-4,
                            rtol: 1e-4)
                    }
                }
            }
        }
        XCTAssertEqual(failures, [])
    }

    /// Runs a product in two blocks of rows, and again in two blocks of
    /// columns, each from `start`; names the splits whose bits differ from
    /// the whole call's.
    func splitMismatches(
        _ name: String, m: Int, n: Int, start: [Float], whole: [Float],
        _ run: (_ rows: Range<Int>, _ cols: Range<Int>, _ into: inout [Float]) -> Int32
    ) -> [String] {
        var byRows = start, byCols = start
        let r = m / 2 + 1, c = n / 3 + 1
        _ = run(0..<min(r, m), 0..<n, &byRows)
        if r < m { _ = run(r..<m, 0..<n, &byRows) }
        _ = run(0..<m, 0..<min(c, n), &byCols)
        if c < n { _ = run(0..<m, c..<n, &byCols) }
        var found: [String] = []
        if byRows.map(\.bitPattern) != whole.map(\.bitPattern) { found.append(name + ": rows split") }
        if byCols.map(\.bitPattern) != whole.map(\.bitPattern) { found.append(name + ": columns split") }
        return found
    }

    /// The core's own AVX2 kernel against the naive loop, called directly
    /// (whatever kernel this CPU picks for `BLAS.sgemm`): shapes that cross
    /// its blocks over k (256), m (144) and its 6×16 tiles, every transpose,
    /// padded leading dimensions, β = 0 over a C of NaNs (never read), a bias
    /// added as C is stored (over NaNs too, with the bits of C filled with the
    /// bias and β = 1), and blocks of rows and of columns that give the whole
    /// call's bits.
    func testOwnKernelMatchesNaiveAndItsBlocksGiveTheWholeCallsBits() throws {
        try XCTSkipIf(gk_sgemm_available() == 0, "no AVX2 and FMA on this CPU")
        var g = RandomGenerator(seed: 5)
        var failures: [String] = []
        for (m, n, k) in [(1, 1, 1), (6, 16, 1), (7, 17, 2), (150, 40, 300), (13, 129, 513), (145, 8, 257)] {
            for ta in [false, true] {
                for tb in [false, true] {
                    for (alpha, beta, biased) in [(Float(1), Float(0), false), (0.5, -1.5, false), (0.5, 0, true)] {
                        let pad = 2
                        let lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad
                        let a = (0..<((ta ? k : m) * lda)).map { _ in g.nextUniform() - 0.5 }
                        let b = (0..<((tb ? n : k) * ldb)).map { _ in g.nextUniform() - 0.5 }
                        let bias = (0..<n).map { _ in g.nextUniform() - 0.5 }
                        var c0 = (0..<(m * ldc)).map { _ in g.nextUniform() - 0.5 }
                        if beta == 0 { for i in 0..<m { for j in 0..<n { c0[i * ldc + j] = .nan } } }
                        // β = 0 and a bias must not read C, so C's block holds NaN; the
                        // naive reference multiplies β by C, so it gets zeros there
                        // instead, or the bias with β = 1.
                        var expected = c0.map { $0.isNaN ? 0 : $0 }
                        if biased { for i in 0..<m { for j in 0..<n { expected[i * ldc + j] = bias[j] } } }
                        BLAS.naiveGEMM(
                            transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                            beta: biased ? 1 : beta, c: &expected, ldc: ldc)
                        func run(
                            rows: Range<Int>, cols: Range<Int>, beta: Float, bias: [Float]?, into c: inout [Float]
                        ) -> Int32 {
                            a.withUnsafeBufferPointer { pa in
                                b.withUnsafeBufferPointer { pb in
                                    c.withUnsafeMutableBufferPointer { pc in
                                        let ab =
                                            ta
                                            ? pa.baseAddress! + rows.lowerBound
                                            : pa.baseAddress! + rows.lowerBound * lda
                                        let bb =
                                            tb
                                            ? pb.baseAddress! + cols.lowerBound * ldb
                                            : pb.baseAddress! + cols.lowerBound
                                        let cb = pc.baseAddress! + rows.lowerBound * ldc + cols.lowerBound
                                        guard let bias else {
                                            return gk_sgemm(
                                                ta ? 1 : 0, tb ? 1 : 0, rows.count, cols.count, k, alpha, ab, lda, bb,
                                                ldb, beta, cb, ldc, nil)
                                        }
                                        return gk_sgemm(
                                            ta ? 1 : 0, tb ? 1 : 0, rows.count, cols.count, k, alpha, ab, lda, bb, ldb,
                                            beta, cb, ldc, Array(bias[cols]))
                                    }
                                }
                            }
                        }
                        func run(rows: Range<Int>, cols: Range<Int>, into c: inout [Float]) -> Int32 {
                            run(rows: rows, cols: cols, beta: beta, bias: biased ? bias : nil, into: &c)
                        }
                        var whole = c0
                        XCTAssertEqual(run(rows: 0..<m, cols: 0..<n, into: &whole), 0)
                        let name = "own m=\(m) n=\(n) k=\(k) tA=\(ta) tB=\(tb) α=\(alpha) β=\(beta) bias=\(biased)"
                        failures += GradCheck.compare(name, whole, expected, atol: 1e-5 * Float(k) + 1e-5, rtol: 1e-4)
                        failures += splitMismatches(name, m: m, n: n, start: c0, whole: whole, run)
                        if biased {
                            // The bits of a C filled with the bias, then β = 1.
                            var filled = c0
                            for i in 0..<m { for j in 0..<n { filled[i * ldc + j] = bias[j] } }
                            XCTAssertEqual(run(rows: 0..<m, cols: 0..<n, beta: 1, bias: nil, into: &filled), 0)
                            if filled.map(\.bitPattern) != whole.map(\.bitPattern) {
                                failures.append(name + ": bits differ from filling C with the bias, then β = 1")
                            }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(failures, [])
    }

    /// Offsets for one side of a view: runs by one (0), runs of four with
    /// gaps between, as a kernel window's rows (1), or scattered (2).
    func viewTable(_ kind: Int, _ count: Int, _ g: inout RandomGenerator) -> [Int] {
        switch kind {
        case 0: return Array(0..<count)
        case 1: return (0..<count).map { ($0 / 4) * 7 + $0 % 4 }
        default:
            var t = (0..<count).map { $0 * 3 }
            for i in stride(from: count - 1, to: 0, by: -1) { t.swapAt(i, g.nextInt(below: i + 1)) }
            return t
        }
    }

    /// A view of `rows`×`cols` with tables of the given kinds; `transposed`
    /// makes the row table the inner one (rows next to each other in memory).
    func makeView(_ rows: Int, _ cols: Int, _ kinds: (Int, Int), transposed: Bool, _ g: inout RandomGenerator)
        -> (rows: [Int], cols: [Int], size: Int)
    {
        if transposed {
            let r = viewTable(kinds.0, rows, &g), span = (r.max() ?? 0) + 1
            let c = viewTable(kinds.1, cols, &g).map { $0 * span }
            return (r, c, (r.max() ?? 0) + (c.max() ?? 0) + 1)
        }
        let c = viewTable(kinds.1, cols, &g), span = (c.max() ?? 0) + 1
        let r = viewTable(kinds.0, rows, &g).map { $0 * span }
        return (r, c, (r.max() ?? 0) + (c.max() ?? 0) + 1)
    }

    /// The product over views (`gk_sgemm_view`) against the naive loop:
    /// shapes that cross its blocks over k, m and its tiles; tables that run
    /// by one, in fours or scattered, in either orientation; with a bias, with
    /// accumulation, and with neither (C not read: it holds NaN). Elements of
    /// C's storage outside the view are left alone, blocks of rows or columns
    /// give the whole call's bits, and plain strided views give `gk_sgemm`'s bits
    /// (on CPUs with AVX-512 the product over views runs two tiles at a time
    /// in 16-wide registers, `gk_sgemm` one tile in 8-wide ones).
    func testProductOverViewsMatchesNaive() throws {
        try XCTSkipIf(gk_sgemm_available() == 0, "no AVX2 and FMA on this CPU")
        var g = RandomGenerator(seed: 9)
        var failures: [String] = []
        let kindsList = [(0, 0), (0, 1), (1, 2), (2, 0), (2, 2)]
        for (m, n, k) in [(1, 1, 1), (6, 16, 1), (7, 17, 2), (150, 40, 300), (13, 129, 513), (145, 33, 257)] {
            for (variant, (ka, kb)) in kindsList.enumerated() {
                let tA = variant % 2 == 1, tB = variant == 3
                let av = makeView(m, k, ka == 0 && kb == 0 ? (0, 0) : (ka, kb), transposed: tA, &g)
                let bv = makeView(k, n, (kb, ka), transposed: tB, &g)
                let cv = makeView(m, n, (variant == 4 ? 2 : 0, variant == 2 ? 1 : 0), transposed: false, &g)
                let a = (0..<av.size).map { _ in g.nextUniform() - 0.5 }
                let b = (0..<bv.size).map { _ in g.nextUniform() - 0.5 }
                let bias = (0..<m).map { _ in g.nextUniform() - 0.5 }
                for mode in ["bias", "accumulate", "plain"] {
                    let c0 = (0..<cv.size).map { _ in g.nextUniform() - 0.5 }
                    var start = c0
                    if mode == "plain" { for i in 0..<m { for j in 0..<n { start[cv.rows[i] + cv.cols[j]] = .nan } } }
                    var expected = c0
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum = 0.0
                            for p in 0..<k {
                                sum += Double(a[av.rows[i] + av.cols[p]]) * Double(b[bv.rows[p] + bv.cols[j]])
                            }
                            let at = cv.rows[i] + cv.cols[j]
                            let base = mode == "bias" ? Double(bias[i]) : mode == "accumulate" ? Double(c0[at]) : 0
                            expected[at] = Float(sum + base)
                        }
                    }
                    func run(rows: Range<Int>, cols: Range<Int>, into c: inout [Float]) -> Int32 {
                        c.withUnsafeMutableBufferPointer { pc in
                            gk_sgemm_view(
                                rows.count, cols.count, k, a, Array(av.rows[rows]), av.cols, b, bv.rows,
                                Array(bv.cols[cols]), pc.baseAddress!, Array(cv.rows[rows]), Array(cv.cols[cols]),
                                mode == "bias" ? Array(bias[rows]) : nil, mode == "accumulate" ? 1 : 0)
                        }
                    }
                    var whole = start
                    XCTAssertEqual(run(rows: 0..<m, cols: 0..<n, into: &whole), 0)
                    let name = "view m=\(m) n=\(n) k=\(k) tables \(variant) \(mode)"
                    failures += GradCheck.compare(name, whole, expected, atol: 1e-5 * Float(k) + 1e-5, rtol: 1e-4)
                    failures += splitMismatches(name, m: m, n: n, start: start, whole: whole, run)
                }
            }
            // Plain strided views sum as gk_sgemm does.
            let lda = k + 3, ldb = n + 1, ldc = n + 2
            let a = (0..<(m * lda)).map { _ in g.nextUniform() - 0.5 }
            let b = (0..<(k * ldb)).map { _ in g.nextUniform() - 0.5 }
            var viaView = [Float](repeating: 0, count: m * ldc), viaGemm = viaView
            let rowsA = (0..<m).map { $0 * lda }, colsA = Array(0..<k), rowsB = (0..<k).map { $0 * ldb }
            let colsB = Array(0..<n), rowsC = (0..<m).map { $0 * ldc }
            XCTAssertEqual(gk_sgemm_view(m, n, k, a, rowsA, colsA, b, rowsB, colsB, &viaView, rowsC, colsB, nil, 0), 0)
            XCTAssertEqual(gk_sgemm(0, 0, m, n, k, 1, a, lda, b, ldb, 0, &viaGemm, ldc, nil), 0)
            if viaView.map(\.bitPattern) != viaGemm.map(\.bitPattern) {
                failures.append("view m=\(m) n=\(n) k=\(k): bits differ from gk_sgemm")
            }
        }
        XCTAssertEqual(failures, [])
    }

    /// Where a product is split is a function of its shape alone: the
    /// larger side of C, if at least 64, at a multiple of 32 near its middle.
    func testTheSplitDependsOnTheShapeAlone() {
        let r = BLAS.split(m: 256, n: 128, k: 128)
        XCTAssertEqual(r?.rows, true)
        XCTAssertEqual(r?.at, 128)
        let c = BLAS.split(m: 64, n: 784, k: 512)
        XCTAssertEqual(c?.rows, false)
        XCTAssertEqual(c?.at, 416)
        XCTAssertEqual(BLAS.split(m: 100, n: 30, k: 1000)?.at, 64)
        XCTAssertNil(BLAS.split(m: 48, n: 60, k: 100_000), "no side long enough to halve")
        XCTAssertNil(BLAS.split(m: 256, n: 128, k: 2), "below the threshold")
    }

    /// The pool runs every chunk exactly once: many jobs in a row (helpers
    /// awake), after a pause long enough for them to sleep, nested inside a
    /// chunk (inline), and from several threads at once (one job at a time,
    /// the others inline).
    func testThePoolRunsEachChunkOnce() {
        func job(_ chunks: Int) -> [Int] {
            let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
            counts.initialize(repeating: 0)
            defer { counts.deallocate() }
            Parallel.run(chunks) { i in counts[i] += 1 }
            return Array(counts)
        }
        for chunks in [0, 1, 2, 3, 7, 64] {
            for _ in 0..<200 { XCTAssertEqual(job(chunks), [Int](repeating: 1, count: chunks)) }
        }
        usleep(20_000)
        XCTAssertEqual(job(5), [1, 1, 1, 1, 1])
        let outer = UnsafeMutableBufferPointer<Int>.allocate(capacity: 12)
        outer.initialize(repeating: 0)
        defer { outer.deallocate() }
        Parallel.run(3) { i in Parallel.run(4) { j in outer[i * 4 + j] += 1 } }
        XCTAssertEqual(Array(outer), [Int](repeating: 1, count: 12))
        let totals = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4)
        totals.initialize(repeating: 0)
        defer { totals.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for _ in 0..<100 { totals[t] += job(6).reduce(0, +) }
        }
        XCTAssertEqual(Array(totals), [600, 600, 600, 600])
    }

    func testKernelReportAndChoice() {
        let info = BLAS.info
        XCTAssertFalse(info.kernel.isEmpty)
        XCTAssertFalse(info.library.isEmpty)
        XCTAssertEqual(
            BLAS.preferredCoreType(cpuFlags: ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd", "avx2", "fma"]
            ), "SkylakeX")
        XCTAssertEqual(BLAS.preferredCoreType(cpuFlags: ["avx2", "fma"]), "Haswell")
        XCTAssertNil(BLAS.preferredCoreType(cpuFlags: ["sse2"]))
        if let user = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], info.library.hasPrefix("OpenBLAS") {
            // A value the user set is respected, not overridden.
            XCTAssertEqual(info.kernel.lowercased(), user.lowercased())
            XCTAssertTrue(info.choice.contains("set in the environment"))
        }
    }

    /// The processor report reads the first block of /proc/cpuinfo: a Zen 3 with AVX2 and no AVX-512.
    func testCPUReportFromCPUInfo() {
        let text = """
            processor\t: 0
            vendor_id\t: AuthenticAMD
            cpu family\t: 25
            model\t\t: 1
            model name\t: AMD EPYC 7B13
            flags\t\t: fpu sse2 avx avx2 fma bmi1 bmi2 movbe f16c abm

            processor\t: 1
            vendor_id\t: GenuineIntel
            model name\t: other
            flags\t\t: avx512f
            """
        let cpu = CPU.parse(text)
        XCTAssertEqual(cpu.vendor, "AuthenticAMD")
        XCTAssertEqual(cpu.modelName, "AMD EPYC 7B13")
        XCTAssertEqual(cpu.family, 25)
        XCTAssertEqual(cpu.model, 1)
        XCTAssertEqual(cpu.vectorFeatures, ["AVX2", "FMA"])
        XCTAssertEqual(cpu.kernelLevel, "x86-64-v3")
        XCTAssertEqual(cpu.description, "AMD EPYC 7B13 (AuthenticAMD family 25 model 1), AVX2 FMA")
        XCTAssertEqual(BLAS.preferredCoreType(cpuFlags: cpu.flags), "Haswell")
        let empty = CPU.parse("")
        XCTAssertEqual(empty.vendor, "unknown")
        XCTAssertEqual(empty.vectorFeatures, [])
        XCTAssertFalse(CPU.current.vendor.isEmpty)
    }

    /// matmul on tensors against the naive reference, batched and broadcast.
    func testMatmulShapesAgainstNaive() throws {
        Random.seed(9)
        let a = Tensor.randn([2, 3, 5]), b = Tensor.randn([5, 4]), c = Tensor.randn([1, 4, 2])
        let ab = try a.matmul(b)
        XCTAssertEqual(ab.shape, [2, 3, 4])
        for i in 0..<2 {
            var expected = [Float](repeating: 0, count: 12)
            BLAS.naiveGEMM(
                transA: false, transB: false, m: 3, n: 4, k: 5, alpha: 1,
                a: Array(a.scalars[(i * 15)..<(i * 15 + 15)]), lda: 5, b: b.scalars, ldb: 4,
                beta: 0, c: &expected, ldc: 4)
            XCTAssertEqual(
                GradCheck.compare(
                    "batch \(i)", Array(ab.scalars[(i * 12)..<(i * 12 + 12)]), expected, atol: 1e-5, rtol: 1e-5), [])
        }
        let abc = try ab.matmul(c)
        XCTAssertEqual(abc.shape, [2, 3, 2])
        let v = try Tensor([1, 2, 3]).matmul(Tensor(rows: [[1, 0], [0, 1], [1, 1]]))
        XCTAssertEqual(v.shape, [2])
        XCTAssertEqual(v.scalars, [4, 5])
        // Vector · vector is the dot product, a scalar.
        let dot = try Tensor([1, 2, 3]).matmul(Tensor([4, 5, 6]))
        XCTAssertEqual(dot.shape, [])
        XCTAssertEqual(dot.item, 32)
    }

    func testMatmulShapeErrorNamesBothShapes() {
        let a = Tensor(zeros: [64, 784]), b = Tensor(zeros: [512, 256])
        XCTAssertThrowsError(try a.matmul(b)) { error in
            XCTAssertEqual(
                "\(error)", "[matmul] cannot multiply [64, 784] by [512, 256]: inner sizes 784 and 512 differ")
        }
        XCTAssertThrowsError(try Tensor(zeros: [2, 3, 4]).matmul(Tensor(zeros: [3, 4, 5]))) { error in
            XCTAssertTrue("\(error)".contains("cannot broadcast"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor(1).matmul(Tensor(zeros: [2, 2])))
    }
}
