import Foundation
import GANKit
import TensorCore

extension CommandTable {
    static let helpCommands: [Command] = [
        Command(
            "about", group: .help, usage: "about",
            summary:
                "what runs the shell: its version, the CPU and its vector units, the BLAS kernels, threads and limits",
            details:
                "Speed depends on the CPU, so figures name it (gans-bench prints the same fields). OpenBLAS's kernels are chosen for the CPU: SkylakeX with AVX-512, Haswell with AVX2 and FMA; OPENBLAS_CORETYPE overrides the choice and GANS_THREADS caps the cores a product is split over. With AVX2 but no AVX-512, products 8 or more columns wide run on the core's own AVX2 kernel, about twice as fast there as OpenBLAS's Haswell kernels on the networks' products; GANS_GEMM=openblas or GANS_GEMM=own overrides the choice. On every CPU with AVX2 and FMA, AVX-512 ones included, convolutions are products over views on that kernel: windows gathered from the padded image while packing, NCHW tensors read and written in place, no unfolded columns; GANS_CONV=columns unfolds them (im2col) for the BLAS. With AVX-512 those products run two tiles at a time in 16-wide registers, with the same bits; GANS_GEMM_WIDTH=256 keeps them to 8-wide ones. Training loops ('step N', 'train') time a short window of steps split across the cores and one on a single core now and then, and keeps the faster way (a machine whose cores pass data slowly at times gains from the single core); the numbers are the same either way, and GANS_SPLIT=always or GANS_SPLIT=never fixes the choice. The limits are those of 'set maxelements' and 'set maxmemory'.",
            examples: ["about"], takes: .nothing
        ) { shell, _, _, _ in
            let cpu = CPU.current, blas = BLAS.info
            let rows = [
                ["gans", GANShellInfo.version],
                ["CPU", cpu.modelName.isEmpty ? cpu.vendor : cpu.modelName],
                [
                    "family, model",
                    "\(cpu.vendor) \(cpu.family.map(String.init) ?? "?"), \(cpu.model.map(String.init) ?? "?")"
                ],
                [
                    "vector units",
                    cpu.vectorFeatures.isEmpty
                        ? "none of AVX-512, AVX2, FMA" : cpu.vectorFeatures.joined(separator: " ")
                ],
                ["C kernels", cpu.kernelLevel],
                ["BLAS", blas.library],
                ["BLAS kernels", "\(blas.kernel) (\(blas.choice))"],
                [
                    "GEMM",
                    blas.ownKernel
                        ? "the core's AVX2 kernel, 8 or more columns (GANS_GEMM=openblas for OpenBLAS's)" : "OpenBLAS"
                ],
                ["convolutions", BLAS.convolutions],
                ["cores for a product", String(blas.threads)],
                ["training steps", trainingSplit(cores: blas.threads, policy: SplitChooser.processPolicy)],
                ["largest tensor", Format.count(shell.options.maxElements) + " values"],
                ["tensor memory", "\(shell.options.maxMemory >> 20) MiB"]
            ]
            return [.table(Table(columns: ["about", "this machine"], rows: rows))]
        },
        Command(
            "help", group: .help, usage: "help [COMMAND | functions | layers]",
            summary: "lists the commands, or explains one",
            examples: ["help", "help step", "help functions"],
            takes: .words(1)
        ) { shell, args, w, _ in
            guard let word = w.positional.first else { return [.prose(overview)] }
            switch word.text {
            case "functions":
                return [
                    .table(
                        Table(
                            title: "Functions (in expressions)", columns: ["function", "what it gives"],
                            rows: Functions.all.map { [$0.usage, $0.summary] }))
                ]
            case "layers":
                return [.prose(layerHelp)]
            case "expressions":
                return [.prose(expressionHelp)]
            default:
                guard let c = lookup(word.text) else {
                    if let f = Functions.lookup(word.text) {
                        return [.text("\(f.usage)\n  \(f.summary) (a function, used in expressions)")]
                    }
                    if let t = Topics.lookup(word.text) {
                        return [.text("'\(word.text)' is a topic: explain \(t.name)")]
                    }
                    throw ShellError(
                        .name,
                        "no command '\(word.text)'" + didYouMean(word.text, among: names + Functions.all.map(\.name)),
                        at: word.location, length: word.length)
                }
                return [.prose(c.help)]
            }
        },
        Command(
            "explain", group: .help, usage: "explain [TOPIC]",
            summary: "a short explanation of a GAN idea; without a topic, the list",
            examples: ["explain minimax", "explain mode-collapse"],
            takes: .words(1, keywords: Topics.all.map(\.name))
        ) { _, args, w, _ in
            guard let word = w.positional.first else {
                return [
                    .table(
                        Table(
                            title: "Topics (explain TOPIC)", columns: ["topic", "about"],
                            rows: Topics.all.map { [$0.name, $0.title] }))
                ]
            }
            guard let t = Topics.lookup(word.text) else {
                throw ShellError(
                    .name,
                    "no topic '\(word.text)'"
                        + (nearest(to: word.text, among: Topics.all.map(\.name)).map { "; did you mean '\($0)'?" }
                            ?? "; topics: " + Topics.all.map(\.name).joined(separator: ", ")),
                    at: word.location, length: word.length)
            }
            return [
                .prose(
                    "\(t.title)\n\n\(t.text)"
                        + (t.seeAlso.isEmpty ? "" : "\n\nSee also: " + t.seeAlso.joined(separator: ", ")))
            ]
        }
    ]

    static let expressionHelp = """
        Expressions compute with tensors and print their value: numbers, + - * / @ (matrix product) ** (power),
        comparisons (< <= > >= == !=, giving 0 or 1), calls (randn(4, 2), mean(x, 0)), indexing and slicing
        (x[0], x[1:3, :]), attributes (D.2.weight, D.2.weight.grad, x.shape, x.T) and networks or layers
        applied to a batch (G(z), D(G(z)), G.0(z)). 'name = expression' keeps the value. Networks run in
        eval mode and nothing is recorded for gradients, so an expression never changes the workspace.
        D(x) means what the step statistics call D(x): for the GAN's D under a logistic loss (minimax, nonsat,
        r1) the probability σ(score) that x is real, else the network's output. D.logits(x) is always the raw
        score.
        """

    /// `help`: every command by group, with one line each.
    static var overview: String {
        var lines = ["gans: build, train and look inside GANs. Commands (help COMMAND for more):"]
        func shown(_ c: Command) -> String { c.usage.count > 34 ? c.name + " …" : c.usage }
        let width = all.map { shown($0).count }.max() ?? 0
        for g in Command.Group.allCases {
            lines.append("")
            lines.append(g.rawValue)
            for c in all where c.group == g {
                lines.append("  " + shown(c).padding(toLength: width, withPad: " ", startingAt: 0) + "  " + c.summary)
            }
        }
        lines.append("")
        lines.append(
            "Also: expressions (help expressions), functions (help functions), layers (help layers), explain TOPIC.")
        return lines.joined(separator: "\n")
    }
}

/// The ideas `explain` teaches, each short and exact.
struct Topic {
    let name: String
    let aliases: [String]
    let title: String
    let text: String
    let seeAlso: [String]
}

enum Topics {
    static func lookup(_ name: String) -> Topic? { all.first { $0.name == name || $0.aliases.contains(name) } }

    static let all: [Topic] = [
        Topic(
            name: "gan", aliases: ["gans"], title: "What a GAN is",
            text: """
                Two networks play a game. The generator G turns random noise z into samples G(z); the discriminator D
                looks at a sample and says how real it seems. D is trained to tell data from G's samples; G is trained to
                make D call its samples real. Neither sees a formula for the data: G learns the data only through D's
                gradient. When the game is balanced, G's samples are distributed like the data and D cannot do better
                than guessing (D = 1/2 everywhere, for the original loss).
                """, seeAlso: ["minimax", "nonsat", "mode-collapse"]),
        Topic(
            name: "minimax", aliases: ["saturating"], title: "The minimax game (the original GAN loss)",
            text: """
                min over G, max over D of  E_x[log D(x)] + E_z[log(1 − D(G(z)))].
                D maximises: it is a logistic-regression classifier, real = 1 and fake = 0. For a fixed G the best D is
                D*(x) = p_data(x) / (p_data(x) + p_G(x)), and with that D the game measures the Jensen–Shannon
                divergence between data and samples: 2·JS − log 4. G minimises log(1 − D(G(z))).
                The catch: early on D easily rejects G's samples, D(G(z)) ≈ 0, and log(1 − D) is flat there, so G's
                gradient vanishes (it saturates). Try 'loss=minimax' and watch 'grads' for G.
                """, seeAlso: ["nonsat"]),
        Topic(
            name: "nonsat", aliases: ["non-saturating"], title: "The non-saturating generator loss",
            text: """
                Instead of minimising log(1 − D(G(z))), G maximises log D(G(z)), that is, it minimises −log D(G(z)).
                Both push D(G(z)) up and have the same fixed point, but the gradient is strong exactly where G is bad:
                with D = sigmoid(a), the saturating loss gives G a gradient of size D(G(z)) (≈ 0 early), the
                non-saturating one 1 − D(G(z)) (≈ 1 early). Goodfellow et al. (2014) recommend it; it is the default here.
                """, seeAlso: ["minimax"]),
        Topic(
            name: "mode-collapse", aliases: ["collapse", "modes"], title: "Mode collapse",
            text: """
                G covers only some of the data's modes: on a ring of 8 Gaussians it puts all its samples on 2 or 3 of
                them, or hops from mode to mode as D catches up. Nothing in one G step rewards variety: G moves each
                sample to wherever D currently scores highest. Cures act on that: Wasserstein losses with a gradient
                penalty give useful gradients everywhere; minibatch statistics or packing (D sees several samples at
                once) let D notice a lack of variety; unrolled or many D steps keep D ahead. 'modes' measures it.
                """, seeAlso: ["wasserstein", "gradient-penalty"]),
        Topic(
            name: "wasserstein", aliases: ["wgan", "earth-mover"], title: "The Wasserstein distance (WGAN)",
            text: """
                The Wasserstein-1 (earth mover's) distance is the least average distance mass must move to turn one
                distribution into the other. By Kantorovich–Rubinstein duality it equals the largest E_data[f] − E_G[f]
                over 1-Lipschitz functions f. The WGAN critic D plays f: it maximises mean D(real) − mean D(fake)
                (no sigmoid; scores, not probabilities), and G minimises −mean D(G(z)). Unlike JS, the distance
                shrinks smoothly as G's samples move toward the data even when they do not overlap, so G gets a
                useful gradient everywhere. The critic must stay Lipschitz: weight clipping (loss=wgan clip=0.01) or
                a gradient penalty (loss=wgan-gp). 'W' in the step report is the estimate.
                """, seeAlso: ["gradient-penalty"]),
        Topic(
            name: "gradient-penalty", aliases: ["gp", "wgan-gp"], title: "The gradient penalty (WGAN-GP)",
            text: """
                A 1-Lipschitz critic has gradient norm at most 1 everywhere, and the optimal critic has norm 1 on
                lines between real and generated points. WGAN-GP adds λ·E[(‖∇D(x̂)‖ − 1)²] to the critic's loss, at
                points x̂ = εx + (1 − ε)G(z) with ε uniform in [0, 1] (λ = 10 usually). Computing it needs the gradient
                of a gradient: the penalty is differentiated with respect to D's weights. It replaces clipping, which
                pushes weights to the clip bounds and makes the critic too simple. Use several D steps (dsteps=5).
                """, seeAlso: ["wasserstein", "r1"]),
        Topic(
            name: "r1", aliases: [], title: "The R1 penalty",
            text: """
                R1 (Mescheder et al., 2018) penalises D's gradient on real data only: (γ/2)·E_x[‖∇D(x)‖²], added to the
                non-saturating loss. At the equilibrium D is flat on the data, so the penalty keeps D from
                overshooting and damps the oscillation of the game around it. loss=r1 gamma=10. The penalty costs a
                second backward pass; every=4 computes it on every fourth D step, four times as heavy (lazy
                regularisation, as in StyleGAN2): about the same effect for less work.
                """, seeAlso: ["gradient-penalty"]),
        Topic(
            name: "hinge", aliases: [], title: "The hinge loss",
            text: """
                D minimises E[max(0, 1 − D(x))] + E[max(0, 1 + D(G(z)))]: real scores are pushed above 1 and fake
                scores below −1, and points already on the right side give no gradient. G minimises −mean D(G(z)).
                Used with spectral normalisation in SN-GAN and BigGAN.
                """, seeAlso: ["spectral-norm"]),
        Topic(
            name: "lsgan", aliases: ["least-squares"], title: "Least-squares GAN",
            text: """
                D regresses real samples to 1 and fakes to 0 with squared error; G pushes D(G(z)) toward 1 with
                squared error. Fakes far from the decision boundary still get a gradient proportional to their
                distance, unlike the sigmoid loss. Mao et al. show it minimises a Pearson χ² divergence.
                """, seeAlso: ["nonsat"]),
        Topic(
            name: "batchnorm", aliases: ["batch-norm"], title: "Batch norm in D",
            text: """
                Batch normalisation normalises each feature with the mean and variance of the current batch. In D this
                makes one sample's score depend on the others in its batch. If real and fake batches go through D
                separately, their statistics differ and D can tell them apart by that alone; gans passes real and fake
                through D as one batch when D has no batch norm, and separately (as the DCGAN reference does) when it
                has. Alternatives without this coupling: layer norm, spectral norm, or none with a gradient penalty
                (WGAN-GP forbids batch norm in the critic: the penalty is per sample).
                """, seeAlso: ["spectral-norm"]),
        Topic(
            name: "spectral-norm", aliases: ["sn"], title: "Spectral normalisation",
            text: """
                Each weight matrix is divided by its largest singular value, estimated by one step of power iteration
                per forward pass, so every layer is 1-Lipschitz and so is D (with 1-Lipschitz activations). It limits
                how sharp D can be, which keeps G's gradients informative. Write 'sn linear 64' or 'sn conv 64 k=4 s=2 p=1'.
                """, seeAlso: ["hinge", "wasserstein"]),
        Topic(
            name: "label-smoothing", aliases: ["smoothing"], title: "One-sided label smoothing",
            text: """
                D is trained toward 1 − s (for example 0.9) instead of 1 on real samples; fake targets stay 0. An
                overconfident D gives G vanishing or huge gradients; a softer target keeps D's scores off the
                extremes. Only the real side is smoothed: smoothing the fake side would reward G for staying where the
                fakes are (Salimans et al., 2016). gan … smooth=0.1. To see why, smooth the fake side too with
                smoothfake=0.1 (D then aims at 0.1 for fakes) and compare.
                """, seeAlso: ["instance-noise"]),
        Topic(
            name: "instance-noise", aliases: [], title: "Instance noise",
            text: """
                Gaussian noise of σ is added to everything D sees, real and fake. Two distributions on thin manifolds
                barely overlap, so a perfect D exists and its gradient is useless to G; blurring both makes them
                overlap. Anneal σ toward 0 as training goes on: set noise 0.05.
                """, seeAlso: ["label-smoothing"]),
        Topic(
            name: "ema", aliases: ["moving-average"], title: "A moving average of G's weights",
            text: """
                After each G step, G_ema ← decay·G_ema + (1 − decay)·G. Training oscillates around a good solution;
                the average sits nearer its centre, so its samples are often better than G's own (Yazıcı et al.,
                2019). It does not change training. gan … ema=0.999, then 'sample ema'. The decay sets the window:
                0.999 averages over about the last 1,000 steps. Early on the decay is warmed up as TensorFlow's
                ExponentialMovingAverage does, min(decay, (1 + t)/(10 + t)) after t G steps, so the average spans
                about the last ninth of training instead of holding on to the untrained weights. Batch-norm layers in the
                average normalise with statistics of their own, measured on 1,024 noise vectors whenever its weights
                change: G's running statistics lag behind G's weights and do not fit the average's.
                """, seeAlso: []),
        Topic(
            name: "dsteps", aliases: ["ttur"], title: "How many D steps per G step",
            text: """
                G learns from D's gradient, which is only as good as D. With a Wasserstein critic, training D several
                steps per G step (dsteps=5) keeps it near optimal. With the logistic losses one step each is usual; a
                larger learning rate for D than for G (lrD=4e-4 lrG=1e-4, the two time-scale rule) does the same job.
                """, seeAlso: ["wasserstein"]),
        Topic(
            name: "conditional", aliases: ["cgan", "cond"], title: "Conditional GANs",
            text: """
                A conditional GAN (Mirza and Osindero, 2014) gives the class label y to both networks: G(z, y) makes a
                sample of class y and D(x, y) judges whether x is a real sample of class y. D now rejects a good digit
                that is not the one asked for, so G must use the label; afterwards you choose what it draws.
                Here 'gan G D cond=onehot' appends the one-hot label to G's input (G's input holds the noise, then the
                labels: 'noise 42' with 10 classes is 32 noise values) and to D's input (as extra channels for images,
                so D takes 11 channels for 1-channel digits); 'cond=embed:N' learns an N-value vector per class instead.
                'sample 8 class=3' asks for threes, 'sample 4 class=all' for a row of each class, and 'metrics'
                gives the agreement: how often a classifier names the class asked for (lesson 5).
                """, seeAlso: ["gan", "ema"]),
        Topic(
            name: "vae", aliases: ["autoencoder", "elbo"], title: "Variational autoencoders",
            text: """
                A VAE (Kingma and Welling, 2013) learns the same thing a GAN does, a decoder G that turns z ~ N(0, I)
                into samples, but trains it without a discriminator. An encoder E maps each real x to a Gaussian
                q(z|x) = N(μ, σ²); z is drawn from it as μ + σ·ε, so gradients reach E (the reparameterisation), and
                G reconstructs x from z. The loss is ‖G(z) − x‖² + β·KL(q(z|x) ‖ N(0, I)), the negative evidence lower
                bound: the first term makes codes informative, the second keeps them where samples will be drawn
                from. Every real x is reconstructed, so no mode is dropped; but G is asked for the average of all x a
                code could have come from, so samples are blurrier than a GAN's. A small β gives sharp reconstructions
                and poor samples (codes far from the prior); a large β, the reverse. vae E G beta=0.4.
                """, seeAlso: ["mode-collapse"])
    ]
}

/// How `about` describes where training steps run.
func trainingSplit(cores: Int, policy: SplitChooser.Policy) -> String {
    guard cores > 1 else { return "one core" }
    switch policy {
    case .adaptive:
        return
            "split over \(cores) cores or on one, whichever is faster, timed while training (GANS_SPLIT=always|never)"
    case .always: return "split over \(cores) cores (GANS_SPLIT=always)"
    case .never: return "one core (GANS_SPLIT=never)"
    }
}
