import Foundation
import TensorCore
import TestSupport
import XCTest

@testable import GANKit

/// What `export torch` promises without PyTorch at hand: the gradient check holds the gradients
/// gans really applies, and a checkpoint as train.py writes it (checkpoint.py) continues in gans.
final class TorchExportTests: XCTestCase {
    func makeTrainer(loss: GANLoss, conditional: Bool = false) throws -> Trainer {
        Random.seed(11)
        let data: DataSource
        let g: Network, d: Network
        if conditional {
            let x = Tensor.randn([64, 3])
            let y = Tensor((0..<64).map { Float($0 % 4) })
            data = try TensorDataset(name: "blobs", samples: x, labels: y, classCount: 4)
            g = try Network.parse("noise 6 | linear 16 | relu | linear 3")
            d = try Network.parse("input 5 | sn linear 16 | leakyrelu 0.2 | linear 1")
        } else {
            data = try GaussianMixture.ring(modes: 8, radius: 2, std: 0.05).dataset(name: "ring8")
            g = try Network.parse("noise 4 | linear 16 | relu | linear 2")
            d = try Network.parse("input 2 | linear 16 | leakyrelu 0.2 | linear 1")
        }
        let gan = try GAN(
            generator: g, discriminator: d, data: data, conditioning: conditional ? .embedding(2) : nil)
        var o = TrainingOptions()
        o.batchSize = 16
        o.loss = loss
        return try Trainer(
            model: gan, options: o, optimizerG: SGD(gan.generatorParameters, lr: 0.1),
            optimizerD: SGD(gan.partnerParameters, lr: 0.1))
    }

    /// Plain SGD with lr 0.1 moves each parameter by −0.1 × its gradient: the D step and the G step
    /// taken on the check's own batch and noise move the weights by the gradients it wrote.
    func testGradientCheckHoldsTheGradientsAStepApplies() throws {
        for (loss, conditional) in [(GANLoss.nonSaturating, false), (.wassersteinGP, false), (.hinge, true)] {
            let t = try makeTrainer(loss: loss, conditional: conditional)
            _ = try t.train(steps: 3)
            let before = Random.global, cursor = t.model.data.cursor
            let check = try t.gradientCheck()
            XCTAssertEqual(Random.global.state.words, before.state.words, "the check moved the random stream")
            XCTAssertEqual(t.model.data.cursor, cursor, "the check moved the data")
            let d0 = t.model.partnerParameters.map { $0.copy() }
            // discriminatorStep draws the batch, the noise and the interpolation as the check did.
            try t.discriminatorStep()
            let names =
                t.model.partner.parameters.map { "grad.discriminator.\($0.name)" }
                + (conditional ? ["grad.discriminator_labels.weight"] : [])
            for (i, (p, name)) in zip(t.model.partnerParameters, names).enumerated() {
                let g = try XCTUnwrap(check[name], name)
                let step = try (d0[i] - p) * 10
                assertClose(step, g, "\(loss) \(name)")
            }
            // The G step on the check's noise and labels, with D back at its weights.
            for (p, saved) in zip(t.model.partnerParameters, d0) { p.assign(saved) }
            let g0 = t.model.generatorParameters.map { $0.copy() }
            let z = try XCTUnwrap(check["z"])
            let fake = try t.model.generate(z, labels: check["labels"])
            _ = try t.generatorStep(try XCTUnwrap(t.model as? GAN), fake: fake, labels: check["labels"])
            let gNames =
                t.model.generator.parameters.map { "grad.generator.\($0.name)" }
                + (conditional ? ["grad.generator_labels.weight"] : [])
            for (i, (p, name)) in zip(t.model.generatorParameters, gNames).enumerated() {
                assertClose(try (g0[i] - p) * 10, try XCTUnwrap(check[name], name), "\(loss) \(name)")
            }
            XCTAssertNotNil(check["loss.discriminator"])
            XCTAssertEqual(check["mix"] != nil, loss == .wassersteinGP)
        }
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        let scale = max(b.scalars.map(abs).max() ?? 0, 1e-6)
        let diff = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(diff / scale, 1e-3, what, file: file, line: line)
    }

    /// checkpoint.py writes the checkpoint it started from with new weights and counters, no data
    /// order, and rows appended to the history (no per-layer norms): gans continues from it.
    func testACheckpointAsTrainPyWritesItContinues() throws {
        let t = try makeTrainer(loss: .nonSaturating)
        _ = try t.train(steps: 4)
        var a = t.archive()
        a.tensors = a.tensors.filter { $0.name != "data.order" }
        let rows = 2
        for (i, (name, tensor)) in a.tensors.enumerated() where name.hasPrefix("history.") {
            let extra: [Float]
            switch name {
            case "history.grad_norm_layers", "history.grad_norms": continue
            case "history.grad_norm_counts": extra = [0, 0]
            case "history.part": extra = [0, 1]
            case "history.number": extra = [5, 5]
            case "history.epoch", "history.seconds": extra = [0, 0]
            case "history.d_loss": extra = [1.25, .nan]
            case "history.g_loss": extra = [.nan, 0.75]
            default: extra = [Float](repeating: .nan, count: rows)
            }
            a.tensors[i].tensor = Tensor(tensor.scalars + extra)
        }
        a.metadata["gans.counters"] = "d=5 g=5 epoch=0 batches=5 optG=5 optD=5 position=0"
        let back = try Trainer.restore(from: a, source: "out/checkpoint.safetensors", data: t.model.data)
        XCTAssertEqual(back.gStepCount, 5)
        XCTAssertEqual(back.history.count, t.history.count + rows)
        XCTAssertEqual(back.history.last?.gLoss, 0.75)
        XCTAssertEqual(back.history.last?.step, 5)
        XCTAssertEqual(back.history[back.history.count - 2].dLoss, 1.25)
        XCTAssertEqual(try back.train(steps: 2), 2)
        XCTAssertEqual(back.gStepCount, 7)
    }
}
