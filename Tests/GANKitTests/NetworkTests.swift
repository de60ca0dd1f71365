import XCTest
import TensorCore
import GANKit
import TestSupport

final class NetworkTests: XCTestCase {
    func testSpecTextRoundTrips() throws {
        let texts = [
            "linear 128", "linear 10 bias=false", "conv 64 k=4 s=2 p=1", "convt 1 k=4 s=2 p=1",
            "convt 8 k=3 s=2 p=1 op=1",
            "batchnorm", "batchnorm momentum=0.2", "layernorm", "dropout 0.3", "relu", "leakyrelu 0.2", "tanh",
            "sigmoid",
            "gelu", "elu 1", "reshape 128 7 7", "flatten", "embedding 27 16", "sn linear 64", "sn conv 64 k=4 s=2 p=1",
            "softmax", "mbstd", "upsample 2", "upsample 3"
        ]
        for t in texts {
            let spec = try LayerSpec(parsing: t)
            XCTAssertEqual(spec.text, t)
            XCTAssertEqual(try LayerSpec(parsing: spec.text), spec)
        }
        XCTAssertEqual(try LayerSpec(parsing: "conv 64"), .conv2d(out: 64, kernel: 3))
        XCTAssertEqual(try LayerSpec(parsing: "LeakyReLU"), .leakyRelu(0.2))
        XCTAssertEqual(try LayerSpec(parsing: "upsample"), .upsample(2))
    }

    func testSpecErrorsSayWhatWasExpected() {
        let cases: [(String, String)] = [
            ("linaer 10", "unknown layer 'linaer'; did you mean 'linear'?"),
            ("linear", "'linear' needs an output size (e.g. linear 128)"),
            ("linear -3", "'linear' needs a positive whole number for an output size, found '-3'"),
            ("linear 3 4", "'linear' takes 1 number, found 2: 3 4"),
            ("conv 8 k=0", "option k= needs a whole number ≥ 1, found '0'"),
            ("conv 8 q=2", "'conv' has no option 'q='"),
            ("dropout 1.5", "dropout probability must be in [0, 1), found 1.5"),
            ("sn relu", "spectral norm wraps linear, conv or convt layers, not 'relu'"),
            ("", "an empty layer description")
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try LayerSpec(parsing: text), text) { XCTAssertEqual("\($0)", expected) }
        }
    }

    func testShapeInferenceAndParameterCountsMatchPyTorch() throws {
        // The reference DCGAN: PyTorch counts 552,513 parameters in G and 138,817 in D.
        let g = try Network.parse(
            "noise 64 | linear 6272 | batchnorm | relu | reshape 128 7 7 | convt 64 k=4 s=2 p=1 | batchnorm | relu | convt 1 k=4 s=2 p=1 | tanh"
        )
        let d = try Network.parse(
            "input 1 28 28 | conv 64 k=4 s=2 p=1 | leakyrelu 0.2 | conv 128 k=4 s=2 p=1 | batchnorm | leakyrelu 0.2 | flatten | linear 1"
        )
        XCTAssertEqual(g.outputShape, [1, 28, 28])
        XCTAssertEqual(g.shapes[3], [128, 7, 7])
        XCTAssertEqual(g.parameterCount, 552_513)
        XCTAssertEqual(d.parameterCount, 138_817)
        XCTAssertEqual(
            d.shapes.map { $0 }, [[64, 14, 14], [64, 14, 14], [128, 7, 7], [128, 7, 7], [128, 7, 7], [6272], [1]])
        XCTAssertEqual(g.parameters.map(\.name).prefix(4), ["0.weight", "0.bias", "1.weight", "1.bias"])
        XCTAssertEqual(g.buffers.map(\.name).prefix(2), ["1.running_mean", "1.running_var"])
        XCTAssertEqual(g.tensor(named: "4.weight")?.shape, [128, 64, 4, 4])  // ConvTranspose2d: [in, out, k, k]
        XCTAssertEqual(d.tensor(named: "0.weight")?.shape, [64, 1, 4, 4])
        XCTAssertEqual(d.summary.last?.parameters, 6273)
        let y = try d(Tensor.randn([3, 1, 28, 28]))
        XCTAssertEqual(y.shape, [3, 1])
        XCTAssertEqual(try g(Tensor.randn([2, 64])).shape, [2, 1, 28, 28])
        // The toy networks: 17,154 parameters in G (2→128→128→2).
        XCTAssertEqual(
            try Network.parse("noise 2 | linear 128 | relu | linear 128 | relu | linear 2").parameterCount, 17_154)
    }

    func testMismatchNamesTheLayerAndBothShapes() {
        XCTAssertThrowsError(try Network.parse("input 2 | linear 8 | conv 4 k=3")) { e in
            XCTAssertEqual(
                "\(e)",
                "layer 1 (conv 4 k=3 s=1 p=0) cannot take [8]: conv 4 k=3 s=1 p=0 expects [channels, height, width], found [8]"
            )
        }
        XCTAssertThrowsError(try Network.parse("input 1 4 4 | conv 2 k=5")) { e in
            XCTAssertTrue("\(e)".contains("does not fit a 4x4 input"), "\(e)")
        }
        XCTAssertThrowsError(try Network.parse("input 10 | reshape 3 3")) { e in
            XCTAssertTrue("\(e)".contains("10 values into 9"), "\(e)")
        }
        let net = try! Network.parse("input 2 | linear 4")
        XCTAssertThrowsError(try net(Tensor(zeros: [5, 3]))) { e in
            XCTAssertEqual("\(e)", "the network takes a batch of [2] samples, that is [N, 2], found [5, 3]")
        }
    }

    func testEditingReinfersShapesKeepsUnchangedWeightsAndFailsCleanly() throws {
        Random.seed(1)
        let net = try Network.parse("input 2 | linear 16 | relu | linear 1")
        let first = net.tensor(named: "0.weight")!
        try net.insert(.batchNorm(), at: 1)
        XCTAssertEqual(net.specs.map(\.text), ["linear 16", "batchnorm", "relu", "linear 1"])
        XCTAssertTrue(net.tensor(named: "0.weight")! === first, "an unchanged layer keeps its weights")
        XCTAssertEqual(net.tensor(named: "1.weight")?.shape, [16])
        try net.replace(at: 0, with: .linear(out: 32))
        XCTAssertEqual(net.shapes, [[32], [32], [32], [1]])
        XCTAssertEqual(net.tensor(named: "3.weight")?.shape, [1, 32], "a layer whose input changed is rebuilt")
        try net.remove(at: 1)
        try net.add(.sigmoid)
        XCTAssertEqual(net.text, "input 2 | linear 32 | relu | linear 1 | sigmoid")
        // A failing edit leaves the network exactly as it was.
        let before = net.text, w = net.tensor(named: "0.weight")!
        XCTAssertThrowsError(try net.insert(.conv2d(out: 3, kernel: 3), at: 1))
        XCTAssertThrowsError(try net.remove(at: 9))
        XCTAssertThrowsError(try net.insert(.relu, at: -1))
        XCTAssertEqual(net.text, before)
        XCTAssertTrue(net.tensor(named: "0.weight")! === w)
    }

    func testFusedLinearActivationsGiveTheLayersOwnValuesAndGradients() throws {
        // linear + relu and linear + leaky relu (slope ≥ 0) run fused; a
        // negative slope does not. Either way the
        // network computes what its layers do one by one.
        Random.seed(3)
        let net = try Network.parse(
            "input 3 | linear 8 | relu | linear 8 | leakyrelu 0.2 | linear 6 | leakyrelu -0.5 | linear 4 | tanh | linear 4 | relu | linear 1"
        )
        let x = Tensor.randn([5, 3])
        let fused = try net(x)
        let params = net.parameters.map(\.tensor)
        let gFused = try grad(of: fused.sum(), wrt: params)
        var h = x
        for layer in net.layers { h = try layer.forward(h, training: true) }
        let gPlain = try grad(of: h.sum(), wrt: params)
        XCTAssertEqual(fused.scalars, h.scalars)
        for (a, b) in zip(gFused, gPlain) { XCTAssertEqual(a.scalars, b.scalars) }
        XCTAssertTrue(gFused[0].scalars.contains { $0 != 0 })
    }

    func testTrainAndEvalModes() throws {
        Random.seed(2)
        let net = try Network.parse("input 4 | batchnorm | dropout 0.5")
        let x = Tensor.randn([8, 4]) * 3 + 1
        let y1 = try net(x)
        XCTAssertTrue(y1.scalars.contains(0), "dropout zeroes values in training")
        net.training = false
        let y2 = try net(x), y3 = try net(x)
        XCTAssertEqual(y2.scalars, y3.scalars, "eval mode is deterministic")
        XCTAssertFalse(y2.scalars.contains(0))
    }

    func testInitialisationSchemes() throws {
        Random.seed(3)
        let net = try Network(input: [400], layers: [.linear(out: 300)])
        let w = net.tensor(named: "0.weight")!.scalars
        XCTAssertLessThanOrEqual(w.map(abs).max()!, 1 / Float(400).squareRoot())  // U(±1/√fan_in)
        XCTAssertGreaterThan(w.map(abs).max()!, 0.9 / Float(400).squareRoot())
        let dc = try Network(input: [400], layers: [.linear(out: 300), .batchNorm()], initialization: .dcgan)
        let wd = dc.tensor(named: "0.weight")!.scalars
        let std = (wd.map { $0 * $0 }.reduce(0, +) / Float(wd.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.002)
        XCTAssertEqual(dc.tensor(named: "0.bias")!.scalars.allSatisfy { $0 == 0 }, true)
        let bn = dc.tensor(named: "1.weight")!.scalars
        XCTAssertEqual(bn.reduce(0, +) / Float(bn.count), 1, accuracy: 0.01)
    }

    /// Minibatch std against a naive loop: the appended feature is the mean
    /// over features of the population standard deviation across the batch.
    func testMinibatchStdValue() throws {
        let x = Tensor([1, 2, 3, 6, 5, 10], shape: [3, 2])
        let y = try LayerSpec(parsing: "mbstd").makeLayer(input: [2]).forward(x, training: true)
        XCTAssertEqual(y.shape, [3, 3])
        func std(_ v: [Float]) -> Float {
            let m = v.reduce(0, +) / Float(v.count)
            return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(v.count)).squareRoot()
        }
        let want = (std([1, 3, 5]) + std([2, 6, 10])) / 2
        for i in 0..<3 { XCTAssertEqual(y.scalars[i * 3 + 2], want, accuracy: 1e-4) }
        XCTAssertEqual(y.scalars[0], 1)
        XCTAssertTrue(try LayerSpec(parsing: "mbstd").makeLayer(input: [2]).mixesSamples)
        XCTAssertThrowsError(try LayerSpec(parsing: "mbstd").outputShape(for: [1, 4, 4]))
    }

    /// Upsampling repeats each pixel s × s times (a naive loop as the reference), and refuses a
    /// non-image input and a size past the limit.
    func testUpsampleRepeatsEachPixel() throws {
        let layer = try LayerSpec(parsing: "upsample 3").makeLayer(input: [2, 2, 4])
        let x = GradCheck.values([2, 2, 2, 4], seed: 3)
        let y = try layer.forward(x, training: true)
        XCTAssertEqual(y.shape, [2, 2, 6, 12])
        var want = [Float]()
        for n in 0..<2 {
            for c in 0..<2 {
                for i in 0..<6 {
                    for j in 0..<12 { want.append(x.scalars[((n * 2 + c) * 2 + i / 3) * 4 + j / 3]) }
                }
            }
        }
        XCTAssertEqual(y.scalars, want)
        XCTAssertThrowsError(try LayerSpec(parsing: "upsample 2").outputShape(for: [4])) {
            XCTAssertEqual("\($0)", "upsample 2 expects [channels, height, width], found [4]")
        }
        XCTAssertThrowsError(try LayerSpec(parsing: "upsample 16777216").outputShape(for: [1, 4096, 4096]))
        let net = try Network.parse("noise 8 | linear 64 | reshape 4 4 4 | upsample | conv 1 k=3 p=1 | tanh")
        XCTAssertEqual(net.outputShape, [1, 8, 8])
    }

    /// Each layer's gradients (input and parameters) against finite differences.
    func testLayerGradients() throws {
        let cases: [(String, [Int], [Int])] = [
            ("linear 3", [2], [4, 2]), ("conv 2 k=3 s=1 p=1", [2, 4, 4], [2, 2, 4, 4]),
            ("convt 2 k=4 s=2 p=1", [3, 2, 2], [2, 3, 2, 2]),
            ("batchnorm", [3], [5, 3]), ("batchnorm", [2, 3, 3], [3, 2, 3, 3]), ("layernorm", [4], [3, 4]),
            ("gelu", [5], [2, 5]), ("elu 1", [5], [2, 5]), ("leakyrelu 0.2", [5], [2, 5]), ("tanh", [3], [2, 3]),
            ("sigmoid", [3], [2, 3]), ("reshape 2 3", [6], [2, 6]), ("flatten", [2, 3], [2, 2, 3]),
            ("sn linear 3", [4], [2, 4]), ("sn conv 2 k=3", [1, 4, 4], [2, 1, 4, 4]),
            ("softmax", [3, 4], [2, 3, 4]), ("mbstd", [3], [4, 3]), ("upsample 2", [2, 2, 3], [2, 2, 2, 3])
        ]
        var failures: [String] = []
        for (text, input, batch) in cases {
            Random.seed(5)
            let layer = try LayerSpec(parsing: text).makeLayer(input: input)
            let x = GradCheck.values(batch, seed: 9)
            // Spectral norm's power iteration moves u on every training pass; eval keeps it fixed.
            var training = true
            if case .spectralNorm = layer.spec { training = false }
            failures += GradCheck.inPlace(text, [x] + layer.parameters.map(\.tensor)) {
                try layer.forward(x, training: training)
            }
        }
        XCTAssertEqual(failures, [])
        // Embeddings take token ids: gradient flows to the table only.
        let emb = try LayerSpec(parsing: "embedding 5 3").makeLayer(input: [4])
        let ids = Tensor([0, 3, 3, 1, 4, 0, 2, 2], shape: [2, 4])
        let table = emb.parameters[0].tensor
        XCTAssertEqual(GradCheck.first("embedding", [table]) { xs in try xs[0].gatherRows(ids) }, [])
        XCTAssertEqual(try emb.forward(ids, training: true).shape, [2, 4, 3])
    }

    /// The spectral-norm layer divides the weight by its largest singular value.
    func testSpectralNormEstimatesTheLargestSingularValue() throws {
        Random.seed(6)
        let layer = try LayerSpec(parsing: "sn linear 3").makeLayer(input: [3]) as! SpectralNorm
        let w = layer.inner.weight
        w.assign(Tensor(rows: [[3, 0, 0], [0, 2, 0], [0, 0, 1]]))
        for _ in 0..<20 { _ = try layer.forward(Tensor(zeros: [1, 3]), training: true) }
        // With W = diag(3, 2, 1), W/σ maps e₁ to e₁.
        let y = try layer.forward(Tensor(rows: [[1, 0, 0]]), training: false)
        let b = layer.inner.bias!.scalars
        XCTAssertEqual(y[0, 0] - b[0], 1, accuracy: 1e-3)
    }
}
