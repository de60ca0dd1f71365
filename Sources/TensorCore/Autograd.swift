/// Whether operations record the graph for reverse-mode differentiation.
/// Off inside `withNoGrad`, and while a backward pass runs without
/// `createGraph`, so that pass runs at kernel speed.
public enum GradMode {
    nonisolated(unsafe) public private(set) static var isEnabled = true

    static func set(_ enabled: Bool) -> Bool {
        let old = isEnabled
        isEnabled = enabled
        return old
    }
}

/// Runs `body` with graph recording off (`torch.no_grad()`).
@discardableResult
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    let old = GradMode.set(false)
    defer { _ = GradMode.set(old) }
    return try body()
}

/// Runs `body` with graph recording on (`torch.enable_grad()`).
@discardableResult
public func withGrad<T>(_ body: () throws -> T) rethrows -> T {
    let old = GradMode.set(true)
    defer { _ = GradMode.set(old) }
    return try body()
}

/// How a tensor was made: its inputs and the rule giving their gradients from
/// the output's. The rule is written with tensor ops, so when it runs with
/// recording on, the gradients it returns are themselves differentiable.
/// Which inputs get a gradient is fixed when the op runs, as in PyTorch: a
/// tensor whose `requiresGrad` is set only afterwards gets none through it.
final class Node {
    let op: String
    let inputs: [Tensor]
    /// Bit i: input i required a gradient when the op was recorded.
    let needs: UInt64
    let backward: (Tensor) throws -> [Tensor?]

    init(op: String, inputs: [Tensor], needs: UInt64, backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.needs = needs
        self.backward = backward
    }

    /// Input i's bit in `needs` and `wanted` (inputs from the 64th on share the last bit).
    @inline(__always) static func bit(_ i: Int) -> UInt64 { 1 << UInt64(min(i, 63)) }

    @inline(__always) func needs(_ i: Int) -> Bool { needs & Node.bit(i) != 0 }

    /// The inputs this node passes a gradient to that lead to a target of
    /// the pass with this epoch (`Tensor.leadsEpoch`).
    func inputsLeading(epoch: Int) -> UInt64 {
        var mask: UInt64 = 0
        for (i, input) in inputs.enumerated() where needs(i) && input.leadsEpoch == epoch { mask |= Node.bit(i) }
        return mask
    }

    /// While a rule runs: bit i, the pass needs input i's gradient. A pass
    /// for the gradients of some tensors only (`grad(of:wrt:)`) needs those
    /// of inputs that lead to one of them, as PyTorch's `needs_input_grad`:
    /// a penalty's gradient with respect to the input of a network computes
    /// no gradients of its weights.
    nonisolated(unsafe) static var wanted: UInt64 = ~0
}

extension Tensor {
    /// Whether the backward pass running the current rule needs the gradient
    /// of the rule's input `i`; a rule may leave out (return nil for) the
    /// costly gradients it does not.
    @inline(__always) static func gradientWanted(_ i: Int) -> Bool {
        Node.wanted & Node.bit(i) != 0
    }

    /// Attaches a backward rule to `out` when recording is on and some input
    /// needs a gradient; returns `out`.
    @inline(__always)
    static func record(
        _ op: String, _ out: Tensor, _ inputs: [Tensor],
        _ backward: @escaping (Tensor) throws -> [Tensor?]
    ) -> Tensor {
        guard GradMode.isEnabled else { return out }
        var needs: UInt64 = 0
        for (i, t) in inputs.enumerated() where t.requiresGrad { needs |= 1 << UInt64(Swift.min(i, 63)) }
        if needs != 0 {
            out.node = Node(op: op, inputs: inputs, needs: needs, backward: backward)
            out.requiresGrad = true
        }
        return out
    }

    /// The tensors reachable from `self` through recorded nodes, each after
    /// every tensor computed from it (reverse topological order). Visited
    /// tensors are marked with this pass's epoch instead of hashed into a set.
    private func graphOrder(epoch: Int) -> [Tensor] {
        var order: [Tensor] = []
        // Iterative post-order DFS: deep graphs (long training loops) must not
        // overflow the stack.
        var stack: [(Tensor, Int)] = [(self, 0)]
        visitEpoch = epoch
        while let (t, i) = stack.popLast() {
            if let node = t.node, i < node.inputs.count {
                stack.append((t, i + 1))
                let input = node.inputs[i]
                if node.needs(i) && input.visitEpoch != epoch {
                    input.visitEpoch = epoch
                    stack.append((input, 0))
                }
            } else {
                order.append(t)
            }
        }
        order.reverse()
        return order
    }

    /// Runs the chain rule from `self` with upstream gradient `seed`.
    /// `visit` receives each tensor with its total gradient; nodes are freed
    /// afterwards unless `retainGraph`. Gradients wait in each tensor's
    /// `pendingGrad` until every consumer has contributed.
    /// With `targets`, only the gradients that lead to one of them are
    /// computed and passed on; without, all of them (every leaf's).
    private func propagate(
        seed: Tensor, createGraph: Bool, retainGraph: Bool, targets: [Tensor]? = nil,
        visit: (Tensor, Tensor) throws -> Void
    ) throws {
        Tensor.epochCounter &+= 1
        let epoch = Tensor.epochCounter
        let order = graphOrder(epoch: epoch)
        if let targets {
            // Inputs before the tensors computed from them: a tensor leads to a
            // target when it is one or one of its inputs leads to one.
            for t in targets { t.leadsEpoch = epoch }
            for t in order.reversed() where t.leadsEpoch != epoch {
                if let node = t.node, node.inputsLeading(epoch: epoch) != 0 { t.leadsEpoch = epoch }
            }
        }
        pendingGrad = seed
        let old = GradMode.set(createGraph), oldWanted = Node.wanted
        defer {
            _ = GradMode.set(old)
            Node.wanted = oldWanted
            for t in order { t.pendingGrad = nil }  // clears what an error left behind
        }
        for t in order {
            guard let g = t.pendingGrad else { continue }
            t.pendingGrad = nil
            try visit(t, g)
            guard let node = t.node else { continue }
            let wanted = targets == nil ? node.needs : node.inputsLeading(epoch: epoch)
            if wanted == 0 { continue }
            Node.wanted = wanted
            let inputGrads = try node.backward(g)
            for (i, (input, ig)) in zip(node.inputs, inputGrads).enumerated() {
                guard wanted & Node.bit(i) != 0, let ig else { continue }
                if let existing = input.pendingGrad {
                    input.pendingGrad = try existing + ig
                } else {
                    input.pendingGrad = ig
                }
            }
            if !retainGraph && !createGraph { t.node = nil }
        }
    }

    /// Accumulates d(self)/d(leaf) into the `.grad` of every leaf tensor that
    /// requires a gradient. `self` must be a scalar unless `gradient` is given.
    public func backward(
        _ gradient: Tensor? = nil, retainGraph: Bool = false,
        createGraph: Bool = false
    ) throws {
        let seed = try seedGradient(gradient, op: "backward")
        try propagate(seed: seed, createGraph: createGraph, retainGraph: retainGraph) { t, g in
            guard t.node == nil, t.requiresGrad else { return }
            if let existing = t.grad {
                t.grad = try existing + g
            } else {
                t.grad = createGraph ? g : g.detached()
            }
        }
    }

    private func seedGradient(_ gradient: Tensor?, op: String) throws -> Tensor {
        guard requiresGrad else {
            throw TensorError(
                op, "the tensor does not require a gradient: nothing it was computed from has requiresGrad set")
        }
        if let gradient {
            guard gradient.shape == shape else {
                throw TensorError(
                    op,
                    "gradient of shape \(shapeString(gradient.shape)) given for a tensor of shape \(shapeString(shape))"
                )
            }
            return gradient
        }
        guard count == 1 else {
            throw TensorError(
                op,
                "needs a scalar (one element) to start from, found shape \(shapeString(shape)); pass a gradient of the same shape"
            )
        }
        return Tensor(ones: shape)
    }
}

/// The gradients of `output` with respect to each of `inputs`, returned
/// rather than accumulated into `.grad` (`torch.autograd.grad`). With
/// `createGraph` the returned gradients are recorded, so they can be
/// differentiated again (gradient penalties). An input that `output` does not
/// depend on gets a zero gradient.
public func grad(
    of output: Tensor, wrt inputs: [Tensor], gradient: Tensor? = nil,
    createGraph: Bool = false, retainGraph: Bool? = nil
) throws -> [Tensor] {
    for (i, x) in inputs.enumerated() where !x.requiresGrad {
        throw TensorError("grad", "input \(i) of shape \(shapeString(x.shape)) does not require a gradient")
    }
    let seed: Tensor
    if let gradient {
        guard gradient.shape == output.shape else {
            throw TensorError(
                "grad",
                "gradient of shape \(shapeString(gradient.shape)) given for an output of shape \(shapeString(output.shape))"
            )
        }
        seed = gradient
    } else {
        guard output.count == 1 else {
            throw TensorError(
                "grad",
                "needs a scalar output, found shape \(shapeString(output.shape)); pass a gradient of the same shape")
        }
        seed = Tensor(ones: output.shape)
    }
    guard output.requiresGrad else {
        return inputs.map { Tensor(zeros: $0.shape) }
    }
    var result = [Tensor?](repeating: nil, count: inputs.count)
    try output.propagateForGrad(
        seed: seed, createGraph: createGraph,
        retainGraph: retainGraph ?? createGraph, targets: inputs
    ) { t, g in
        for (i, x) in inputs.enumerated() where x === t { result[i] = g }
    }
    return zip(inputs, result).map { x, g in g ?? Tensor(zeros: x.shape) }
}

extension Tensor {
    fileprivate func propagateForGrad(
        seed: Tensor, createGraph: Bool, retainGraph: Bool, targets: [Tensor],
        visit: (Tensor, Tensor) throws -> Void
    ) throws {
        try propagate(
            seed: seed, createGraph: createGraph, retainGraph: retainGraph, targets: targets, visit: visit)
    }
}
