import XCTest
import Foundation
import TensorCore
import GANKit

final class TrainingTests: XCTestCase {
    func close(_ a: Float, _ b: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), what, file: file, line: line)
    }

    /// Whether the steps split across the cores or run on one changes the
    /// speed, never the numbers: the same seed gives the same bits either way,
    /// and also when the way changes from step to step.
    func testStepsGiveTheSameBitsSplitOrOnOneCore() throws {
        func trained(_ policy: SplitChooser.Policy, alternate: Bool = false) throws -> [[UInt32]] {
            Random.seed(11)
            let g = try Network.parse("noise 2 | linear 128 | relu | linear 128 | relu | linear 2")
            let d = try Network.parse("input 2 | linear 128 | relu | linear 128 | relu | linear 1")
            let gan = try GAN(generator: g, discriminator: d, data: try GaussianMixture.ring().dataset(name: "ring8"))
            var o = TrainingOptions()
            o.batchSize = 256
            let t = try Trainer(
                model: gan, options: o, optimizerG: Adam(gan.generatorParameters, lr: 1e-3, beta1: 0.5),
                optimizerD: Adam(gan.partnerParameters, lr: 1e-3, beta1: 0.5))
            t.splitChooser = SplitChooser(policy: policy)
            if alternate {
                for i in 0..<12 {
                    Parallel.solo = i % 2 == 1
                    _ = try t.step()
                }
                Parallel.solo = false
            } else {
                XCTAssertEqual(try t.train(steps: 12), 12)
            }
            let solo = t.splitChooser.soloSteps
            switch (policy, alternate, Parallel.coreCount > 1) {
            case (.never, false, true): XCTAssertEqual(solo, 12)
            case (.adaptive, false, true): XCTAssertTrue((1...11).contains(solo), "both ways tried: \(solo) solo")
            default: XCTAssertEqual(solo, 0)
            }
            return (g.stateDict + d.stateDict).map { $0.tensor.scalars.map(\.bitPattern) }
        }
        let split = try trained(.always)
        XCTAssertEqual(try trained(.never), split)
        XCTAssertEqual(try trained(.adaptive), split)
        XCTAssertEqual(try trained(.always, alternate: true), split)
        XCTAssertFalse(Parallel.solo)
    }

    /// Each loss on logits real = [2, −1], fake = [0.5, −3], computed by hand.
    func testLossesAgainstHandComputedValues() throws {
        let real = Tensor([2, -1]), fake = Tensor([0.5, -3])
        func d(_ l: GANLoss, _ t: Float = 1) throws -> (Float, Float) {
            let p = try l.discriminator(real: real, fake: fake, realTarget: t)
            return (p.real.item, p.fake.item)
        }
        // softplus(−2) = 0.126928, softplus(1) = 1.313262, softplus(0.5) = 0.974077, softplus(−3) = 0.048587
        var (r, f) = try d(.nonSaturating)
        close(r, (0.126928 + 1.313262) / 2, "BCE real"); close(f, (0.974077 + 0.048587) / 2, "BCE fake")
        (r, _) = try d(.nonSaturating, 0.9)
        close(r, ((2.126928 - 1.8) + (0.313262 + 0.9)) / 2, "smoothed real target 0.9")
        // Fake target 0.2: softplus(l) − 0.2·l = 0.974077 − 0.1 and 0.048587 + 0.6; LSGAN (l − 0.2)²/2.
        f = try GANLoss.nonSaturating.discriminator(real: real, fake: fake, fakeTarget: 0.2).fake.item
        close(f, (0.874077 + 0.648587) / 2, "smoothed fake target 0.2")
        f = try GANLoss.leastSquares.discriminator(real: real, fake: fake, fakeTarget: 0.2).fake.item
        close(f, 0.5 * (0.09 + 10.24) / 2, "LSGAN smoothed fake target 0.2")
        close(try GANLoss.nonSaturating.generator(fake: fake).item, (0.474077 + 3.048587) / 2, "non-saturating G")
        close(try GANLoss.minimax.generator(fake: fake).item, -(0.974077 + 0.048587) / 2, "minimax G")
        (r, f) = try d(.leastSquares)
        close(r, 0.5 * (1 + 4) / 2, "LSGAN real"); close(f, 0.5 * (0.25 + 9) / 2, "LSGAN fake")
        close(try GANLoss.leastSquares.generator(fake: fake).item, 0.5 * (0.25 + 16) / 2, "LSGAN G")
        (r, f) = try d(.hinge)
        close(r, (0 + 2) / 2, "hinge real"); close(f, (1.5 + 0) / 2, "hinge fake")
        close(try GANLoss.hinge.generator(fake: fake).item, 1.25, "hinge G")
        (r, f) = try d(.wasserstein)
        close(r, -0.5, "critic real"); close(f, -1.25, "critic fake")
        close(try GANLoss.wassersteinGP.generator(fake: fake).item, 1.25, "WGAN G")
    }

    /// With D(x) = w·x + b, ∇ₓD = w everywhere: for w = [3, 4] the WGAN-GP
    /// penalty is λ(‖w‖ − 1)² = 10·16 and R1 is γ/2·‖w‖² = 5·25.
    func testPenaltiesAgainstHandComputedValues() throws {
        for (loss, expected) in [(GANLoss.wassersteinGP, Float(160)), (.r1, 125)] {
            Random.seed(7)
            let d = try Network.parse("input 2 | linear 1")
            d.tensor(named: "0.weight")!.assign(Tensor([3, 4], shape: [1, 2]))
            let gan = try GAN(
                generator: Network.parse("noise 2 | linear 2"), discriminator: d,
                data: try GaussianMixture.ring().dataset(name: "ring8"))
            var o = TrainingOptions(); o.loss = loss; o.batchSize = 16
            let t = try Trainer(
                model: gan, options: o, optimizerG: SGD(gan.generatorParameters, lr: 0),
                optimizerD: SGD(gan.partnerParameters, lr: 0))
            let s = try t.discriminatorStep()
            close(s.penalty!, expected, "\(loss.rawValue) penalty")
            close(s.dLoss!, s.dLossReal! + s.dLossFake! + expected, "\(loss.rawValue) total")
        }
    }

    /// Lazy R1: with every = 3 the penalty is on D steps 1, 4, 7, … only, three times as heavy.
    func testLazyR1PenalisesEveryNthStep() throws {
        Random.seed(7)
        let d = try Network.parse("input 2 | linear 1")
        d.tensor(named: "0.weight")!.assign(Tensor([3, 4], shape: [1, 2]))
        let gan = try GAN(
            generator: Network.parse("noise 2 | linear 2"), discriminator: d,
            data: try GaussianMixture.ring().dataset(name: "ring8"))
        var o = TrainingOptions(); o.loss = .r1; o.batchSize = 16; o.r1Every = 3
        let t = try Trainer(
            model: gan, options: o, optimizerG: SGD(gan.generatorParameters, lr: 0),
            optimizerD: SGD(gan.partnerParameters, lr: 0))
        let penalties = try (0..<7).map { _ in try t.discriminatorStep().penalty }
        XCTAssertEqual(penalties.map { $0 != nil }, [true, false, false, true, false, false, true])
        for p in penalties.compactMap({ $0 }) { close(p, 3 * 125, "lazy R1 penalty") }
        XCTAssertEqual(try TrainingOptions(text: o.text).r1Every, 3)
    }

    func param(_ v: Float, grad g: Float) -> Tensor {
        let p = Tensor([v]).requiringGrad()
        p.grad = Tensor([g])
        return p
    }

    func testOptimizersAgainstHandComputedUpdates() throws {
        var p = param(1, grad: 0.5)
        let sgd = SGD([p], lr: 0.1, momentum: 0.9)
        sgd.step(); close(p.item, 0.95, "SGD momentum step 1")
        sgd.step(); close(p.item, 0.855, "SGD momentum step 2")  // b = 0.9·0.5 + 0.5
        p = param(1, grad: 0.5)
        let nest = SGD([p], lr: 0.1, momentum: 0.9, nesterov: true)
        nest.step(); close(p.item, 0.905, "Nesterov step 1")  // d = 0.5 + 0.9·0.5
        nest.step(); close(p.item, 0.7695, "Nesterov step 2")  // b = 0.95, d = 0.5 + 0.855
        p = param(1, grad: 0.5)
        SGD([p], lr: 0.1, weightDecay: 0.1).step(); close(p.item, 0.94, "SGD weight decay")
        p = param(1, grad: 0.5)
        let adam = Adam([p], lr: 0.1)
        adam.step(); close(p.item, 0.9, "Adam step 1")  // m̂ = 0.5, v̂ = 0.25
        p.grad = Tensor([-1])
        adam.step(); close(p.item, 0.936610, "Adam step 2")  // m̂ = −0.289474, v̂ = 0.625188
        XCTAssertEqual(adam.state.map(\.name), ["0.exp_avg", "0.exp_avg_sq"])
        close(adam.state[0].tensor.item, -0.055, "exp_avg")
        // Many weights at once (the vectorised loop and its tail, in two
        // chunks on two cores), with weight decay, against the formula
        // written out per weight.
        Random.seed(4)
        let count = 20_003
        let w = Tensor.randn([count]).requiringGrad()
        var ref = w.scalars, m = [Float](repeating: 0, count: count), v = m
        let many = Adam([w], lr: 0.01, beta1: 0.8, beta2: 0.99, weightDecay: 0.1)
        for t in 1...3 {
            w.grad = Tensor.randn([count])
            let g = w.grad!.scalars
            for i in 0..<count {
                let d = g[i] + 0.1 * ref[i]
                m[i] = 0.8 * m[i] + 0.2 * d
                v[i] = 0.99 * v[i] + 0.01 * d * d
                let mHat = m[i] / (1 - Foundation.pow(0.8, Float(t))),
                    vHat = v[i] / (1 - Foundation.pow(0.99, Float(t)))
                ref[i] -= 0.01 * mHat / (vHat.squareRoot() + 1e-8)
            }
            XCTAssertNil(many.firstNonFiniteUpdate())
            many.step()
        }
        let got = w.scalars
        XCTAssertLessThan(zip(got, ref).map { abs($0 - $1) }.max()!, 1e-5, "Adam on \(count) weights")
        // A gradient that is not finite near the end, then near the start, is found.
        for at in [count - 5, 3] {
            var g = [Float](repeating: 0.5, count: count)
            g[at] = .nan
            w.grad = Tensor(g)
            XCTAssertEqual(many.firstNonFiniteUpdate(), 0, "NaN at \(at)")
        }
        p = param(1, grad: 0.5)
        RMSprop([p], lr: 0.01).step(); close(p.item, 0.9, "RMSprop")  // s = 0.0025
        // Hyperparameters change between steps and are checked.
        try adam.set("lr", 0.5)
        XCTAssertEqual(adam.value(of: "lr"), 0.5)
        XCTAssertThrowsError(try adam.set("beta3", 0.5)) {
            XCTAssertTrue("\($0)".contains("did you mean 'beta1'"), "\($0)")
        }
        XCTAssertThrowsError(try adam.set("lr", -1))
        XCTAssertThrowsError(try makeOptimizer("adma", parameters: [])) {
            XCTAssertTrue("\($0)".contains("did you mean 'adam'"), "\($0)")
        }
    }

    func toyGAN(loss: GANLoss = .nonSaturating, seed: UInt64 = 0) throws -> Trainer {
        Random.seed(seed)
        let g = try Network.parse("noise 2 | linear 128 | relu | linear 128 | relu | linear 2")
        let d = try Network.parse("input 2 | linear 128 | relu | linear 128 | relu | linear 1")
        let gan = try GAN(generator: g, discriminator: d, data: try GaussianMixture.ring().dataset(name: "ring8"))
        var o = TrainingOptions()
        o.loss = loss
        o.batchSize = 256
        return try Trainer(
            model: gan, options: o, optimizerG: Adam(gan.generatorParameters, lr: 1e-3, beta1: 0.5),
            optimizerD: Adam(gan.partnerParameters, lr: 1e-3, beta1: 0.5))
    }

    func testAssemblyChecksShapes() throws {
        let data = try GaussianMixture.ring().dataset(name: "ring8")
        let d = try Network.parse("input 2 | linear 8 | relu | linear 1")
        XCTAssertThrowsError(try GAN(generator: Network.parse("noise 2 | linear 3"), discriminator: d, data: data)) {
            e in
            XCTAssertTrue("\(e)".hasPrefix("G makes samples of shape [3] but ring8 holds [2]"), "\(e)")
        }
        XCTAssertThrowsError(
            try GAN(
                generator: Network.parse("noise 4 | linear 2"), discriminator: Network.parse("input 3 | linear 1"),
                data: data)
        ) { e in
            XCTAssertTrue("\(e)".hasPrefix("D takes [3] but is fed [2]"), "\(e)")
        }
        XCTAssertThrowsError(
            try GAN(
                generator: Network.parse("noise 4 | linear 2"), discriminator: Network.parse("input 2 | linear 4"),
                data: data)
        ) { e in
            XCTAssertTrue("\(e)".hasPrefix("D must give one score per sample"), "\(e)")
        }
        XCTAssertThrowsError(
            try GAN(generator: Network.parse("noise 4 | linear 2"), discriminator: d, data: data, conditioning: .oneHot)
        ) { e in
            XCTAssertTrue("\(e)".contains("needs labelled data"), "\(e)")
        }
    }

    func testDataChecksLabelsAndMixtures() {
        XCTAssertThrowsError(try TensorDataset(name: "x", samples: Tensor(zeros: [2, 1]), labels: Tensor([0, .nan]))) {
            e in
            XCTAssertTrue("\(e)".contains("label nan of sample 1 is not a class index"), "\(e)")
        }
        XCTAssertThrowsError(try TensorDataset(name: "x", samples: Tensor(zeros: [2, 1]), labels: Tensor([-1, 0])))
        XCTAssertThrowsError(try TensorDataset(name: "x", samples: Tensor(zeros: [2, 1]), labels: Tensor([0.5, 0])))
        XCTAssertThrowsError(
            try TensorDataset(name: "x", samples: Tensor(zeros: [2, 1]), labels: Tensor([3, 0]), classCount: 2))
        XCTAssertEqual(
            try TensorDataset(name: "x", samples: Tensor(zeros: [2, 1]), labels: Tensor([3, 0])).classCount, 4)
        XCTAssertThrowsError(try TensorDataset(name: "x", samples: Tensor(zeros: [0, 1])))
        XCTAssertThrowsError(try GaussianMixture.ring(modes: 0))
        XCTAssertThrowsError(try GaussianMixture.grid(side: 0))
        XCTAssertThrowsError(try GaussianMixture.ring(std: 0))
        XCTAssertEqual(try GaussianMixture.grid().centers.count, 25)
        XCTAssertEqual(try GaussianMixture.grid().centers.first?.0, -4)
        let ring = try! GaussianMixture.ring()
        XCTAssertEqual(ring.centers[2].1, 2, accuracy: 1e-6)
        // The data itself covers every mode with high-quality samples; one mode's samples cover one.
        Random.seed(3)
        let (x, modes) = ring.sample(2500)
        let all = ring.coverage(x)
        XCTAssertEqual(all.modes, 8)
        XCTAssertEqual(Double(all.highQuality), 1 - Foundation.exp(-4.5), accuracy: 0.006)  // within 3σ in 2-D
        XCTAssertEqual(Set(modes.scalars).count, 8)
        let one = ring.coverage(
            Tensor((0..<200).flatMap { _ in [ring.centers[3].0, ring.centers[3].1] }, shape: [200, 2]))
        XCTAssertEqual(one.modes, 1)
        XCTAssertEqual(one.perMode[3], 200)
    }

    func testStepsReportStatisticsAndHistory() throws {
        let t = try toyGAN()
        let d = try t.discriminatorStep()
        XCTAssertEqual(d.part, .discriminator)
        XCTAssertNotNil(d.dLoss); XCTAssertNotNil(d.dReal); XCTAssertNotNil(d.dFake)
        XCTAssertEqual(d.dLoss!, d.dLossReal! + d.dLossFake!, accuracy: 1e-5)
        XCTAssertEqual(d.gradientNorms.map(\.layer), [0, 2, 4])
        XCTAssertTrue(d.gradientNorms.allSatisfy { $0.norm > 0 })
        let g = try t.generatorStep()
        XCTAssertEqual(g.part, .generator); XCTAssertNotNil(g.gLoss)
        let both = try t.step()
        XCTAssertEqual(both.map(\.part), [.discriminator, .generator])
        XCTAssertEqual(t.history.count, 4)
        XCTAssertEqual(t.dStepCount, 2); XCTAssertEqual(t.gStepCount, 2)
        t.options.dSteps = 3
        t.options.loss = .wassersteinGP
        let wg = try t.step()
        XCTAssertEqual(wg.map(\.part), [.discriminator, .discriminator, .discriminator, .generator])
        XCTAssertNotNil(wg[0].penalty); XCTAssertNotNil(wg[0].wasserstein)
        for loss in GANLoss.allCases {
            t.options.loss = loss
            t.options.dSteps = 1
            XCTAssertNoThrow(try t.step(), loss.rawValue)
        }
        // A parameter the user froze stays frozen and unchanged.
        let frozenWeight = t.model.generator.tensor(named: "0.weight")!
        frozenWeight.requiresGrad = false
        let before = frozenWeight.scalars
        t.options.loss = .nonSaturating
        try t.train(steps: 2)
        XCTAssertFalse(frozenWeight.requiresGrad)
        XCTAssertEqual(frozenWeight.scalars, before)
        frozenWeight.requiresGrad = true
        // Cancellation is checked between steps.
        var calls = 0
        t.shouldStop = {
            calls += 1; return calls > 3
        }
        XCTAssertEqual(try t.train(steps: 100), 3)
    }

    /// The reference toy (ring of 8, σ 0.02) trains for real. PyTorch's own
    /// runs of this configuration span 5–8 modes and 5–53% high-quality
    /// samples across seeds; an untrained G covers none.
    func testToyGANLearnsTheRing() throws {
        let t = try toyGAN(seed: 0)
        func coverage() throws -> (modes: Int, highQuality: Float, perMode: [Int]) {
            let g = t.model.generator
            g.training = false
            defer { g.training = true }
            return try GaussianMixture.ring().coverage(
                try withNoGrad { try t.model.generate(t.model.sampleNoise(2500)) })
        }
        let before = try coverage()
        XCTAssertEqual(before.modes, 0)
        try t.train(steps: 2000)
        let after = try coverage()
        XCTAssertGreaterThanOrEqual(after.modes, 5, "per mode \(after.perMode)")
        XCTAssertGreaterThan(after.highQuality, 0.05, "per mode \(after.perMode)")
    }

    /// A non-finite loss is never applied: training stops with a message and
    /// the networks and optimizer states stay as they were.
    func testNaNGuardLeavesEverythingAsItWas() throws {
        Random.seed(1)
        let bad = Tensor.randn([64, 2])
        bad[3, 1] = .nan
        let data = try TensorDataset(name: "bad", samples: bad)
        let g = try Network.parse("noise 2 | linear 8 | batchnorm | relu | linear 2")
        let d = try Network.parse("input 2 | linear 8 | batchnorm | relu | linear 1")
        let gan = try GAN(generator: g, discriminator: d, data: data)
        let t = try Trainer(
            model: gan, optimizerG: Adam(gan.generatorParameters), optimizerD: Adam(gan.partnerParameters))
        let before = (g.stateDict + d.stateDict).map { $0.tensor.scalars }
        let optBefore = (t.optimizerD.state + t.optimizerG.state).map { $0.tensor.scalars }
        XCTAssertThrowsError(try t.step()) { e in
            XCTAssertTrue(e is NonFiniteError, "\(e)")
            XCTAssertTrue("\(e)".hasPrefix("D step 1: the D loss is NaN; the step was not applied"), "\(e)")
            XCTAssertTrue("\(e)".contains("the networks are as they were before it"), "\(e)")
        }
        XCTAssertEqual(
            (g.stateDict + d.stateDict).map { $0.tensor.scalars }.map { $0.map(\.bitPattern) },
            before.map { $0.map(\.bitPattern) })
        XCTAssertEqual((t.optimizerD.state + t.optimizerG.state).map { $0.tensor.scalars }, optBefore)
        XCTAssertEqual(t.dStepCount, 0)
        XCTAssertEqual(t.optimizerD.stepCount, 0)
        XCTAssertTrue(t.history.isEmpty)
    }

    func testConditionalGANRoutesLabels() throws {
        Random.seed(2)
        let samples = Tensor.randn([40, 1, 4, 4]), labels = Tensor((0..<40).map { Float($0 % 4) })
        let data = try TensorDataset(name: "tiny", samples: samples, labels: labels)
        for cond in [Conditioning.oneHot, .embedding(3)] {
            let labelDim = cond == .oneHot ? 4 : 3
            let g = try Network.parse("noise \(6 + labelDim) | linear 16 | relu | reshape 1 4 4")
            let d = try Network.parse("input \(1 + labelDim) 4 4 | conv 4 k=3 p=1 | leakyrelu 0.2 | flatten | linear 1")
            let gan = try GAN(generator: g, discriminator: d, data: data, conditioning: cond)
            XCTAssertEqual(gan.noiseShape, [6])
            var o = TrainingOptions(); o.batchSize = 8
            let t = try Trainer(
                model: gan, options: o, optimizerG: Adam(gan.generatorParameters),
                optimizerD: Adam(gan.partnerParameters))
            try t.train(steps: 3)
            XCTAssertEqual(try t.fixedSamples().shape, [64, 1, 4, 4])
            XCTAssertEqual(t.fixedLabels?.scalars.prefix(5).map { $0 }, [0, 1, 2, 3, 0])
            if case .embedding = cond { XCTAssertNotNil(gan.labelEmbeddingG?.grad) }
        }
    }

    func testEMAFollowsTheGenerator() throws {
        let t = try toyGAN()
        t.options.emaDecay = 0.5
        try t.train(steps: 3)
        let ema = try XCTUnwrap(t.ema)
        let e = ema.parameters[0].tensor.scalars, g = t.model.generator.parameters[0].tensor.scalars
        XCTAssertNotEqual(e, g)
        XCTAssertEqual(try t.fixedSamples(useEMA: true).shape, [64, 2])
    }

    func testEMAWarmsUpAndMatchesANaiveAverage() throws {
        XCTAssertEqual(Trainer.emaDecay(0.999, afterSteps: 1), 2 / 11, accuracy: 1e-7)
        XCTAssertEqual(Trainer.emaDecay(0.999, afterSteps: 1_000), 1_001 / 1_010, accuracy: 1e-7)
        XCTAssertEqual(Trainer.emaDecay(0.999, afterSteps: 20_000), 0.999)
        XCTAssertEqual(Trainer.emaDecay(0.5, afterSteps: 20), 0.5)
        // Naive reference: G's weights after each step, averaged in Double
        // with the warmed-up decay; the average starts as G after step 1.
        let t = try toyGAN()
        t.options.emaDecay = 0.99
        var reference: [Double] = []
        for step in 1...40 {
            try t.train(steps: 1)
            let g = t.model.generator.parameters[0].tensor.scalars.map(Double.init)
            if step == 1 { reference = g; continue }
            let d = Double(min(0.99, Float(1 + step) / Float(10 + step)))
            reference = zip(reference, g).map { d * $0 + (1 - d) * $1 }
        }
        let e = try XCTUnwrap(t.ema).parameters[0].tensor.scalars
        let g = t.model.generator.parameters[0].tensor.scalars
        for i in reference.indices { XCTAssertEqual(Double(e[i]), reference[i], accuracy: 1e-5) }
        XCTAssertNotEqual(e, g)
    }

    func testMovingAverageMeasuresBatchNormStatisticsOfItsOwn() throws {
        Random.seed(3)
        let g = try Network.parse("noise 4 | linear 8 | batchnorm | relu | linear 2")
        let d = try Network.parse("input 2 | linear 16 | relu | linear 1")
        let gan = try GAN(generator: g, discriminator: d, data: try GaussianMixture.ring().dataset(name: "ring8"))
        var o = TrainingOptions(); o.batchSize = 32; o.emaDecay = 0.8
        let t = try Trainer(
            model: gan, options: o, optimizerG: Adam(gan.generatorParameters, lr: 1e-2),
            optimizerD: Adam(gan.partnerParameters, lr: 1e-2))
        try t.train(steps: 5)
        let before = Random.global
        let avg = try XCTUnwrap(t.movingAverage())
        XCTAssertEqual(Random.global, before, "measuring must leave the global random stream alone")
        // Naive reference: the average's linear layer on the same 1,024 noise
        // vectors, and each feature's mean and unbiased variance in Double.
        var rng = RandomGenerator(seed: GAN.batchNormStatisticsSeed)
        let z = Tensor((0..<(1024 * 4)).map { _ in rng.nextNormal() }, shape: [1024, 4])
        let w = avg.parameters[0].tensor.scalars, b = avg.parameters[1].tensor.scalars, zs = z.scalars
        let bn = try XCTUnwrap(avg.layers[1] as? BatchNorm)
        for f in 0..<8 {
            let h = (0..<1024).map { r in
                Double(b[f]) + (0..<4).reduce(0.0) { $0 + Double(zs[r * 4 + $1]) * Double(w[f * 4 + $1]) }
            }
            let mean = h.reduce(0, +) / 1024
            let variance = h.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 1023
            XCTAssertEqual(Double(bn.runningMean.scalars[f]), mean, accuracy: 1e-4 * max(1, abs(mean)))
            XCTAssertEqual(Double(bn.runningVar.scalars[f]), variance, accuracy: 1e-4 * max(1, variance))
        }
        let gStats = try XCTUnwrap(t.model.generator.layers[1] as? BatchNorm).runningMean.scalars
        XCTAssertNotEqual(bn.runningMean.scalars, gStats, "G's running statistics are not the average's")
        // Measured once per change of the weights: the same until the next G step.
        let first = bn.runningMean.scalars
        _ = try t.movingAverage()
        XCTAssertEqual(bn.runningMean.scalars, first)
        try t.train(steps: 1)
        _ = try t.movingAverage()
        XCTAssertNotEqual(bn.runningMean.scalars, first)
    }
}
