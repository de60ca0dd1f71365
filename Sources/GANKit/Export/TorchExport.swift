import Foundation
import TensorCore

/// Writes the networks of a training run as a small PyTorch project: `models.py`
/// (one `nn.Sequential` per network, built from its layers, with the state-dict
/// keys gans writes, so `load_state_dict(strict=True)` works), `weights.safetensors`
/// and `check.safetensors` (inputs and the outputs gans computed for them, which
/// `python models.py` compares), and a README.
public enum TorchExport {
    /// One network of the export: the role it plays, its name in the shell, the network.
    public struct Part {
        public var role: String
        public var shellName: String
        public var network: Network
        public init(role: String, shellName: String, network: Network) {
            self.role = role
            self.shellName = shellName
            self.network = network
        }
        /// The Python class name of the role (`generator` → `Generator`).
        var className: String { TorchExport.className(role) }
    }

    /// The Python class name of a role (`generator_labels` → `GeneratorLabels`).
    static func className(_ role: String) -> String {
        role.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// The class labels of a conditional network: one-hot over `classes`, or rows of `table`.
    public struct LabelPart {
        public var role: String
        public var classes: Int
        public var table: Tensor?
        public init(role: String, classes: Int, table: Tensor?) {
            self.role = role
            self.classes = classes
            self.table = table
        }
        var className: String { TorchExport.className(role) }
        var pythonClass: String {
            let dim = table.map { ", \($0.shape[1])" } ?? ""
            let what =
                table.map { "rows of a learned table [\(classes), \($0.shape[1])]" }
                ?? "one-hot vectors of \(classes) classes"
            return """
                class \(className)(Labels):
                    \"\"\"The class labels of the \(role.replacingOccurrences(of: "_labels", with: "")) in gans: \(what).\"\"\"

                    def __init__(self):
                        super().__init__(\(classes)\(dim))
                """
        }
    }

    /// The PyTorch module of one layer, given its per-sample input shape.
    static func module(_ spec: LayerSpec, input: [Int]) -> String {
        func py(_ b: Bool) -> String { b ? "True" : "False" }
        func num(_ f: Float) -> String { "\(f)" }
        switch spec {
        case let .linear(out, bias): return "nn.Linear(\(input.last ?? 1), \(out), bias=\(py(bias)))"
        case let .conv2d(out, k, s, p, bias):
            return "nn.Conv2d(\(input[0]), \(out), \(k), stride=\(s), padding=\(p), bias=\(py(bias)))"
        case let .convTranspose2d(out, k, s, p, op, bias):
            return
                "nn.ConvTranspose2d(\(input[0]), \(out), \(k), stride=\(s), padding=\(p), output_padding=\(op), bias=\(py(bias)))"
        case let .batchNorm(m, e):
            return "nn.BatchNorm\(input.count == 3 ? "2d" : "1d")(\(input[0]), eps=\(num(e)), momentum=\(num(m)))"
        case let .layerNorm(e): return "nn.LayerNorm(\(input.last ?? 1), eps=\(num(e)))"
        case let .dropout(p): return "nn.Dropout(\(num(p)))"
        case .relu: return "nn.ReLU()"
        case let .leakyRelu(a): return "nn.LeakyReLU(\(num(a)))"
        case .tanh: return "nn.Tanh()"
        case .sigmoid: return "nn.Sigmoid()"
        case .gelu: return "nn.GELU()"
        case let .elu(a): return "nn.ELU(\(num(a)))"
        case .softmax: return "nn.Softmax(dim=-1)"
        case .minibatchStd: return "MinibatchStd()"
        case let .reshape(target): return "Reshape(\(target.map(String.init).joined(separator: ", ")))"
        case .flatten: return "nn.Flatten()"
        case let .upsample(s): return "nn.Upsample(scale_factor=\(s), mode=\"nearest\")"
        case let .embedding(v, d): return "Embedding(\(v), \(d))"
        case let .spectralNorm(inner): return "nn.utils.spectral_norm(\(module(inner, input: input)))"
        }
    }

    /// The Python class of one network: an `nn.Sequential` of its layers, each with the shell's text beside it.
    static func pythonClass(_ part: Part) -> String {
        let net = part.network
        var lines = [
            "class \(part.className)(nn.Sequential):",
            "    \"\"\"\(part.shellName) in gans: \(net.text)",
            "",
            "    Input [N, \(net.inputShape.map(String.init).joined(separator: ", "))], output [N, \(net.outputShape.map(String.init).joined(separator: ", "))].",
            "    \"\"\"",
            "",
            "    def __init__(self):",
            "        super().__init__("
        ]
        var input = net.inputShape
        for (i, layer) in net.layers.enumerated() {
            lines.append("            \(module(layer.spec, input: input)),  # \(i): \(layer.spec.text)")
            input = net.shapes[i]
        }
        lines.append("        )")
        return lines.joined(separator: "\n")
    }

    static let header = """
        # PyTorch modules of a gans training run, written by `export torch`.
        # Each network is an nn.Sequential whose state-dict keys are the ones gans
        # writes, so load_state_dict(strict=True) takes the exported weights.
        # `python models.py` loads them and compares the outputs with gans' own.
        import sys

        import torch
        from torch import nn


        class Reshape(nn.Module):
            \"\"\"gans `reshape D…`: each sample to the given shape.\"\"\"

            def __init__(self, *shape):
                super().__init__()
                self.shape = shape

            def forward(self, x):
                return x.reshape(x.shape[0], *self.shape)


        class MinibatchStd(nn.Module):
            \"\"\"gans `mbstd`: [N, F] to [N, F + 1]; the extra feature is the mean over features of
            each feature's standard deviation across the batch (0 for a batch of one).\"\"\"

            def forward(self, x):
                if x.shape[0] > 1:
                    s = (x.var(0, unbiased=False) + 1e-8).sqrt().mean()
                else:
                    s = x.new_zeros(())
                return torch.cat([x, s.expand(x.shape[0], 1)], 1)


        class Embedding(nn.Embedding):
            \"\"\"gans `embedding N D`: token ids stored as floats to vectors.\"\"\"

            def forward(self, x):
                return super().forward(x.long())


        class Labels(nn.Module):
            \"\"\"gans `cond=`: class labels as vectors, one-hot or rows of a learned table (`cond=embedding D`).\"\"\"

            def __init__(self, classes, dim=None):
                super().__init__()
                self.classes = classes
                self.weight = nn.Parameter(torch.randn(classes, dim)) if dim else None

            def forward(self, y):
                y = y.long()
                return self.weight[y] if self.weight is not None else nn.functional.one_hot(y, self.classes).float()


        class Conditioned(nn.Module):
            \"\"\"A network with its class labels, as gans runs it: G(z ⊕ label) or D(x ⊕ label), the label
            vectors appended to a flat input or as constant channels of an image; without labels, the
            network alone. `scores=True` gives D's scores as [N, 1].\"\"\"

            def __init__(self, net, labels=None, scores=False):
                super().__init__()
                self.net, self.labels, self.scores = net, labels, scores

            def forward(self, x, y=None):
                if self.labels is not None:
                    v = self.labels(y)
                    if x.dim() == 4:
                        x = torch.cat([x, v[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])], 1)
                    else:
                        x = torch.cat([x.flatten(1), v], 1)
                out = self.net(x)
                return out.reshape(len(out), 1) if self.scores else out
        """

    static func footer(_ parts: [Part], _ labels: [LabelPart]) -> String {
        let roles = (parts.map { "\"\($0.role)\": \($0.className)" } + labels.map { "\"\($0.role)\": \($0.className)" })
            .joined(separator: ", ")
        return """
            NETWORKS = {\(roles)}


            def load(path="weights.safetensors"):
                \"\"\"The exported networks, by role, with their weights (strict: every key must match).\"\"\"
                from safetensors.torch import load_file

                state = load_file(path)
                nets = {}
                for role, cls in NETWORKS.items():
                    net = cls()
                    prefix = role + "."
                    net.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}, strict=True)
                    nets[role] = net
                return nets


            def check(weights="weights.safetensors", reference="check.safetensors", tolerance=1e-5):
                \"\"\"Runs each network (eval mode) on the inputs gans saved and compares with gans' outputs:
                the largest difference relative to the largest output.\"\"\"
                from safetensors.torch import load_file

                ref = load_file(reference)
                worst = 0.0
                for role, net in load(weights).items():
                    if role + ".input" not in ref:  # class labels have no check of their own
                        continue
                    net.eval()
                    with torch.no_grad():
                        out = net(ref[role + ".input"])
                    expected = ref[role + ".output"]
                    diff = (out - expected).abs().max().item() / max(expected.abs().max().item(), 1e-12)
                    worst = max(worst, diff)
                    print(f"{role}: largest difference from gans {diff:.2g} (relative)")
                return worst <= tolerance


            if __name__ == "__main__":
                sys.exit(0 if check() else 1)

            """
    }

    /// `models.py` for the parts.
    public static func modelsPy(_ parts: [Part], labels: [LabelPart] = []) -> String {
        ([header] + parts.map(pythonClass) + labels.map(\.pythonClass) + [footer(parts, labels)]).joined(
            separator: "\n\n\n")
    }

    /// Writes models.py, weights.safetensors, check.safetensors and README.md into `directory`
    /// (made if missing; each file written atomically). `inputs` gives each part's check input.
    /// Writes models.py, weights.safetensors, check.safetensors and README.md into `directory`
    /// (made if missing; each file written atomically); with a training script also train.py,
    /// checkpoint.py, the session's training checkpoint it starts from (checkpoint.safetensors)
    /// and the data when they are a fixed set; with `debug`, debug.safetensors (a gradient
    /// check, `Trainer.gradientCheck`). `checkInputs` gives each part's check input.
    public static func write(
        _ parts: [Part], labels: [LabelPart] = [], checkInputs: [Tensor], description: String,
        train: (script: TrainScript, session: SafeTensorsArchive)? = nil, debug: SafeTensorsArchive? = nil,
        to directory: String
    ) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var weights: [(name: String, tensor: Tensor)] = []
        var check: [(name: String, tensor: Tensor)] = []
        for (part, x) in zip(parts, checkInputs) {
            weights += part.network.stateDict.map { (part.role + "." + $0.name, $0.tensor) }
            let y = try part.network.evaluating { try withNoGrad { try part.network(x) } }
            check += [(part.role + ".input", x), (part.role + ".output", y)]
        }
        for l in labels { if let t = l.table { weights.append((l.role + ".weight", t)) } }
        let texts = Dictionary(uniqueKeysWithValues: parts.map { ("gans.\($0.role)", $0.network.text) })
        let path = { (name: String) in (directory as NSString).appendingPathComponent(name) }
        try AtomicFile.write(Array(modelsPy(parts, labels: labels).utf8), to: path("models.py"))
        try SafeTensors.write(
            SafeTensorsArchive(tensors: weights, metadata: texts.merging(["format": "pt"]) { a, _ in a }),
            to: path("weights.safetensors"))
        try SafeTensors.write(
            SafeTensorsArchive(tensors: check, metadata: ["format": "pt"]), to: path("check.safetensors"))
        var written = ["models.py", "weights.safetensors", "check.safetensors"]
        if let (script, session) = train {
            try AtomicFile.write(Array(script.text.utf8), to: path("train.py"))
            try AtomicFile.write(Array(TrainScript.checkpointPy.utf8), to: path("checkpoint.py"))
            try SafeTensors.write(session, to: path("checkpoint.safetensors"))
            written += ["train.py", "checkpoint.py", "checkpoint.safetensors"]
            if case let .samples(x, y) = script.data {
                try SafeTensors.write(
                    SafeTensorsArchive(
                        tensors: [("samples", x)] + (y.map { [("labels", $0)] } ?? []),
                        metadata: ["gans.data": script.dataName]),
                    to: path("data.safetensors"))
                written.append("data.safetensors")
            }
        }
        if let debug {
            try SafeTensors.write(debug, to: path("debug.safetensors"))
            written.append("debug.safetensors")
        }
        try AtomicFile.write(
            Array(readme(parts, description: description, train: train?.script).utf8), to: path("README.md"))
        return written + ["README.md"]
    }

    static func readme(_ parts: [Part], description: String, train: TrainScript?) -> String {
        let list = parts.map {
            "- `\($0.className)` (key prefix `\($0.role).`): \($0.shellName) in gans, `\($0.network.text)`"
        }
        .joined(separator: "\n")
        return """
            # PyTorch modules of a gans run

            Written by `export torch` in gans: \(description).

            \(list)

            `models.py` builds each network as an `nn.Sequential` of the same layers, with the
            state-dict keys gans writes (`0.weight`, `2.running_mean`, …); `weights.safetensors`
            holds their weights, each key prefixed by the network's role. With PyTorch and the
            `safetensors` package installed:

            ```
            python models.py                 # loads the weights and compares outputs with gans'
            ```

            ```python
            import models
            nets = models.load("weights.safetensors")   # {"generator": …, "discriminator": …}
            ```

            `check.safetensors` holds an input for each network and the output gans computed
            for it (eval mode: batch norm with its running statistics, dropout off);
            `python models.py` reports the largest difference (relative to the largest output) and
            exits with 1 above 1e-5.
            Networks trained in PyTorch come back to gans with
            `load NAME FILE spec="LAYERS"` on a file written by
            `safetensors.torch.save_file(net.state_dict(), FILE)`.

            """
                + (train.map { t in
                    let kind = t.model.kind.rawValue
                    let what = t.model.torchDescription(t)
                    return """

                        ## Training on

                        `train.py` trains \(what), on \(t.dataName)\(t.data.isSamples ? " (written beside it as `data.safetensors`)" : " (drawn fresh each batch)"). It starts from `checkpoint.safetensors`, the session as gans saved it (networks, the optimizers' state, the moving average), read and written by `checkpoint.py`:

                        ```
                        python train.py --steps 1000                        # one process
                        torchrun --nproc_per_node=2 train.py --steps 1000   # DistributedDataParallel, one shard of the data per rank
                        python train.py --steps 1000 --device cuda          # a GPU
                        python train.py --steps 1000 --resume out           # go on from what train.py wrote
                        ```

                        Each rank keeps the batch size, so with K ranks a step sees K × \(t.options.batchSize) samples. It writes
                        `out/checkpoint.safetensors` in gans' own format (the history of its steps appended), and each network's
                        plain state dict beside it. Back in gans, on the same data:

                        ```
                        load \(kind) out/checkpoint.safetensors
                        ```

                        Differences from gans: the moving average copies G's batch-norm statistics rather than measuring its own, the random streams are PyTorch's, and the steps train.py adds to the history carry no per-layer gradient norms.

                        """
                } ?? "")
    }
}
