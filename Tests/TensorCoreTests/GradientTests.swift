import XCTest
import TensorCore
import TestSupport

/// First- and second-order finite-difference checks of every primitive and
/// composed op, over a sweep of shapes (scalar, broadcast, empty).
final class GradientTests: XCTestCase {
    typealias F = ([Tensor]) throws -> Tensor
    struct Case {
        let name: String
        let inputs: [Tensor]
        var differentiable: [Int]? = nil
        let f: F
    }

    let unaryShapes: [[Int]] = [[], [3], [2, 3], [2, 1, 3], [0], [0, 2]]
    let binaryShapes: [([Int], [Int])] = [
        ([2, 3], [2, 3]), ([2, 3], [3]), ([2, 1], [1, 3]), ([], [2, 2]), ([3, 1, 2], [2, 1]), ([0, 3], [3]),
        ([2, 2], [])
    ]

    func unaryCases() -> [Case] {
        let ops: [(String, Bool, (Tensor) throws -> Tensor)] = [
            ("neg", false, { -$0 }),
            ("exp", false, { $0.exp() }),
            ("log", true, { $0.log() }),
            ("sqrt", true, { $0.sqrt() }),
            ("abs", false, { $0.abs() }),
            ("relu", false, { $0.relu() }),
            ("leakyRelu", false, { $0.leakyRelu(0.2) }),
            ("sigmoid", false, { $0.sigmoid() }),
            ("tanh", false, { $0.tanh() }),
            ("softplus", false, { $0.softplus() }),
            ("erf", false, { $0.erf() }),
            ("clamp", false, { $0.clamp(min: -0.05, max: 2) }),
            ("pow2", false, { $0.pow(2) }),
            ("pow3", false, { $0.pow(3) }),
            ("pow0.5", true, { $0.pow(0.5) }),
            ("pow-1", true, { $0.pow(-1) }),
            ("addScalar", false, { $0 + 1.5 }),
            ("mulScalar", false, { $0 * 2.5 }),
            ("scalarDiv", true, { 1.5 / $0 })
        ]
        var cases: [Case] = []
        for (name, positive, op) in ops {
            for (k, shape) in unaryShapes.enumerated() {
                cases.append(
                    Case(
                        name: "\(name) \(shape)",
                        inputs: [GradCheck.values(shape, seed: UInt64(k + 3), positive: positive)]
                    ) {
                        try op($0[0])
                    })
            }
        }
        return cases
    }

    func binaryCases() -> [Case] {
        let ops: [(String, (Tensor, Tensor) throws -> Tensor)] = [
            ("add", { try $0 + $1 }),
            ("sub", { try $0 - $1 }),
            ("mul", { try $0 * $1 }),
            ("div", { try $0 / ($1.abs() + 0.5) }),
            ("where", { try Tensor.where($0.greater(Tensor(0)), $0, $1) })
        ]
        var cases: [Case] = []
        for (name, op) in ops {
            for (k, (sa, sb)) in binaryShapes.enumerated() {
                let a = GradCheck.values(sa, seed: UInt64(2 * k + 1)), b = GradCheck.values(sb, seed: UInt64(2 * k + 2))
                cases.append(Case(name: "\(name) \(sa) \(sb)", inputs: [a, b]) { try op($0[0], $0[1]) })
            }
        }
        // maximum and minimum have a kink at ties: operands on offset grids
        // (multiples of 0.1 against multiples of 0.1 plus 0.05) never tie.
        for (k, (sa, sb)) in binaryShapes.enumerated() {
            let a = grid(sa, seed: UInt64(k + 40), offset: 0), b = grid(sb, seed: UInt64(k + 50), offset: 0.05)
            cases.append(Case(name: "maximum \(sa) \(sb)", inputs: [a, b]) { try $0[0].maximum($0[1]) })
            cases.append(Case(name: "minimum \(sa) \(sb)", inputs: [a, b]) { try $0[0].minimum($0[1]) })
        }
        return cases
    }

    func grid(_ shape: [Int], seed: UInt64, offset: Float) -> Tensor {
        var g = RandomGenerator(seed: seed)
        let n = shape.reduce(1, *)
        return Tensor((0..<n).map { _ in Float(g.nextInt(below: 21) - 10) * 0.1 + offset }, shape: shape)
    }

    func structuralCases() -> [Case] {
        let x23 = GradCheck.values([2, 3], seed: 5)
        let x234 = GradCheck.values([2, 3, 4], seed: 6)
        let distinct = Tensor((0..<24).map { Float(($0 * 7) % 24) * 0.1 - 1.1 }, shape: [2, 3, 4])
        let v = GradCheck.values
        return [
            Case(name: "sum all", inputs: [x234]) { try $0[0].sum(axes: nil) },
            Case(name: "sum axis 1", inputs: [x234]) { try $0[0].sum(axes: [1]) },
            Case(name: "sum axes 0,2 keepDims", inputs: [x234]) { try $0[0].sum(axes: [0, 2], keepDims: true) },
            Case(name: "mean axis -1", inputs: [x234]) { try $0[0].mean(axes: [-1]) },
            Case(name: "max axis 2", inputs: [distinct]) { try $0[0].max(axes: [2]) },
            Case(name: "max axes 0,1", inputs: [distinct]) { try $0[0].max(axes: [0, 1], keepDims: true) },
            Case(name: "min all", inputs: [distinct]) { try $0[0].min() },
            Case(name: "variance axis 1", inputs: [x234]) { try $0[0].variance(axes: [1]) },
            Case(name: "std", inputs: [x234]) { try $0[0].std() },
            Case(name: "logSumExp axis 1", inputs: [x234]) { try $0[0].logSumExp(axes: [1]) },
            Case(name: "softmax last", inputs: [x234]) { try $0[0].softmax(axis: -1) },
            Case(name: "softmax axis 1", inputs: [x234]) { try $0[0].softmax(axis: 1) },
            Case(name: "logSoftmax last", inputs: [x234]) { try $0[0].logSoftmax() },
            Case(name: "logSoftmax axis 0", inputs: [x234]) { try $0[0].logSoftmax(axis: 0) },
            Case(name: "reshape", inputs: [x234]) { try $0[0].reshaped(to: [4, -1]).pow(2) },
            Case(name: "permute", inputs: [x234]) { try $0[0].permuted([2, 0, 1]).pow(2) },
            Case(name: "transpose", inputs: [x23]) { try $0[0].transposed().pow(2) },
            Case(name: "broadcast", inputs: [v([3, 1], 0.1, 1, 9, false)]) {
                try $0[0].broadcast(to: [2, 3, 4]).pow(2)
            },
            Case(name: "sumTo", inputs: [x234]) { try $0[0].pow(2).sumTo([3, 1]) },
            Case(name: "concat axis 1", inputs: [x23, v([2, 2], 0.1, 1, 4, false)]) {
                try Tensor.concat($0, axis: 1).pow(2)
            },
            Case(name: "stack", inputs: [x23, v([2, 3], 0.1, 1, 8, false)]) { try Tensor.stack($0).pow(2) },
            Case(name: "slice", inputs: [x234]) { try $0[0].slice(axis: 2, start: 1, end: 3).pow(2) },
            Case(name: "pad", inputs: [x23]) { try $0[0].padded(axis: 0, before: 1, after: 2).pow(2) },
            Case(
                name: "gatherRows", inputs: [v([4, 3], 0.1, 1, 10, false), Tensor([3, 0, 3, 1], shape: [2, 2])],
                differentiable: [0]
            ) { try $0[0].gatherRows($0[1]).pow(2) },
            Case(
                name: "scatterAddRows", inputs: [v([3, 2], 0.1, 1, 12, false), Tensor([2, 0, 2])],
                differentiable: [0]
            ) { try $0[0].scatterAddRows($0[1], rows: 4).pow(2) },
            Case(name: "matmul NN", inputs: [v([3, 4], 0.1, 1, 1, false), v([4, 2], 0.1, 1, 2, false)]) {
                try $0[0].matmul($0[1])
            },
            Case(name: "matmul NT", inputs: [v([3, 4], 0.1, 1, 1, false), v([2, 4], 0.1, 1, 2, false)]) {
                try $0[0].matmul($0[1], transposeB: true)
            },
            Case(name: "matmul TN", inputs: [v([4, 3], 0.1, 1, 1, false), v([4, 2], 0.1, 1, 2, false)]) {
                try $0[0].matmul($0[1], transposeA: true)
            },
            Case(name: "matmul TT", inputs: [v([4, 3], 0.1, 1, 1, false), v([2, 4], 0.1, 1, 2, false)]) {
                try $0[0].matmul($0[1], transposeA: true, transposeB: true)
            },
            Case(name: "matmul batched", inputs: [v([2, 3, 4], 0.1, 1, 1, false), v([2, 4, 2], 0.1, 1, 2, false)]) {
                try $0[0].matmul($0[1])
            },
            Case(
                name: "matmul batch broadcast", inputs: [v([1, 3, 4], 0.1, 1, 1, false), v([2, 4, 2], 0.1, 1, 2, false)]
            ) { try $0[0].matmul($0[1]) },
            Case(
                name: "matmul folded [B,M,K]·[K,N]",
                inputs: [v([2, 3, 4], 0.1, 1, 1, false), v([4, 2], 0.1, 1, 2, false)]
            ) { try $0[0].matmul($0[1]) },
            Case(name: "matmul vector", inputs: [v([4], 0.1, 1, 1, false), v([4, 2], 0.1, 1, 2, false)]) {
                try $0[0].matmul($0[1])
            },
            Case(name: "matmul dot", inputs: [v([4], 0.1, 1, 1, false), v([4], 0.1, 1, 2, false)]) {
                try $0[0].matmul($0[1])
            },
            Case(name: "matmul empty inner", inputs: [v([3, 0], 0.1, 1, 1, false), v([0, 2], 0.1, 1, 2, false)]) {
                try $0[0].matmul($0[1])
            },
            Case(
                name: "linear with bias",
                inputs: [v([3, 4], 0.1, 1, 1, false), v([2, 4], 0.1, 1, 2, false), v([2], 0.1, 1, 3, false)]
            ) {
                try $0[0].linear(weight: $0[1], bias: $0[2]).tanh()
            },
            Case(name: "linear without bias", inputs: [v([3, 4], 0.1, 1, 4, false), v([2, 4], 0.1, 1, 5, false)]) {
                try $0[0].linear(weight: $0[1], bias: nil).tanh()
            },
            Case(
                name: "linear [B,M,in]",
                inputs: [v([2, 3, 4], 0.1, 1, 6, false), v([2, 4], 0.1, 1, 7, false), v([2], 0.1, 1, 8, false)]
            ) {
                try $0[0].linear(weight: $0[1], bias: $0[2]).tanh()
            },
            Case(
                name: "linear vector",
                inputs: [v([4], 0.1, 1, 9, false), v([3, 4], 0.1, 1, 10, false), v([3], 0.1, 1, 11, false)]
            ) {
                try $0[0].linear(weight: $0[1], bias: $0[2]).tanh()
            },
            Case(
                name: "linear + relu, fused",
                inputs: [v([3, 4], 0.1, 1, 12, false), v([5, 4], 0.1, 1, 13, false), v([5], 0.1, 1, 14, false)]
            ) {
                try $0[0].linear(weight: $0[1], bias: $0[2], activationSlope: 0).pow(2)
            },
            Case(
                name: "linear + leaky relu, fused, [B,M,in], no bias",
                inputs: [v([2, 3, 4], 0.1, 1, 15, false), v([5, 4], 0.1, 1, 16, false)]
            ) {
                try $0[0].linear(weight: $0[1], bias: nil, activationSlope: 0.2).pow(2)
            },
            Case(name: "matmul then tanh", inputs: [v([3, 4], 0.1, 1, 1, false), v([4, 2], 0.1, 1, 2, false)]) {
                try $0[0].matmul($0[1]).tanh()
            }
        ]
    }

    func nnCases() -> [Case] {
        let v = GradCheck.values
        let img = v([2, 2, 5, 5], 0.1, 1, 21, false)
        return [
            Case(name: "im2col k3 s1 p1", inputs: [v([1, 2, 4, 4], 0.1, 1, 3, false)]) {
                try $0[0].im2col(ConvGeometry(kernel: 3, stride: 1, padding: 1)).pow(2)
            },
            Case(name: "col2im k2 s2", inputs: [v([4, 8], 0.1, 1, 3, false)]) {
                try $0[0].col2im(batch: 1, channels: 2, height: 4, width: 4, ConvGeometry(kernel: 2, stride: 2)).pow(2)
            },
            Case(
                name: "conv2d k3 s1 p1", inputs: [img, v([3, 2, 3, 3], 0.1, 0.5, 22, false), v([3], 0.1, 1, 23, false)]
            ) {
                try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 1, padding: 1).tanh()
            },
            Case(name: "conv2d k4 s2 p1", inputs: [img, v([2, 2, 4, 4], 0.1, 0.5, 24, false)]) {
                try $0[0].conv2d(weight: $0[1], stride: 2, padding: 1).tanh()
            },
            Case(
                name: "convTranspose2d k4 s2 p1",
                inputs: [
                    v([2, 3, 3, 3], 0.1, 1, 25, false), v([3, 2, 4, 4], 0.1, 0.5, 26, false), v([2], 0.1, 1, 27, false)
                ]
            ) {
                try $0[0].convTranspose2d(weight: $0[1], bias: $0[2], stride: 2, padding: 1).tanh()
            },
            Case(
                name: "convTranspose2d k3 s2 op1",
                inputs: [v([1, 2, 3, 3], 0.1, 1, 28, false), v([2, 1, 3, 3], 0.1, 0.5, 29, false)]
            ) {
                try $0[0].convTranspose2d(weight: $0[1], stride: 2, padding: 1, outputPadding: 1).tanh()
            },
            Case(
                name: "batchNorm 1d",
                inputs: [v([5, 3], 0.1, 1, 30, false), v([3], 0.5, 1.5, 31, true), v([3], 0.1, 1, 32, false)]
            ) {
                try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: nil, runningVar: nil, training: true)
            },
            Case(
                name: "batchNorm 2d",
                inputs: [v([2, 2, 3, 3], 0.1, 1, 33, false), v([2], 0.5, 1.5, 34, true), v([2], 0.1, 1, 35, false)]
            ) {
                try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: nil, runningVar: nil, training: true)
            },
            Case(
                name: "batchNorm 2d, 35 pixels (vector lanes and a tail)",
                inputs: [v([2, 2, 5, 7], 0.1, 1, 39, false), v([2], 0.5, 1.5, 40, true), v([2], 0.1, 1, 41, false)]
            ) {
                try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: nil, runningVar: nil, training: true)
                    .tanh()
            },
            Case(
                name: "layerNorm",
                inputs: [v([3, 4], 0.1, 1, 36, false), v([4], 0.5, 1.5, 37, true), v([4], 0.1, 1, 38, false)]
            ) {
                try $0[0].layerNorm(weight: $0[1], bias: $0[2])
            },
            Case(
                name: "bceWithLogits", inputs: [v([4, 1], 0.1, 3, 39, false), Tensor([1, 0, 1, 0.9], shape: [4, 1])],
                differentiable: [0]
            ) {
                try $0[0].binaryCrossEntropy(withLogitsTargets: $0[1])
            },
            Case(name: "mse", inputs: [v([3, 2], 0.1, 1, 40, false), v([3, 2], 0.1, 1, 41, false)]) {
                try $0[0].mseLoss($0[1])
            },
            Case(name: "crossEntropy", inputs: [v([3, 4], 0.1, 2, 42, false), Tensor([0, 3, 1])], differentiable: [0]) {
                try $0[0].crossEntropy(classes: $0[1])
            }
        ]
    }

    func run(_ cases: [Case], secondOrder: Bool) {
        var failures: [String] = []
        for c in cases {
            failures += GradCheck.first(c.name, c.inputs, differentiable: c.differentiable, c.f)
            if secondOrder {
                failures += GradCheck.second(c.name, c.inputs, differentiable: c.differentiable, c.f)
            }
        }
        XCTAssertEqual(failures, [], "\(failures.count) gradient mismatches")
    }

    func testUnaryOps() { run(unaryCases(), secondOrder: true) }
    func testBinaryOpsWithBroadcasting() { run(binaryCases(), secondOrder: true) }
    func testReductionsShapesAndMatmul() { run(structuralCases(), secondOrder: true) }
    func testConvolutionsNormsAndLosses() { run(nnCases(), secondOrder: true) }

    /// The checker itself must catch a wrong gradient.
    func testCheckerRejectsAWrongGradient() {
        let x = GradCheck.values([3], seed: 1)
        // d/dx of x·x computed through a detached copy is wrong (half the true value).
        let failures = GradCheck.first("wrong", [x]) { xs in try xs[0] * xs[0].detached() }
        XCTAssertFalse(failures.isEmpty)
    }
}
