import XCTest
import Foundation
import TensorCore
import GANKit

final class VAETests: XCTestCase {
    /// Points at (2, 0) with σ 1e-6: every batch is one point, by hand.
    func onePoint() throws -> DataSource {
        try GaussianMixture.ring(modes: 1, radius: 2, std: 1e-6).dataset(name: "point")
    }

    func makeVAE(
        encoder: String = "input 2 | linear 2", decoder: String = "noise 1 | linear 2", data: DataSource? = nil,
        beta: Float = 1, lr: Float = 0, batch: Int = 4
    ) throws -> Trainer {
        let gan = try VAE(
            encoder: Network.parse(encoder), decoder: Network.parse(decoder), data: try data ?? onePoint())
        var o = TrainingOptions(); o.batchSize = batch; o.beta = beta
        return try Trainer(
            model: gan, options: o, optimizerG: SGD(gan.generatorParameters, lr: lr),
            optimizerD: SGD(gan.partnerParameters, lr: lr))
    }

    /// With the encoder's log-variance at −40, z is its mean, so the loss is
    /// known: ‖w·μ + b − x‖² + β·½(μ² + e⁻⁴⁰ + 40 − 1).
    func testLossAgainstHandComputedValue() throws {
        Random.seed(1)
        let t = try makeVAE(beta: 0.5)
        let e = t.model.partner, g = t.model.generator
        e.tensor(named: "0.weight")!.assign(Tensor([0, 0, 0, 0], shape: [2, 2]))
        e.tensor(named: "0.bias")!.assign(Tensor([0.7, -40]))  // μ = 0.7, log σ² = −40
        g.tensor(named: "0.weight")!.assign(Tensor([2, -1], shape: [2, 1]))
        g.tensor(named: "0.bias")!.assign(Tensor([0.5, 0.25]))  // G(0.7) = (1.9, −0.45)
        let s = try t.step()[0]
        let recon: Float = (1.9 - 2) * (1.9 - 2) + 0.45 * 0.45
        let kl: Float = 0.5 * (0.49 + 39)
        XCTAssertEqual(s.reconstruction!, recon, accuracy: 1e-4)
        XCTAssertEqual(s.kl!, kl, accuracy: 1e-4)
        XCTAssertEqual(s.gLoss!, recon + 0.5 * kl, accuracy: 1e-4)
        XCTAssertNil(s.dLoss)
        XCTAssertEqual(t.gStepCount, 1)
        XCTAssertEqual(s.encoderGradientNorms?.count, 1)
    }

    /// The gradients a VAE step applies equal finite differences of its loss
    /// (the same batch and ε each time: the generator is seeded before each).
    func testGradientsMatchFiniteDifferences() throws {
        Random.seed(5)
        let base = try makeVAE(
            encoder: "input 2 | linear 4 | tanh | linear 4", decoder: "noise 2 | linear 3 | tanh | linear 2",
            data: try GaussianMixture.ring().dataset(name: "ring8"), beta: 0.7)
        let weights = (base.model.partner.stateDict + base.model.generator.stateDict).map {
            ($0.name, $0.tensor.copy())
        }
        let encoderNames = Set(base.model.partner.stateDict.map(\.name))
        func run(_ change: ((Trainer) -> Void)? = nil) throws -> (Float, Trainer) {
            let t = try makeVAE(
                encoder: "input 2 | linear 4 | tanh | linear 4", decoder: "noise 2 | linear 3 | tanh | linear 2",
                data: try GaussianMixture.ring().dataset(name: "ring8"), beta: 0.7)
            for (k, (name, w)) in weights.enumerated() {
                let net = k < encoderNames.count ? t.model.partner : t.model.generator
                net.tensor(named: name)!.assign(w)
            }
            change?(t)
            Random.seed(99)
            return (try t.step()[0].gLoss!, t)
        }
        let (_, analytic) = try run()
        var checked = 0
        for (k, (name, _)) in weights.enumerated() {
            let inEncoder = k < encoderNames.count
            let p = (inEncoder ? analytic.model.partner : analytic.model.generator).tensor(named: name)!
            let grad = p.grad!.scalars
            for i in 0..<min(3, p.count) {
                let h: Float = 1e-2
                func nudged(_ d: Float) throws -> Float {
                    try run { t in
                        let q = (inEncoder ? t.model.partner : t.model.generator).tensor(named: name)!
                        q.withUnsafeMutableBufferPointer { $0[i] += d }
                    }.0
                }
                let numeric = (try nudged(h) - nudged(-h)) / (2 * h)
                XCTAssertEqual(
                    grad[i], numeric, accuracy: 2e-2 * max(1, abs(numeric)), "\(inEncoder ? "E" : "G").\(name)[\(i)]")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 10)
    }

    func testAssemblyChecksShapesAndSteps() throws {
        let data = try GaussianMixture.ring().dataset(name: "ring8")
        XCTAssertThrowsError(
            try VAE(
                encoder: Network.parse("input 2 | linear 3"), decoder: Network.parse("noise 3 | linear 2"), data: data)
        ) { e in
            XCTAssertTrue("\(e)".contains("output [6]") && "\(e)".contains("linear 6"), "\(e)")
        }
        XCTAssertThrowsError(
            try VAE.assemble(
                generator: Network.parse("noise 3 | linear 2"), partner: Network.parse("input 2 | linear 6"),
                data: data, noise: .uniform, conditioning: nil)
        ) { e in
            XCTAssertTrue("\(e)".contains("standard normal"), "\(e)")
        }
        let gan = try GAN(
            generator: Network.parse("noise 3 | linear 2"), discriminator: Network.parse("input 2 | linear 1"),
            data: data)
        XCTAssertThrowsError(try gan.reconstruct(Tensor.randn([4, 2]))) {
            XCTAssertTrue("\($0)".contains("no encoder"), "\($0)")
        }
        let t = try makeVAE()
        let vae = try XCTUnwrap(t.model as? VAE)
        let (mean, logVariance) = try vae.encode(Tensor.randn([5, 2]))
        XCTAssertEqual(mean.shape, [5, 1]); XCTAssertEqual(logVariance.shape, [5, 1])
        let mode = t.model.partner.evaluating { t.model.partner.training }
        XCTAssertFalse(mode)
        XCTAssertTrue(t.model.partner.training, "evaluating puts the mode back")
        XCTAssertThrowsError(try t.discriminatorStep()) {
            XCTAssertTrue("\($0)".contains("no discriminator step"), "\($0)")
        }
        XCTAssertThrowsError(try t.generatorStep()) { XCTAssertTrue("\($0)".contains("no generator step"), "\($0)") }
        XCTAssertEqual(try t.step().count, 1)
    }

    /// Adam on the ring: the reconstruction error falls well below its start.
    func testVAELearnsToReconstruct() throws {
        Random.seed(3)
        let gan = try VAE(
            encoder: Network.parse("input 2 | linear 64 | relu | linear 4"),
            decoder: Network.parse("noise 2 | linear 64 | relu | linear 2"),
            data: try GaussianMixture.ring().dataset(name: "ring8"))
        var o = TrainingOptions(); o.batchSize = 128; o.beta = 0.1
        let t = try Trainer(
            model: gan, options: o, optimizerG: Adam(gan.generatorParameters, lr: 3e-3),
            optimizerD: Adam(gan.partnerParameters, lr: 3e-3))
        try t.train(steps: 600)
        let first = t.history.prefix(20).compactMap(\.reconstruction).reduce(0, +) / 20
        let last = t.history.suffix(20).compactMap(\.reconstruction).reduce(0, +) / 20
        XCTAssertLessThan(last, first / 5, "reconstruction error \(first) → \(last)")
    }

    /// A VAE checkpoint comes back as a VAE, with β and the history's terms.
    func testCheckpointKeepsTheModel() throws {
        Random.seed(4)
        let t = try makeVAE(beta: 0.25, lr: 0.01)
        try t.train(steps: 3)
        let back = try Trainer.restore(from: t.archive(), source: "memory", data: try onePoint())
        XCTAssertTrue(back.model is VAE)
        XCTAssertEqual(back.options.beta, 0.25)
        XCTAssertEqual(back.history.map(\.reconstruction), t.history.map(\.reconstruction))
        XCTAssertEqual(back.history.map(\.kl), t.history.map(\.kl))
        XCTAssertEqual(back.gStepCount, 3)
        // The parts are saved as the encoder and the decoder; a checkpoint from before, with them
        // under G and D, loads to the same networks.
        let a = t.archive()
        XCTAssertNotNil(a["encoder.0.weight"])
        XCTAssertNotNil(a["decoder.0.weight"])
        XCTAssertNil(a["G.0.weight"])
        XCTAssertEqual(a.metadata["gans.encoder"], t.model.partner.text)
        var old = a
        old.tensors = a.tensors.map { name, tensor in
            (
                name.hasPrefix("encoder.")
                    ? "D." + name.dropFirst(8)
                    : name.hasPrefix("decoder.") ? "G." + name.dropFirst(8) : name, tensor
            )
        }
        for (new, before) in [("encoder", "D"), ("decoder", "G")] {
            old.metadata["gans.\(before)"] = old.metadata.removeValue(forKey: "gans.\(new)")
            old.metadata["gans.\(before).init"] = old.metadata.removeValue(forKey: "gans.\(new).init")
        }
        let fromOld = try Trainer.restore(from: old, source: "memory", data: try onePoint())
        for ((_, x), (_, y)) in zip(fromOld.model.partner.stateDict, t.model.partner.stateDict) {
            XCTAssertEqual(x.scalars, y.scalars)
        }
        for ((_, x), (_, y)) in zip(fromOld.model.generator.stateDict, t.model.generator.stateDict) {
            XCTAssertEqual(x.scalars, y.scalars)
        }
    }
}
