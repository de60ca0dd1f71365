"""Compares the gradients gans computed for one training step (debug.safetensors, written by
`export torch DIR debug`) with those of the exported train.py's objectives on the same batch,
noise and random draws, from the same checkpoint. Run in the export folder; prints the largest
relative difference per tensor (see `relative`) and exits with 1 when one is above the tolerance (1e-4)."""
import os
import sys

sys.path.insert(0, os.getcwd())

import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

import checkpoint  # noqa: E402
import models  # noqa: E402
import train  # noqa: E402


def relative(mine, theirs):
    """The largest difference relative to the largest value of gans' tensor."""
    return (mine - theirs).abs().max().item() / max(theirs.abs().max().item(), 1e-30)


def named(prefix, net, labels=None):
    out = {f"{prefix}.{k}": p for k, p in net.named_parameters()}
    if labels is not None and labels.weight is not None:
        out[f"{prefix}_labels.weight"] = labels.weight
    return out


def main(tolerance=1e-4):
    debug = load_file("debug.safetensors")
    with safe_open("debug.safetensors", framework="pt") as f:
        meta = f.metadata() or {}
    tensors, _, _ = checkpoint.read("checkpoint.safetensors")
    nets = checkpoint.networks(tensors, train.ROLES)
    results = {}
    if "eps" in debug:  # a VAE: one step of both networks
        params = named("encoder", nets["encoder"]) | named("decoder", nets["decoder"])
        total, _, _ = train.vae_objective(nets["encoder"], nets["decoder"], debug["real"], debug["eps"])
        results["loss.total"] = (total.detach().reshape(1), debug["loss.total"])
        for (name, p), g in zip(params.items(), torch.autograd.grad(total, list(params.values()))):
            results["grad." + name] = (g, debug["grad." + name])
    else:
        g_net = models.Conditioned(nets["generator"], nets.get("generator_labels"))
        d_net = models.Conditioned(nets["discriminator"], nets.get("discriminator_labels"), scores=True)
        y = debug.get("labels")
        d_params = named("discriminator", nets["discriminator"], d_net.labels)
        total, *_ = train.d_objective(d_net, debug["real_in"], debug["fake_in"], y, meta.get("gans.r1_now") == "1",
                                      debug.get("mix"))
        results["loss.discriminator"] = (total.detach().reshape(1), debug["loss.discriminator"])
        for (name, p), g in zip(d_params.items(), torch.autograd.grad(total, list(d_params.values()))):
            results["grad." + name] = (g, debug["grad." + name])
        fake = g_net(debug["z"], y)
        results["fake"] = (fake.detach(), debug["fake"])
        g_params = named("generator", nets["generator"], g_net.labels)
        lg, _ = train.g_objective(d_net, fake + debug["g_noise"], y)
        results["loss.generator"] = (lg.detach().reshape(1), debug["loss.generator"])
        for (name, p), g in zip(g_params.items(), torch.autograd.grad(lg, list(g_params.values()))):
            results["grad." + name] = (g, debug["grad." + name])
    missing = [k for k in debug if k.startswith("grad.") and k not in results]

    def network(key):
        return key.split(".")[1].removesuffix("_labels") if key.startswith("grad.") else key

    largest = {}
    for k, (_, theirs) in results.items():
        largest[network(k)] = max(largest.get(network(k), 0.0), theirs.abs().max().item())
    # A gradient that is zero in exact arithmetic (a bias before batch norm, the last bias of a
    # Wasserstein critic) is rounding noise on both sides: it is checked to be that small instead.
    vanishing = [k for k, (a, b) in results.items() if k.startswith("grad.")
                 and max(a.abs().max().item(), b.abs().max().item()) < 1e-4 * largest[network(k)]]
    errors = {k: relative(a, b) for k, (a, b) in results.items() if k not in vanishing}
    where = max(errors, key=errors.get)
    worst = errors[where]
    print(f"{len(errors)} tensors compared; largest relative difference {worst:.2g} ({where})"
          + (f"; {len(vanishing)} zero in exact arithmetic, below 1e-4 of the network's largest gradient in both"
             if vanishing else "")
          + (f"; gans has gradients torch lacks: {missing}" if missing else ""))
    return worst <= tolerance and not missing


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
