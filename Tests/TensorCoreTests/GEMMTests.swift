import XCTest
import Foundation
import TensorCore
import TestSupport

final class GEMMTests: XCTestCase {
    /// The BLAS GEMM equals the naive triple loop on odd shapes, every
    /// transpose combination, α/β variants and padded leading dimensions.
    func testBLASMatchesNaiveOnOddShapesAndAllTransposes() {
        var g = RandomGenerator(seed: 3)
        let shapes = [(1, 1, 1), (3, 5, 7), (17, 1, 9), (1, 13, 4), (33, 31, 29), (64, 65, 63), (130, 7, 257), (5, 5, 0)]
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
                        var expected = c0
                        BLAS.naiveGEMM(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                                       b: b, ldb: ldb, beta: beta, c: &expected, ldc: ldc)
                        var got = c0
                        a.withUnsafeBufferPointer { pa in
                            b.withUnsafeBufferPointer { pb in
                                got.withUnsafeMutableBufferPointer { pc in
                                    BLAS.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha,
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

    /// Products above the split threshold run as two halves on two cores:
    /// lowered here so the test stays small.
    func testSplitProductsMatchNaive() {
        let saved = BLAS.splitAbove
        BLAS.splitAbove = 1 << 12
        defer { BLAS.splitAbove = saved }
        var g = RandomGenerator(seed: 4)
        var failures: [String] = []
        for (m, n, k) in [(301, 97, 45), (21, 333, 47), (16, 16, 16)] {
            for ta in [false, true] { for tb in [false, true] {
                let a = (0..<(m * k)).map { _ in g.nextUniform() - 0.5 }, b = (0..<(k * n)).map { _ in g.nextUniform() - 0.5 }
                var expected = [Float](repeating: 0, count: m * n)
                BLAS.naiveGEMM(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
                               beta: 0, c: &expected, ldc: n)
                var got = [Float](repeating: 0, count: m * n)
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in got.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: ta ? m : k,
                               b: pb.baseAddress!, ldb: tb ? k : n, beta: 0, c: pc.baseAddress!, ldc: n)
                } } }
                failures += GradCheck.compare("split m=\(m) n=\(n) k=\(k) tA=\(ta) tB=\(tb)", got, expected, atol: 1e-4, rtol: 1e-4)
            } }
        }
        XCTAssertEqual(failures, [])
    }

    /// The thread choice for mid-size products: all threads first, then
    /// one, then whichever was faster, with the other tried for a short run
    /// every `retry` calls (its first call not recorded), and one slow call
    /// moving an average by a bounded step.
    func testThreadTunerFollowsTheFasterChoice() {
        typealias T = BLAS.ThreadTuner
        var t = T()
        XCTAssertEqual(t.choose(3, all: 2), 2)
        t.record(3, threads: 2, nanosecondsPerMAC: 2)
        XCTAssertEqual(t.choose(3, all: 2), 1)
        t.record(3, threads: 1, nanosecondsPerMAC: 1)
        // Calls 3 to 7 close the first run of tries; then two whole periods.
        for _ in 3..<T.run {
            let n = t.choose(3, all: 2)
            t.record(3, threads: n, nanosecondsPerMAC: n == 1 ? 1 : 2)
        }
        var uses = [0, 0]
        for _ in 0..<(2 * T.retry) {
            let n = t.choose(3, all: 2)
            uses[n == 1 ? 0 : 1] += 1
            t.record(3, threads: n, nanosecondsPerMAC: n == 1 ? 1 : 2)
        }
        XCTAssertEqual(uses[1], 2 * T.run, "all threads only in the tries")
        XCTAssertEqual(t.average[3], [1, 2])
        // All threads become faster for good: the next try finds it and keeps it.
        var switched: Int? = nil
        for i in 0..<(2 * T.retry) {
            let n = t.choose(3, all: 2)
            if n == 2, i > T.retry, switched == nil { switched = i }
            t.record(3, threads: n, nanosecondsPerMAC: n == 1 ? 1 : 0.5)
        }
        XCTAssertNotNil(switched)
        XCTAssertLessThan(t.average[3][1], t.average[3][0])
        // A single very slow call moves the average by at most half of itself.
        let before = t.average[3][1]
        _ = t.choose(3, all: 2)
        t.record(3, threads: 2, nanosecondsPerMAC: 1000)
        XCTAssertEqual(t.average[3][1], 0.8 * before + 0.2 * 1.5 * before, accuracy: 1e-12)
        XCTAssertEqual(t.average[4], [0, 0], "size classes are independent")
    }

    func testKernelReportAndChoice() {
        let info = BLAS.info
        XCTAssertFalse(info.kernel.isEmpty)
        XCTAssertFalse(info.library.isEmpty)
        XCTAssertEqual(BLAS.preferredCoreType(cpuFlags: ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd", "avx2", "fma"]), "SkylakeX")
        XCTAssertEqual(BLAS.preferredCoreType(cpuFlags: ["avx2", "fma"]), "Haswell")
        XCTAssertNil(BLAS.preferredCoreType(cpuFlags: ["sse2"]))
        if let user = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], info.library.hasPrefix("OpenBLAS") {
            // A value the user set is respected, not overridden.
            XCTAssertEqual(info.kernel.lowercased(), user.lowercased())
            XCTAssertTrue(info.choice.contains("set in the environment"))
        }
    }

    /// matmul on tensors against the naive reference, batched and broadcast.
    func testMatmulShapesAgainstNaive() throws {
        Random.seed(9)
        let a = Tensor.randn([2, 3, 5]), b = Tensor.randn([5, 4]), c = Tensor.randn([1, 4, 2])
        let ab = try a.matmul(b)
        XCTAssertEqual(ab.shape, [2, 3, 4])
        for i in 0..<2 {
            var expected = [Float](repeating: 0, count: 12)
            BLAS.naiveGEMM(transA: false, transB: false, m: 3, n: 4, k: 5, alpha: 1,
                           a: Array(a.scalars[(i * 15)..<(i * 15 + 15)]), lda: 5, b: b.scalars, ldb: 4,
                           beta: 0, c: &expected, ldc: 4)
            XCTAssertEqual(GradCheck.compare("batch \(i)", Array(ab.scalars[(i * 12)..<(i * 12 + 12)]), expected, atol: 1e-5, rtol: 1e-5), [])
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
            XCTAssertEqual("\(error)", "[matmul] cannot multiply [64, 784] by [512, 256]: inner sizes 784 and 512 differ")
        }
        XCTAssertThrowsError(try Tensor(zeros: [2, 3, 4]).matmul(Tensor(zeros: [3, 4, 5]))) { error in
            XCTAssertTrue("\(error)".contains("cannot broadcast"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor(1).matmul(Tensor(zeros: [2, 2])))
    }
}
