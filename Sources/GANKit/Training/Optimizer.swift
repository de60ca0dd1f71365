import TensorCore

/// An optimizer: its hyperparameters (changeable between steps), its
/// per-parameter state (inspectable and saved in checkpoints), and one update.
public protocol Optimizer: AnyObject {
    var name: String { get }
    /// The tensors it updates, in order.
    var parameters: [Tensor] { get }
    /// Hyperparameters by name (`lr`, `beta1`, …).
    var hyperparameters: [(name: String, value: Float)] { get }
    /// Changes one hyperparameter; throws for an unknown name or a bad value.
    func set(_ name: String, _ value: Float) throws
    /// Per-parameter state tensors by name (`0.exp_avg`), as PyTorch names them.
    var state: [(name: String, tensor: Tensor)] { get }
    /// Updates done so far.
    var stepCount: Int { get set }
    /// Applies one update from each parameter's `.grad` (parameters without one are skipped).
    func step()
    /// The index in `parameters` of the first parameter that `step()` would
    /// make non-finite (its value or its optimizer state), or nil when the
    /// whole update is finite. Changes nothing: the trainer asks before it
    /// steps, so a refused step leaves networks and optimizers as they were.
    func firstNonFiniteUpdate() -> Int?
}

extension Optimizer {
    public func zeroGrad() { for p in parameters { p.grad = nil } }

    public func value(of name: String) -> Float? { hyperparameters.first { $0.name == name }?.value }

    /// Copies state and step count from another optimizer of the same kind and shapes.
    public func loadState(from other: Optimizer) {
        for ((_, a), (_, b)) in zip(state, other.state) { a.assign(b) }
        stepCount = other.stepCount
    }
}

/// The optimizers there are, by the name typed after `opt=`.
public enum OptimizerKind: String, CaseIterable, Sendable {
    case adam, sgd, rmsprop

    public func make(_ parameters: [Tensor]) -> Optimizer {
        switch self {
        case .adam: return Adam(parameters)
        case .sgd: return SGD(parameters, lr: 0.01)
        case .rmsprop: return RMSprop(parameters)
        }
    }

    /// The names of the hyperparameters of every kind (`lr`, `beta1`, …), each once.
    public static let hyperparameterNames: [String] = {
        var names: [String] = []
        for kind in allCases {
            for h in kind.make([]).hyperparameters where !names.contains(h.name) { names.append(h.name) }
        }
        return names
    }()
}

/// Builds an optimizer by name (`adam`, `sgd`, `rmsprop`) with hyperparameters by name.
public func makeOptimizer(_ name: String, parameters: [Tensor], hyperparameters: [(String, Float)] = []) throws
    -> Optimizer
{
    guard let kind = OptimizerKind(rawValue: name.lowercased()) else {
        let names = OptimizerKind.allCases.map(\.rawValue)
        throw HyperparameterError(
            message:
                "unknown optimizer '\(name)'; there are \(names.dropLast().joined(separator: ", ")) and \(names.last!)"
                + (suggestion(for: name, among: names).map { " (did you mean '\($0)'?)" } ?? ""))
    }
    let opt = kind.make(parameters)
    for (k, v) in hyperparameters { try opt.set(k, v) }
    return opt
}

/// √x for x ≥ 0 from arithmetic alone: a bit-level estimate of 1/√x refined
/// by three Newton steps (relative error below 2.2·10⁻⁷, about 2 ulp, for
/// normal floats). On Linux `squareRoot()` carries a call to `sqrtf` for
/// its error path, and a call keeps a loop from vectorising; this does not.
@inline(__always)
func vectorSqrt(_ x: Float) -> Float {
    var y = Float(bitPattern: 0x5F37_59DF &- (x.bitPattern >> 1))
    let h = 0.5 * x
    y = y * (1.5 - h * y * y)
    y = y * (1.5 - h * y * y)
    y = y * (1.5 - h * y * y)
    return x * y
}

/// Raw pointers to a parameter, its gradient and two state tensors of the
/// same size, for update loops the compiler can vectorise.
@inline(__always)
func withPointers(
    _ p: Tensor, _ g: Tensor, _ a: Tensor, _ b: Tensor,
    _ body: (
        UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
        UnsafeMutablePointer<Float>, Int
    ) -> Void
) {
    p.withUnsafeMutableBufferPointer { w in
        g.withUnsafeBufferPointer { gr in
            a.withUnsafeMutableBufferPointer { ab in
                b.withUnsafeMutableBufferPointer { bb in
                    guard let w0 = w.baseAddress, let g0 = gr.baseAddress, let a0 = ab.baseAddress,
                        let b0 = bb.baseAddress
                    else { return }
                    body(w0, g0, a0, b0, Swift.min(w.count, gr.count))
                }
            }
        }
    }
}

/// A hyperparameter that cannot be set.
/// The index of the first parameter with a gradient for which `finite(w, g, state)` fails on
/// some element (each parameter with its one state tensor), or nil.
func firstParameter(_ parameters: [Tensor], _ states: [Tensor], _ finite: (Float, Float, Float) -> Bool) -> Int? {
    for (k, (p, st)) in zip(parameters, states).enumerated() {
        guard let g = p.grad else { continue }
        var ok = true
        withPointers(p, g, st, st) { w, gr, s, _, n in
            for i in 0..<n where !finite(w[i], gr[i], s[i]) { ok = false; return }
        }
        if !ok { return k }
    }
    return nil
}

public struct HyperparameterError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Shared storage of named hyperparameters with range checks.
public class HyperparameterSet {
    var values: [(name: String, value: Float, valid: ClosedRange<Float>)]
    init(_ values: [(String, Float, ClosedRange<Float>)]) { self.values = values.map { ($0.0, $0.1, $0.2) } }

    public var hyperparameters: [(name: String, value: Float)] { values.map { ($0.name, $0.value) } }

    /// The range of a value that must be above zero and at most 1 (ε: at zero an update can divide 0 by 0).
    static let positive: ClosedRange<Float> = Float.leastNonzeroMagnitude...1

    public func set(_ name: String, _ value: Float) throws {
        guard let i = values.firstIndex(where: { $0.name == name }) else {
            let names = values.map(\.name)
            throw HyperparameterError(
                message: "this optimizer has no '\(name)'; it has \(names.joined(separator: ", "))"
                    + (suggestion(for: name, among: names).map { " (did you mean '\($0)'?)" } ?? ""))
        }
        guard value.isFinite, values[i].valid.contains(value) else {
            let range = values[i].valid
            let low =
                range.lowerBound == Float.leastNonzeroMagnitude
                ? "above 0" : "in \(range.lowerBound)…\(range.upperBound)"
            throw HyperparameterError(
                message:
                    "\(name) must be \(low)\(range.lowerBound == Float.leastNonzeroMagnitude ? " and at most \(range.upperBound)" : ""), found \(value)"
            )
        }
        values[i].value = value
    }

    func get(_ name: String) -> Float { values.first { $0.name == name }!.value }
}

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay (as `torch.optim.SGD`).
public final class SGD: HyperparameterSet, Optimizer {
    public let name = "sgd"
    public let parameters: [Tensor]
    public var stepCount = 0
    let buffers: [Tensor]

    /// `nesterov` is a hyperparameter of 0 or 1, so it can be set and saved like the others.
    public init(_ parameters: [Tensor], lr: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false)
    {
        self.parameters = parameters
        buffers = parameters.map { Tensor(zeros: $0.shape) }
        super.init([
            ("lr", lr, 0...10), ("momentum", momentum, 0...1), ("weight_decay", weightDecay, 0...1),
            ("nesterov", nesterov ? 1 : 0, 0...1)
        ])
    }

    public var state: [(name: String, tensor: Tensor)] { buffers.enumerated().map { ("\($0).momentum_buffer", $1) } }

    public func step() {
        let lr = get("lr"), mu = get("momentum"), wd = get("weight_decay"), nesterov = get("nesterov") >= 0.5
        let first = stepCount == 0
        for (p, buf) in zip(parameters, buffers) {
            guard let g = p.grad else { continue }
            withPointers(p, g, buf, buf) { w, gr, b, _, n in
                for i in 0..<n {
                    var d = gr[i] + wd * w[i]
                    if mu != 0 {
                        b[i] = first ? d : mu * b[i] + d
                        d = nesterov ? d + mu * b[i] : b[i]
                    }
                    w[i] -= lr * d
                }
            }
        }
        stepCount += 1
    }

    public func firstNonFiniteUpdate() -> Int? {
        let lr = get("lr"), mu = get("momentum"), wd = get("weight_decay"), nesterov = get("nesterov") >= 0.5
        let first = stepCount == 0
        return firstParameter(parameters, buffers) { w, g, b in
            var d = g + wd * w, bi = b
            if mu != 0 {
                bi = first ? d : mu * b + d
                d = nesterov ? d + mu * bi : bi
            }
            return (w - lr * d).isFinite && bi.isFinite
        }
    }
}

/// Adam (as `torch.optim.Adam`): bias-corrected moment estimates, L2 weight
/// decay added to the gradient. One fused in-place loop per parameter.
public final class Adam: HyperparameterSet, Optimizer {
    public let name = "adam"
    public let parameters: [Tensor]
    public var stepCount = 0
    let m: [Tensor], v: [Tensor]

    public init(
        _ parameters: [Tensor], lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8, weightDecay: Float = 0
    ) {
        self.parameters = parameters
        m = parameters.map { Tensor(zeros: $0.shape) }
        v = parameters.map { Tensor(zeros: $0.shape) }
        super.init([
            ("lr", lr, 0...10), ("beta1", beta1, 0...0.99999), ("beta2", beta2, 0...0.999999),
            ("eps", epsilon, HyperparameterSet.positive), ("weight_decay", weightDecay, 0...1)
        ])
    }

    public var state: [(name: String, tensor: Tensor)] {
        m.indices.flatMap { [("\($0).exp_avg", m[$0]), ("\($0).exp_avg_sq", v[$0])] }
    }

    /// Adam's constants for step number `t`: β₁, β₂, ε, weight decay, lr / (1 − β₁ᵗ), √(1 − β₂ᵗ).
    func constants(step t: Float) -> (Float, Float, Float, Float, Float, Float) {
        let lr = get("lr"), b1 = get("beta1"), b2 = get("beta2"), eps = get("eps"), wd = get("weight_decay")
        let c1 = 1 - Foundation.pow(b1, t), c2 = 1 - Foundation.pow(b2, t)
        return (b1, b2, eps, wd, lr / c1, c2.squareRoot())
    }

    public func firstNonFiniteUpdate() -> Int? {
        let (b1, b2, eps, wd, stepSize, c2root) = constants(step: Float(stepCount + 1))
        for (k, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            if !Tensor.adamUpdateIsFinite(
                weights: p, gradient: g, firstMoment: m[k], secondMoment: v[k], beta1: b1, beta2: b2,
                eps: eps, weightDecay: wd, stepSize: stepSize, c2root: c2root)
            {
                return k
            }
        }
        return nil
    }

    public func step() {
        stepCount += 1
        let lr = get("lr"), b1 = get("beta1"), b2 = get("beta2"), eps = get("eps"), wd = get("weight_decay")
        let t = Float(stepCount)
        let c1 = 1 - Foundation.pow(b1, t), c2 = 1 - Foundation.pow(b2, t)
        let stepSize = lr / c1, c2root = c2.squareRoot()
        for (k, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            Tensor.adamUpdate(
                weights: p, gradient: g, firstMoment: m[k], secondMoment: v[k], beta1: b1, beta2: b2,
                eps: eps, weightDecay: wd, stepSize: stepSize, c2root: c2root)
        }
    }
}

/// RMSprop (as `torch.optim.RMSprop`, without centring or momentum).
public final class RMSprop: HyperparameterSet, Optimizer {
    public let name = "rmsprop"
    public let parameters: [Tensor]
    public var stepCount = 0
    let squares: [Tensor]

    public init(
        _ parameters: [Tensor], lr: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8, weightDecay: Float = 0
    ) {
        self.parameters = parameters
        squares = parameters.map { Tensor(zeros: $0.shape) }
        super.init([
            ("lr", lr, 0...10), ("alpha", alpha, 0...1), ("eps", epsilon, HyperparameterSet.positive),
            ("weight_decay", weightDecay, 0...1)
        ])
    }

    public var state: [(name: String, tensor: Tensor)] { squares.enumerated().map { ("\($0).square_avg", $1) } }

    public func step() {
        let lr = get("lr"), alpha = get("alpha"), eps = get("eps"), wd = get("weight_decay")
        for (p, sq) in zip(parameters, squares) {
            guard let g = p.grad else { continue }
            withPointers(p, g, sq, sq) { w, gr, s, _, n in
                for i in 0..<n {
                    let d = gr[i] + wd * w[i]
                    s[i] = alpha * s[i] + (1 - alpha) * d * d
                    w[i] -= lr * d / (vectorSqrt(s[i]) + eps)
                }
            }
        }
        stepCount += 1
    }

    public func firstNonFiniteUpdate() -> Int? {
        let lr = get("lr"), alpha = get("alpha"), eps = get("eps"), wd = get("weight_decay")
        return firstParameter(parameters, squares) { w, g, s in
            let d = g + wd * w
            let si = alpha * s + (1 - alpha) * d * d
            return si.isFinite && (w - lr * d / (vectorSqrt(si) + eps)).isFinite
        }
    }
}

import Foundation
