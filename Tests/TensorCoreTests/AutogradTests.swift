import XCTest
import Foundation
@testable import TensorCore

final class AutogradTests: XCTestCase {
    func testBackwardAccumulatesIntoLeaves() throws {
        let x = Tensor([1, 2, 3]).requiringGrad()
        try (x * x).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [2, 4, 6])
        try (x * 3).sum().backward()  // accumulates, as PyTorch
        XCTAssertEqual(x.grad?.scalars, [5, 7, 9])
        x.grad = nil
        try x.sum().backward()
        XCTAssertEqual(x.grad?.scalars, [1, 1, 1])
    }

    func testSharedSubexpressionGetsSummedGradient() throws {
        let x = Tensor(3).requiringGrad()
        let y = x * 2
        try (y * y + y).backward()  // d/dx (4x² + 2x) = 8x + 2
        XCTAssertEqual(x.grad?.item, 26)
    }

    func testDetachAndNoGradStopGradients() throws {
        let x = Tensor([1, 2]).requiringGrad()
        let d = x.detached()
        XCTAssertFalse(d.requiresGrad)
        XCTAssertTrue(d.sharesStorage(with: x))
        let y = withNoGrad { x * 2 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.opName)
        let z = try (x * d).sum()
        try z.backward()
        XCTAssertEqual(x.grad?.scalars, [1, 2])  // d is a constant
    }

    func testWhichInputsGetGradientsIsFixedWhenTheOpRuns() throws {
        // As in PyTorch: a weight frozen for the forward pass (D in a generator
        // step) gets no gradient, even when it is unfrozen before the backward.
        let x = Tensor(rows: [[1, 2], [3, 4]]).requiringGrad()
        let w = Tensor(rows: [[1, 0], [0, 1], [1, 1]]), b = Tensor([0, 0, 0])
        let y = try x.linear(weight: w, bias: b) * w.sum()
        w.requiresGrad = true
        b.requiresGrad = true
        try y.sum().backward()
        XCTAssertEqual(x.grad?.scalars, [8, 8, 8, 8])  // Σ over outputs of W · 4
        XCTAssertNil(w.grad)
        XCTAssertNil(b.grad)
        // Recorded with w requiring a gradient, it gets one.
        let z = try x.linear(weight: w, bias: b).sum()
        try z.backward()
        XCTAssertEqual(w.grad?.scalars, [4, 6, 4, 6, 4, 6])  // Σ rows of x, per output
        XCTAssertEqual(b.grad?.scalars, [2, 2, 2])
    }

    func testFusedLinearActivationMatchesTheTwoOps() throws {
        // The same bits as linear then relu / leaky relu: values, gradients,
        // and gradients of gradients (a penalty on ‖∂/∂x‖²). Rows × in × out:
        // one block, a product split by rows and one split by columns (the
        // activation then runs on each block where it was computed).
        for (rows, inF, outF) in [(6, 5, 9), (256, 64, 128), (40, 70, 300)] {
            XCTAssertEqual(BLAS.split(m: rows, n: outF, k: inF)?.rows, rows == 6 ? nil : rows == 256)
            for slope: Float in [0, 0.2] {
                for withBias in [true, false] {
                    Random.seed(7)
                    let x = Tensor.randn([rows, inF]).requiringGrad(), w = Tensor.randn([outF, inF]).requiringGrad()
                    let b = withBias ? Tensor.randn([outF]).requiringGrad() : nil
                    let params = [x, w] + (b.map { [$0] } ?? [])
                    func forward(_ fused: Bool) throws -> Tensor {
                        let pre =
                            try fused
                            ? x.linear(weight: w, bias: b, activationSlope: slope) : x.linear(weight: w, bias: b)
                        return fused ? pre : (slope == 0 ? pre.relu() : pre.leakyRelu(slope))
                    }
                    func run(_ fused: Bool) throws -> (Tensor, [Tensor], [Tensor]) {
                        let y = try forward(fused)
                        let first = try grad(of: (y * y.detached().add(1)).sum(), wrt: params)
                        let y2 = try forward(fused)
                        let gx = try grad(of: (y2 * y2).sum(), wrt: [x], createGraph: true)[0]
                        let second = try grad(of: (gx * gx).sum(), wrt: params)
                        return (y, first, second)
                    }
                    let (y1, g1, s1) = try run(true), (y0, g0, s0) = try run(false)
                    XCTAssertEqual(y1.scalars, y0.scalars, "slope \(slope)")
                    XCTAssertTrue(
                        y0.scalars.contains { $0 <= 0 } && y0.scalars.contains { $0 > 0 }, "both sides of the kink")
                    for (a, b) in zip(g1, g0) {
                        XCTAssertEqual(a.scalars, b.scalars, "slope \(slope), bias \(withBias)")
                    }
                    for (a, b) in zip(s1, s0) {
                        XCTAssertEqual(a.scalars, b.scalars, "slope \(slope), bias \(withBias)")
                    }
                    XCTAssertTrue(s1[1].scalars.contains { $0 != 0 }, "the second-order gradient reaches W")
                }
            }
        }
        XCTAssertThrowsError(
            try Tensor.randn([2, 3]).linear(weight: Tensor.randn([4, 3]), bias: nil, activationSlope: -1))
    }

    func testGradientsWithRespectToSomeInputsComputeOnlyWhatLeadsToThem() throws {
        // A penalty's first pass, ∂y/∂x with the graph recorded, needs no
        // gradient of a weight: only the products g·W of each layer run.
        Random.seed(3)
        let x = Tensor.randn([8, 5]).requiringGrad()
        let w1 = Tensor.randn([6, 5]).requiringGrad(), b1 = Tensor.randn([6]).requiringGrad()
        let w2 = Tensor.randn([1, 6]).requiringGrad()
        for fused in [true, false] {
            let h =
                try fused ? x.linear(weight: w1, bias: b1, activationSlope: 0) : x.linear(weight: w1, bias: b1).relu()
            let y = try h.linear(weight: w2, bias: nil)
            let before = BLAS.multiplyAdds
            let gx = try grad(of: y.sum(), wrt: [x], createGraph: true)[0]
            XCTAssertEqual(BLAS.multiplyAdds - before, 8 * 6 * 1 + 8 * 5 * 6, "g·W2 and g'·W1 only")
            // The penalty's own backward then reaches the weights, with the
            // values of the whole rule (checked against finite differences).
            let penalty = try (gx * gx).sum()
            let gws = try grad(of: penalty, wrt: [w1, w2])
            // Asked for the weights too, the same pass adds their products.
            let start = BLAS.multiplyAdds
            let all = try grad(of: y.sum(), wrt: [x, w1, w2])
            XCTAssertEqual(BLAS.multiplyAdds - start, 8 * 6 * 1 + 8 * 5 * 6 + 1 * 6 * 8 + 6 * 5 * 8)
            XCTAssertEqual(all[0].scalars, gx.scalars)
            func penaltyValue() throws -> Float {
                let h = try x.linear(weight: w1, bias: b1).relu()
                let gx = try grad(of: h.linear(weight: w2, bias: nil).sum(), wrt: [x], createGraph: true)[0]
                return try (gx * gx).sum().item
            }
            for (w, gw) in zip([w1, w2], gws) {
                for i in [0, w.count - 1] {
                    let keep = w.pointer[i], eps: Float = 1e-2
                    w.pointer[i] = keep + eps
                    let up = try penaltyValue()
                    w.pointer[i] = keep - eps
                    let down = try penaltyValue()
                    w.pointer[i] = keep
                    XCTAssertEqual(gw.scalars[i], (up - down) / (2 * eps), accuracy: 2e-2 * max(1, abs(gw.scalars[i])))
                }
            }
        }
    }

    func testBackwardErrorsThrow() {
        XCTAssertThrowsError(try Tensor([1, 2]).sum().backward()) { e in
            XCTAssertTrue("\(e)".contains("does not require a gradient"), "\(e)")
        }
        let x = Tensor([1, 2]).requiringGrad()
        XCTAssertThrowsError(try (x * 2).backward()) { e in
            XCTAssertTrue("\(e)".contains("needs a scalar"), "\(e)")
        }
        XCTAssertThrowsError(try (x * 2).backward(Tensor([1, 1, 1])))
        XCTAssertNoThrow(try (x * 2).backward(Tensor([1, 1])))
    }

    func testGradWithoutAccumulatingAndUnusedInputs() throws {
        let x = Tensor([1, 2]).requiringGrad(), unused = Tensor([5]).requiringGrad()
        let gs = try grad(of: (x * x).sum(), wrt: [x, unused])
        XCTAssertEqual(gs[0].scalars, [2, 4])
        XCTAssertEqual(gs[1].scalars, [0])
        XCTAssertNil(x.grad)
    }

    func testGradOfGradient() throws {
        // f = x³: f' = 3x², f'' = 6x.
        let x = Tensor(2).requiringGrad()
        let g1 = try grad(of: x.pow(3), wrt: [x], createGraph: true)[0]
        XCTAssertEqual(g1.item, 12)
        XCTAssertTrue(g1.requiresGrad)
        let g2 = try grad(of: g1, wrt: [x])[0]
        XCTAssertEqual(g2.item, 12)
        // Third order through exp: all derivatives of eˣ are eˣ.
        let y = Tensor(0.5).requiringGrad()
        let d1 = try grad(of: y.exp(), wrt: [y], createGraph: true)[0]
        let d2 = try grad(of: d1, wrt: [y], createGraph: true)[0]
        let d3 = try grad(of: d2, wrt: [y])[0]
        XCTAssertEqual(d3.item, Float(M_E).squareRoot(), accuracy: 1e-5)
    }

    func testDeepGraphDoesNotOverflowTheStack() throws {
        let x = Tensor(1).requiringGrad()
        var y = x
        for _ in 0..<20_000 { y = y * 1.0001 }
        try y.backward()
        XCTAssertEqual(x.grad!.item, Float(pow(1.0001, 20_000.0)), accuracy: 1e-2)
    }
}
