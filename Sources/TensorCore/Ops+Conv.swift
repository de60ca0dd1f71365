import CKernels

/// The sliding-window geometry of a 2-D convolution.
public struct ConvGeometry: Equatable, Sendable {
    public var kernelHeight: Int, kernelWidth: Int
    public var strideHeight: Int, strideWidth: Int
    public var padHeight: Int, padWidth: Int

    public init(kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.init(
            kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
            padHeight: padding, padWidth: padding)
    }

    public init(kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int, padHeight: Int, padWidth: Int)
    {
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.padHeight = padHeight; self.padWidth = padWidth
    }

    /// Output height and width for an input of `height` × `width`.
    public func outputSize(height: Int, width: Int, op: String) throws -> (Int, Int) {
        guard kernelHeight > 0, kernelWidth > 0, strideHeight > 0, strideWidth > 0, padHeight >= 0, padWidth >= 0 else {
            throw TensorError(
                op,
                "kernel and stride must be positive and padding zero or more, found kernel \(kernelHeight)x\(kernelWidth), stride \(strideHeight)x\(strideWidth), padding \(padHeight)x\(padWidth)"
            )
        }
        let ph = height + 2 * padHeight - kernelHeight, pw = width + 2 * padWidth - kernelWidth
        guard ph >= 0, pw >= 0 else {
            throw TensorError(
                op,
                "a \(kernelHeight)x\(kernelWidth) kernel does not fit a \(height)x\(width) input with padding \(padHeight)x\(padWidth)"
            )
        }
        return (ph / strideHeight + 1, pw / strideWidth + 1)
    }
}

extension Tensor {
    /// Unfolds the patches of an `[N, C, H, W]` image batch into rows:
    /// `[N·OH·OW, C·kh·kw]`. Its adjoint is `col2im`.
    public func im2col(_ geo: ConvGeometry) throws -> Tensor {
        guard rank == 4 else {
            throw TensorError("im2col", "expects an [N, C, H, W] tensor, found shape \(shapeString(shape))")
        }
        let x = self
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = try geo.outputSize(height: h, width: w, op: "im2col")
        let kh = geo.kernelHeight, kw = geo.kernelWidth
        let cols = c * kh * kw
        let out = Tensor(uninitialized: [n * oh * ow, cols])
        let src = pointer, dst = out.pointer
        let sh = geo.strideHeight, sw = geo.strideWidth, ph = geo.padHeight, pw = geo.padWidth
        Parallel.forEachChunk(n * oh, grain: 1) { range in
            gk_im2col(src, dst, range.lowerBound, range.upperBound, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw)
        }
        return Tensor.record("im2col", out, [x]) { g in
            [try g.col2im(batch: n, channels: c, height: h, width: w, geo)]
        }
    }

    /// Folds rows of patches `[N·OH·OW, C·kh·kw]` back into `[N, C, H, W]`,
    /// summing where patches overlap. The adjoint of `im2col`.
    public func col2im(batch n: Int, channels c: Int, height h: Int, width w: Int, _ geo: ConvGeometry) throws -> Tensor
    {
        let (oh, ow) = try geo.outputSize(height: h, width: w, op: "col2im")
        let kh = geo.kernelHeight, kw = geo.kernelWidth
        let cols = c * kh * kw
        guard shape == [n * oh * ow, cols] else {
            throw TensorError(
                "col2im",
                "expects [\(n * oh * ow), \(cols)] for a [\(n), \(c), \(h), \(w)] image with a \(kh)x\(kw) kernel, found \(shapeString(shape))"
            )
        }
        let x = self
        let out = Tensor(zeros: [n, c, h, w])
        let src = pointer, dst = out.pointer
        let sh = geo.strideHeight, sw = geo.strideWidth, ph = geo.padHeight, pw = geo.padWidth
        // One image per task: the rows of patches are read in order and summed
        // into an image small enough to stay in cache.
        Parallel.forEachChunk(n, grain: 1) { range in
            gk_col2im(src, dst, range.lowerBound, range.upperBound, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw)
        }
        return Tensor.record("col2im", out, [x]) { g in [try g.im2col(geo)] }
    }

    /// 2-D convolution (cross-correlation, as PyTorch): input `[N, C, H, W]`,
    /// weight `[OC, C, kh, kw]`, optional bias `[OC]` → `[N, OC, OH, OW]`.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) throws -> Tensor {
        guard rank == 4 else {
            throw TensorError("conv2d", "expects an [N, C, H, W] input, found shape \(shapeString(shape))")
        }
        guard weight.rank == 4, weight.shape[1] == shape[1] else {
            throw TensorError(
                "conv2d",
                "weight \(shapeString(weight.shape)) does not fit input \(shapeString(shape)): expected [out, \(shape[1]), kh, kw]"
            )
        }
        let oc = weight.shape[0]
        if let bias, bias.shape != [oc] {
            throw TensorError("conv2d", "bias has shape \(shapeString(bias.shape)), expected [\(oc)]")
        }
        let geo = ConvGeometry(
            kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
            strideHeight: stride, strideWidth: stride, padHeight: padding, padWidth: padding)
        let (oh, ow) = try geo.outputSize(height: shape[2], width: shape[3], op: "conv2d")
        if ConvViews.available { return try conv2dByViews(weight: weight, bias: bias, geo, oh: oh, ow: ow) }
        return try conv2dByColumns(weight: weight, bias: bias, geo, oh: oh, ow: ow)
    }

    /// `conv2d` as unfolded columns times the weight, in recorded ops, for
    /// an input and weight already checked: the path where `ConvViews` does
    /// not run, and the reference it is tested against.
    func conv2dByColumns(weight: Tensor, bias: Tensor?, _ geo: ConvGeometry, oh: Int, ow: Int) throws -> Tensor {
        let oc = weight.shape[0]
        let cols = try im2col(geo)  // [N·L, C·k·k]
        // One GEMM adds the product to the bias it starts from (`linear`).
        let kernel = try weight.reshaped(to: [oc, weight.shape[1] * weight.shape[2] * weight.shape[3]])
        let y = try cols.linear(weight: kernel, bias: bias)  // [N·L, OC]
        return try y.reshaped(to: [shape[0], oh, ow, oc]).permuted([0, 3, 1, 2])
    }

    /// Transposed 2-D convolution (the adjoint of `conv2d`): input
    /// `[N, Cin, H, W]`, weight `[Cin, Cout, kh, kw]` (PyTorch's layout),
    /// optional bias `[Cout]` → `[N, Cout, (H−1)·s − 2p + kh + op, …]`.
    public func convTranspose2d(
        weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
        outputPadding: Int = 0
    ) throws -> Tensor {
        guard rank == 4 else {
            throw TensorError("convTranspose2d", "expects an [N, C, H, W] input, found shape \(shapeString(shape))")
        }
        guard weight.rank == 4, weight.shape[0] == shape[1] else {
            throw TensorError(
                "convTranspose2d",
                "weight \(shapeString(weight.shape)) does not fit input \(shapeString(shape)): expected [\(shape[1]), out, kh, kw]"
            )
        }
        guard outputPadding >= 0, outputPadding < Swift.max(stride, 1) else {
            throw TensorError(
                "convTranspose2d", "output padding must be smaller than the stride \(stride), found \(outputPadding)")
        }
        let (h, w) = (shape[2], shape[3])
        let cout = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3]
        if let bias, bias.shape != [cout] {
            throw TensorError("convTranspose2d", "bias has shape \(shapeString(bias.shape)), expected [\(cout)]")
        }
        guard stride > 0, padding >= 0 else {
            throw TensorError(
                "convTranspose2d", "stride must be positive and padding zero or more, found \(stride) and \(padding)")
        }
        let oh = (h - 1) * stride - 2 * padding + kh + outputPadding
        let ow = (w - 1) * stride - 2 * padding + kw + outputPadding
        guard oh > 0, ow > 0 else {
            throw TensorError(
                "convTranspose2d",
                "output size \(oh)x\(ow) is empty for input \(h)x\(w), kernel \(kh)x\(kw), stride \(stride), padding \(padding)"
            )
        }
        let geo = ConvGeometry(
            kernelHeight: kh, kernelWidth: kw, strideHeight: stride, strideWidth: stride,
            padHeight: padding, padWidth: padding)
        if ConvViews.available {
            return try convTranspose2dByViews(weight: weight, bias: bias, geo, oh: oh, ow: ow)
        }
        return try convTranspose2dByColumns(weight: weight, bias: bias, geo, oh: oh, ow: ow)
    }

    /// `convTranspose2d` as a product and a fold, for an input and weight
    /// already checked: the path where `ConvViews` does not run, and the
    /// reference it is tested against.
    func convTranspose2dByColumns(weight: Tensor, bias: Tensor?, _ geo: ConvGeometry, oh: Int, ow: Int) throws
        -> Tensor
    {
        let (n, cin, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let cout = weight.shape[1]
        // The product and the fold run unrecorded and are recorded as one op,
        // so the graph holds the input and not the [N·H·W, Cout·k·k] columns,
        // which the rule does not need: it unfolds the output's gradient.
        let x = self
        let y = try withNoGrad { () throws -> Tensor in
            let rows = try x.permuted([0, 2, 3, 1]).reshaped(to: [n * h * w, cin])  // [N·H·W, Cin]
            let kernel = try weight.reshaped(to: [cin, cout * geo.kernelHeight * geo.kernelWidth])
            let cols = try rows.matmul(kernel)  // [N·H·W, Cout·k·k]
            return try cols.col2im(batch: n, channels: cout, height: oh, width: ow, geo)  // [N, Cout, OH, OW]
        }
        if let bias { y.addChannelBias(bias) }
        let needX = x.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
        return Tensor.record("convTranspose2d", y, bias.map { [x, weight, $0] } ?? [x, weight]) { g in
            let needX = needX && Tensor.gradientWanted(0), needW = needW && Tensor.gradientWanted(1)
            let needB = needB && Tensor.gradientWanted(2)  // the pass may need fewer than were recorded
            // The rules of the ops above, recorded when gradients of gradients are asked for.
            let (gx, gw) = try x.convTranspose2dColumnGradients(g, weight: weight, geo, needX: needX, needW: needW)
            guard bias != nil else { return [gx, gw] }
            return [gx, gw, needB ? try g.sum(axes: [0, 2, 3]) : nil]
        }
    }

    /// The gradients of `convTranspose2d` of `self` (its input) with
    /// `weight`, from the output's gradient `g`, as ops over the unfolded
    /// gradient: recorded when gradients of gradients are asked for.
    func convTranspose2dColumnGradients(_ g: Tensor, weight: Tensor, _ geo: ConvGeometry, needX: Bool, needW: Bool)
        throws -> (Tensor?, Tensor?)
    {
        guard needX || needW else { return (nil, nil) }
        let (n, cin, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let taps = weight.shape[1] * geo.kernelHeight * geo.kernelWidth
        let gcols = try g.im2col(geo)  // [N·H·W, Cout·k·k]
        let gx =
            needX
            ? try gcols.matmul(weight.reshaped(to: [cin, taps]), transposeB: true)
                .reshaped(to: [n, h, w, cin]).permuted([0, 3, 1, 2]) : nil
        let gw =
            needW
            ? try permuted([0, 2, 3, 1]).reshaped(to: [n * h * w, cin])
                .matmul(gcols, transposeA: true).reshaped(to: weight.shape) : nil
        return (gx, gw)
    }

    /// Adds bias[c] to every value of channel c of this `[N, C, H, W]`
    /// tensor, in place (not recorded: the caller records the op).
    func addChannelBias(_ bias: Tensor) {
        let channels = shape[1], plane = shape[2] * shape[3], out = pointer, b = bias.pointer
        for i in 0..<(shape[0] * channels) {
            let v = b[i % channels], p = out + i * plane
            for j in 0..<plane { p[j] += v }
        }
    }
}
