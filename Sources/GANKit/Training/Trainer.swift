import Foundation
import TensorCore

/// Settings of a training run, changeable between steps.
public struct TrainingOptions: Equatable, Sendable {
    public var loss: GANLoss = .nonSaturating
    public var batchSize = 64
    /// Discriminator steps per generator step.
    public var dSteps = 1
    /// λ of the WGAN-GP penalty.
    public var gpLambda: Float = 10
    /// γ of the R1 penalty.
    public var r1Gamma: Float = 10
    /// R1 on every n-th D step only, weighted n times ("lazy regularisation",
    /// Karras et al., 2020): the same penalty on average at a fraction of its cost.
    public var r1Every = 1
    /// Weight-clipping bound of the Wasserstein critic.
    public var clip: Float = 0.01
    /// One-sided label smoothing: real targets become 1 − s.
    public var labelSmoothing: Float = 0
    /// Smoothing of the fake side: fake targets become s (with `labelSmoothing`, two-sided smoothing).
    public var fakeLabelSmoothing: Float = 0
    /// σ of Gaussian noise added to everything D sees (instance noise).
    public var instanceNoise: Float = 0
    /// Decay of an exponential moving average of G's weights (nil: none).
    public var emaDecay: Float? = nil
    /// β of a VAE: the weight of the KL term against the reconstruction error.
    public var beta: Float = 1
    /// The distribution of G's noise; the trainer keeps its GAN's in step with it.
    public var noise: NoiseDistribution = .normal

    public init() {}
}

/// The gradient norm of one layer's parameters after a step.
public struct LayerGradientNorm: Equatable, Sendable {
    public var layer: Int
    public var spec: String
    public var norm: Float
}

/// What one D or G step did and measured.
public struct StepStats: Sendable {
    public enum Part: String, Sendable { case discriminator = "D", generator = "G" }
    public var part: Part
    /// Steps of this part so far, this one included.
    public var number: Int
    public var epoch: Int
    /// D's loss (penalty included), its real and fake parts, and the penalty alone.
    public var dLoss: Float?, dLossReal: Float?, dLossFake: Float?, penalty: Float?
    public var gLoss: Float?
    /// Mean D(x) and mean D(G(z)): probabilities for the logistic losses, raw scores otherwise.
    public var dReal: Float?, dFake: Float?
    /// mean D(real) − mean D(fake) for the Wasserstein losses.
    public var wasserstein: Float?
    /// Per-layer gradient norms of the network that stepped.
    public var gradientNorms: [LayerGradientNorm]
    public var seconds: Double
    /// A VAE step's two terms: the squared reconstruction error (summed over a
    /// sample, averaged over the batch) and KL(q(z|x) ‖ N(0, I)); `gLoss` is
    /// their sum with the KL weighted by β.
    public var reconstruction: Float? = nil, kl: Float? = nil
    /// A VAE step's per-layer gradient norms of the encoder (`gradientNorms` are the decoder's).
    public var encoderGradientNorms: [LayerGradientNorm]? = nil
    /// The training step this belongs to: a step is the D steps before a G step and that G step,
    /// so a G step's `step` is its number and a D step's the number of the G step it precedes.
    public var step = 0
}

extension Array where Element == StepStats {
    /// Fills in `step` from the order of the entries (a history read from a file): a D step
    /// belongs to the G step after it, or to `next` when no G step follows yet.
    mutating func numberSteps(next: Int) {
        var following = next
        for i in indices.reversed() {
            if self[i].part == .generator { following = self[i].number }
            self[i].step = following
        }
    }
}

/// A loss or gradient that is not finite: the step was not applied.
public struct NonFiniteError: Error, CustomStringConvertible {
    public let part: StepStats.Part
    public let step: Int
    public let loss: Float
    /// The first layer whose gradient was not finite, if the loss itself was.
    public let layer: String?
    /// The loss and gradients were finite, but the optimizer's update of `layer` would not have been.
    public var inUpdate = false
    public var description: String {
        let value = loss.isNaN ? "NaN" : (loss.isInfinite ? (loss > 0 ? "inf" : "-inf") : "\(loss)")
        let what =
            inUpdate
            ? "the optimizer's update of \(layer ?? "a parameter") would not be finite (loss \(value))"
            : loss.isFinite
                ? "the gradient of \(layer ?? "a parameter") is not finite (loss \(value))"
                : "the \(part.rawValue) loss is \(value)"
        return
            "\(part.rawValue) step \(step): \(what); the step was not applied and the networks are as they were before it. Try a smaller learning rate, a gradient penalty, or restoring a snapshot."
    }
}

/// Steps a model (a GAN one discriminator step, one generator step, one batch or one
/// epoch at a time), recording what each step did.
public final class Trainer {
    public let model: any GenerativeNetworks
    /// The settings (`TrainingSetting.all`); the noise distribution is the model's.
    public var options: TrainingOptions { didSet { model.noise = options.noise } }
    public let optimizerG: Optimizer
    /// D's optimizer, or a VAE encoder's.
    public let optimizerD: Optimizer
    public private(set) var history: [StepStats] = []
    public internal(set) var dStepCount = 0, gStepCount = 0
    /// Real batches drawn in the current epoch, and the epochs completed.
    public internal(set) var batchesInEpoch = 0, epoch = 0
    /// A fixed noise batch (and labels), so samples are comparable across time.
    public let fixedNoise: Tensor, fixedLabels: Tensor?
    /// The moving average of G's weights, when `options.emaDecay` is set.
    /// Sample it through `movingAverage()`, which gives its batch-norm layers
    /// statistics of their own.
    public internal(set) var ema: Network? { didSet { emaStatisticsCurrent = false } }
    var emaStatisticsCurrent = false
    /// Checked between steps: returning true stops a long command cleanly after the current step.
    public var shouldStop: () -> Bool = { false }
    /// Whether the steps of `train` and `trainEpoch` split across the cores
    /// or run on one, chosen by timing both (speed only, never numbers).
    public var splitChooser = SplitChooser()

    public init(
        model: any GenerativeNetworks, options: TrainingOptions = TrainingOptions(), optimizerG: Optimizer,
        optimizerD: Optimizer,
        fixedSamples: Int = 64
    ) throws {
        guard options.batchSize > 0 else { throw ShapeError("batch size must be positive, found \(options.batchSize)") }
        self.model = model
        self.options = options
        self.options.noise = model.noise
        self.optimizerG = optimizerG
        self.optimizerD = optimizerD
        fixedNoise = model.sampleNoise(fixedSamples)
        fixedLabels = model.cyclingLabels(fixedSamples)
    }

    public var batchesPerEpoch: Int { model.data.batchesPerEpoch(batchSize: options.batchSize) }

    /// Samples from the fixed noise batch (G in eval mode, nothing recorded).
    public func fixedSamples(useEMA: Bool = false) throws -> Tensor {
        let g = useEMA ? (try movingAverage() ?? model.generator) : model.generator
        return try g.evaluating { try withNoGrad { try model.generate(fixedNoise, labels: fixedLabels, using: g) } }
    }

    // MARK: Steps

    func drawReal() throws -> (x: Tensor, labels: Tensor?) {
        let b = try model.data.nextBatch(options.batchSize)
        batchesInEpoch += 1
        if batchesInEpoch >= batchesPerEpoch { batchesInEpoch = 0; epoch += 1 }
        return b
    }

    func noisy(_ x: Tensor) throws -> Tensor {
        options.instanceNoise > 0 ? try x + Tensor.randn(x.shape, std: options.instanceNoise) : x
    }

    /// One discriminator step on a fresh real batch and a fresh fake batch.
    @discardableResult
    public func discriminatorStep() throws -> StepStats { try model.step(.discriminator, self) }

    /// One generator step on fresh noise.
    @discardableResult
    public func generatorStep() throws -> StepStats { try model.step(.generator, self) }

    /// One step of the model: `dSteps` discriminator steps and a generator step of a GAN,
    /// one step of a VAE's encoder and decoder together.
    @discardableResult
    public func step() throws -> [StepStats] { try model.step(self) }

    func discriminatorStep(_ gan: GAN) throws -> StepStats {
        let real = try drawReal()
        let z = gan.sampleNoise(real.x.shape[0])
        let fake = try withNoGrad { try gan.generate(z, labels: real.labels) }
        return try discriminatorStep(gan, real: real, fake: fake)
    }

    func discriminatorStep(_ gan: GAN, real: (x: Tensor, labels: Tensor?), fake: Tensor) throws -> StepStats {
        let t0 = Date()
        let loss = options.loss
        let buffers = snapshot(gan.discriminator)
        do {
            let realIn = try noisy(real.x), fakeIn = try noisy(fake.detached())
            let (total, parts, penalty, dReal, dFake) = try discriminatorObjective(
                gan, real: realIn, fake: fakeIn, labels: real.labels, r1Now: r1Due)
            let params = gan.partnerParameters.filter(\.requiresGrad)  // frozen ones are left alone
            let grads = try grad(of: total, wrt: params)
            let number = dStepCount + 1
            try guardFinite(.discriminator, number, total.item, params, grads, gan.discriminator)
            for p in gan.partnerParameters { p.grad = nil }  // a frozen parameter keeps no stale gradient
            for (p, g) in zip(params, grads) { p.grad = g }
            try guardUpdate(.discriminator, number, total.item, optimizerD, gan.discriminator)
            optimizerD.step()
            if loss == .wasserstein {
                let c = options.clip
                for p in params {
                    p.withUnsafeMutableBufferPointer { b in
                        for i in 0..<b.count { b[i] = Swift.min(Swift.max(b[i], -c), c) }
                    }
                }
            }
            dStepCount = number
            let meanReal = try readout(dReal), meanFake = try readout(dFake)
            let stats = StepStats(
                part: .discriminator, number: number, epoch: epoch, dLoss: total.item,
                dLossReal: parts.real.item, dLossFake: parts.fake.item, penalty: penalty?.item,
                gLoss: nil, dReal: meanReal, dFake: meanFake,
                wasserstein: loss.isWasserstein ? (try dReal.mean() - dFake.mean()).item : nil,
                gradientNorms: layerNorms(gan.discriminator), seconds: Date().timeIntervalSince(t0),
                step: gStepCount + 1)
            history.append(stats)
            return stats
        } catch {
            restore(gan.discriminator, buffers)
            throw error
        }
    }

    func generatorStep(_ gan: GAN) throws -> StepStats {
        let n = options.batchSize
        let labels = gan.sampleLabels(n)
        let fake = try gan.generate(gan.sampleNoise(n), labels: labels)
        return try generatorStep(gan, fake: fake, labels: labels)
    }

    func generatorStep(_ gan: GAN, fake: Tensor, labels: Tensor?) throws -> StepStats {
        let t0 = Date()
        let buffersD = snapshot(gan.discriminator)
        do {
            // D's weights get no gradient in a G step: frozen, the backward
            // pass through D computes only what flows on to G.
            let (lossG, dFake) = try generatorObjective(gan, fake: try noisy(fake), labels: labels)
            let params = gan.generatorParameters.filter(\.requiresGrad)
            let grads = try grad(of: lossG, wrt: params)
            let number = gStepCount + 1
            try guardFinite(.generator, number, lossG.item, params, grads, gan.generator)
            for p in gan.generatorParameters { p.grad = nil }
            for (p, g) in zip(params, grads) { p.grad = g }
            try guardUpdate(.generator, number, lossG.item, optimizerG, gan.generator)
            optimizerG.step()
            gStepCount = number
            updateEMA()
            let stats = StepStats(
                part: .generator, number: number, epoch: epoch, dLoss: nil, dLossReal: nil,
                dLossFake: nil, penalty: nil, gLoss: lossG.item, dReal: nil, dFake: try readout(dFake),
                wasserstein: nil, gradientNorms: layerNorms(gan.generator),
                seconds: Date().timeIntervalSince(t0), step: number)
            history.append(stats)
            return stats
        } catch {
            restore(gan.discriminator, buffersD)
            throw error
        }
    }

    /// `dSteps` discriminator steps, then one generator step. With one D
    /// step, the fake batch made for it is reused by the G step, so G runs
    /// forward once (as the PyTorch DCGAN example does).
    func adversarialStep(_ gan: GAN) throws -> [StepStats] {
        var out: [StepStats] = []
        if options.dSteps == 1 {
            let real = try drawReal()
            let buffersG = snapshot(gan.generator)
            do {
                let fake = try gan.generate(gan.sampleNoise(real.x.shape[0]), labels: real.labels)
                out.append(try discriminatorStep(gan, real: real, fake: fake))
                out.append(try generatorStep(gan, fake: fake, labels: real.labels))
            } catch {
                restore(gan.generator, buffersG)  // G's forward updated its batch-norm statistics
                throw error
            }
        } else {
            // A stop request between D steps skips the rest of this step, G's included.
            for _ in 0..<Swift.max(options.dSteps, 1) {
                if !out.isEmpty && shouldStop() { return out }
                out.append(try discriminatorStep(gan))
            }
            out.append(try generatorStep(gan))
        }
        return out
    }

    /// Full steps until `count` are done or `shouldStop` says stop; returns how many ran.
    @discardableResult
    public func train(steps count: Int, after: ((Int, [StepStats]) -> Void)? = nil) throws -> Int {
        var done = 0
        while done < count && !shouldStop() {
            let s = try splitChooser.run { try step() }
            done += 1
            after?(done, s)
        }
        return done
    }

    /// Full steps until the current epoch's batches are used up (or `shouldStop`).
    @discardableResult
    public func trainEpoch(after: ((Int, [StepStats]) -> Void)? = nil) throws -> Int {
        let start = epoch
        var done = 0
        while epoch == start && !shouldStop() {
            let s = try splitChooser.run { try step() }
            done += 1
            after?(done, s)
        }
        return done
    }

    /// One VAE step on a real batch x: the encoder gives μ and log σ², z =
    /// μ + σ·ε (the reparameterisation), the decoder G reconstructs x from z,
    /// and both networks descend ‖G(z) − x‖² + β·KL(N(μ, σ²) ‖ N(0, I)), the
    /// negative evidence lower bound for a Gaussian decoder.
    func autoencoderStep(_ vae: VAE) throws -> StepStats {
        let t0 = Date()
        let real = try drawReal()
        let encoder = vae.encoder, decoder = vae.decoder
        let buffers = (snapshot(encoder), snapshot(decoder))
        do {
            let x = real.x
            let (total, reconstruction, kl) = try autoencoderObjective(vae, x: x)
            let paramsE = encoder.parameters.map(\.tensor).filter(\.requiresGrad)
            let paramsG = decoder.parameters.map(\.tensor).filter(\.requiresGrad)
            let grads = try grad(of: total, wrt: paramsE + paramsG)
            let number = gStepCount + 1
            try guardFinite(.discriminator, number, total.item, paramsE, Array(grads.prefix(paramsE.count)), encoder)
            try guardFinite(.generator, number, total.item, paramsG, Array(grads.suffix(paramsG.count)), decoder)
            for p in vae.partnerParameters + vae.generatorParameters { p.grad = nil }
            for (p, g) in zip(paramsE + paramsG, grads) { p.grad = g }
            try guardUpdate(.discriminator, number, total.item, optimizerD, encoder)
            try guardUpdate(.generator, number, total.item, optimizerG, decoder)
            optimizerD.step()
            optimizerG.step()
            gStepCount = number
            updateEMA()
            let stats = StepStats(
                part: .generator, number: number, epoch: epoch, dLoss: nil, dLossReal: nil, dLossFake: nil,
                penalty: nil, gLoss: total.item, dReal: nil, dFake: nil, wasserstein: nil,
                gradientNorms: layerNorms(decoder), seconds: Date().timeIntervalSince(t0),
                reconstruction: reconstruction.item, kl: kl.item, encoderGradientNorms: layerNorms(encoder),
                step: number)
            history.append(stats)
            return stats
        } catch {
            restore(encoder, buffers.0)
            restore(decoder, buffers.1)
            throw error
        }
    }

    /// D's loss on a real and a fake batch (instance noise already added): the loss of each
    /// side, the penalty (R1 when `r1Now`, WGAN-GP on the interpolates a·real + (1 − a)·fake, `a`
    /// drawn per sample unless `mix` gives it) and their total, with D's raw scores. G's
    /// parameters record nothing.
    func discriminatorObjective(
        _ gan: GAN, real realIn: Tensor, fake fakeIn: Tensor, labels: Tensor?, r1Now: Bool, mix: Tensor? = nil
    )
        throws -> (total: Tensor, parts: (real: Tensor, fake: Tensor), penalty: Tensor?, dReal: Tensor, dFake: Tensor)
    {
        let loss = options.loss
        if r1Now { realIn.requiresGrad = true }
        let (dReal, dFake) = try frozen(gan.generatorParameters) {
            try scoreRealAndFake(gan, realIn, fakeIn, labels: labels)
        }
        let parts = try loss.discriminator(
            real: dReal, fake: dFake, realTarget: 1 - options.labelSmoothing, fakeTarget: options.fakeLabelSmoothing)
        var total = try parts.real + parts.fake
        var penalty: Tensor? = nil
        if loss == .wassersteinGP {
            // λ·mean((‖∇D(x̂)‖₂ − 1)²), x̂ a random interpolate of real and fake.
            let a = mix ?? Trainer.interpolationWeights(like: realIn)
            let xhat = try (a * realIn + (1 - a) * fakeIn).detached().requiringGrad()
            let out = try gan.discriminate(xhat, labels: labels)
            let g = try grad(of: out.sum(), wrt: [xhat], createGraph: true)[0]
            let norms = try Trainer.safeNorm(g)
            penalty = (norms - 1).pow(2).mean() * options.gpLambda
        } else if loss == .r1, r1Now {
            // γ/2·mean(‖∇ₓD(x)‖²) on real data (n times, every n-th step).
            let every = Swift.max(options.r1Every, 1)
            let g = try grad(of: dReal.sum(), wrt: [realIn], createGraph: true)[0]
            penalty = try (g * g).sum(axes: Array(1..<g.rank)).mean() * (options.r1Gamma / 2 * Float(every))
        }
        if let penalty { total = try total + penalty }
        return (total, parts, penalty, dReal, dFake)
    }

    /// Whether the next D step adds the R1 penalty (every `every`-th D step of an R1 run).
    var r1Due: Bool { options.loss == .r1 && dStepCount % Swift.max(options.r1Every, 1) == 0 }

    /// WGAN-GP's interpolation weights: one U(0, 1) draw per sample of `x`, broadcast over the rest.
    static func interpolationWeights(like x: Tensor) -> Tensor {
        Tensor.rand([x.shape[0]] + [Int](repeating: 1, count: x.rank - 1))
    }

    /// G's loss on a fake batch (instance noise already added), with D's raw scores; D's
    /// parameters record nothing, so the backward pass computes only what flows on to G.
    func generatorObjective(_ gan: GAN, fake: Tensor, labels: Tensor?) throws -> (loss: Tensor, dFake: Tensor) {
        let dFake = try frozen(gan.partnerParameters) { try gan.discriminate(fake, labels: labels) }
        return (try options.loss.generator(fake: dFake), dFake)
    }

    /// A VAE's loss on a batch x with the reparameterisation noise ε (drawn unless given):
    /// ‖G(μ + σ·ε) − x‖² per sample plus β·KL(N(μ, σ²) ‖ N(0, I)), both averaged over the batch.
    func autoencoderObjective(_ vae: VAE, x: Tensor, epsilon: Tensor? = nil) throws
        -> (total: Tensor, reconstruction: Tensor, kl: Tensor)
    {
        let n = x.shape[0]
        let (mu, logVar) = try vae.encode(x)
        let z = try mu + (logVar * 0.5).exp() * (epsilon ?? Tensor.randn([n, vae.noiseShape[0]]))
        let diff = try vae.decoder(z) - x
        let reconstruction = try (diff * diff).sum() * (1 / Float(n))
        let kl = try (mu * mu + logVar.exp() - logVar - 1).sum() * (0.5 / Float(n))
        return (try reconstruction + kl * options.beta, reconstruction, kl)
    }

    // MARK: Helpers

    /// Runs `body` with these parameters not requiring gradients, so no graph
    /// is recorded for them; each gets its own setting back afterwards.
    func frozen<T>(_ params: [Tensor], _ body: () throws -> T) rethrows -> T {
        let saved = params.map(\.requiresGrad)
        for p in params { p.requiresGrad = false }
        defer { for (p, r) in zip(params, saved) { p.requiresGrad = r } }
        return try body()
    }

    /// D on the real and the fake batch. When no layer of D mixes the
    /// samples of a batch, one pass over both batches together gives the
    /// same values with half the calls and larger GEMMs.
    func scoreRealAndFake(_ gan: GAN, _ real: Tensor, _ fake: Tensor, labels: Tensor?) throws -> (Tensor, Tensor) {
        guard !gan.discriminator.layers.contains(where: \.mixesSamples), real.shape == fake.shape, !real.requiresGrad
        else {
            return (try gan.discriminate(real, labels: labels), try gan.discriminate(fake, labels: labels))
        }
        let n = real.shape[0]
        let both = try gan.discriminate(
            Tensor.concat([real, fake], axis: 0),
            labels: try labels.map { try Tensor.concat([$0, $0], axis: 0) })
        return (try both.slice(axis: 0, start: 0, end: n), try both.slice(axis: 0, start: n, end: 2 * n))
    }

    func readout(_ d: Tensor) throws -> Float {
        withNoGrad { options.loss.isLogistic ? d.sigmoid().mean().item : d.mean().item }
    }

    func layerNorms(_ net: Network) -> [LayerGradientNorm] {
        net.layers.enumerated().compactMap { i, layer in
            let grads = layer.parameters.compactMap(\.tensor.grad)
            guard !grads.isEmpty else { return nil }
            let s = grads.reduce(0) { $0 + $1.sumOfSquares }
            return LayerGradientNorm(layer: i, spec: layer.spec.text, norm: s.squareRoot())
        }
    }

    func guardFinite(
        _ part: StepStats.Part, _ number: Int, _ loss: Float, _ params: [Tensor], _ grads: [Tensor],
        _ net: Network
    ) throws {
        guard loss.isFinite else { throw NonFiniteError(part: part, step: number, loss: loss, layer: nil) }
        guard grads.allSatisfy(\.allFinite) else {
            var name = "a label embedding"
            outer: for (i, layer) in net.layers.enumerated() {
                for (pname, p) in layer.parameters {
                    if let k = params.firstIndex(where: { $0 === p }), !grads[k].allFinite {
                        name = "\(part.rawValue).\(i).\(pname) (\(layer.spec.text))"
                        break outer
                    }
                }
            }
            throw NonFiniteError(part: part, step: number, loss: loss, layer: name)
        }
    }

    /// ‖g‖ per sample (over all but the first axis), with a zero gradient where
    /// g = 0, as `torch.linalg.vector_norm` has: √ has an infinite slope at 0,
    /// and a sample where D is flat would otherwise make the penalty's gradient NaN.
    static func safeNorm(_ g: Tensor) throws -> Tensor {
        let squares = try (g * g).sum(axes: Array(1..<g.rank))
        let positive = try squares.greater(Tensor(0))
        let safe = try Tensor.where(positive, squares, Tensor(1))  // 1 where the norm is 0
        return try Tensor.where(positive, safe.sqrt(), Tensor(0))
    }

    /// Refuses a step whose update would leave a parameter or the optimizer's state non-finite.
    func guardUpdate(_ part: StepStats.Part, _ number: Int, _ loss: Float, _ optimizer: Optimizer, _ net: Network)
        throws
    {
        guard let k = optimizer.firstNonFiniteUpdate() else { return }
        let p = optimizer.parameters[k]
        var name = "a label embedding"
        outer: for (i, layer) in net.layers.enumerated() {
            for (pname, q) in layer.parameters where q === p {
                name = "\(part.rawValue).\(i).\(pname) (\(layer.spec.text))"; break outer
            }
        }
        for q in optimizer.parameters { q.grad = nil }
        var e = NonFiniteError(part: part, step: number, loss: loss, layer: name)
        e.inUpdate = true
        throw e
    }

    func snapshot(_ net: Network) -> [Tensor] { net.buffers.map { $0.tensor.copy() } }

    func restore(_ net: Network, _ saved: [Tensor]) {
        for ((_, b), s) in zip(net.buffers, saved) { b.assign(s) }
    }

    /// The decay of the moving average after `steps` G steps: the asked
    /// decay, warmed up as TensorFlow's `ExponentialMovingAverage` does with
    /// `num_updates`, min(decay, (1 + steps) / (10 + steps)). Early on the
    /// average spans about the last ninth of training instead of holding on
    /// to the untrained weights it started from.
    public static func emaDecay(_ decay: Float, afterSteps steps: Int) -> Float {
        min(decay, Float(1 + steps) / Float(10 + steps))
    }

    func updateEMA() {
        guard let asked = options.emaDecay else { ema = nil; return }
        guard let ema else { ema = model.generator.copy(); ema?.training = false; return }
        let decay = Self.emaDecay(asked, afterSteps: gStepCount)
        for ((_, e), (_, p)) in zip(ema.parameters, model.generator.parameters) {
            e.withUnsafeMutableBufferPointer { eb in
                p.withUnsafeBufferPointer { pb in for i in 0..<eb.count { eb[i] = decay * eb[i] + (1 - decay) * pb[i] }
                }
            }
        }
        emaStatisticsCurrent = false
    }

    /// The moving average of G, ready to sample. G's running batch-norm
    /// statistics belong to G's weights, and the average's weights make other
    /// activations, so the average's batch-norm layers get statistics measured
    /// on its own activations (`GenerativeNetworks.estimateBatchNormStatistics`), again
    /// whenever its weights have changed.
    public func movingAverage() throws -> Network? {
        guard let ema else { return nil }
        if !emaStatisticsCurrent {
            try model.estimateBatchNormStatistics(of: ema)
            emaStatisticsCurrent = true
        }
        return ema
    }

    /// Restores counters and history (checkpoints).
    /// The same run after its networks were edited: the model assembled and
    /// checked again, optimizers of the same kind and settings (an optimizer
    /// keeps its state when its parameters kept their shapes), and the
    /// counters, fixed noise and history carried over. Throws, changing
    /// nothing, when the edited networks no longer fit together.
    public func reassembled(generator: Network? = nil, partner: Network? = nil) throws -> Trainer {
        let newModel = try model.reassembled(
            generator: generator ?? model.generator, partner: partner ?? model.partner)
        func rebuilt(_ old: Optimizer, _ params: [Tensor]) throws -> Optimizer {
            let o = try makeOptimizer(
                old.name, parameters: params, hyperparameters: old.hyperparameters.map { ($0.name, $0.value) })
            if old.parameters.map(\.shape) == params.map(\.shape) { o.loadState(from: old) }
            return o
        }
        let t = try Trainer(
            model: newModel, options: options,
            optimizerG: try rebuilt(optimizerG, newModel.generatorParameters),
            optimizerD: try rebuilt(optimizerD, newModel.partnerParameters),
            fixedSamples: fixedNoise.shape[0])
        // The fixed batch carries over unless G now takes noise of another shape.
        if t.fixedNoise.shape == fixedNoise.shape { t.fixedNoise.assign(fixedNoise) }
        if let a = fixedLabels, let b = t.fixedLabels, a.shape == b.shape { b.assign(a) }
        t.restoreProgress(
            history: history, dSteps: dStepCount, gSteps: gStepCount, epoch: epoch, batchesInEpoch: batchesInEpoch)
        if generator == nil, let ema { t.ema = ema }
        t.shouldStop = shouldStop
        return t
    }

    func restoreProgress(history: [StepStats], dSteps: Int, gSteps: Int, epoch: Int, batchesInEpoch: Int) {
        self.history = history
        dStepCount = dSteps; gStepCount = gSteps
        self.epoch = epoch; self.batchesInEpoch = batchesInEpoch
    }
}
