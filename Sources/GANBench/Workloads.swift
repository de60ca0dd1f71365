import Foundation
import TensorCore
import GANKit

// The four reference workloads of ../shared/bench, with the same shapes,
// hyperparameters, step structure and JSON field names.

func adamOptimizers(_ gan: GAN, lr: Float, beta1: Float, beta2: Float) -> (Optimizer, Optimizer) {
    (
        Adam(gan.generatorParameters, lr: lr, beta1: beta1, beta2: beta2),
        Adam(gan.partnerParameters, lr: lr, beta1: beta1, beta2: beta2)
    )
}

func toyTrainer(loss: GANLoss, lr: Float, beta2: Float, dSteps: Int) throws -> Trainer {
    let g = try Network.parse("noise 2 | linear 128 | relu | linear 128 | relu | linear 2")
    let d = try Network.parse("input 2 | linear 128 | relu | linear 128 | relu | linear 1")
    let gan = try GAN(generator: g, discriminator: d, data: try GaussianMixture.ring().dataset(name: "ring8"))
    var o = TrainingOptions()
    o.loss = loss
    o.batchSize = 256
    o.dSteps = dSteps
    let (og, od) = adamOptimizers(gan, lr: lr, beta1: 0.5, beta2: beta2)
    return try Trainer(model: gan, options: o, optimizerG: og, optimizerD: od)
}

/// Mode coverage of 2,500 samples, as the reference's `mode_coverage`.
func toyCoverage(_ t: Trainer) throws -> [(String, Any)] {
    let samples = try withNoGrad { try t.model.generate(t.model.sampleNoise(2500)) }
    let c = try GaussianMixture.ring().coverage(samples)
    return [("modes_covered", c.modes), ("hq_percent", round2(Double(c.highQuality) * 100)), ("hq_per_mode", c.perMode)]
}

func lastLosses(_ t: Trainer) -> (Double, Double) {
    let d = t.history.last { $0.part == .discriminator }?.dLoss ?? .nan
    let g = t.history.last { $0.part == .generator }?.gLoss ?? .nan
    return ((Double(d) * 1e4).rounded() / 1e4, (Double(g) * 1e4).rounded() / 1e4)
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

/// The two ring-of-8 workloads: vanilla (BCE with logits, non-saturating G,
/// Adam 1e-3 (0.5, 0.999), one D step) and WGAN-GP (5 critic steps on fresh
/// batches per G step, λ = 10, Adam 1e-4 (0.5, 0.9)); field names as the reference scripts.
func benchToy(wgan: Bool, steps: Int, seeds: [UInt64]) throws {
    let loss: GANLoss = wgan ? .wassersteinGP : .nonSaturating
    let lr: Float = wgan ? 1e-4 : 1e-3, beta2: Float = wgan ? 0.9 : 0.999, dSteps = wgan ? 5 : 1
    Random.seed(0)
    try toyTrainer(loss: loss, lr: lr, beta2: beta2, dSteps: dSteps).train(steps: wgan ? 20 : 50)  // warm-up
    var runs: [Any] = []
    var rates: [Double] = []
    var handedOut = 0
    for seed in seeds {
        Random.seed(seed)
        let t = try toyTrainer(loss: loss, lr: lr, beta2: beta2, dSteps: dSteps)
        let bytes0 = BufferPool.shared.bytesHandedOut
        let t0 = now()
        try t.train(steps: steps)
        let elapsed = now() - t0
        handedOut += BufferPool.shared.bytesHandedOut - bytes0
        let (ld, lg) = lastLosses(t)
        let rate = Double(steps) / elapsed
        rates.append(rate)
        let speed: [(String, Any)] =
            wgan
            ? [("gen_steps_per_sec", round2(rate)), ("critic_steps_per_sec", round2(5 * rate))]
            : [("steps_per_sec", round2(rate))]
        let head: [(String, Any)] = [("seed", Int(seed)), ("seconds", round2(elapsed))]
        let losses: [(String, Any)] = [("final_loss_d", ld), ("final_loss_g", lg)]
        let coverage: [(String, Any)] = try toyCoverage(t)
        let run: [(String, Any)] = head + speed + losses + coverage + splitFields(t)
        runs.append(run)
    }
    let header: [(String, Any)] =
        wgan
        ? [
            ("bench", "wgan_gp_toy"), ("adam", "fused"), ("gen_steps", steps), ("critic_steps_per_gen_step", 5),
            ("batch", 256),
            ("gen_steps_per_sec_median", round2(median(rates)))
        ]
        : [
            ("bench", "toy2d"), ("adam", "fused"), ("steps", steps), ("batch", 256),
            ("steps_per_sec_median", round2(median(rates)))
        ]
    let memory: [(String, Any)] = [
        ("peak_rss_mib", round2(peakRSSMiB())),
        ("peak_tensor_mib", round2(Double(BufferPool.shared.peaks.live) / 1_048_576)),
        ("tensor_mib_per_step", round2(Double(handedOut) / Double(max(1, steps * seeds.count)) / 1_048_576))
    ]
    emit(header + [("runs", runs)] + memory + blasFields())
}

/// 60000 samples uniform in [−1, 1] from a fixed seed (only shapes matter for timing).
func syntheticImages(_ shape: [Int]) throws -> TensorDataset {
    Random.seed(1234)
    return try TensorDataset(name: "synthetic", samples: Tensor.rand([60_000] + shape, low: -1, high: 1))
}

func imageTrainer(_ g: String, _ d: String, data: TensorDataset) throws -> Trainer {
    let gan = try GAN(generator: Network.parse(g), discriminator: Network.parse(d), data: data)
    var o = TrainingOptions()
    o.batchSize = 64
    let (og, od) = adamOptimizers(gan, lr: 2e-4, beta1: 0.5, beta2: 0.999)
    return try Trainer(model: gan, options: o, optimizerG: og, optimizerD: od)
}

let mlpG = "noise 64 | linear 256 | leakyrelu 0.2 | linear 512 | leakyrelu 0.2 | linear 784 | tanh"
let mlpD = "input 784 | linear 512 | leakyrelu 0.2 | linear 256 | leakyrelu 0.2 | linear 1"

/// The MLP GAN on MNIST-shaped data: seconds per 937-step epoch, BCE, Adam 2e-4 (0.5, 0.999).
func benchMLPGAN(epochs: Int) throws {
    let data = try syntheticImages([784])
    try imageTrainer(mlpG, mlpD, data: data).train(steps: 20)  // warm-up on throwaway models
    Random.seed(0)
    let t = try imageTrainer(mlpG, mlpD, data: data)
    data.cursor = DataCursor()
    var seconds: [Double] = [], losses: [Any] = []
    for _ in 0..<epochs {
        let t0 = now()
        try t.trainEpoch()
        seconds.append(now() - t0)
        let (ld, lg) = lastLosses(t)
        losses.append([ld, lg])
    }
    let med = median(seconds)
    emit(
        [
            ("bench", "mlp_gan"), ("adam", "fused"), ("batch", 64), ("steps_per_epoch", t.batchesPerEpoch),
            ("params_g", t.model.generator.parameterCount), ("params_d", t.model.partner.parameterCount),
            ("epoch_seconds", seconds.map(round2)), ("epoch_seconds_median", round2(med)),
            ("steps_per_sec", round2(Double(t.batchesPerEpoch) / med)),
            ("ms_per_step", round2(1000 * med / Double(t.batchesPerEpoch))),
            ("final_loss_d_g_per_epoch", losses), ("peak_rss_mib", round2(peakRSSMiB()))
        ] + splitFields(t) + blasFields())
}

let dcganG =
    "noise 64 | linear 6272 | batchnorm | relu | reshape 128 7 7 | convt 64 k=4 s=2 p=1 | batchnorm | relu | convt 1 k=4 s=2 p=1 | tanh"
let dcganD =
    "input 1 28 28 | conv 64 k=4 s=2 p=1 | leakyrelu 0.2 | conv 128 k=4 s=2 p=1 | batchnorm | leakyrelu 0.2 | flatten | linear 1"

/// The DCGAN on 28×28×1 data: steps/s over blocks of 200 steps.
func benchDCGAN(steps: Int, reps: Int) throws {
    let data = try syntheticImages([1, 28, 28])
    try imageTrainer(dcganG, dcganD, data: data).train(steps: 10)
    Random.seed(0)
    let t = try imageTrainer(dcganG, dcganD, data: data)
    data.cursor = DataCursor()
    var seconds: [Double] = [], losses: [Any] = []
    for _ in 0..<reps {
        let t0 = now()
        try t.train(steps: steps)
        seconds.append(now() - t0)
        let (ld, lg) = lastLosses(t)
        losses.append([ld, lg])
    }
    let med = median(seconds)
    let sps = Double(steps) / med
    emit(
        [
            ("bench", "dcgan"), ("adam", "fused"), ("batch", 64), ("steps_per_block", steps),
            ("params_g", t.model.generator.parameterCount), ("params_d", t.model.partner.parameterCount),
            ("block_seconds", seconds.map(round2)), ("block_seconds_median", round2(med)),
            ("steps_per_sec", round2(sps)), ("ms_per_step", round2(1000 / sps)),
            ("projected_epoch_seconds_937_steps", round2(937 / sps)),
            ("final_loss_d_g_per_block", losses), ("peak_rss_mib", round2(peakRSSMiB())),
            ("peak_tensor_mib", round2(Double(BufferPool.shared.peaks.live) / 1_048_576)),
            ("peak_pool_mib", round2(Double(BufferPool.shared.peaks.held) / 1_048_576))
        ] + splitFields(t) + blasFields())
}
