import CKernels
import Foundation

/// Convolutions as products over views (`gk_sgemm_view`): the packing of
/// the product gathers a window's taps straight from the zero-padded image,
/// and the product writes and reads NCHW tensors in place. No column matrix
/// is unfolded for the forward pass or the weight gradient, and nothing is
/// transposed; only the input gradient still folds columns back (`col2im`).
///
/// A view is a base pointer with two offset tables: element (i, j) lives at
/// `base[rows[i] + cols[j]]`.
enum ConvViews {
    /// Whether convolutions take this path: on x86-64 CPUs with AVX2 and FMA,
    /// unless `GANS_CONV=columns` asks for the unfolded columns and the BLAS.
    static let available: Bool = {
        guard gk_sgemm_available() != 0 else { return false }
        return ProcessInfo.processInfo.environment["GANS_CONV"]?.lowercased() != "columns"
    }()

    /// Where an empty table points: never read, since a product with an
    /// empty side reads none of its tables' entries.
    nonisolated(unsafe) static let nowhere = UnsafePointer(UnsafeMutablePointer<Int>.allocate(capacity: 1))

    /// Runs `body` with the address of each table, all valid for the call;
    /// an empty table (an empty batch or no channels) has none and gets
    /// `nowhere`.
    static func withAddresses<R>(_ tables: [[Int]], _ body: ([UnsafePointer<Int>]) -> R) -> R {
        func nest(_ i: Int, _ addresses: [UnsafePointer<Int>]) -> R {
            guard i < tables.count else { return body(addresses) }
            return tables[i].withUnsafeBufferPointer { nest(i + 1, addresses + [$0.baseAddress ?? nowhere]) }
        }
        return nest(0, [])
    }

    /// Offsets 0, step, 2·step, …: the rows (or columns) of a strided matrix.
    static func strided(_ count: Int, _ step: Int = 1) -> [Int] { (0..<count).map { $0 * step } }

    /// Where each tap (channel, i, j) of a kh×kw window sits in a padded
    /// plane stack of `hp`×`wp` planes, relative to the window's corner.
    static func taps(channels: Int, kh: Int, kw: Int, hp: Int, wp: Int) -> [Int] {
        var t: [Int] = []
        t.reserveCapacity(channels * kh * kw)
        for ch in 0..<channels { for i in 0..<kh { for j in 0..<kw { t.append(ch * hp * wp + i * wp + j) } } }
        return t
    }

    /// Where each output pixel's window corner sits in the padded batch
    /// `[n, channels, hp, wp]`.
    static func corners(n: Int, channels: Int, hp: Int, wp: Int, oh: Int, ow: Int, sh: Int, sw: Int) -> [Int] {
        var t: [Int] = []
        t.reserveCapacity(n * oh * ow)
        for b in 0..<n {
            for y in 0..<oh { for x in 0..<ow { t.append(b * channels * hp * wp + y * sh * wp + x * sw) } }
        }
        return t
    }

    /// The pixels of an NCHW batch `[n, channels, plane]` read as columns:
    /// pixel (b, l) at b·channels·plane + l; channel c is the row c·plane.
    static func pixels(n: Int, channels: Int, plane: Int) -> [Int] {
        var t: [Int] = []
        t.reserveCapacity(n * plane)
        for b in 0..<n { for l in 0..<plane { t.append(b * channels * plane + l) } }
        return t
    }

    /// C ← A·B (+ bias on each row) over views, split across the
    /// cores as `BLAS.sgemm` splits a product of that shape.
    static func gemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, _ ra: [Int], _ ca: [Int],
        b: UnsafePointer<Float>, _ rb: [Int], _ cb: [Int],
        c: UnsafeMutablePointer<Float>, _ rc: [Int], _ cc: [Int],
        bias: UnsafePointer<Float>? = nil
    ) {
        withAddresses([ra, ca, rb, cb, rc, cc]) { t in
            let (ra, ca, rb, cb, rc, cc) = (t[0], t[1], t[2], t[3], t[4], t[5])
            func block(_ r0: Int, _ mb: Int, _ c0: Int, _ nb: Int) {
                let status = gk_sgemm_view(
                    mb, nb, k, a, ra + r0, ca, b, rb, cb + c0, c, rc + r0, cc + c0, bias.map { $0 + r0 }, 0)
                precondition(status == 0, "gk_sgemm_view could not allocate its packing buffers")
            }
            guard Parallel.cores > 1, let (rows, at) = BLAS.split(m: m, n: n, k: k) else {
                block(0, m, 0, n)
                return
            }
            Parallel.run(2) { part in
                let start = part == 0 ? 0 : at
                if rows {
                    block(start, part == 0 ? at : m - at, 0, n)
                } else {
                    block(0, m, start, part == 0 ? at : n - at)
                }
            }
        }
    }

    /// The patches A·B (`[n·oh·ow, channels·kh·kw]`, A over views, B over
    /// views) folded into `image` `[n, channels, h, w]`, block by block of
    /// rows as they are computed: the patches never fill memory. Each core
    /// sets its images to zero first (their old values are lost). Split
    /// across the cores by whole images, whose sums are then each on one
    /// core in the order `col2im` takes.
    static func gemmFold(
        n: Int, k: Int, a: UnsafePointer<Float>, _ ra: [Int], _ ca: [Int],
        b: UnsafePointer<Float>, _ rb: [Int], _ cb: [Int],
        image: UnsafeMutablePointer<Float>, channels c: Int, height h: Int, width w: Int, oh: Int, ow: Int,
        _ geo: ConvGeometry
    ) {
        let plane = oh * ow, taps = c * geo.kernelHeight * geo.kernelWidth
        withAddresses([ra, ca, rb, cb]) { t in
            let (ra, ca, rb, cb) = (t[0], t[1], t[2], t[3])
            func images(_ first: Int, _ count: Int) {
                let r0 = first * plane
                (image + first * c * h * w).update(repeating: 0, count: count * c * h * w)
                let status = gk_sgemm_view_fold(
                    count * plane, taps, k, a, ra + r0, ca, b, rb, cb, image, r0, c, h, w, oh, ow,
                    geo.kernelHeight, geo.kernelWidth, geo.strideHeight, geo.strideWidth, geo.padHeight, geo.padWidth)
                precondition(status == 0, "gk_sgemm_view_fold could not allocate its buffers")
            }
            guard Parallel.cores > 1, n >= 2, n * plane * taps * k >= BLAS.splitFrom else {
                images(0, n)
                return
            }
            let half = (n + 1) / 2
            Parallel.run(2) { part in part == 0 ? images(0, half) : images(half, n - half) }
        }
    }

    /// A weight's gradient `[rows, taps]` (the shape `shape`): Σ over pixels
    /// of a[row, pixel] · window(pixel)[tap], a read as an NCHW tensor and the
    /// windows from a padded one.
    static func weightGradient(
        _ shape: [Int], _ a: UnsafePointer<Float>, _ channel: [Int], _ pixel: [Int],
        windows: UnsafePointer<Float>, _ corner: [Int], _ tap: [Int]
    ) -> Tensor {
        let out = Tensor(uninitialized: shape)
        gemm(
            m: channel.count, n: tap.count, k: pixel.count, a: a, channel, pixel, b: windows, corner, tap,
            c: out.pointer, strided(channel.count, tap.count), strided(tap.count))
        return out
    }

    /// `x` `[N, C, H, W]` with `ph` rows and `pw` columns of zeros around each
    /// plane (x itself when there are none). Not recorded.
    static func padded(_ x: Tensor, _ ph: Int, _ pw: Int) -> Tensor {
        if ph == 0 && pw == 0 { return x }
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let out = Tensor(uninitialized: [x.shape[0], x.shape[1], h + 2 * ph, w + 2 * pw])
        let src = x.pointer, dst = out.pointer
        Parallel.forEachChunk(planes, grain: max(1, Parallel.elementwiseThreshold / max(h * w, 1))) { r in
            gk_pad2d(src, dst, r.lowerBound, r.upperBound, h, w, ph, pw)
        }
        return out
    }
}

extension Tensor {
    /// `conv2d` over views, for an input and weight already checked.
    func conv2dByViews(weight: Tensor, bias: Tensor?, _ geo: ConvGeometry, oh: Int, ow: Int) throws -> Tensor {
        let x = self
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oc = weight.shape[0], kh = geo.kernelHeight, kw = geo.kernelWidth
        let hp = h + 2 * geo.padHeight, wp = w + 2 * geo.padWidth
        let plane = oh * ow, count = n * plane, taps = c * kh * kw
        let xp = ConvViews.padded(x, geo.padHeight, geo.padWidth)
        let tap = ConvViews.taps(channels: c, kh: kh, kw: kw, hp: hp, wp: wp)
        let corner = ConvViews.corners(
            n: n, channels: c, hp: hp, wp: wp, oh: oh, ow: ow, sh: geo.strideHeight, sw: geo.strideWidth)
        let pixel = ConvViews.pixels(n: n, channels: oc, plane: plane)
        let channel = ConvViews.strided(oc, plane)
        let wRows = ConvViews.strided(oc, taps), wCols = ConvViews.strided(taps)
        let out = Tensor(uninitialized: [n, oc, oh, ow])
        // out[o, pixel] = Σ over taps of weight[o, tap] · window(pixel)[tap] (+ bias[o]).
        ConvViews.gemm(
            m: oc, n: count, k: taps, a: weight.pointer, wRows, wCols, b: xp.pointer, tap, corner,
            c: out.pointer, channel, pixel, bias: bias?.pointer)
        let needX = x.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
        return Tensor.record("conv2d", out, bias.map { [x, weight, $0] } ?? [x, weight]) { g in
            let needX = needX && Tensor.gradientWanted(0), needW = needW && Tensor.gradientWanted(1)
            let needB = needB && Tensor.gradientWanted(2)  // the pass may need fewer than were recorded
            var gx: Tensor? = nil, gw: Tensor? = nil
            if GradMode.isEnabled {
                // Gradients of gradients: the rule in recorded ops.
                let gRows = try g.permuted([0, 2, 3, 1]).reshaped(to: [count, oc])
                if needX {
                    gx = try gRows.matmul(weight.reshaped(to: [oc, taps]))
                        .col2im(batch: n, channels: c, height: h, width: w, geo)
                }
                if needW {
                    gw = try gRows.matmul(x.im2col(geo), transposeA: true).reshaped(to: weight.shape)
                }
            } else {
                if needX {
                    // The columns' gradient, [pixel, tap] = Σ over o of g[o, pixel] · weight[o, tap], folded.
                    let gradX = Tensor(uninitialized: x.shape)
                    ConvViews.gemmFold(
                        n: n, k: oc, a: g.pointer, pixel, channel, b: weight.pointer, wRows, wCols,
                        image: gradX.pointer, channels: c, height: h, width: w, oh: oh, ow: ow, geo)
                    gx = gradX
                }
                if needW {
                    // weight[o, tap] = Σ over pixels of g[o, pixel] · window(pixel)[tap].
                    gw = ConvViews.weightGradient(
                        weight.shape, g.pointer, channel, pixel, windows: xp.pointer, corner, tap)
                }
            }
            guard bias != nil else { return [gx, gw] }
            return [gx, gw, needB ? try g.sum(axes: [0, 2, 3]) : nil]
        }
    }
}

extension Tensor {
    /// `convTranspose2d` over views, for an input and weight already checked.
    func convTranspose2dByViews(weight: Tensor, bias: Tensor?, _ geo: ConvGeometry, oh: Int, ow: Int) throws -> Tensor {
        let x = self
        let (n, cin, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let cout = weight.shape[1], kh = geo.kernelHeight, kw = geo.kernelWidth
        let plane = h * w, count = n * plane, taps = cout * kh * kw
        let pixel = ConvViews.pixels(n: n, channels: cin, plane: plane)
        let channel = ConvViews.strided(cin, plane)
        let wRows = ConvViews.strided(cin, taps), wCols = ConvViews.strided(taps)
        // The columns [pixel, tap] = Σ over c of x[c, pixel] · weight[c, tap], folded into the output.
        let y = Tensor(uninitialized: [n, cout, oh, ow])
        ConvViews.gemmFold(
            n: n, k: cin, a: x.pointer, pixel, channel, b: weight.pointer, wRows, wCols,
            image: y.pointer, channels: cout, height: oh, width: ow, oh: h, ow: w, geo)
        if let bias { y.addChannelBias(bias) }
        let needX = x.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
        return Tensor.record("convTranspose2d", y, bias.map { [x, weight, $0] } ?? [x, weight]) { g in
            let needX = needX && Tensor.gradientWanted(0), needW = needW && Tensor.gradientWanted(1)
            let needB = needB && Tensor.gradientWanted(2)  // the pass may need fewer than were recorded
            var gx: Tensor? = nil, gw: Tensor? = nil
            if GradMode.isEnabled {
                // Gradients of gradients: the rule in recorded ops.
                (gx, gw) = try x.convTranspose2dColumnGradients(g, weight: weight, geo, needX: needX, needW: needW)
            } else if needX || needW {
                // The output's gradient is read in windows, as a convolution reads its input.
                let hp = oh + 2 * geo.padHeight, wp = ow + 2 * geo.padWidth
                let gp = ConvViews.padded(g, geo.padHeight, geo.padWidth)
                let tap = ConvViews.taps(channels: cout, kh: kh, kw: kw, hp: hp, wp: wp)
                let corner = ConvViews.corners(
                    n: n, channels: cout, hp: hp, wp: wp, oh: h, ow: w, sh: geo.strideHeight, sw: geo.strideWidth)
                if needX {
                    // x[c, pixel] = Σ over taps of weight[c, tap] · window(pixel)[tap].
                    let gradX = Tensor(uninitialized: x.shape)
                    ConvViews.gemm(
                        m: cin, n: count, k: taps, a: weight.pointer, wRows, wCols, b: gp.pointer, tap, corner,
                        c: gradX.pointer, channel, pixel)
                    gx = gradX
                }
                if needW {
                    // weight[c, tap] = Σ over pixels of x[c, pixel] · window(pixel)[tap].
                    gw = ConvViews.weightGradient(
                        weight.shape, x.pointer, channel, pixel, windows: gp.pointer, corner, tap)
                }
            }
            guard bias != nil else { return [gx, gw] }
            return [gx, gw, needB ? try g.sum(axes: [0, 2, 3]) : nil]
        }
    }
}

extension BLAS {
    /// How convolutions run, for `about` and `gans-bench`.
    public static var convolutions: String {
        if ConvViews.available {
            let kernel = gk_sgemm_view_pairs() != 0 ? "own kernel, AVX-512 tile pairs" : "own AVX2 kernel"
            return "products over views (\(kernel); GANS_CONV=columns for im2col)"
        }
        return gk_sgemm_available() != 0 ? "im2col and the BLAS (GANS_CONV=columns)" : "im2col and the BLAS"
    }
}
