import XCTest
@testable import TensorCore
import TestSupport

final class ConvTests: XCTestCase {
    /// The textbook convolution loop, the reference for conv2d.
    func naiveConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int, padding: Int) -> [Float] {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oc, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1
        var out = [Float](repeating: 0, count: n * oc * oh * ow)
        for b0 in 0..<n {
            for o in 0..<oc {
                for y in 0..<oh {
                    for xo in 0..<ow {
                        var s: Float = b?[o] ?? 0
                        for ch in 0..<c {
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    let iy = y * stride - padding + i, ix = xo * stride - padding + j
                                    if iy >= 0 && iy < h && ix >= 0 && ix < wd {
                                        s += x[b0, ch, iy, ix] * w[o, ch, i, j]
                                    }
                                }
                            }
                        }
                        out[((b0 * oc + o) * oh + y) * ow + xo] = s
                    }
                }
            }
        }
        return out
    }

    /// Transposed convolution by scattering each input pixel's kernel.
    func naiveConvTranspose(
        _ x: Tensor, _ w: Tensor, _ b: Tensor? = nil, stride: Int, padding: Int,
        outputPadding: Int
    ) -> ([Int], [Float]) {
        let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cout, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
        let oh = (h - 1) * stride - 2 * padding + kh + outputPadding,
            ow = (wd - 1) * stride - 2 * padding + kw + outputPadding
        var out = [Float](repeating: 0, count: n * cout * oh * ow)
        if let b { for i in out.indices { out[i] = b[(i / (oh * ow)) % cout] } }
        for b0 in 0..<n {
            for ci in 0..<cin {
                for y in 0..<h {
                    for xo in 0..<wd {
                        for co in 0..<cout {
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    let oy = y * stride - padding + i, ox = xo * stride - padding + j
                                    if oy >= 0 && oy < oh && ox >= 0 && ox < ow {
                                        out[((b0 * cout + co) * oh + oy) * ow + ox] +=
                                            x[b0, ci, y, xo] * w[ci, co, i, j]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return ([n, cout, oh, ow], out)
    }

    func testConv2dMatchesNaive() throws {
        Random.seed(1)
        var failures: [String] = []
        for (n, c, h, w, oc, k, s, p) in [
            (2, 3, 7, 6, 4, 3, 1, 1), (1, 1, 28, 28, 8, 4, 2, 1), (3, 2, 5, 5, 2, 5, 1, 0), (1, 4, 9, 7, 3, 2, 3, 2)
        ] {
            let x = Tensor.randn([n, c, h, w]), wt = Tensor.randn([oc, c, k, k]), b = Tensor.randn([oc])
            let y = try x.conv2d(weight: wt, bias: b, stride: s, padding: p)
            failures += GradCheck.compare(
                "conv n\(n) c\(c) \(h)x\(w) oc\(oc) k\(k) s\(s) p\(p)",
                y.scalars, naiveConv(x, wt, b, stride: s, padding: p), atol: 1e-4, rtol: 1e-4)
        }
        XCTAssertEqual(failures, [])
    }

    func testConvTranspose2dMatchesNaive() throws {
        Random.seed(2)
        var failures: [String] = []
        for (n, cin, h, cout, k, s, p, op) in [
            (2, 3, 4, 2, 4, 2, 1, 0), (1, 2, 7, 1, 4, 2, 1, 0), (1, 2, 3, 3, 3, 2, 1, 1), (2, 1, 5, 2, 3, 1, 0, 0),
            // 4-wide windows sticking out of the output by 2 and by 3 columns.
            (1, 2, 5, 3, 4, 2, 2, 0), (1, 2, 5, 2, 4, 2, 3, 0)
        ] {
            let x = Tensor.randn([n, cin, h, h]), wt = Tensor.randn([cin, cout, k, k])
            let y = try x.convTranspose2d(weight: wt, stride: s, padding: p, outputPadding: op)
            let (shape, expected) = naiveConvTranspose(x, wt, stride: s, padding: p, outputPadding: op)
            XCTAssertEqual(y.shape, shape)
            failures += GradCheck.compare(
                "convT cin\(cin) \(h) cout\(cout) k\(k) s\(s) p\(p) op\(op)", y.scalars, expected, atol: 1e-4,
                rtol: 1e-4)
            let b = Tensor.randn([cout])
            let yb = try x.convTranspose2d(weight: wt, bias: b, stride: s, padding: p, outputPadding: op)
            let (_, expectedB) = naiveConvTranspose(x, wt, b, stride: s, padding: p, outputPadding: op)
            failures += GradCheck.compare(
                "convT+bias cin\(cin) \(h) cout\(cout) k\(k) s\(s) p\(p) op\(op)", yb.scalars, expectedB, atol: 1e-4,
                rtol: 1e-4)
        }
        XCTAssertEqual(failures, [])
    }

    /// The transposed convolution is one recorded node over its input, weight
    /// and bias (its column matrix is not held), and a gradient for the bias
    /// alone is the output gradient summed over batch and positions.
    func testConvTranspose2dRecordsOneNodeAndBiasAloneGradient() throws {
        Random.seed(4)
        let x = Tensor.randn([2, 3, 4, 4]), wt = Tensor.randn([3, 2, 4, 4])
        let b = Tensor.randn([2]).requiringGrad()
        let y = try x.convTranspose2d(weight: wt, bias: b, stride: 2, padding: 1)
        let seed = Tensor.randn(y.shape)
        let gb = try grad(of: (y * seed).sum(), wrt: [b])[0]
        let expected = try seed.sum(axes: [0, 2, 3])
        assertClose(gb.scalars, expected.scalars)
        let xr = Tensor.randn([2, 3, 4, 4]).requiringGrad()
        let before = BufferPool.shared.bytesInUse
        let yr = try xr.convTranspose2d(weight: wt, bias: b, stride: 2, padding: 1)
        let held = BufferPool.shared.bytesInUse - before
        // The output [2, 2, 8, 8] is held; the columns [2·4·4, 2·4·4] would add 1,024 floats more.
        XCTAssertLessThan(held, (yr.count + 1024) * 4)
        XCTAssertEqual(yr.shape, [2, 2, 8, 8])
    }

    func assertClose(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(GradCheck.compare("values", a, b, atol: 1e-4, rtol: 1e-4), [], file: file, line: line)
    }

    /// ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩: the two are adjoint.
    func testIm2colAndCol2imAreAdjoint() throws {
        Random.seed(3)
        for geo in [
            ConvGeometry(kernel: 3, stride: 1, padding: 1), ConvGeometry(kernel: 4, stride: 2, padding: 1),
            ConvGeometry(kernelHeight: 2, kernelWidth: 3, strideHeight: 1, strideWidth: 2, padHeight: 0, padWidth: 1)
        ] {
            let x = Tensor.randn([2, 3, 6, 7])
            let cols = try x.im2col(geo)
            let y = Tensor.randn(cols.shape)
            let lhs = try (cols * y).sum().item
            let rhs = try (x * y.col2im(batch: 2, channels: 3, height: 6, width: 7, geo)).sum().item
            XCTAssertEqual(lhs, rhs, accuracy: 1e-3 * max(1, abs(lhs)), "\(geo)")
        }
    }

    /// Convolutions over views (the path x86-64 CPUs with AVX2 take) give
    /// the outputs and gradients of the unfolded columns, on shapes large
    /// enough for the products' blocks, tiles and split across cores, with
    /// odd sizes, strides and paddings.
    func testConvolutionsOverViewsMatchColumns() throws {
        try XCTSkipIf(!ConvViews.available, "convolutions run on columns on this CPU")
        var failures: [String] = []
        for (n, c, h, w, oc, k, s, p) in [
            (8, 16, 14, 14, 32, 4, 2, 1), (3, 1, 28, 28, 24, 4, 2, 1), (2, 3, 9, 7, 5, 3, 1, 1),
            (2, 4, 11, 10, 7, 5, 2, 2), (64, 64, 14, 14, 128, 4, 2, 1)
        ] {
            Random.seed(UInt64(n * 100 + c))
            let x = Tensor.randn([n, c, h, w]).requiringGrad()
            let wt = (Tensor.randn([oc, c, k, k]) * 0.1).requiringGrad(), b = Tensor.randn([oc]).requiringGrad()
            let geo = ConvGeometry(kernel: k, stride: s, padding: p)
            let (oh, ow) = try geo.outputSize(height: h, width: w, op: "test")
            let name = "conv n\(n) c\(c) \(h)x\(w) oc\(oc) k\(k) s\(s) p\(p)"
            let viaViews = try x.conv2dByViews(weight: wt, bias: b, geo, oh: oh, ow: ow)
            let viaColumns = try x.conv2dByColumns(weight: wt, bias: b, geo, oh: oh, ow: ow)
            failures += GradCheck.compare(name, viaViews.scalars, viaColumns.scalars, atol: 1e-4, rtol: 1e-4)
            let seed = Tensor.randn(viaViews.shape)
            let gViews = try grad(of: (viaViews * seed).sum(), wrt: [x, wt, b])
            let gColumns = try grad(of: (viaColumns * seed).sum(), wrt: [x, wt, b])
            for (part, (u, v)) in zip(["x", "weight", "bias"], zip(gViews, gColumns)) {
                failures += GradCheck.compare("\(name) ∂\(part)", u.scalars, v.scalars, atol: 1e-3, rtol: 1e-4)
            }
            // The transposed convolution of the output back to the input's size.
            let wtT = (Tensor.randn([oc, c, k, k]) * 0.1).requiringGrad(), bT = Tensor.randn([c]).requiringGrad()
            let y = Tensor.randn([n, oc, oh, ow]).requiringGrad()
            let tViews = try y.convTranspose2dByViews(weight: wtT, bias: bT, geo, oh: h, ow: w)
            let tColumns = try y.convTranspose2dByColumns(weight: wtT, bias: bT, geo, oh: h, ow: w)
            failures += GradCheck.compare("T " + name, tViews.scalars, tColumns.scalars, atol: 1e-4, rtol: 1e-4)
            let seedT = Tensor.randn(tViews.shape)
            let tgViews = try grad(of: (tViews * seedT).sum(), wrt: [y, wtT, bT])
            let tgColumns = try grad(of: (tColumns * seedT).sum(), wrt: [y, wtT, bT])
            for (part, (u, v)) in zip(["x", "weight", "bias"], zip(tgViews, tgColumns)) {
                failures += GradCheck.compare("T \(name) ∂\(part)", u.scalars, v.scalars, atol: 1e-3, rtol: 1e-4)
            }
        }
        XCTAssertEqual(failures, [])
    }

    /// An empty batch, and an input without channels, give outputs of the
    /// right shape (the bias alone where no channel contributes) and
    /// gradients of their inputs' shapes.
    func testConvolutionsOfEmptyBatchesAndNoChannels() throws {
        for (n, c) in [(0, 3), (2, 0)] {
            let x = Tensor(zeros: [n, c, 6, 6]).requiringGrad()
            let w = Tensor(ones: [4, c, 4, 4]).requiringGrad(), b = Tensor([1, 2, 3, 4], shape: [4]).requiringGrad()
            let y = try x.conv2d(weight: w, bias: b, stride: 2, padding: 1)
            XCTAssertEqual(y.shape, [n, 4, 3, 3])
            if n > 0 { XCTAssertEqual(y.scalars.prefix(9).map { $0 }, [Float](repeating: 1, count: 9)) }
            let gs = try grad(of: y.sum(), wrt: [x, w, b])
            XCTAssertEqual(gs.map(\.shape), [x.shape, w.shape, b.shape])
            let wt = Tensor(ones: [c, 4, 4, 4]).requiringGrad()
            let t = try x.convTranspose2d(weight: wt, bias: b, stride: 2, padding: 1)
            XCTAssertEqual(t.shape, [n, 4, 12, 12])
            if n > 0 { XCTAssertEqual(Set(t.scalars.prefix(144)), [1]) }
            let ts = try grad(of: t.sum(), wrt: [x, wt, b])
            XCTAssertEqual(ts.map(\.shape), [x.shape, wt.shape, b.shape])
        }
    }

    /// Folding patches as they are computed gives the bits of computing them
    /// all and then folding them (`col2im`), on one core and split by images.
    func testFoldingPatchesAsComputedGivesTheBitsOfFoldingAfter() throws {
        try XCTSkipIf(!ConvViews.available, "convolutions run on columns on this CPU")
        for (n, c, h, w, k, geo) in [
            (8, 16, 14, 14, 32, ConvGeometry(kernel: 4, stride: 2, padding: 1)),
            (3, 5, 9, 8, 7, ConvGeometry(kernel: 3, stride: 1, padding: 1)),
            (2, 1, 28, 28, 64, ConvGeometry(kernel: 4, stride: 2, padding: 1))
        ] {
            Random.seed(UInt64(n + c + k))
            let (oh, ow) = try geo.outputSize(height: h, width: w, op: "test")
            let plane = oh * ow, taps = c * geo.kernelHeight * geo.kernelWidth
            // A: an NCHW gradient [n, k, oh, ow] read as [pixel, channel]; B: a weight [k, taps].
            let g = Tensor.randn([n, k, oh, ow]), wt = Tensor.randn([k, taps])
            let pixel = ConvViews.pixels(n: n, channels: k, plane: plane), channel = ConvViews.strided(k, plane)
            let wRows = ConvViews.strided(k, taps), wCols = ConvViews.strided(taps)
            let cols = Tensor(uninitialized: [n * plane, taps])
            ConvViews.gemm(
                m: n * plane, n: taps, k: k, a: g.pointer, pixel, channel, b: wt.pointer, wRows, wCols,
                c: cols.pointer, ConvViews.strided(n * plane, taps), wCols)
            let after = try withNoGrad { try cols.col2im(batch: n, channels: c, height: h, width: w, geo) }
            let folded = Tensor(full: .nan, shape: [n, c, h, w])  // the fold sets its images to zero
            ConvViews.gemmFold(
                n: n, k: k, a: g.pointer, pixel, channel, b: wt.pointer, wRows, wCols, image: folded.pointer,
                channels: c, height: h, width: w, oh: oh, ow: ow, geo)
            XCTAssertEqual(
                folded.scalars.map(\.bitPattern), after.scalars.map(\.bitPattern), "\(n) \(c) \(h)x\(w) \(geo)")
        }
    }

    func testConvShapeErrors() {
        let x = Tensor(zeros: [1, 3, 8, 8])
        XCTAssertThrowsError(try x.conv2d(weight: Tensor(zeros: [4, 2, 3, 3]))) { e in
            XCTAssertTrue("\(e)".hasPrefix("[conv2d] weight [4, 2, 3, 3] does not fit input [1, 3, 8, 8]"), "\(e)")
        }
        XCTAssertThrowsError(try x.conv2d(weight: Tensor(zeros: [4, 3, 9, 9]))) { e in
            XCTAssertTrue("\(e)".contains("does not fit a 8x8 input"), "\(e)")
        }
        XCTAssertThrowsError(try x.conv2d(weight: Tensor(zeros: [4, 3, 3, 3]), stride: 0))
        XCTAssertThrowsError(try Tensor(zeros: [3, 8, 8]).conv2d(weight: Tensor(zeros: [4, 3, 3, 3])))
        XCTAssertThrowsError(try x.convTranspose2d(weight: Tensor(zeros: [3, 2, 4, 4]), stride: 2, outputPadding: 2))
    }
}
