import XCTest
import TensorCore
import TestSupport

/// Gradient of a gradient: a WGAN-GP penalty (‖∇ₓD(x)‖₂ − 1)² on a small MLP
/// and a small conv net, its parameter gradient checked against finite
/// differences of the penalty itself.
final class PenaltyTests: XCTestCase {
    func penalty(_ d: ([Tensor], Tensor) throws -> Tensor, params: [Tensor], x: Tensor) throws -> Tensor {
        let xi = x.detached().requiringGrad()
        let score = try d(params, xi)
        let gx = try grad(of: score.sum(), wrt: [xi], createGraph: true)[0]
        let norms = try (gx * gx).sum(axes: Array(1..<gx.rank)).sqrt()  // ‖∇ₓD‖₂ per sample
        return (norms - 1).pow(2).mean()
    }

    func check(_ name: String, _ d: @escaping ([Tensor], Tensor) throws -> Tensor, params: [Tensor], x: Tensor) throws {
        let ps = params.map { $0.copy().requiringGrad() }
        let p = try penalty(d, params: ps, x: x)
        XCTAssertTrue(p.requiresGrad, "the penalty must depend on the parameters")
        try p.backward()
        var failures: [String] = []
        for (i, param) in ps.enumerated() {
            let numeric = try GradCheck.numericGradient(ps, i, eps: 1e-2) { try penalty(d, params: $0, x: x) }
            let analytic = param.grad?.scalars ?? [Float](repeating: 0, count: param.count)  // no path: zero
            failures += GradCheck.compare("\(name) param \(i)", analytic, numeric, atol: 3e-3, rtol: 3e-2)
        }
        XCTAssertEqual(failures, [])
    }

    // Activations are smooth here: a finite difference across a ReLU kink
    // measures the jump in slope, not the gradient.
    func testMLPGradientPenaltyParameterGradient() throws {
        Random.seed(5)
        let params = [
            Tensor.randn([2, 8], std: 0.7), Tensor.randn([8], std: 0.1),
            Tensor.randn([8, 8], std: 0.5), Tensor.randn([8], std: 0.1),
            Tensor.randn([8, 1], std: 0.5)
        ]
        let d: ([Tensor], Tensor) throws -> Tensor = { p, x in
            let h1 = try (x.matmul(p[0]) + p[1]).tanh()
            let h2 = try (h1.matmul(p[2]) + p[3]).softplus()
            return try h2.matmul(p[4])
        }
        try check("MLP", d, params: params, x: Tensor.randn([5, 2]))
    }

    func testConvNetGradientPenaltyParameterGradient() throws {
        Random.seed(6)
        let params = [
            Tensor.randn([3, 1, 3, 3], std: 0.5), Tensor.randn([3], std: 0.1),
            Tensor.randn([27, 1], std: 0.3)
        ]
        let d: ([Tensor], Tensor) throws -> Tensor = { p, x in
            let h = try x.conv2d(weight: p[0], bias: p[1], stride: 2, padding: 1).softplus()  // [N, 3, 3, 3]
            return try h.flattened().matmul(p[2])
        }
        try check("conv", d, params: params, x: Tensor.randn([2, 1, 6, 6]))
    }

    /// R1-style: the penalty of ‖∇ₓD(x)‖² with a tanh MLP, second order through matmul and tanh.
    func testR1PenaltyParameterGradient() throws {
        Random.seed(7)
        let params = [Tensor.randn([3, 6], std: 0.6), Tensor.randn([6, 1], std: 0.6)]
        let x = Tensor.randn([4, 3])
        func r1(_ p: [Tensor]) throws -> Tensor {
            let xi = x.detached().requiringGrad()
            let s = try xi.matmul(p[0]).tanh().matmul(p[1]).sum()
            let g = try grad(of: s, wrt: [xi], createGraph: true)[0]
            return try (g * g).sum() * 0.5
        }
        let ps = params.map { $0.copy().requiringGrad() }
        try r1(ps).backward()
        var failures: [String] = []
        for i in ps.indices {
            let numeric = try GradCheck.numericGradient(ps, i, eps: 1e-2) { try r1($0) }
            failures += GradCheck.compare("R1 param \(i)", ps[i].grad?.scalars ?? [], numeric, atol: 3e-3, rtol: 3e-2)
        }
        XCTAssertEqual(failures, [])
    }
}
