import Foundation
import TensorCore

/// The training of a run written as a PyTorch script (`train.py` beside `models.py` and
/// `checkpoint.py`): the same data, loss, optimizers and settings, on one process or under
/// `torchrun` with DistributedDataParallel. It starts from the session's training checkpoint
/// and writes one in the same format, which `load gan` continues.
public struct TrainScript {
    public enum Data {
        /// Whether the data are a fixed set (written as a file).
        public var isSamples: Bool { if case .samples = self { return true } else { return false } }
        /// A fixed set of samples (and class labels), written beside the script as `data.safetensors`.
        case samples(Tensor, labels: Tensor?)
        /// A Gaussian mixture: its centres and σ (fresh samples every batch).
        case mixture(centers: [(Float, Float)], std: Float)
    }

    public var options: TrainingOptions
    /// The kind of model: what differs between a GAN's script and a VAE's.
    public var model: any TorchTraining.Type
    public var noiseShape: [Int]
    /// Classes of a conditional GAN (nil when unconditional).
    public var classes: Int?
    public var optimizerG: Optimizer
    public var optimizerD: Optimizer
    /// The state-dict names of G's and D's parameters in the order their optimizers keep state.
    public var parametersG: [String], parametersD: [String]
    public var data: Data
    public var dataName: String
    public var batchesPerEpoch: Int
    /// Whether a layer of D mixes the samples of a batch (batch norm, minibatch stddev).
    public var discriminatorMixes: Bool

    /// The script for a run of `trainer` on `data`.
    public init(trainer t: Trainer, data: Data, dataName: String) {
        options = t.options
        model = type(of: t.model)
        noiseShape = t.model.noiseShape
        classes = t.model.conditioning == nil ? nil : t.model.data.classCount
        optimizerG = t.optimizerG
        optimizerD = t.optimizerD
        parametersG = t.model.generator.parameters.map(\.name)
        parametersD = t.model.partner.parameters.map(\.name)
        self.data = data
        self.dataName = dataName
        batchesPerEpoch = t.batchesPerEpoch
        discriminatorMixes = t.model.partner.layers.contains(where: \.mixesSamples)
    }

    /// The roles of the networks in models.py, by their key prefix in a gans checkpoint.
    var roles: [(prefix: String, role: String)] { model.torchRoles }

    /// The settings as JSON, which train.py reads.
    var configJSON: String {
        func opt(_ o: Optimizer) -> String {
            "{\"name\": \(JSONValue.quote(o.name)), "
                + o.hyperparameters.map { "\(JSONValue.quote($0.name)): \($0.value)" }.joined(separator: ", ") + "}"
        }
        func list(_ names: [String]) -> String { "[" + names.map(JSONValue.quote).joined(separator: ", ") + "]" }
        let o = options
        var fields = [
            "\"batch\": \(o.batchSize)", "\"batches_per_epoch\": \(batchesPerEpoch)",
            "\"ema\": " + (o.emaDecay.map { "\($0)" } ?? "null"),
            "\"noise_shape\": [\(noiseShape.map(String.init).joined(separator: ", "))]",
            "\"optG\": \(opt(optimizerG))", "\"optD\": \(opt(optimizerD))",
            "\"params_G\": \(list(parametersG))", "\"params_D\": \(list(parametersD))",
            "\"data_name\": \(JSONValue.quote(dataName))"
        ]
        fields.insert(contentsOf: model.torchConfig(self), at: 0)
        switch data {
        case .samples: fields.append("\"data\": {\"kind\": \"samples\", \"file\": \"data.safetensors\"}")
        case let .mixture(centers, std):
            fields.append(
                "\"data\": {\"kind\": \"mixture\", \"std\": \(std), \"centers\": ["
                    + centers.map { "[\($0.0), \($0.1)]" }.joined(separator: ", ") + "]}")
        }
        return "{\n    " + fields.joined(separator: ",\n    ") + "\n}"
    }

    /// The script.
    public var text: String {
        let roleMap = roles.map { "\"\($0.prefix)\": \"\($0.role)\"" }.joined(separator: ", ")
        return Self.head(load: model.kind.rawValue, functional: model.torchUsesFunctional(options))
            + "\nCONFIG = json.loads(\n    \"\"\"\n" + configJSON + "\n\"\"\"\n)\n"
            + "ROLES = {\(roleMap)}  # network roles in models.py, by key prefix in a gans checkpoint\n\n"
            + commonText + model.torchTraining(self)
    }

    static func head(load: String, functional: Bool) -> String {
        #"""
        # The training of a gans run in PyTorch, written by `export torch`. One process:
        #     python train.py --steps 1000
        # Several (DistributedDataParallel; gloo on CPU, nccl with CUDA), each rank on its own
        # shard of the data with the same batch size, so the global batch is batch × ranks:
        #     torchrun --nproc_per_node=2 train.py --steps 1000
        # It starts from checkpoint.safetensors (the session as gans saved it: networks,
        # optimizer state, moving average) or --resume, and writes out/checkpoint.safetensors
        # in the same format, which gans continues with `load \#(load) out/checkpoint.safetensors`.
        import argparse
        import copy
        import json
        import os
        import time

        import torch
        \#(functional ? "import torch.nn.functional as F\n" : "")
        import checkpoint
        import models

        """#
    }

    /// The helpers both kinds of model use, for this run's optimizers and data only.
    var commonText: String {
        var optimizers: [String] = []
        for kind in [optimizerG.name, optimizerD.name] where !optimizers.contains(kind) { optimizers.append(kind) }
        let make = optimizers.enumerated().map { i, kind -> String in
            let last = i == optimizers.count - 1
            let call: String
            switch kind {
            case "adam":
                call =
                    #"torch.optim.Adam(params, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=h["weight_decay"])"#
            case "sgd":
                call =
                    #"torch.optim.SGD(params, lr=h["lr"], momentum=h["momentum"], nesterov=h["nesterov"] != 0, weight_decay=h["weight_decay"])"#
            default:
                call =
                    #"torch.optim.RMSprop(params, lr=h["lr"], alpha=h["alpha"], eps=h["eps"], weight_decay=h["weight_decay"])"#
            }
            return last ? "    return " + call : "    if spec[\"name\"] == \"\(kind)\":\n        return " + call
        }.joined(separator: "\n")
        let data: String
        switch self.data {
        case .mixture:
            data = #"""
                        spec = CONFIG["data"]
                        self.centers, self.std = torch.tensor(spec["centers"]), spec["std"]

                    def next(self, n):
                        self.batches += 1
                        k = torch.randint(len(self.centers), (n,), generator=self.g)
                        x = self.centers[k] + self.std * torch.randn(n, 2, generator=self.g)
                        return x.to(self.device), None
                """#
        case .samples:
            data = #"""
                        from safetensors.torch import load_file

                        data = load_file(CONFIG["data"]["file"])
                        self.samples, self.labels = data["samples"], data.get("labels")
                        self.epoch, self.order, self.at = 0, None, 0

                    def next(self, n):
                        self.batches += 1
                        if self.order is None or self.at + n > len(self.order):
                            # Every rank draws the same permutation for an epoch and keeps its own slice.
                            perm = torch.randperm(len(self.samples), generator=torch.Generator().manual_seed(1000 + self.epoch))
                            self.order, self.at, self.epoch = perm[self.rank::self.world], 0, self.epoch + 1
                        idx = self.order[self.at:self.at + n]
                        self.at += n
                        y = self.labels[idx].to(self.device) if self.labels is not None else None
                        return self.samples[idx].to(self.device), y
                """#
        }
        return Self.common.replacingOccurrences(of: "@OPTIMIZERS@", with: make)
            .replacingOccurrences(of: "@DATA@\n", with: data + "\n\n")
    }

    static let common = #"""

        def make_optimizer(spec, params):
            h = {k: v for k, v in spec.items() if k != "name"}
        @OPTIMIZERS@


        def in_gans_order(net, names, labels=None):
            """The parameters in the order gans keeps them (its optimizer state is stored by position)."""
            named = dict(net.named_parameters())
            extra = [labels.weight] if labels is not None and labels.weight is not None else []
            return [named[n] for n in names] + extra


        class RealData:
            """Batches of real samples and their labels (None without): this rank's shard of the
            data, reshuffled each epoch, or fresh draws from a Gaussian mixture."""

            def __init__(self, rank, world, device, seed):
                self.rank, self.world, self.device = rank, world, device
                self.g = torch.Generator().manual_seed(seed)
                self.batches = 0
        @DATA@

        def update_ema(ema, net, steps):
            """The moving average of G's weights (gans' warm-up: the decay grows to its setting)."""
            if ema is None:
                return copy.deepcopy(net).eval()
            decay = min(CONFIG["ema"], (1 + steps) / (10 + steps))
            with torch.no_grad():
                for e, p in zip(ema.parameters(), net.parameters()):
                    e.mul_(decay).add_(p, alpha=1 - decay)
                for e, p in zip(ema.buffers(), net.buffers()):
                    e.copy_(p)
            return ema


        def arguments(what):
            parser = argparse.ArgumentParser(description=f"Trains the exported {what} as gans did.")
            parser.add_argument("--steps", type=int, default=1000, help="training steps")
            parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
            parser.add_argument("--resume", default="checkpoint.safetensors",
                                help="a gans training checkpoint, or a folder train.py wrote")
            parser.add_argument("--out", default="out")
            parser.add_argument("--seed", type=int, default=0)
            parser.add_argument("--log-every", type=int, default=100)
            return parser.parse_args()


        def distributed(args):
            """(rank, world, device): one process, or the rank torchrun started."""
            world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
            device = torch.device(args.device)
            if world > 1:
                torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
                if device.type == "cuda":
                    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
                    torch.cuda.set_device(device)
            torch.manual_seed(args.seed * 1000 + rank)
            return rank, world, device


        def wrap(module, world, device):
            if world == 1:
                return module
            return torch.nn.parallel.DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


        def setup(what):
            """The arguments, this process's rank, world and device, and the checkpoint it starts from."""
            args = arguments(what)
            rank, world, device = distributed(args)
            path = os.path.join(args.resume, "checkpoint.safetensors") if os.path.isdir(args.resume) else args.resume
            tensors, meta, counters = checkpoint.read(path)
            return args, rank, world, device, tensors, meta, counters, checkpoint.networks(tensors, ROLES)


        def epoch_counters(counters, data):
            """gans' epoch and batch-in-epoch counters after the batches this rank drew."""
            per = max(CONFIG["batches_per_epoch"], 1)
            seen = counters["epoch"] * per + counters["batches"] + data.batches
            return seen // per, seen % per

        """#

    /// D's loss on its scores (`parts`), G's loss, and the penalty, for the run's loss only.
    var lossLines: (d: String, g: String, penalty: String, readout: String) {
        let loss = options.loss
        let d: String, g: String
        switch loss {
        case .minimax, .nonSaturating, .r1:
            d = "(F.softplus(d_real) - t * d_real).mean(), (F.softplus(d_fake) - tf * d_fake).mean()  # cross-entropy"
            g = loss == .minimax ? "-F.softplus(d_fake).mean()" : "F.softplus(-d_fake).mean()"
        case .leastSquares:
            d = "0.5 * ((d_real - t) ** 2).mean(), 0.5 * ((d_fake - tf) ** 2).mean()"
            g = "0.5 * ((d_fake - 1) ** 2).mean()"
        case .hinge:
            d = "F.relu(1 - d_real).mean(), F.relu(1 + d_fake).mean()"
            g = "-d_fake.mean()"
        case .wasserstein, .wassersteinGP:
            d = "-d_real.mean(), d_fake.mean()"
            g = "-d_fake.mean()"
        }
        var penalty = ""
        if loss == .wassersteinGP {
            penalty = #"""
                    # λ·mean((‖∇D(x̂)‖ − 1)²) on interpolates x̂ of real and fake
                    a = mix if mix is not None else torch.rand(len(real), *[1] * (real.dim() - 1), device=real.device)
                    xhat = (a * real.detach() + (1 - a) * fake.detach()).requires_grad_(True)
                    (g,) = torch.autograd.grad(D(xhat, y).sum(), xhat, create_graph=True)
                    penalty = CONFIG["lambda"] * (g.flatten(1).norm(dim=1) - 1).pow(2).mean()

                """#
        } else if loss == .r1 {
            penalty = #"""
                    if r1_now:  # γ/2·mean(‖∇D(x)‖²) on real data, scaled by `every` when lazy
                        (g,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
                        penalty = CONFIG["gamma"] / 2 * CONFIG["every"] * g.flatten(1).pow(2).sum(1).mean()

                """#
        }
        let readout = loss.isLogistic ? "torch.sigmoid(d).mean().item()" : "d.mean().item()"
        return (d, g, penalty, readout)
    }

    var ganText: String {
        let (d, g, penalty, readout) = lossLines
        let loss = options.loss
        let r1 = loss == .r1 ? "d_steps % CONFIG[\"every\"] == 0" : "False"
        let clip =
            loss == .wasserstein
            ? "\n" + #"""
                            with torch.no_grad():  # weight clipping keeps the critic Lipschitz
                                for p in d_net.parameters():
                                    p.clamp_(-CONFIG["clip"], CONFIG["clip"])
                """# : ""
        let wasserstein = loss.isWasserstein ? "(d_real.mean() - d_fake.mean()).item()" : "None"
        return Self.gan
            .replacingOccurrences(of: "@LOSS@", with: loss.rawValue)
            .replacingOccurrences(of: "@DPARTS@", with: d)
            .replacingOccurrences(of: "@GLOSS@", with: g)
            .replacingOccurrences(of: "@PENALTY@\n", with: penalty)
            .replacingOccurrences(of: "@READOUT@", with: readout)
            .replacingOccurrences(of: "@R1NOW@", with: r1)
            .replacingOccurrences(of: "@CLIP@", with: clip)
            .replacingOccurrences(of: "@WASSERSTEIN@", with: wasserstein)
    }

    static let gan = #"""

        def noise(n, device):
            shape = (n, *CONFIG["noise_shape"])
            if CONFIG["z"] == "uniform":
                return torch.rand(shape, device=device) * 2 - 1
            return torch.randn(shape, device=device)


        def sample_labels(n, device):
            """Random classes for a conditional G step; None without conditioning."""
            return torch.randint(CONFIG["classes"], (n,), device=device) if CONFIG["classes"] else None


        def noisy(x):
            return x + CONFIG["noise"] * torch.randn_like(x) if CONFIG["noise"] > 0 else x


        def d_objective(D, real, fake, y, r1_now=False, mix=None):
            """D's @LOSS@ loss on a real and a fake batch (instance noise already added), as gans computes it:
            (total, (real part, fake part), penalty or None, D(real), D(fake))."""
            t, tf = 1 - CONFIG["smooth"], CONFIG["smoothfake"]  # targets, with label smoothing
            if r1_now:
                real = real.detach().requires_grad_(True)
            if CONFIG["d_mixes"] or r1_now:
                d_real, d_fake = D(real, y), D(fake, y)
            else:  # one pass over both batches: no layer of D mixes the samples of a batch
                d_real, d_fake = D(torch.cat([real, fake]), None if y is None else torch.cat([y, y])).split(len(real))
            parts = @DPARTS@
            penalty = None
        @PENALTY@
            total = parts[0] + parts[1] + (penalty if penalty is not None else 0)
            return total, parts, penalty, d_real, d_fake


        def g_objective(D, fake, y):
            """G's @LOSS@ loss on a fake batch (instance noise already added), and D(fake)."""
            d_fake = D(fake, y)
            return @GLOSS@, d_fake


        def readout(d):
            """Mean D score as gans reports it."""
            return @READOUT@


        def main():
            args, rank, world, device, tensors, meta, counters, nets = setup("GAN")
            G, D = nets["generator"].to(device), nets["discriminator"].to(device)
            g_net = models.Conditioned(G, nets.get("generator_labels")).to(device)
            d_net = models.Conditioned(D, nets.get("discriminator_labels"), scores=True).to(device)
            ema = nets["generator_ema"].to(device).eval() if "generator_ema" in nets else None
            opt_g = make_optimizer(CONFIG["optG"], in_gans_order(G, CONFIG["params_G"], g_net.labels))
            opt_d = make_optimizer(CONFIG["optD"], in_gans_order(D, CONFIG["params_D"], d_net.labels))
            checkpoint.load_optimizer(opt_g, tensors, "optG.", counters["optG"])
            checkpoint.load_optimizer(opt_d, tensors, "optD.", counters["optD"])
            g_model, d_model = wrap(g_net, world, device), wrap(d_net, world, device)
            data = RealData(rank, world, device, seed=args.seed * 1000 + rank)
            b = CONFIG["batch"]
            d_steps, g_steps, history = counters["d"], counters["g"], []

            for step in range(1, args.steps + 1):
                t0 = time.time()
                for _ in range(CONFIG["dsteps"]):
                    real, y = data.next(b)
                    fake = g_model(noise(b, device), y)
                    total, parts, penalty, d_real, d_fake = d_objective(
                        d_model, noisy(real), noisy(fake.detach()), y, @R1NOW@)
                    opt_d.zero_grad(set_to_none=True)
                    total.backward()
                    opt_d.step()@CLIP@
                    d_steps += 1
                    history.append(dict(part=0, number=d_steps, d_loss=total.item(), d_loss_real=parts[0].item(),
                                        d_loss_fake=parts[1].item(), penalty=penalty.item() if penalty is not None else None,
                                        d_real=readout(d_real), d_fake=readout(d_fake),
                                        wasserstein=@WASSERSTEIN@))
                # With one D step the G step reuses its fake batch (G runs forward once), as gans does.
                if CONFIG["dsteps"] != 1:
                    y = sample_labels(b, device)
                    fake = g_model(noise(b, device), y)
                for p in d_net.parameters():
                    p.requires_grad_(False)
                lg, d_fake = g_objective(d_model, noisy(fake), y)
                opt_g.zero_grad(set_to_none=True)
                lg.backward()
                opt_g.step()
                for p in d_net.parameters():
                    p.requires_grad_(True)
                g_steps += 1
                if CONFIG["ema"] is not None:
                    ema = update_ema(ema, G, g_steps)
                history.append(dict(part=1, number=g_steps, g_loss=lg.item(), d_fake=readout(d_fake)))
                for row in history[-1 - CONFIG["dsteps"]:]:
                    row["epoch"], row["seconds"] = epoch_counters(counters, data)[0], time.time() - t0
                if rank == 0 and (step % args.log_every == 0 or step == args.steps):
                    print(f"step {g_steps}: D loss {total.item():.4f}, G loss {lg.item():.4f}", flush=True)

            if rank == 0:
                epoch, batches = epoch_counters(counters, data)
                counters.update(d=d_steps, g=g_steps, epoch=epoch, batches=batches, position=0,
                                optG=counters["optG"] + args.steps, optD=counters["optD"] + d_steps - counters["d"])
                networks = {"G.": G, "D.": D, "ema.": ema, "G.label_embedding": g_net.labels,
                            "D.label_embedding": d_net.labels}
                checkpoint.write(args.out, tensors, meta, networks, {"optG.": opt_g, "optD.": opt_d}, counters, history, ROLES)
                print(f"wrote the run after {g_steps} steps to {args.out}/checkpoint.safetensors (load gan in gans)")
            if world > 1:
                torch.distributed.destroy_process_group()


        if __name__ == "__main__":
            main()

        """#

    static let vae = #"""

        def vae_objective(E, Dec, x, eps=None):
            """The negative evidence lower bound as gans computes it: ‖Dec(μ + σ·ε) − x‖² per sample
            plus β·KL(N(μ, σ²) ‖ N(0, I)), both averaged over the batch; (total, reconstruction, KL)."""
            n, k = len(x), CONFIG["noise_shape"][0]
            mu, logvar = E(x).reshape(n, 2 * k).split(k, dim=1)
            z = mu + (0.5 * logvar).exp() * (eps if eps is not None else torch.randn_like(mu))
            reconstruction = (Dec(z) - x).pow(2).sum() / n
            kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum() / n
            return reconstruction + CONFIG["beta"] * kl, reconstruction, kl


        def main():
            args, rank, world, device, tensors, meta, counters, nets = setup("VAE")
            E, Dec = nets["encoder"].to(device), nets["decoder"].to(device)
            ema = nets["decoder_ema"].to(device).eval() if "decoder_ema" in nets else None
            opt_g = make_optimizer(CONFIG["optG"], in_gans_order(Dec, CONFIG["params_G"]))
            opt_e = make_optimizer(CONFIG["optD"], in_gans_order(E, CONFIG["params_D"]))
            checkpoint.load_optimizer(opt_g, tensors, "optG.", counters["optG"])
            checkpoint.load_optimizer(opt_e, tensors, "optD.", counters["optD"])
            e_model, dec_model = wrap(E, world, device), wrap(Dec, world, device)
            data = RealData(rank, world, device, seed=args.seed * 1000 + rank)
            steps, history = counters["g"], []

            for step in range(1, args.steps + 1):
                t0 = time.time()
                x, _ = data.next(CONFIG["batch"])
                total, reconstruction, kl = vae_objective(e_model, dec_model, x)
                opt_e.zero_grad(set_to_none=True)
                opt_g.zero_grad(set_to_none=True)
                total.backward()
                opt_e.step()
                opt_g.step()
                steps += 1
                if CONFIG["ema"] is not None:
                    ema = update_ema(ema, Dec, steps)
                history.append(dict(part=1, number=steps, g_loss=total.item(), reconstruction=reconstruction.item(),
                                    kl=kl.item(), epoch=epoch_counters(counters, data)[0], seconds=time.time() - t0))
                if rank == 0 and (step % args.log_every == 0 or step == args.steps):
                    print(f"step {steps}: loss {total.item():.4f} (reconstruction {reconstruction.item():.4f}, "
                          f"KL {kl.item():.4f})", flush=True)

            if rank == 0:
                epoch, batches = epoch_counters(counters, data)
                counters.update(g=steps, epoch=epoch, batches=batches, position=0,
                                optG=counters["optG"] + args.steps, optD=counters["optD"] + args.steps)
                checkpoint.write(args.out, tensors, meta, {"decoder.": Dec, "encoder.": E, "ema.": ema},
                                 {"optG.": opt_g, "optD.": opt_e}, counters, history, ROLES)
                print(f"wrote the run after {steps} steps to {args.out}/checkpoint.safetensors (load vae in gans)")
            if world > 1:
                torch.distributed.destroy_process_group()


        if __name__ == "__main__":
            main()

        """#

    /// `checkpoint.py`: reads and writes gans training checkpoints.
    public static let checkpointPy = #"""
        """Reading and writing gans training checkpoints (what `save` writes and `load gan` reads):
        the networks (G., D., ema.), the optimizers' state by parameter position (optG.<i>.exp_avg, …),
        the fixed noise, the history of steps, and the settings as metadata."""
        import math
        import os

        import torch
        from safetensors import safe_open
        from safetensors.torch import save_file

        import models

        # The state gans keeps per parameter, by optimizer.
        STATE = {"adam": ["exp_avg", "exp_avg_sq"], "sgd": ["momentum_buffer"], "rmsprop": ["square_avg"]}
        HISTORY = ["part", "number", "epoch", "d_loss", "d_loss_real", "d_loss_fake", "penalty", "g_loss", "d_real",
                   "d_fake", "wasserstein", "seconds", "reconstruction", "kl"]


        def read(path):
            """(tensors, metadata, counters) of a gans training checkpoint."""
            with safe_open(path, framework="pt") as f:
                meta = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in f.keys()}
            if meta.get("gans.kind") != "training":
                raise SystemExit(f"{path} is not a gans training checkpoint (gans.kind is {meta.get('gans.kind')!r})")
            counters = {k: int(v) for k, v in (w.split("=") for w in meta["gans.counters"].split())}
            return tensors, meta, counters


        def networks(tensors, roles):
            """The networks of models.py by role, with the checkpoint's weights (every key must match)."""
            nets = {}
            for prefix, role in roles.items():
                state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
                table = state.pop("label_embedding", None)
                if state:
                    nets[role] = models.NETWORKS[role]()
                    nets[role].load_state_dict(state, strict=True)
                if role + "_labels" in models.NETWORKS:
                    nets[role + "_labels"] = models.NETWORKS[role + "_labels"]()
                    if table is not None:
                        nets[role + "_labels"].load_state_dict({"weight": table}, strict=True)
            return nets


        def optimizer_kind(opt):
            return {torch.optim.Adam: "adam", torch.optim.SGD: "sgd", torch.optim.RMSprop: "rmsprop"}[type(opt)]


        def load_optimizer(opt, tensors, prefix, steps):
            """Gives a torch optimizer the state gans saved (nothing when it has not stepped)."""
            if steps == 0:
                return
            kind = optimizer_kind(opt)
            state = {}
            for i, p in enumerate(opt.param_groups[0]["params"]):
                s = {name: tensors[f"{prefix}{i}.{name}"] for name in STATE[kind]}
                if kind != "sgd":
                    s["step"] = torch.tensor(float(steps))
                state[i] = s
            sd = opt.state_dict()
            sd["state"] = state
            opt.load_state_dict(sd)


        def cpu(t):
            return t.detach().cpu().contiguous()


        def write(folder, start, meta, nets, optimizers, counters, history, roles):
            """Writes folder/checkpoint.safetensors (atomically) from the checkpoint it started from:
            new networks, optimizer state and counters, the history with these steps appended,
            and each network's plain state dict as folder/ROLE.safetensors."""
            os.makedirs(folder, exist_ok=True)
            tensors = {k: v for k, v in start.items() if k != "data.order" and not k.startswith("history.")}
            for prefix, net in nets.items():
                if net is None or not list(net.state_dict()):
                    continue
                if prefix.endswith("label_embedding"):
                    tensors[prefix] = cpu(net.weight)
                    continue
                state = {k: cpu(v) for k, v in net.state_dict().items()}
                # gans keeps no count of batch-norm batches (num_batches_tracked) in its checkpoints
                tensors.update({prefix + k: v for k, v in state.items() if not k.endswith("num_batches_tracked")})
                save_file(state, os.path.join(folder, roles[prefix] + ".safetensors"))
            for prefix, opt in optimizers.items():
                names = STATE[optimizer_kind(opt)]
                for i, p in enumerate(opt.param_groups[0]["params"]):
                    s = opt.state.get(p, {})
                    for name in names:
                        v = s.get(name)
                        tensors[f"{prefix}{i}.{name}"] = cpu(v if v is not None else torch.zeros_like(p))
            for column in HISTORY:
                new = torch.tensor([math.nan if r.get(column) is None else float(r[column]) for r in history])
                tensors["history." + column] = torch.cat([start.get("history." + column, torch.zeros(0)), new])
            counts = torch.zeros(len(history))  # no per-layer gradient norms for these steps
            tensors["history.grad_norm_counts"] = torch.cat([start.get("history.grad_norm_counts", torch.zeros(0)), counts])
            for column in ("grad_norm_layers", "grad_norms"):
                tensors["history." + column] = start.get("history." + column, torch.zeros(0))
            meta = dict(meta)
            meta["gans.counters"] = " ".join(f"{k}={v}" for k, v in counters.items())
            path = os.path.join(folder, "checkpoint.safetensors")
            save_file({k: v.float().contiguous() for k, v in tensors.items()}, path + ".tmp", metadata=meta)
            os.replace(path + ".tmp", path)

        """#
}

/// What differs between the train.py of a GAN and of a VAE.
public protocol TorchTraining {
    static var kind: GenerativeModel { get }
    /// The roles of the networks in models.py, by their key prefix in a gans checkpoint.
    static var torchRoles: [(prefix: String, role: String)] { get }
    /// The settings train.py reads beyond those every run has.
    static func torchConfig(_ script: TrainScript) -> [String]
    /// Whether the script's losses need `torch.nn.functional`.
    static func torchUsesFunctional(_ options: TrainingOptions) -> Bool
    /// The objective and the training loop.
    static func torchTraining(_ script: TrainScript) -> String
    /// What train.py trains, for the README.
    static func torchDescription(_ script: TrainScript) -> String
}

extension GAN: TorchTraining {
    public static let torchRoles: [(prefix: String, role: String)] = [
        ("G.", "generator"), ("D.", "discriminator"), ("ema.", "generator_ema")
    ]

    public static func torchConfig(_ script: TrainScript) -> [String] {
        let o = script.options
        var gan = [
            "\"dsteps\": \(o.dSteps)", "\"smooth\": \(o.labelSmoothing)", "\"smoothfake\": \(o.fakeLabelSmoothing)",
            "\"noise\": \(o.instanceNoise)", "\"z\": \(JSONValue.quote(o.noise.rawValue))",
            "\"classes\": " + (script.classes.map(String.init) ?? "null"),
            "\"d_mixes\": \(script.discriminatorMixes ? "true" : "false")"
        ]
        switch o.loss {
        case .wassersteinGP: gan.append("\"lambda\": \(o.gpLambda)")
        case .r1: gan += ["\"gamma\": \(o.r1Gamma)", "\"every\": \(Swift.max(o.r1Every, 1))"]
        case .wasserstein: gan.append("\"clip\": \(o.clip)")
        default: break
        }
        return gan
    }

    public static func torchUsesFunctional(_ options: TrainingOptions) -> Bool {
        [.minimax, .nonSaturating, .r1, .hinge].contains(options.loss)
    }

    public static func torchTraining(_ script: TrainScript) -> String { script.ganText }

    public static func torchDescription(_ t: TrainScript) -> String {
        "the GAN as gans did (loss \(t.options.loss.rawValue), batch \(t.options.batchSize), \(t.options.dSteps) D step(s) per G step, \(t.optimizerG.name) for G and \(t.optimizerD.name) for D, the same settings\(t.classes.map { ", conditioned on \($0) classes" } ?? ""))"
    }
}

extension VAE: TorchTraining {
    public static let torchRoles: [(prefix: String, role: String)] = [
        ("decoder.", "decoder"), ("encoder.", "encoder"), ("ema.", "decoder_ema")
    ]

    public static func torchConfig(_ script: TrainScript) -> [String] { ["\"beta\": \(script.options.beta)"] }

    public static func torchUsesFunctional(_ options: TrainingOptions) -> Bool { false }

    public static func torchTraining(_ script: TrainScript) -> String { TrainScript.vae }

    public static func torchDescription(_ t: TrainScript) -> String {
        "the VAE as gans did (reconstruction plus β = \(t.options.beta) × KL, batch \(t.options.batchSize), \(t.optimizerG.name) for both networks)"
    }
}
