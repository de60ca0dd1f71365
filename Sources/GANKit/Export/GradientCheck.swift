import Foundation
import TensorCore

extension Trainer {
    /// The gradients of one D step and one G step (a VAE: one step of both networks) on a
    /// fresh batch, not applied, with every input and random draw that made them: the real
    /// batch and labels, the noise, the fake batch, the instance noise, the WGAN-GP
    /// interpolation weights, the VAE's ε. An exported `train.py` computing its objectives on
    /// these from the same checkpoint must give the same gradients (`scripts/check-torch`).
    /// Gradients are keyed by the PyTorch module's names: `grad.discriminator.0.weight`, ….
    /// The run is left as it was: weights, buffers, data order and random stream.
    public func gradientCheck() throws -> SafeTensorsArchive {
        let savedRandom = Random.global, savedCursor = gan.data.cursor
        let savedBuffers = (snapshot(gan.generator), snapshot(gan.discriminator))
        defer {
            Random.global = savedRandom
            gan.data.cursor = savedCursor
            restore(gan.generator, savedBuffers.0)
            restore(gan.discriminator, savedBuffers.1)
        }
        let real = try gan.data.nextBatch(options.batchSize)
        let n = real.x.shape[0]
        var tensors: [(name: String, tensor: Tensor)] = [("real", real.x)]
        if let y = real.labels { tensors.append(("labels", y)) }
        func gradients(_ loss: Tensor, _ role: String, _ net: Network, table: Tensor?) throws {
            let params = net.parameters + (table.map { [("label_embedding", $0)] } ?? [])
            let grads = try grad(of: loss, wrt: params.map(\.tensor))
            for ((name, _), g) in zip(params, grads) {
                let key = name == "label_embedding" ? "grad.\(role)_labels.weight" : "grad.\(role).\(name)"
                tensors.append((key, g))
            }
            tensors.append(("loss.\(role)", Tensor([loss.item])))
        }
        if gan.model == .variational {
            let eps = Tensor.randn([n, gan.noiseShape[0]])
            let (total, _, _) = try autoencoderObjective(x: real.x, epsilon: eps)
            let all = gan.discriminator.parameters + gan.generator.parameters
            let grads = try grad(of: total, wrt: all.map(\.tensor))
            let split = gan.discriminator.parameters.count
            for (i, ((name, _), g)) in zip(all, grads).enumerated() {
                tensors.append(("grad.\(i < split ? "encoder" : "decoder").\(name)", g))
            }
            tensors += [("eps", eps), ("loss.total", Tensor([total.item]))]
            return SafeTensorsArchive(tensors: tensors, metadata: ["format": "pt", "gans.kind": "gradient-check"])
        }
        let z = gan.sampleNoise(n)
        let fake = try gan.generate(z, labels: real.labels)
        let realIn = try noisy(real.x), fakeIn = try noisy(fake.detached())
        let mix = options.loss == .wassersteinGP ? Trainer.interpolationWeights(like: real.x) : nil
        let r1Now = r1Due
        let d = try discriminatorObjective(
            real: realIn.detached(), fake: fakeIn, labels: real.labels, r1Now: r1Now, mix: mix)
        try gradients(d.total, "discriminator", gan.discriminator, table: gan.labelEmbeddingD)
        let gNoise = try noisy(Tensor(zeros: fake.shape))
        let g = try generatorObjective(fake: fake + gNoise, labels: real.labels)
        try gradients(g.loss, "generator", gan.generator, table: gan.labelEmbeddingG)
        tensors += [
            ("z", z), ("fake", fake.detached()), ("real_in", realIn), ("fake_in", fakeIn), ("g_noise", gNoise),
        ]
        if let mix { tensors.append(("mix", mix)) }
        return SafeTensorsArchive(
            tensors: tensors,
            metadata: ["format": "pt", "gans.kind": "gradient-check", "gans.r1_now": r1Now ? "1" : "0"])
    }
}
