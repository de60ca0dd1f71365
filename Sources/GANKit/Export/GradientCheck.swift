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
        let savedRandom = Random.global, savedCursor = model.data.cursor
        let savedBuffers = (snapshot(model.generator), snapshot(model.partner))
        defer {
            Random.global = savedRandom
            model.data.cursor = savedCursor
            restore(model.generator, savedBuffers.0)
            restore(model.partner, savedBuffers.1)
        }
        return try model.gradientCheck(self)
    }

    /// A fresh real batch and its labels, the start of every gradient check.
    func gradientCheckBatch() throws -> (tensors: [(name: String, tensor: Tensor)], x: Tensor, labels: Tensor?) {
        let real = try model.data.nextBatch(options.batchSize)
        var tensors: [(name: String, tensor: Tensor)] = [("real", real.x)]
        if let y = real.labels { tensors.append(("labels", y)) }
        return (tensors, real.x, real.labels)
    }

    /// One step of both a VAE's networks, not applied.
    func gradientCheck(_ vae: VAE) throws -> SafeTensorsArchive {
        let batch = try gradientCheckBatch()
        var tensors = batch.tensors
        let x = batch.x
        let eps = Tensor.randn([x.shape[0], vae.noiseShape[0]])
        let (total, _, _) = try autoencoderObjective(vae, x: x, epsilon: eps)
        let all = vae.encoder.parameters + vae.decoder.parameters
        let grads = try grad(of: total, wrt: all.map(\.tensor))
        let split = vae.encoder.parameters.count
        for (i, ((name, _), g)) in zip(all, grads).enumerated() {
            tensors.append(("grad.\(i < split ? "encoder" : "decoder").\(name)", g))
        }
        tensors += [("eps", eps), ("loss.total", Tensor([total.item]))]
        return SafeTensorsArchive(tensors: tensors, metadata: ["format": "pt", "gans.kind": "gradient-check"])
    }

    /// One D step and one G step of a GAN, not applied.
    func gradientCheck(_ gan: GAN) throws -> SafeTensorsArchive {
        let batch = try gradientCheckBatch()
        var tensors = batch.tensors
        let real = (x: batch.x, labels: batch.labels)
        let n = real.x.shape[0]
        func gradients(_ loss: Tensor, _ role: String, _ net: Network, table: Tensor?) throws {
            let params = net.parameters + (table.map { [("label_embedding", $0)] } ?? [])
            let grads = try grad(of: loss, wrt: params.map(\.tensor))
            for ((name, _), g) in zip(params, grads) {
                let key = name == "label_embedding" ? "grad.\(role)_labels.weight" : "grad.\(role).\(name)"
                tensors.append((key, g))
            }
            tensors.append(("loss.\(role)", Tensor([loss.item])))
        }
        let z = gan.sampleNoise(n)
        let fake = try gan.generate(z, labels: real.labels)
        let realIn = try noisy(real.x), fakeIn = try noisy(fake.detached())
        let mix = options.loss == .wassersteinGP ? Trainer.interpolationWeights(like: real.x) : nil
        let r1Now = r1Due
        let d = try discriminatorObjective(
            gan, real: realIn.detached(), fake: fakeIn, labels: real.labels, r1Now: r1Now, mix: mix)
        try gradients(d.total, "discriminator", gan.discriminator, table: gan.labelEmbeddingD)
        let gNoise = try noisy(Tensor(zeros: fake.shape))
        let g = try generatorObjective(gan, fake: fake + gNoise, labels: real.labels)
        try gradients(g.loss, "generator", gan.generator, table: gan.labelEmbeddingG)
        tensors += [
            ("z", z), ("fake", fake.detached()), ("real_in", realIn), ("fake_in", fakeIn), ("g_noise", gNoise)
        ]
        if let mix { tensors.append(("mix", mix)) }
        return SafeTensorsArchive(
            tensors: tensors,
            metadata: ["format": "pt", "gans.kind": "gradient-check", "gans.r1_now": r1Now ? "1" : "0"])
    }
}
