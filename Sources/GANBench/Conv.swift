import TensorCore

/// GFLOP/s of each pass of the DCGAN convolutions (the reference dcgan.py's
/// shapes): the forward product, the input gradient and the weight gradient,
/// as one block (one core) and as the pool splits them. The gradient passes
/// are timed on one recorded forward pass, kept between calls. Beside them,
/// one dense product of the forward pass's size (`BLAS.sgemm` on one core)
/// gives the speed of the same multiply-adds without windows or folding.
func benchConv(quick: Bool) throws {
    let seconds = quick ? 0.1 : 0.4
    struct Layer {
        let name: String
        let transposed: Bool
        let batch, channels, size, outChannels: Int
    }
    let layers = [
        Layer(
            name: "D conv 64→128, 14→7, batch 128", transposed: false, batch: 128, channels: 64, size: 14,
            outChannels: 128),
        Layer(
            name: "D conv 1→64, 28→14, batch 128", transposed: false, batch: 128, channels: 1, size: 28, outChannels: 64
        ),
        Layer(
            name: "G convt 128→64, 7→14, batch 64", transposed: true, batch: 64, channels: 128, size: 7, outChannels: 64
        ),
        Layer(
            name: "G convt 64→1, 14→28, batch 64", transposed: true, batch: 64, channels: 64, size: 14, outChannels: 1)
    ]
    var rows: [Any] = []
    for l in layers {
        let x = Tensor.randn([l.batch, l.channels, l.size, l.size]).requiringGrad()
        let w =
            (l.transposed
            ? Tensor.randn([l.channels, l.outChannels, 4, 4], std: 0.05)
            : Tensor.randn([l.outChannels, l.channels, 4, 4], std: 0.05))
            .requiringGrad()
        func forward() throws -> Tensor {
            l.transposed
                ? try x.convTranspose2d(weight: w, stride: 2, padding: 1)
                : try x.conv2d(weight: w, stride: 2, padding: 1)
        }
        let outPixels = l.transposed ? l.size * 2 : l.size / 2
        // The forward product's size: [out channels, taps]·[taps, pixels] for a convolution,
        // [pixels, in channels]·[in channels, taps] for a transposed one (then folded).
        let (m, n, k) =
            l.transposed
            ? (l.batch * l.size * l.size, l.outChannels * 16, l.channels)
            : (l.outChannels, l.batch * outPixels * outPixels, l.channels * 16)
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        let seed = Tensor.randn([l.batch, l.outChannels, outPixels, outPixels])
        let dense = onOneBlock {
            bindingGFLOPS(
                Tensor.rand([m, k]), Tensor.rand([k, n]), m: m, n: n, k: k, ta: false, tb: false, seconds: seconds)
        }
        var fields: [(String, Any)] = [
            ("layer", l.name), ("product", "\(m)x\(n)x\(k)"), ("dense_gflops_one_block", round2(dense))
        ]
        for (label, oneBlock) in [("one_block", true), ("split", false)] {
            func timed(_ body: () throws -> Void) throws -> Double {
                oneBlock
                    ? try onOneBlock { try bestSecondsPerCall(seconds: seconds, body) }
                    : try bestSecondsPerCall(seconds: seconds, body)
            }
            let f = try timed { _ = try withNoGrad { try forward() } }
            // The gradient passes run on one recorded forward, kept for the next call.
            let out = try forward()
            let fx = try timed {
                _ = try grad(of: out, wrt: [x], gradient: seed, retainGraph: true)
            }
            let fw = try timed {
                _ = try grad(of: out, wrt: [w], gradient: seed, retainGraph: true)
            }
            fields += [
                ("forward_gflops_\(label)", round2(flops / f / 1e9)),
                ("input_grad_gflops_\(label)", round2(flops / fx / 1e9)),
                ("weight_grad_gflops_\(label)", round2(flops / fw / 1e9))
            ]
        }
        rows.append(fields)
    }
    emit([("bench", "conv"), ("convolutions", BLAS.convolutions)] + blasFields() + [("layers", rows)])
}
