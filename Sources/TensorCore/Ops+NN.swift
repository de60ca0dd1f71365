// Neural-network functions. Most are composed from the primitives, and their
// gradients (and gradients of gradients) come from the primitives' rules;
// batch normalisation records a rule of its own (a fused kernel, or its
// closed form in primitives when gradients of gradients are asked for).

extension Tensor {
    /// Batch normalisation over every axis but 1 (features or channels):
    /// `[N, C]` or `[N, C, H, W]`. In training it normalises with the batch
    /// statistics and updates the running averages in place
    /// (`running = (1 − momentum)·running + momentum·batch`, unbiased variance,
    /// as PyTorch); otherwise it uses the running averages.
    public func batchNorm(
        weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
        training: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5
    ) throws -> Tensor {
        guard rank >= 2 else {
            throw TensorError("batchNorm", "expects [N, C] or [N, C, H, W], found shape \(shapeString(shape))")
        }
        let c = shape[1]
        for (name, t) in [
            ("weight", weight), ("bias", bias), ("running mean", runningMean), ("running variance", runningVar)
        ] {
            if let t, t.shape != [c] {
                throw TensorError(
                    "batchNorm",
                    "\(name) has shape \(shapeString(t.shape)), expected [\(c)] for input \(shapeString(shape))")
            }
        }
        let axes = [0] + Array(2..<rank)
        var paramShape = [Int](repeating: 1, count: rank)
        paramShape[1] = c
        let n = axes.reduce(1) { $0 * shape[$1] }
        guard training else {
            guard let runningMean, let runningVar else {
                throw TensorError("batchNorm", "evaluation mode needs running statistics")
            }
            var y =
                try (self - runningMean.reshaped(to: paramShape))
                / (runningVar.reshaped(to: paramShape) + epsilon).sqrt()
            if let weight { y = try y * weight.reshaped(to: paramShape) }
            if let bias { y = try y + bias.reshaped(to: paramShape) }
            return y
        }
        guard n > 1 else {
            throw TensorError(
                "batchNorm", "needs more than one value per channel in training, found shape \(shapeString(shape))")
        }
        // Fused: per-channel statistics in two passes, then one normalising pass.
        let x = self
        let spatial = shape[2...].reduce(1, *)
        let (mean, invStd) = Kernels.channelStatistics(x, channels: c, spatial: spatial, epsilon: epsilon)
        let out = Kernels.normalize(
            x, mean: mean, invStd: invStd, weight: weight, bias: bias, channels: c, spatial: spatial)
        withNoGrad {
            let pm = mean.pointer, pi = invStd.pointer
            if let runningMean {
                let r = runningMean.pointer
                for k in 0..<c { r[k] = (1 - momentum) * r[k] + momentum * pm[k] }
            }
            if let runningVar {
                let r = runningVar.pointer
                let unbias = Float(n) / Float(n - 1)
                for k in 0..<c {
                    let biased = 1 / (pi[k] * pi[k]) - epsilon
                    r[k] = (1 - momentum) * r[k] + momentum * biased * unbias
                }
            }
        }
        var inputs = [x]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let xShape = shape
        return Tensor.record("batchNorm", out, inputs) { g in
            var grads: [Tensor?]
            if GradMode.isEnabled {
                // Recorded: the closed form in ops, statistics recomputed from x,
                // so the gradient can be differentiated again.
                let m = try x.mean(axes: axes, keepDims: true)
                let xc = try x - m
                let inv = try (xc * xc).mean(axes: axes, keepDims: true).add(epsilon).pow(-0.5)
                let xh = try xc * inv
                let dxh = try weight.map { try g * $0.reshaped(to: paramShape) } ?? g
                let dx =
                    try inv
                    * (dxh - dxh.mean(axes: axes, keepDims: true) - xh * (dxh * xh).mean(axes: axes, keepDims: true))
                grads = [dx]  // dx = σ⁻¹(ĝ − mean ĝ − x̂·mean(ĝ·x̂))
                if weight != nil { grads.append(try (g * xh).sum(axes: axes).reshaped(to: [c])) }  // dw = Σ g·x̂
                if bias != nil { grads.append(try g.sum(axes: axes).reshaped(to: [c])) }  // db = Σ g
            } else {
                let (dx, dw, db) = Kernels.batchNormBackward(
                    g, x, mean: mean, invStd: invStd, weight: weight,
                    channels: c, spatial: spatial, shape: xShape)
                grads = [dx]
                if weight != nil { grads.append(dw) }
                if bias != nil { grads.append(db) }
            }
            return grads
        }
    }

    /// Layer normalisation over the last `normalizedRank` axes, with an
    /// optional elementwise affine of that trailing shape.
    public func layerNorm(
        normalizedRank: Int = 1, weight: Tensor? = nil, bias: Tensor? = nil,
        epsilon: Float = 1e-5
    ) throws -> Tensor {
        guard normalizedRank >= 1, normalizedRank <= rank else {
            throw TensorError(
                "layerNorm", "cannot normalise the last \(normalizedRank) axes of shape \(shapeString(shape))")
        }
        let axes = Array((rank - normalizedRank)..<rank)
        let trailing = Array(shape[(rank - normalizedRank)...])
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t, t.shape != trailing {
                throw TensorError(
                    "layerNorm", "\(name) has shape \(shapeString(t.shape)), expected \(shapeString(trailing))")
            }
        }
        let mean = try self.mean(axes: axes, keepDims: true)
        let centered = try self - mean
        let variance = try (centered * centered).mean(axes: axes, keepDims: true)
        var y = try centered / (variance + epsilon).sqrt()
        if let weight { y = try y * weight }
        if let bias { y = try y + bias }
        return y
    }

    /// Zeroes each element with probability `p` in training and scales the
    /// rest by 1/(1 − p); the identity otherwise.
    public func dropout(p: Float, training: Bool) throws -> Tensor {
        guard p >= 0, p < 1 else { throw TensorError("dropout", "probability must be in [0, 1), found \(p)") }
        guard training, p > 0 else { return self }
        let scale = 1 / (1 - p)
        let mask = Tensor.rand(shape)
        let pm = mask.pointer
        for i in 0..<mask.count { pm[i] = pm[i] >= p ? scale : 0 }
        return try self * mask
    }

    /// Mean binary cross-entropy of logits against targets in [0, 1],
    /// stable for any logit: softplus(x) − x·t.
    public func binaryCrossEntropy(withLogitsTargets targets: Tensor) throws -> Tensor {
        guard targets.shape == shape || targets.count == 1 else {
            throw TensorError(
                "bceWithLogits", "targets \(shapeString(targets.shape)) do not match logits \(shapeString(shape))")
        }
        return try (softplus() - self * targets).mean()
    }

    /// Mean squared error.
    public func mseLoss(_ target: Tensor) throws -> Tensor {
        guard target.shape == shape else {
            throw TensorError("mse", "target \(shapeString(target.shape)) does not match input \(shapeString(shape))")
        }
        let d = try self - target
        return try (d * d).mean()
    }

    /// Mean cross-entropy of `[N, C]` logits against `[N]` class indices.
    public func crossEntropy(classes targets: Tensor) throws -> Tensor {
        guard rank == 2, targets.shape == [shape[0]] else {
            throw TensorError(
                "crossEntropy",
                "expects [N, C] logits and [N] class indices, found \(shapeString(shape)) and \(shapeString(targets.shape))"
            )
        }
        let onehot = try Tensor.oneHot(targets, classes: shape[1])
        return -(try (logSoftmax(axis: 1) * onehot).sum(axes: [1]).mean())
    }
}
