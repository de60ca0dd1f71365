import XCTest
import Foundation
import TensorCore
import TestSupport
import GANKit

final class CheckpointTests: XCTestCase {
    var scratch: ScratchFolder!
    var dir: String { scratch.path }
    override func setUpWithError() throws { scratch = try ScratchFolder() }
    override func tearDown() { scratch = nil }

    func testNetworkRebuildsFromTheFileAlone() throws {
        Random.seed(3)
        let net = try Network.parse(
            "input 1 8 8 | sn conv 4 k=3 s=2 p=1 | batchnorm | leakyrelu 0.2 | flatten | linear 1",
            initialization: .dcgan)
        _ = try net(Tensor.randn([4, 1, 8, 8]))  // moves running statistics and u
        let path = dir + "/d.safetensors"
        try net.save(to: path)
        let back = try Network.load(from: path)
        XCTAssertEqual(back.text, net.text)
        XCTAssertEqual(back.initialization, .dcgan)
        XCTAssertEqual(
            back.stateDict.map(\.name),
            [
                "0.weight_orig", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias",
                "0.weight_u", "0.weight_v", "1.running_mean", "1.running_var"
            ])
        for ((_, a), (_, b)) in zip(net.stateDict, back.stateDict) { XCTAssertEqual(a.scalars, b.scalars) }
        let archive = try SafeTensors.read(from: path)
        XCTAssertEqual(archive.metadata["format"], "pt")
        // A file that is not a network says so.
        try SafeTensors.write(SafeTensorsArchive(tensors: [("x", Tensor([1]))]), to: dir + "/x.safetensors")
        XCTAssertThrowsError(try Network.load(from: dir + "/x.safetensors")) {
            XCTAssertTrue("\($0)".contains("not saved as a gans network"), "\($0)")
        }
        // A tensor of the wrong shape is refused by name.
        let bad = SafeTensorsArchive(
            tensors: [("0.weight", Tensor(zeros: [3, 2])), ("0.bias", Tensor(zeros: [4]))],
            metadata: ["gans.network": "input 2 | linear 4"])
        try SafeTensors.write(bad, to: dir + "/bad.safetensors")
        XCTAssertThrowsError(try Network.load(from: dir + "/bad.safetensors")) { e in
            XCTAssertTrue("\(e)".hasSuffix("tensor 0.weight has shape [3, 2], [4, 2] is needed"), "\(e)")
        }
    }

    func makeTrainer(data: TensorDataset) throws -> Trainer {
        let g = try Network.parse("noise 4 | linear 16 | batchnorm | leakyrelu 0.2 | linear 3")
        let d = try Network.parse("input 3 | linear 16 | leakyrelu 0.2 | dropout 0.1 | linear 1")
        let gan = try GAN(generator: g, discriminator: d, data: data)
        var o = TrainingOptions()
        o.batchSize = 32
        o.labelSmoothing = 0.1
        o.instanceNoise = 0.05
        o.emaDecay = 0.9
        return try Trainer(
            model: gan, options: o, optimizerG: Adam(gan.generatorParameters, lr: 2e-3, beta1: 0.5),
            optimizerD: Adam(gan.partnerParameters, lr: 2e-3, beta1: 0.5))
    }

    /// Two epochs straight equal one epoch, save, load into fresh objects
    /// (after the global generator was disturbed), and one more epoch.
    func testResumeEqualsStraight() throws {
        Random.seed(10)
        let samples = Tensor.randn([320, 3])
        Random.seed(11)
        let straight = try makeTrainer(data: try TensorDataset(name: "points", samples: samples))
        try straight.trainEpoch()
        try straight.trainEpoch()
        XCTAssertEqual(straight.epoch, 2)
        XCTAssertEqual(straight.gStepCount, 20)

        Random.seed(11)
        let first = try makeTrainer(data: try TensorDataset(name: "points", samples: samples))
        try first.trainEpoch()
        let path = dir + "/run.safetensors"
        try first.save(to: path)
        Random.seed(12345)  // disturb everything
        let resumed = try Trainer.load(from: path, data: try TensorDataset(name: "points", samples: samples))
        XCTAssertEqual(resumed.history.count, first.history.count)
        XCTAssertEqual(resumed.options, first.options)
        try resumed.trainEpoch()

        XCTAssertEqual(resumed.gStepCount, straight.gStepCount)
        for (a, b) in zip(
            straight.model.generator.stateDict + straight.model.partner.stateDict,
            resumed.model.generator.stateDict + resumed.model.partner.stateDict)
        {
            XCTAssertEqual(a.tensor.scalars.map(\.bitPattern), b.tensor.scalars.map(\.bitPattern), a.name)
        }
        for (a, b) in zip(straight.optimizerD.state, resumed.optimizerD.state) {
            XCTAssertEqual(a.tensor.scalars, b.tensor.scalars, a.name)
        }
        XCTAssertEqual(straight.ema!.parameters[0].tensor.scalars, resumed.ema!.parameters[0].tensor.scalars)
        XCTAssertEqual(straight.history.map(\.gLoss), resumed.history.map(\.gLoss))
        XCTAssertEqual(
            straight.history.map { $0.gradientNorms.map(\.spec) }, resumed.history.map { $0.gradientNorms.map(\.spec) })
    }

    /// A training checkpoint whose contents were tampered with is refused with a message, never a trap.
    func testCorruptTrainingCheckpointsAreRefused() throws {
        Random.seed(5)
        let data = try TensorDataset(name: "points", samples: Tensor.randn([64, 3]))
        let t = try makeTrainer(data: data)
        try t.train(steps: 2)
        let path = dir + "/run.safetensors"
        try t.save(to: path)
        let good = try SafeTensors.read(from: path)
        func variant(_ change: (inout SafeTensorsArchive) -> Void) throws -> String {
            var a = good
            change(&a)
            let p = dir + "/v.safetensors"
            try SafeTensors.write(a, to: p)
            return p
        }
        func replacing(_ name: String, with t: Tensor) -> (inout SafeTensorsArchive) -> Void {
            { a in a.tensors = a.tensors.map { $0.name == name ? (name, t) : $0 } }
        }
        let cases: [(String, (inout SafeTensorsArchive) -> Void, String)] = [
            ("nan order", replacing("data.order", with: Tensor([.nan, 1])), "not sample indices"),
            ("huge order", replacing("data.order", with: Tensor([1e30])), "not sample indices"),
            ("scalar noise", replacing("fixed_noise", with: Tensor(1)), "fixed_noise"),
            (
                "nan history", replacing("history.number", with: Tensor([Float](repeating: .nan, count: 4))),
                "not step numbers"
            ),
            ("short history", replacing("history.epoch", with: Tensor([0])), "missing or short"),
            ("bad weights", replacing("G.0.weight", with: Tensor(zeros: [2, 2])), "G.0.weight has shape [2, 2]"),
            ("bad rng", { $0.metadata["gans.rng"] = "1 2" }, "malformed random state"),
            ("bad network", { $0.metadata["gans.G"] = "input 4 | linaer 3" }, "cannot be rebuilt"),
            ("bad options", { $0.metadata["gans.options"] = "loss=nope" }, "unknown loss 'nope'")
        ]
        for (name, change, expected) in cases {
            let p = try variant(change)
            XCTAssertThrowsError(try Trainer.load(from: p, data: data), name) { e in
                XCTAssertTrue("\(e)".contains(expected), "\(name): \(e)")
            }
        }
    }

    func testTrainingCheckpointRefusesOtherData() throws {
        Random.seed(4)
        let t = try makeTrainer(data: try TensorDataset(name: "points", samples: Tensor.randn([64, 3])))
        let path = dir + "/run.safetensors"
        try t.save(to: path)
        XCTAssertThrowsError(
            try Trainer.load(from: path, data: try TensorDataset(name: "other", samples: Tensor.randn([64, 3])))
        ) { e in
            XCTAssertTrue("\(e)".contains("was trained on points, not other"), "\(e)")
        }
        try t.model.generator.save(to: dir + "/g.safetensors")
        XCTAssertThrowsError(try Trainer.load(from: dir + "/g.safetensors", data: t.model.data)) { e in
            XCTAssertTrue("\(e)".contains("not a training one"), "\(e)")
        }
    }
}
