import XCTest
import Foundation
import TensorCore

/// Each op on a hand-computed case.
final class ValueTests: XCTestCase {
    func assertValues(
        _ t: Tensor, _ expected: [Float], shape: [Int]? = nil, accuracy: Float = 1e-5,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        if let shape { XCTAssertEqual(t.shape, shape, file: file, line: line) }
        XCTAssertEqual(t.count, expected.count, file: file, line: line)
        for (a, b) in zip(t.scalars, expected) {
            XCTAssertEqual(a, b, accuracy: accuracy * max(1, abs(b)), file: file, line: line)
        }
    }

    let a = Tensor(rows: [[1, -2, 3], [-4, 5, -6]])

    func testArithmeticWithBroadcasting() throws {
        let row = Tensor([10, 20, 30]), col = Tensor([1, 2], shape: [2, 1])
        assertValues(try a + row, [11, 18, 33, 6, 25, 24], shape: [2, 3])
        assertValues(try a - col, [0, -3, 2, -6, 3, -8])
        assertValues(try a * col, [1, -2, 3, -8, 10, -12])
        assertValues(try a / Tensor(2), [0.5, -1, 1.5, -2, 2.5, -3])
        assertValues(try row + col, [11, 21, 31, 12, 22, 32], shape: [2, 3])
        assertValues(-a, [-1, 2, -3, 4, -5, 6])
        assertValues(a * 2 + 1, [3, -3, 7, -7, 11, -11])
        assertValues(6 / Tensor([1, 2, 3]), [6, 3, 2])
        assertValues(try a.maximum(Tensor(0)), [1, 0, 3, 0, 5, 0])
        assertValues(try a.minimum(Tensor(0)), [0, -2, 0, -4, 0, -6])
        assertValues(try Tensor.where(a.greater(Tensor(0)), a, Tensor(100)), [1, 100, 3, 100, 5, 100])
        assertValues(try a.equal(Tensor([1, 5, 3])), [1, 0, 1, 0, 1, 0])
    }

    func testUnaryFunctions() {
        let x = Tensor([-2, -0.5, 0, 0.5, 2])
        assertValues(x.relu(), [0, 0, 0, 0.5, 2])
        XCTAssertTrue(Tensor([.nan]).relu().item.isNaN, "NaN propagates, as in PyTorch")
        XCTAssertTrue(Tensor([.nan]).leakyRelu(0.1).item.isNaN)
        assertValues(x.leakyRelu(0.1), [-0.2, -0.05, 0, 0.5, 2])
        assertValues(x.abs(), [2, 0.5, 0, 0.5, 2])
        assertValues(x.clamp(min: -1, max: 1), [-1, -0.5, 0, 0.5, 1])
        assertValues(x.sigmoid(), [0.11920292, 0.37754067, 0.5, 0.62245933, 0.88079708])
        assertValues(x.tanh(), [-0.96402758, -0.46211716, 0, 0.46211716, 0.96402758])
        assertValues(x.softplus(), [0.12692801, 0.47407698, 0.69314718, 0.97407698, 2.12692801])
        assertValues(x.pow(2), [4, 0.25, 0, 0.25, 4])
        assertValues(x.erf(), [-0.99532227, -0.52049988, 0, 0.52049988, 0.99532227])
        assertValues(Tensor([1, 4, 9]).sqrt(), [1, 2, 3])
        assertValues(Tensor([0, 1]).exp(), [1, 2.7182818])
        assertValues(Tensor([1, 2.7182818]).log(), [0, 1])
        // Extreme inputs stay finite where the function is.
        assertValues(Tensor([-100, 100]).sigmoid(), [Float(3.7200760e-44 as Double), 1])
        assertValues(Tensor([-100, 100]).softplus(), [Float(3.7200760e-44 as Double), 100])
    }

    /// tanh against the exact value (in Double) on 400,001 points of
    /// [−10, 10], on ±0.625 (where its two formulas meet), and on tiny,
    /// huge and special values: within 2 ulp everywhere, odd, NaN kept.
    func testTanhIsWithinTwoUlpOfTheExactValue() {
        var xs: [Float] = (0...400_000).map { Float(-10 + Double($0) * 20 / 400_000) }
        let edge: Float = 0.625
        xs += [edge, -edge, edge.nextDown, edge.nextUp, 1e-30, -1e-30, 1e-8, 0.3, 8.99, 9, 9.01, 50, -50]
        xs += [Float.leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity]
        let y = Tensor(xs).tanh().scalars
        var worst: (ulps: Double, x: Float) = (0, 0)
        for (x, v) in zip(xs, y) {
            let exact = Foundation.tanh(Double(x))
            let ulp = Double(Float(exact).ulp)
            let ulps = Swift.abs(Double(v) - exact) / ulp
            if ulps > worst.ulps { worst = (ulps, x) }
        }
        XCTAssertLessThanOrEqual(worst.ulps, 2, "tanh(\(worst.x)) is \(worst.ulps) ulp off")
        let odd = (0...200_000).filter { y[$0] != -y[400_000 - $0] }
        XCTAssertEqual(odd.count, 0, "tanh(−x) ≠ −tanh(x) at \(odd.prefix(3).map { xs[$0] })")
        XCTAssertTrue(Tensor([.nan]).tanh().item.isNaN)
        XCTAssertEqual(Tensor([-0.0]).tanh().item.sign, .minus)
    }

    func testReductions() throws {
        assertValues(a.sum(), [-3], shape: [])
        assertValues(try a.sum(axes: [0]), [-3, 3, -3], shape: [3])
        assertValues(try a.sum(axes: [1], keepDims: true), [2, -5], shape: [2, 1])
        assertValues(try a.mean(axes: [-1]), [2.0 / 3, -5.0 / 3])
        assertValues(try a.max(axes: [1]), [3, 5])
        assertValues(try a.max(), [5], shape: [])
        assertValues(try a.min(axes: [0]), [-4, -2, -6])
        assertValues(try Tensor([1, 2, 3, 4]).variance(), [1.6666666])
        assertValues(try Tensor([1, 2, 3, 4]).variance(unbiased: false), [1.25])
        assertValues(try Tensor([1, 2, 3]).logSumExp(), [3.40760596])
        assertValues(try Tensor([1000, 1000]).logSumExp(), [1000.6931472])  // no overflow
        assertValues(try a.argmax(axis: 1), [2, 1])
        // Gradients of max split evenly between ties.
        let t = Tensor([1, 3, 3]).requiringGrad()
        try t.max().backward()
        assertValues(t.grad!, [0, 0.5, 0.5])
        // Sums over empty axes.
        assertValues(Tensor(zeros: [0, 3]).sum(), [0])
        assertValues(try Tensor(zeros: [0, 3]).sum(axes: [0]), [0, 0, 0], shape: [3])
    }

    func testSoftmaxFamily() throws {
        let x = Tensor(rows: [[1, 2, 3], [1000, 1000, 1000]])
        assertValues(try x.softmax(), [0.09003057, 0.24472847, 0.66524096, 1.0 / 3, 1.0 / 3, 1.0 / 3])
        assertValues(try x.logSoftmax(), [-2.40760596, -1.40760596, -0.40760596, -1.09861229, -1.09861229, -1.09861229])
        assertValues(
            try Tensor(rows: [[1, 2], [3, 4]]).softmax(axis: 0), [0.11920292, 0.11920292, 0.88079708, 0.88079708])
    }

    func testShapeOps() throws {
        let r = try a.reshaped(to: [3, -1])
        XCTAssertEqual(r.shape, [3, 2])
        XCTAssertTrue(r.sharesStorage(with: a))
        assertValues(try a.transposed(), [1, -4, -2, 5, 3, -6], shape: [3, 2])
        let x = Tensor.arange(24)
        let p = try x.reshaped(to: [2, 3, 4]).permuted([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        XCTAssertEqual(p[1, 1, 2], 21)  // p[i, j, k] = x[j, k, i] = 12j + 4k + i
        assertValues(
            try Tensor.concat([a, Tensor(rows: [[7, 8, 9]])], axis: 0), [1, -2, 3, -4, 5, -6, 7, 8, 9], shape: [3, 3])
        assertValues(
            try Tensor.concat([a, Tensor(rows: [[7], [8]])], axis: 1), [1, -2, 3, 7, -4, 5, -6, 8], shape: [2, 4])
        assertValues(try a.slice(axis: 1, start: 1, end: 3), [-2, 3, 5, -6], shape: [2, 2])
        assertValues(try Tensor([1, 2]).padded(axis: 0, before: 1, after: 2), [0, 1, 2, 0, 0])
        assertValues(
            try Tensor(rows: [[1, 2], [3, 4], [5, 6]]).gatherRows(Tensor([2, 0, 2])), [5, 6, 1, 2, 5, 6], shape: [3, 2])
        assertValues(
            try Tensor(rows: [[1, 1], [2, 2], [3, 3]]).scatterAddRows(Tensor([1, 0, 1]), rows: 2), [2, 2, 4, 4],
            shape: [2, 2])
        assertValues(try Tensor.oneHot(Tensor([2, 0]), classes: 3), [0, 0, 1, 1, 0, 0], shape: [2, 3])
        assertValues(try Tensor([1, 2]).reshaped(to: [2, 1]).broadcast(to: [2, 3]), [1, 1, 1, 2, 2, 2])
        assertValues(try Tensor(ones: [2, 3]).sumTo([3]), [2, 2, 2])
        assertValues(try Tensor(ones: [2, 3]).sumTo([2, 1]), [3, 3])
        assertValues(try Tensor.stack([Tensor([1, 2]), Tensor([3, 4])]), [1, 2, 3, 4], shape: [2, 2])
        assertValues(try Tensor.arange(1, 2, step: 0.25), [1, 1.25, 1.5, 1.75])
    }

    /// Every permutation of a 4-D tensor, and transposes larger than one tile,
    /// against naive index arithmetic.
    func testPermutationsAgainstNaiveIndexing() throws {
        func permutations(_ a: [Int]) -> [[Int]] {
            a.count <= 1
                ? [a] : a.indices.flatMap { i in permutations(Array(a[..<i] + a[(i + 1)...])).map { [a[i]] + $0 } }
        }
        let shape = [3, 4, 5, 2]
        let x = try Tensor.arange(0, Float(shape.reduce(1, *))).reshaped(to: shape)
        let strides = [40, 10, 2, 1]
        for p in permutations([0, 1, 2, 3]) {
            let y = try x.permuted(p)
            XCTAssertEqual(y.shape, p.map { shape[$0] })
            var expected: [Float] = []
            for a in 0..<y.shape[0] {
                for b in 0..<y.shape[1] {
                    for c in 0..<y.shape[2] {
                        for d in 0..<y.shape[3] {
                            var idx = [0, 0, 0, 0]
                            idx[p[0]] = a; idx[p[1]] = b; idx[p[2]] = c; idx[p[3]] = d
                            expected.append(Float(zip(idx, strides).reduce(0) { $0 + $1.0 * $1.1 }))
                        }
                    }
                }
            }
            XCTAssertEqual(y.scalars, expected, "permutation \(p)")
        }
        let m = try Tensor.arange(0, 70 * 45).reshaped(to: [70, 45])
        let t = try m.transposed()
        XCTAssertEqual(t[44, 69], m[69, 44])
        XCTAssertEqual(t[3, 40], m[40, 3])
        XCTAssertEqual(try t.transposed().scalars, m.scalars)
        // Batched transposes larger than a tile: NHWC → NCHW and back.
        let nhwc = try Tensor.arange(0, 3 * 7 * 6 * 37).reshaped(to: [3, 7, 6, 37])
        let nchw = try nhwc.permuted([0, 3, 1, 2])
        for (n, c, h, w) in [(0, 0, 0, 0), (2, 36, 6, 5), (1, 33, 4, 2), (2, 5, 0, 3)] {
            XCTAssertEqual(nchw[n, c, h, w], nhwc[n, h, w, c])
        }
        XCTAssertEqual(try nchw.permuted([0, 2, 3, 1]).scalars, nhwc.scalars)
    }

    func testLossesAndNorms() throws {
        // BCE with logits: −[t·log σ(x) + (1−t)·log(1 − σ(x))], stable at ±100.
        let logits = Tensor([0, 2, -100, 100]), targets = Tensor([1, 0, 0, 1])
        let expected: Float = (0.69314718 + 2.12692801 + 0 + 0) / 4
        assertValues(try logits.binaryCrossEntropy(withLogitsTargets: targets), [expected])
        assertValues(try Tensor([100]).binaryCrossEntropy(withLogitsTargets: Tensor([0])), [100])
        assertValues(try Tensor([1, 2]).mseLoss(Tensor([3, 2])), [2])
        // Cross-entropy of uniform logits over 4 classes is log 4.
        assertValues(try Tensor(zeros: [2, 4]).crossEntropy(classes: Tensor([1, 3])), [1.38629436])
        // Batch norm in training: zero mean, unit (biased) variance; running stats updated.
        let x = Tensor(rows: [[1, 10], [3, 30]])
        let rm = Tensor(zeros: [2]), rv = Tensor(ones: [2])
        let y = try x.batchNorm(weight: nil, bias: nil, runningMean: rm, runningVar: rv, training: true, epsilon: 0)
        assertValues(y, [-1, -1, 1, 1])
        assertValues(rm, [0.2, 2])  // 0.9·0 + 0.1·mean
        assertValues(rv, [0.9 + 0.1 * 2, 0.9 + 0.1 * 200])  // unbiased variances 2 and 200
        let ye = try x.batchNorm(
            weight: Tensor([2, 2]), bias: Tensor([1, 1]), runningMean: rm, runningVar: rv, training: false, epsilon: 0)
        assertValues(
            ye,
            [
                1 + 2 * 0.8 / Float(1.1).squareRoot(), 1 + 2 * 8 / Float(20.9).squareRoot(),
                1 + 2 * 2.8 / Float(1.1).squareRoot(), 1 + 2 * 28 / Float(20.9).squareRoot()
            ])
        // Per-channel statistics of images (35 pixels: vector lanes and a tail) against Double sums.
        Random.seed(9)
        let images = Tensor.randn([3, 4, 5, 7], mean: 2, std: 3)
        let m4 = Tensor(zeros: [4]), v4 = Tensor(zeros: [4])
        _ = try images.batchNorm(weight: nil, bias: nil, runningMean: m4, runningVar: v4, training: true, momentum: 1)
        for ch in 0..<4 {
            let values = (0..<3).flatMap { b in (0..<35).map { Double(images.scalars[(b * 4 + ch) * 35 + $0]) } }
            let mean = values.reduce(0, +) / 105
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 104
            XCTAssertEqual(Double(m4.scalars[ch]), mean, accuracy: 1e-5 * Swift.max(1, abs(mean)))
            XCTAssertEqual(Double(v4.scalars[ch]), variance, accuracy: 1e-5 * variance)
        }
        assertValues(try Tensor(rows: [[1, 3]]).layerNorm(epsilon: 0), [-1, 1])
        // Dropout keeps the expectation: about p zeros and survivors scaled by 1/(1−p).
        Random.seed(4)
        let d = try Tensor(ones: [10_000]).dropout(p: 0.25, training: true)
        let zeros = d.scalars.filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / 10_000, 0.25, accuracy: 0.02)
        XCTAssertTrue(d.scalars.allSatisfy { $0 == 0 || abs($0 - 4.0 / 3) < 1e-6 })
        XCTAssertTrue(try Tensor(ones: [3]).dropout(p: 0.5, training: false).scalars == [1, 1, 1])
    }

    func testLargeElementwiseOpsMatchSmallOnes() throws {
        // Above the parallel threshold the kernels split across cores: the
        // result must equal the single-core one.
        Random.seed(8)
        let n = 200_003
        let x = Tensor.randn([n]), y = Tensor.randn([n])
        let big = try (x * y + x.exp()).scalars
        let xs = x.scalars, ys = y.scalars
        for i in stride(from: 0, to: n, by: 997) {
            XCTAssertEqual(big[i], xs[i] * ys[i] + Foundation.exp(xs[i]), accuracy: 1e-5 * max(1, abs(big[i])))
        }
        let m = Tensor.randn([513, 389])
        let s = try m.sum(axes: [0]).scalars
        let ms = m.scalars
        for j in [0, 100, 388] {
            var ref: Float = 0
            for i in 0..<513 { ref += ms[i * 389 + j] }
            XCTAssertEqual(s[j], ref, accuracy: 1e-3)
        }
        let b = try m + Tensor.randn([389])
        XCTAssertEqual(b.shape, [513, 389])
    }

    func testVectorKernelsMatchNaiveLoops() throws {
        // Sizes that are not a multiple of any vector width, and values of
        // every sign (zero and NaN included), against plain scalar loops.
        Random.seed(9)
        let n = 100_003
        var xs = Tensor.randn([n]).scalars
        xs[0] = 0; xs[1] = -0.0; xs[2] = .nan; xs[3] = -.infinity
        let x = Tensor(xs), g = Tensor.randn([n])
        let gs = g.scalars
        func same(_ a: [Float], _ b: [Float], _ what: String) {
            XCTAssertEqual(a.count, b.count, what)
            let bad = zip(a, b).enumerated().first {
                !($0.element.0 == $0.element.1 || ($0.element.0.isNaN && $0.element.1.isNaN))
            }
            XCTAssertNil(
                bad, "\(what): element \(bad?.offset ?? -1) is \(bad?.element.0 ?? 0), expected \(bad?.element.1 ?? 0)")
        }
        same(x.relu().scalars, xs.map { $0 < 0 ? 0 : $0 }, "relu")
        same(x.leakyRelu(0.2).scalars, xs.map { $0 < 0 ? 0.2 * $0 : $0 }, "leaky relu")
        let xr = x.requiringGrad()
        let y = xr.leakyRelu(0.2)
        let dx = try grad(of: try (y * g).sum(), wrt: [xr])[0]
        same(dx.scalars, zip(gs, xs).map { $1 > 0 ? $0 : 0.2 * $0 }, "leaky relu backward")

        let rows = 37, cols = 1001
        let m = Tensor.randn([rows, cols]), ms = m.scalars
        var col = [Float](repeating: 0, count: cols)
        for r in 0..<rows { for c in 0..<cols { col[c] += ms[r * cols + c] } }
        same(try m.sum(axes: [0]).scalars, col, "column sums")

        // x·Wᵀ + b with the bias in the GEMM's output against a naive triple loop.
        let a = Tensor.randn([rows, 19]), w = Tensor.randn([23, 19]), bias = Tensor.randn([23])
        let out = try a.linear(weight: w, bias: bias).scalars
        let av = a.scalars, wv = w.scalars, bv = bias.scalars
        for i in 0..<rows {
            for j in 0..<23 {
                var ref = bv[j]
                for k in 0..<19 { ref += av[i * 19 + k] * wv[j * 19 + k] }
                XCTAssertEqual(out[i * 23 + j], ref, accuracy: 1e-4 * max(1, abs(ref)))
            }
        }
        XCTAssertThrowsError(try a.linear(weight: Tensor.randn([23, 18]), bias: nil))
        XCTAssertThrowsError(try a.linear(weight: w, bias: Tensor.randn([22])))
    }
}
