import Foundation
import TensorCore

/// The training of an unconditional GAN written as a PyTorch script (`train.py`
/// beside `models.py`): the same data, loss, optimizers and settings, on one
/// process or under `torchrun` with DistributedDataParallel.
public struct TrainScript {
    public enum Data {
        /// Whether the data are a fixed set (written as a file).
        public var isSamples: Bool { if case .samples = self { return true } else { return false } }
        /// A fixed set of samples, written beside the script as `data.safetensors`.
        case samples(Tensor)
        /// A Gaussian mixture: its centres and σ (fresh samples every batch).
        case mixture(centers: [(Float, Float)], std: Float)
    }

    public var options: TrainingOptions
    public var noiseShape: [Int]
    public var optimizerG: Optimizer
    public var optimizerD: Optimizer
    public var data: Data
    public var dataName: String
    public var stepsTaken: Int

    public init(options: TrainingOptions, noiseShape: [Int], optimizerG: Optimizer, optimizerD: Optimizer, data: Data,
                dataName: String, stepsTaken: Int) {
        self.options = options
        self.noiseShape = noiseShape
        self.optimizerG = optimizerG
        self.optimizerD = optimizerD
        self.data = data
        self.dataName = dataName
        self.stepsTaken = stepsTaken
    }

    /// The settings as JSON, which train.py reads.
    var configJSON: String {
        func opt(_ o: Optimizer) -> String {
            "{\"name\": \(JSONValue.quote(o.name)), " + o.hyperparameters.map { "\(JSONValue.quote($0.name)): \($0.value)" }
                .joined(separator: ", ") + "}"
        }
        let o = options
        var fields = [
            "\"loss\": \(JSONValue.quote(o.loss.rawValue))", "\"batch\": \(o.batchSize)", "\"dsteps\": \(o.dSteps)",
            "\"lambda\": \(o.gpLambda)", "\"gamma\": \(o.r1Gamma)", "\"every\": \(o.r1Every)", "\"clip\": \(o.clip)",
            "\"smooth\": \(o.labelSmoothing)", "\"smoothfake\": \(o.fakeLabelSmoothing)", "\"noise\": \(o.instanceNoise)",
            "\"ema\": " + (o.emaDecay.map { "\($0)" } ?? "null"), "\"z\": \(JSONValue.quote(o.noise.rawValue))",
            "\"noise_shape\": [\(noiseShape.map(String.init).joined(separator: ", "))]",
            "\"optG\": \(opt(optimizerG))", "\"optD\": \(opt(optimizerD))", "\"data_name\": \(JSONValue.quote(dataName))",
            "\"steps_taken\": \(stepsTaken)",
        ]
        switch data {
        case .samples: fields.append("\"data\": {\"kind\": \"samples\", \"file\": \"data.safetensors\"}")
        case let .mixture(centers, std):
            fields.append("\"data\": {\"kind\": \"mixture\", \"std\": \(std), \"centers\": ["
                          + centers.map { "[\($0.0), \($0.1)]" }.joined(separator: ", ") + "]}")
        }
        return "{\n    " + fields.joined(separator: ",\n    ") + "\n}"
    }

    /// The script.
    public var text: String {
        """
        # The training of a gans run in PyTorch, written by `export torch`. One process:
        #     python train.py --steps 1000
        # Several (DistributedDataParallel; gloo on CPU, nccl with CUDA), each rank on its own
        # shard of the data with the same batch size, so the global batch is batch × ranks:
        #     torchrun --nproc_per_node=2 train.py --steps 1000
        # It starts from weights.safetensors (or --resume DIR) and writes the networks' state
        # dicts to --out (default out/), which gans reads back with
        #     load G out/generator.safetensors spec="…"   (the layers README.md gives)
        import argparse
        import json
        import os

        import torch
        import torch.nn.functional as F
        from safetensors.torch import load_file, save_file

        import models

        CONFIG = json.loads(
            \"\"\"
        \(configJSON)
        \"\"\"
        )


        def make_optimizer(spec, params):
            h = {k: v for k, v in spec.items() if k != "name"}
            if spec["name"] == "adam":
                return torch.optim.Adam(params, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                                        weight_decay=h["weight_decay"])
            if spec["name"] == "sgd":
                return torch.optim.SGD(params, lr=h["lr"], momentum=h["momentum"], nesterov=h["nesterov"] != 0,
                                       weight_decay=h["weight_decay"])
            return torch.optim.RMSprop(params, lr=h["lr"], alpha=h["alpha"], eps=h["eps"],
                                       weight_decay=h["weight_decay"], momentum=h.get("momentum", 0.0))


        class RealData:
            \"\"\"Batches of real samples: this rank's shard of the data, reshuffled each epoch.\"\"\"

            def __init__(self, rank, world, device, seed):
                self.rank, self.world, self.device = rank, world, device
                self.g = torch.Generator().manual_seed(seed)
                spec = CONFIG["data"]
                if spec["kind"] == "mixture":
                    self.centers = torch.tensor(spec["centers"])
                    self.std = spec["std"]
                    self.samples = None
                else:
                    self.samples = load_file(spec["file"])["samples"]
                    self.epoch, self.order, self.at = 0, None, 0

            def next(self, n):
                if self.samples is None:
                    k = torch.randint(len(self.centers), (n,), generator=self.g)
                    x = self.centers[k] + self.std * torch.randn(n, 2, generator=self.g)
                    return x.to(self.device)
                if self.order is None or self.at + n > len(self.order):
                    # Every rank draws the same permutation for an epoch and keeps its own slice.
                    perm = torch.randperm(len(self.samples), generator=torch.Generator().manual_seed(1000 + self.epoch))
                    self.order, self.at, self.epoch = perm[self.rank::self.world], 0, self.epoch + 1
                idx = self.order[self.at:self.at + n]
                self.at += n
                return self.samples[idx].to(self.device)


        def noise(n, device):
            shape = (n, *CONFIG["noise_shape"])
            if CONFIG["z"] == "uniform":
                return torch.rand(shape, device=device) * 2 - 1
            return torch.randn(shape, device=device)


        def noisy(x):
            return x + CONFIG["noise"] * torch.randn_like(x) if CONFIG["noise"] > 0 else x


        def d_losses(real, fake):
            loss, t, tf = CONFIG["loss"], 1 - CONFIG["smooth"], CONFIG["smoothfake"]
            if loss in ("minimax", "nonsat", "r1"):
                return (F.softplus(real) - t * real).mean() + (F.softplus(fake) - tf * fake).mean()
            if loss == "lsgan":
                return 0.5 * ((real - t) ** 2).mean() + 0.5 * ((fake - tf) ** 2).mean()
            if loss == "hinge":
                return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
            return -real.mean() + fake.mean()  # wgan, wgan-gp


        def g_loss(fake):
            loss = CONFIG["loss"]
            if loss == "minimax":
                return -F.softplus(fake).mean()
            if loss in ("nonsat", "r1"):
                return F.softplus(-fake).mean()
            if loss == "lsgan":
                return 0.5 * ((fake - 1) ** 2).mean()
            return -fake.mean()  # hinge, wgan, wgan-gp


        def gradient_norms(out, x):
            (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
            return g.flatten(1).pow(2).sum(1)


        def main():
            parser = argparse.ArgumentParser(description="Trains the exported GAN as gans did.")
            parser.add_argument("--steps", type=int, default=1000, help="training steps (dsteps D steps and one G step each)")
            parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
            parser.add_argument("--resume", default=None, help="a folder train.py wrote, instead of weights.safetensors")
            parser.add_argument("--out", default="out")
            parser.add_argument("--seed", type=int, default=0)
            parser.add_argument("--log-every", type=int, default=100)
            args = parser.parse_args()

            world = int(os.environ.get("WORLD_SIZE", "1"))
            rank = int(os.environ.get("RANK", "0"))
            device = torch.device(args.device)
            if world > 1:
                torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
                if device.type == "cuda":
                    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
                    torch.cuda.set_device(device)
            torch.manual_seed(args.seed * 1000 + rank)

            nets = models.load("weights.safetensors")
            G, D = nets["generator"].to(device), nets["discriminator"].to(device)
            g_steps = CONFIG["steps_taken"]
            if args.resume:
                from safetensors import safe_open

                path = os.path.join(args.resume, "generator.safetensors")
                with safe_open(path, framework="pt") as f:
                    g_steps = int((f.metadata() or {}).get("steps", g_steps))
                G.load_state_dict(load_file(path), strict=True)
                D.load_state_dict(load_file(os.path.join(args.resume, "discriminator.safetensors")), strict=True)
            ema = None
            if CONFIG["ema"] is not None:
                ema = nets.get("generator_ema", models.Generator()).to(device)
                if args.resume and os.path.exists(os.path.join(args.resume, "generator_ema.safetensors")):
                    ema.load_state_dict(load_file(os.path.join(args.resume, "generator_ema.safetensors")), strict=True)
                ema.eval()
            g_model, d_model = G, D
            if world > 1:
                ids = [device.index] if device.type == "cuda" else None
                g_model = torch.nn.parallel.DistributedDataParallel(G, device_ids=ids)
                d_model = torch.nn.parallel.DistributedDataParallel(D, device_ids=ids)
            opt_g = make_optimizer(CONFIG["optG"], G.parameters())
            opt_d = make_optimizer(CONFIG["optD"], D.parameters())
            data = RealData(rank, world, device, seed=args.seed * 1000 + rank)
            b, loss, every = CONFIG["batch"], CONFIG["loss"], max(CONFIG["every"], 1)
            d_steps = 0

            for step in range(1, args.steps + 1):
                fake = None
                for _ in range(CONFIG["dsteps"]):
                    real = noisy(data.next(b))
                    fake = g_model(noise(b, device))
                    fake_in = noisy(fake.detach())
                    r1_now = loss == "r1" and d_steps % every == 0
                    if r1_now:
                        real.requires_grad_(True)
                    real_out = d_model(real)
                    total = d_losses(real_out, d_model(fake_in))
                    if loss == "wgan-gp":
                        a = torch.rand(b, *[1] * (real.dim() - 1), device=device)
                        xhat = (a * real.detach() + (1 - a) * fake_in).requires_grad_(True)
                        total = total + CONFIG["lambda"] * (gradient_norms(d_model(xhat), xhat).sqrt() - 1).pow(2).mean()
                    if r1_now:
                        total = total + CONFIG["gamma"] / 2 * every * gradient_norms(real_out, real).mean()
                    opt_d.zero_grad(set_to_none=True)
                    total.backward()
                    opt_d.step()
                    if loss == "wgan":
                        with torch.no_grad():
                            for p in D.parameters():
                                p.clamp_(-CONFIG["clip"], CONFIG["clip"])
                    d_steps += 1
                # With one D step the G step reuses its fake batch (G runs forward once), as gans does.
                if CONFIG["dsteps"] != 1:
                    fake = g_model(noise(b, device))
                for p in D.parameters():
                    p.requires_grad_(False)
                lg = g_loss(d_model(noisy(fake)))
                opt_g.zero_grad(set_to_none=True)
                lg.backward()
                opt_g.step()
                for p in D.parameters():
                    p.requires_grad_(True)
                g_steps += 1
                if ema is not None:
                    decay = min(CONFIG["ema"], (1 + g_steps) / (10 + g_steps))
                    with torch.no_grad():
                        for e, p in zip(ema.parameters(), G.parameters()):
                            e.mul_(decay).add_(p, alpha=1 - decay)
                        for e, p in zip(ema.buffers(), G.buffers()):
                            e.copy_(p)
                if rank == 0 and (step % args.log_every == 0 or step == args.steps):
                    print(f"step {g_steps}: D loss {total.item():.4f}, G loss {lg.item():.4f}", flush=True)

            if rank == 0:
                os.makedirs(args.out, exist_ok=True)
                save_file({k: v.contiguous().cpu() for k, v in G.state_dict().items()}, os.path.join(args.out, "generator.safetensors"),
                          metadata={"steps": str(g_steps)})
                save_file({k: v.contiguous().cpu() for k, v in D.state_dict().items()}, os.path.join(args.out, "discriminator.safetensors"))
                if ema is not None:
                    save_file({k: v.contiguous().cpu() for k, v in ema.state_dict().items()}, os.path.join(args.out, "generator_ema.safetensors"))
                print(f"wrote the networks after {g_steps} steps to {args.out}/")
            if world > 1:
                torch.distributed.destroy_process_group()


        if __name__ == "__main__":
            main()

        """
    }
}
