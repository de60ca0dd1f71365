import TensorCore

/// The GAN objectives that are taught, switchable between steps. D outputs
/// are logits for the logistic losses and raw scores otherwise.
public enum GANLoss: String, Sendable, CaseIterable {
    /// Goodfellow's original game: G minimises log(1 − D(G(z))), which saturates early.
    case minimax
    /// G maximises log D(G(z)) instead: same fixed point, strong early gradients.
    case nonSaturating = "nonsat"
    /// Least squares (LSGAN): D regresses real to 1 and fake to 0; G pulls fakes to 1.
    case leastSquares = "lsgan"
    /// Hinge: D wants real scores ≥ 1 and fake ≤ −1; G raises fake scores.
    case hinge
    /// Wasserstein with weight clipping: D is a critic kept Lipschitz by clipping its weights.
    case wasserstein = "wgan"
    /// Wasserstein with a gradient penalty λ·(‖∇D(x̂)‖ − 1)² on interpolates.
    case wassersteinGP = "wgan-gp"
    /// Non-saturating loss plus the R1 penalty γ/2·‖∇D(x)‖² on real data.
    case r1

    /// Whether D's output is a logit read through a sigmoid.
    public var isLogistic: Bool { self == .minimax || self == .nonSaturating || self == .r1 }
    /// Whether mean D(real) − mean D(fake) estimates a Wasserstein distance.
    public var isWasserstein: Bool { self == .wasserstein || self == .wassersteinGP }
}

extension GANLoss {
    /// D's loss in two parts, each a scalar: on real and on fake outputs.
    /// `realTarget` below 1 is one-sided label smoothing, and `fakeTarget` above 0 smooths the fake
    /// side too (logistic and least-squares losses).
    public func discriminator(real: Tensor, fake: Tensor, realTarget: Float = 1, fakeTarget: Float = 0) throws -> (
        real: Tensor, fake: Tensor
    ) {
        switch self {
        case .minimax, .nonSaturating, .r1:
            // BCE with logits: softplus(−l)·t + softplus(l)·(1 − t) = softplus(l) − t·l.
            return (
                try (real.softplus() - real * realTarget).mean(),
                fakeTarget == 0 ? fake.softplus().mean() : try (fake.softplus() - fake * fakeTarget).mean()
            )
        case .leastSquares:
            return (
                (real - realTarget).pow(2).mean() * 0.5,
                (fakeTarget == 0 ? fake : fake - fakeTarget).pow(2).mean() * 0.5
            )
        case .hinge:
            return ((1 - real).relu().mean(), (1 + fake).relu().mean())
        case .wasserstein, .wassersteinGP:
            return (-real.mean(), fake.mean())
        }
    }

    /// G's loss on D's outputs for generated samples.
    public func generator(fake: Tensor) throws -> Tensor {
        switch self {
        case .minimax: return -fake.softplus().mean()  // minimise log(1 − σ(l)) = −softplus(l)
        case .nonSaturating, .r1: return (-fake).softplus().mean()  // minimise −log σ(l) = softplus(−l)
        case .leastSquares: return (fake - 1).pow(2).mean() * 0.5
        case .hinge, .wasserstein, .wassersteinGP: return -fake.mean()
        }
    }
}
