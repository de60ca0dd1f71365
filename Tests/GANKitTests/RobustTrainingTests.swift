import Foundation
@testable import GANKit
import TensorCore
import TestSupport
import XCTest

/// Numerics and guards that inputs from users and files reach.
final class RobustTrainingTests: XCTestCase {
    /// D with spectral norm, stepped with R1 (two forward passes, the first
    /// differentiated twice): the gradient the trainer applies equals central
    /// differences of the same loss with u and v fixed at the values each pass
    /// used, as PyTorch defines it.
    func testSpectralNormGradientsWithPenaltiesMatchFiniteDifferences() throws {
        for penalty in ["r1", "wgan-gp"] {
            Random.seed(3)
            // Square weights converge slowly under power iteration, so u and v differ from pass to pass.
            let d = try Network.parse("input 12 | sn linear 12 | leakyrelu 0.2 | sn linear 1")
            let real = Tensor.randn([5, 12]), fake = Tensor.randn([5, 12]), mix = Tensor.rand([5, 1])
            let sn = d.layers.compactMap { $0 as? SpectralNorm }
            let start = sn.map { ($0.u.copy(), $0.v.copy()) }
            func reset(_ s: [(Tensor, Tensor)]) { for (l, (u, v)) in zip(sn, s) { l.u.assign(u); l.v.assign(v) } }
            // The loss as the trainer builds it: real pass, then fake pass, then the penalty's pass.
            func loss(training: Bool, states: [[(Tensor, Tensor)]]) throws -> Tensor {
                d.training = training
                var pass = 0
                func run(_ x: Tensor) throws -> Tensor {
                    if !training { reset(states[pass]) }
                    pass += 1
                    return try d(x)
                }
                if penalty == "r1" {
                    let r = real.copy().requiringGrad()
                    let dr = try run(r), df = try run(fake)
                    let g = try grad(of: dr.sum(), wrt: [r], createGraph: true)[0]
                    return try (-dr).softplus().mean() + df.softplus().mean() + (g * g).sum(axes: [1]).mean() * 5
                }
                let dr = try run(real), df = try run(fake)
                let xhat = try (mix * real + (1 - mix) * fake).detached().requiringGrad()
                let dh = try run(xhat)
                let g = try grad(of: dh.sum(), wrt: [xhat], createGraph: true)[0]
                return try df.mean() - dr.mean() + (Trainer.safeNorm(g) - 1).pow(2).mean() * 10
            }
            reset(start)
            // Record u and v as each training pass leaves them: those are what the passes used.
            var states: [[(Tensor, Tensor)]] = []
            d.training = true
            for x in [real, fake, real] { _ = try d(x); states.append(sn.map { ($0.u.copy(), $0.v.copy()) }) }
            reset(start)
            let params = d.parameters.map(\.tensor)
            let analytic = try grad(of: try loss(training: true, states: []), wrt: params)
            var failures: [String] = []
            for (i, p) in params.enumerated() {
                let numeric = try GradCheck.numericGradient(params, i, eps: 1e-3) { _ in
                    try loss(training: false, states: states)
                }
                failures += GradCheck.compare(
                    "\(penalty) \(d.parameters[i].name)", analytic[i].scalars, numeric, atol: 2e-3, rtol: 2e-2)
                _ = p
            }
            XCTAssertEqual(failures, [], penalty)
        }
    }

    /// A sample where ∇D(x̂) = 0 (a dead ReLU region): the WGAN-GP penalty's gradient is finite, as in PyTorch.
    func testGradientPenaltyNormHasAFiniteGradientAtZero() throws {
        let g = Tensor([0, 0, 3, 4], shape: [2, 2]).requiringGrad()
        let n = try Trainer.safeNorm(g)
        XCTAssertEqual(n.scalars, [0, 5])
        let d = try grad(of: (n - 1).pow(2).sum(), wrt: [g])[0]
        XCTAssertEqual(d.scalars[0], 0); XCTAssertEqual(d.scalars[1], 0)
        XCTAssertEqual(d.scalars[2], 2 * 4 * 3 / 5, accuracy: 1e-5)  // 2(‖g‖ − 1)·g/‖g‖
        // A D that is flat around every sample: the step is taken, not refused as NaN.
        Random.seed(1)
        let dnet = try Network.parse("input 2 | linear 4 | relu | linear 1")
        dnet.tensor(named: "0.bias")!.assign(Tensor(full: -100, shape: [4]))
        let gan = try GAN(
            generator: Network.parse("noise 2 | linear 2"), discriminator: dnet,
            data: try GaussianMixture.ring().dataset(name: "ring8"))
        var o = TrainingOptions(); o.loss = .wassersteinGP; o.batchSize = 8
        let t = try Trainer(
            model: gan, options: o, optimizerG: Adam(gan.generatorParameters),
            optimizerD: Adam(gan.partnerParameters))
        let s = try t.discriminatorStep()
        XCTAssertEqual(s.penalty!, 10, accuracy: 1e-5)  // λ·(0 − 1)²
    }

    /// The guard checks what an update would do, not only the gradient: with
    /// finite gradients, a state that makes the update overflow (a momentum
    /// of 3e38, a first moment of 1e38, ε of 1e-45 on a square average that stays 0)
    /// is refused and changes nothing.
    func testUpdatesThatWouldNotBeFiniteAreRefused() throws {
        let setups: [(String, ([Tensor]) throws -> Optimizer)] = [
            (
                "sgd",
                { p in
                    let o = SGD(p, lr: 10, momentum: 0.9); o.stepCount = 1;
                    for (_, t) in o.state { t.assign(Tensor(full: 3e38, shape: t.shape)) }; return o
                }
            ),
            (
                "adam",
                { p in
                    let o = Adam(p, lr: 10);
                    for (n, t) in o.state where n.hasSuffix("exp_avg") { t.assign(Tensor(full: 1e38, shape: t.shape)) };
                    return o
                }
            ),
            (
                "rmsprop",
                { p in
                    let o = RMSprop(p, lr: 10, alpha: 1); try o.set("eps", Float.leastNonzeroMagnitude); return o
                }
            )
        ]
        for (name, make) in setups {
            Random.seed(2)
            let g = try Network.parse("noise 2 | linear 2")
            let d = try Network.parse("input 2 | linear 1")
            let gan = try GAN(generator: g, discriminator: d, data: try GaussianMixture.ring().dataset(name: "ring8"))
            var o = TrainingOptions(); o.batchSize = 4
            let t = try Trainer(
                model: gan, options: o, optimizerG: make(gan.generatorParameters),
                optimizerD: make(gan.partnerParameters))
            let before = (g.stateDict + d.stateDict).map { $0.tensor.scalars }
            let state = (t.optimizerD.state + t.optimizerG.state).map { $0.tensor.scalars }
            let steps = t.optimizerD.stepCount
            XCTAssertThrowsError(try t.discriminatorStep(), name) { e in
                XCTAssertTrue(
                    "\(e)".contains("the optimizer's update of D.0.weight (linear 1) would not be finite"),
                    "\(name): \(e)")
            }
            XCTAssertEqual((g.stateDict + d.stateDict).map { $0.tensor.scalars }, before, name)
            XCTAssertEqual((t.optimizerD.state + t.optimizerG.state).map { $0.tensor.scalars }, state, name)
            XCTAssertEqual(t.optimizerD.stepCount, steps, name)
            XCTAssertEqual(t.dStepCount, 0, name)
        }
        // eps = 0 lets Adam divide 0 by 0: it is refused where it is set.
        XCTAssertThrowsError(try Adam([]).set("eps", 0)) {
            XCTAssertTrue("\($0)".contains("eps must be above 0"), "\($0)")
        }
        XCTAssertThrowsError(try RMSprop([]).set("eps", 0))
        XCTAssertNoThrow(try Adam([]).set("eps", 1e-12))
    }
}
