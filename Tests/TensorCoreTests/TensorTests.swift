import XCTest
import TensorCore

final class TensorTests: XCTestCase {
    func testCreation() throws {
        XCTAssertEqual(Tensor(zeros: [2, 3]).scalars, [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Tensor(ones: [2]).scalars, [1, 1])
        XCTAssertEqual(Tensor(full: 7, shape: [1, 2]).scalars, [7, 7])
        XCTAssertEqual(Tensor(3).shape, [])
        XCTAssertEqual(Tensor(3).item, 3)
        XCTAssertEqual(Tensor.arange(4).scalars, [0, 1, 2, 3])
        XCTAssertEqual(Tensor(zeros: [0, 5]).count, 0)
        XCTAssertEqual(try Tensor.checked([1, 2, 3, 4], shape: [2, 2]).shape, [2, 2])
        XCTAssertThrowsError(try Tensor.checked([1, 2, 3], shape: [2, 2])) { e in
            XCTAssertEqual("\(e)", "[tensor] 3 values cannot fill shape [2, 2], which holds 4")
        }
        XCTAssertThrowsError(try Tensor.checked([], shape: [-1]))
        XCTAssertThrowsError(try Tensor.checkShape([1 << 40, 1 << 40], op: "zeros"))
        XCTAssertThrowsError(try Tensor.checkShape([1 << 20, 1 << 20], op: "zeros")) { e in
            XCTAssertTrue("\(e)".contains("more than the limit"), "\(e)")
        }
        XCTAssertThrowsError(try Tensor.arange(0, 1, step: 0))
        XCTAssertThrowsError(try Tensor.arange(0, .infinity))
        XCTAssertThrowsError(try Tensor.arange(0, 1e12))
    }

    func testRandomIsSeededAndRestorable() throws {
        Random.seed(42)
        let a = Tensor.randn([5]).scalars
        let state = Random.global.state
        let b = Tensor.rand([5]).scalars
        Random.seed(42)
        XCTAssertEqual(Tensor.randn([5]).scalars, a)
        try Random.global.restore(state)
        XCTAssertEqual(Tensor.rand([5]).scalars, b)
        // Statistics of a large draw.
        let n = Tensor.randn([100_000]).scalars
        let mean = n.reduce(0, +) / Float(n.count)
        let variance = n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(n.count)
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
        let u = Tensor.rand([100_000], low: -1, high: 3).scalars
        XCTAssertTrue(u.allSatisfy { $0 >= -1 && $0 < 3 })
        XCTAssertEqual(u.reduce(0, +) / Float(u.count), 1, accuracy: 0.03)
        XCTAssertThrowsError(try Random.global.restore(RandomGenerator.State(words: [1, 2], spareNormal: nil)))
        XCTAssertThrowsError(try Random.global.restore(RandomGenerator.State(words: [0, 0, 0, 0], spareNormal: nil)))
        // A permutation holds each index once.
        XCTAssertEqual(Random.permutation(50).sorted(), Array(0..<50))
    }

    func testPrintingLikePyTorch() throws {
        XCTAssertEqual("\(Tensor([1, 2, 3]))", "tensor([1., 2., 3.], shape=[3])")
        XCTAssertEqual(
            "\(Tensor(rows: [[0.5, -1.25], [3, 4]]))",
            "tensor([[ 0.5000, -1.2500],\n        [ 3.0000,  4.0000]], shape=[2, 2])")
        XCTAssertEqual("\(Tensor(2.5))", "tensor(2.5000, shape=[])")
        XCTAssertEqual("\(Tensor([1e-6, 1]))", "tensor([1.0000e-06, 1.0000e+00], shape=[2])")
        XCTAssertEqual("\(Tensor([.nan, 1.5]))", "tensor([   nan, 1.5000], shape=[2])")
        XCTAssertEqual("\(Tensor(zeros: [0, 2]))", "tensor([], shape=[0, 2])")
        XCTAssertEqual("\(Tensor([1, 2]).requiringGrad())", "tensor([1., 2.], shape=[2], requiresGrad=true)")
        XCTAssertEqual("\(Tensor([1, 2]).requiringGrad() * 2)", "tensor([2., 4.], shape=[2], grad_fn=mulScalar)")
        // Large tensors are abbreviated with the first and last three of each dimension.
        let big = "\(try Tensor.arange(2000).reshaped(to: [40, 50]))"
        XCTAssertTrue(big.hasPrefix("tensor([[   0.,    1.,    2., ...,   47.,   48.,   49.],\n        [  50.,"), big)
        XCTAssertTrue(big.contains("        ...,\n"), big)
        XCTAssertTrue(big.hasSuffix("1997., 1998., 1999.]], shape=[40, 50])"), big)
        XCTAssertEqual(big.split(separator: "\n").count, 7)
        let cube = "\(try Tensor.arange(8).reshaped(to: [2, 2, 2]))"
        XCTAssertEqual(
            cube, "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]], shape=[2, 2, 2])"
        )
    }

    /// Shapes from user input never trap: every mismatch throws a message
    /// naming the op and both shapes.
    func testShapeErrorsThrowWithClearMessages() {
        let x = Tensor(zeros: [2, 3])
        let cases: [(String, () throws -> Tensor)] = [
            ("[add] cannot broadcast [2, 3] with [4]", { try x + Tensor(zeros: [4]) }),
            ("[reshape] cannot reshape [2, 3] (6 elements) to [4, 2]", { try x.reshaped(to: [4, 2]) }),
            ("[reshape] only one dimension can be -1", { try x.reshaped(to: [-1, -1]) }),
            ("[sum] axis 2 is out of range for a tensor of rank 2", { try x.sum(axes: [2]) }),
            ("[permute] [0, 0] is not a permutation", { try x.permuted([0, 0]) }),
            (
                "[concat] tensor 1 has shape [2, 4] but tensor 0 has [2, 3]: only dimension 0 may differ",
                { try Tensor.concat([x, Tensor(zeros: [2, 4])]) }
            ),
            ("[slice] range 1..<5 is outside 0..<3 of axis 1", { try x.slice(axis: 1, start: 1, end: 5) }),
            ("[gather] index 7.0 at position 0 is not an integer in 0..<2", { try x.gatherRows(Tensor([7])) }),
            ("[gather] index 0.5 at position 0 is not an integer", { try x.gatherRows(Tensor([0.5])) }),
            (
                "[oneHot] index -1.0 at position 0 is not an integer in 0..<3",
                { try Tensor.oneHot(Tensor([-1]), classes: 3) }
            ),
            ("[softmax] axis 5 is out of range", { try x.softmax(axis: 5) }),
            (
                "[max] cannot take the maximum over axis 0, which has size 0",
                { try Tensor(zeros: [0, 2]).max(axes: [0]) }
            ),
            ("[transpose] needs at least 2 dimensions", { try Tensor([1]).transposed() }),
            (
                "[batchNorm] weight has shape [2], expected [3]",
                {
                    try x.batchNorm(
                        weight: Tensor([1, 1]), bias: nil, runningMean: nil, runningVar: nil, training: true)
                }
            ),
            ("[mse] target [3] does not match input [2, 3]", { try x.mseLoss(Tensor(zeros: [3])) }),
            ("[dropout] probability must be in [0, 1), found 1.5", { try x.dropout(p: 1.5, training: true) })
        ]
        for (expected, op) in cases {
            XCTAssertThrowsError(try op(), expected) { e in
                XCTAssertTrue("\(e)".hasPrefix(expected), "got: \(e)\nexpected prefix: \(expected)")
            }
        }
    }

    func testCachingAllocatorReusesBuffers() throws {
        let pool = BufferPool.shared
        // Warm up, then a repeated step with the same shapes allocates nothing new.
        for _ in 0..<3 { _ = (Tensor.randn([64, 128]) * 2 + 1).sum() }
        let misses = pool.misses
        for _ in 0..<100 { _ = (Tensor.randn([64, 128]) * 2 + 1).sum() }
        XCTAssertEqual(pool.misses, misses)
        XCTAssertGreaterThan(pool.hits, 0)
    }

    func testBufferPoolPeaksCoverWhatWasLive() {
        let pool = BufferPool.shared
        let count = 3_000_017  // a size nothing else asks for, so the pool has no buffer of it cached
        let big = Tensor(zeros: [count])
        let (live, held) = pool.peaks
        XCTAssertGreaterThanOrEqual(live, pool.bytesInUse)
        XCTAssertGreaterThanOrEqual(live, count * 4)
        XCTAssertGreaterThanOrEqual(held, live, "held counts live and cached bytes at every new allocation")
        XCTAssertEqual(big.count, count)
    }

    func testBufferPoolCountsBytesHandedOutCachedOrNot() {
        let pool = BufferPool.shared
        let count = 1_000_003
        let before = pool.bytesHandedOut
        do { _ = Tensor(zeros: [count]) }  // a new buffer, given back to the cache
        let once = pool.bytesHandedOut - before
        do { _ = Tensor(zeros: [count]) }  // the cached one again
        XCTAssertEqual(once, count * 4)
        XCTAssertEqual(pool.bytesHandedOut - before, 2 * count * 4)
    }
}
