import Foundation
import GANKit
import TensorCore

/// Expressions. They never change the workspace: networks run in eval mode
/// and nothing is recorded for gradients.
extension Interpreter {
    public func evaluate(_ e: Expr) throws -> Value {
        try withNoGrad { try eval(e) }
    }

    func eval(_ e: Expr) throws -> Value {
        switch e {
        case .number(let v, _):
            return .tensor(Tensor(v))
        case .string(let s, _):
            return .string(s)
        case .name(let n, let t):
            if let v = workspace.lookup(n) { return v }
            if n == "quick" { return .tensor(Tensor(options.quick ? 1 : 0)) }
            if Functions.lookup(n) != nil {
                throw ShellError(.name, "'\(n)' is a function: call it as \(Functions.lookup(n)!.usage)", at: t)
            }
            if isCommand(n) {
                throw ShellError(.name, "'\(n)' is a command; commands start a line (help \(n))", at: t)
            }
            let known = workspace.names + Functions.all.map(\.name) + CommandTable.names
            let hint =
                nearest(to: n, among: known).map { "; did you mean '\($0)'?" }
                ?? (workspace.names.isEmpty
                    ? "; nothing is defined yet" : "; defined: " + workspace.names.sorted().joined(separator: ", "))
            throw ShellError(.name, "unknown name '\(n)'\(hint)", at: t)
        case .list(let items, let t):
            return .tensor(try listTensor(items, t))
        case .unary(_, let x, _):
            return .tensor(-(try tensor(x)))
        case .binary(let op, let l, let r, let t):
            let a = try tensor(l)
            if op == "**" {
                let b = try tensor(r)
                guard b.rank == 0 || b.count == 1 else {
                    throw ShellError(
                        .shape, "the exponent of '**' must be one number, found a tensor \(Format.shape(b.shape))",
                        at: t)
                }
                return .tensor(a.pow(b.scalars[0]))
            }
            let b = try tensor(r)
            do {
                switch op {
                case "+": return .tensor(try a + b)
                case "-": return .tensor(try a - b)
                case "*": return .tensor(try a * b)
                case "/": return .tensor(try a / b)
                case "@":
                    guard a.rank >= 1, b.rank >= 1 else {
                        throw ShellError(
                            .shape,
                            "'@' multiplies matrices or vectors, found \(Format.shape(a.shape)) @ \(Format.shape(b.shape)); use '*' for numbers",
                            at: t)
                    }
                    return .tensor(try a.matmul(b))
                case "<": return .tensor(try a.less(b))
                case "<=": return .tensor(try a.lessEqual(b))
                case ">": return .tensor(try a.greater(b))
                case ">=": return .tensor(try a.greaterEqual(b))
                case "==": return .tensor(try a.equal(b))
                case "!=": return .tensor(1 - (try a.equal(b)))
                default: throw ShellError(.syntax, "unknown operator '\(op)'", at: t)
                }
            } catch let error as TensorError {
                throw ShellError(
                    .shape,
                    "'\(op)' cannot combine \(Format.shape(a.shape)) and \(Format.shape(b.shape)): \(error.message)",
                    at: t)
            }
        case .call(let callee, let args, let t):
            return try call(callee, args, t)
        case .index(let base, let subs, let t):
            return .tensor(try index(try tensor(base), subs, t))
        case .attribute(let base, let name, let t):
            return try attribute(try eval(base), name, t, path: base.path)
        }
    }

    /// Evaluates and requires a tensor.
    func tensor(_ e: Expr, _ role: String = "a tensor") throws -> Tensor {
        let v = try eval(e)
        guard case .tensor(let t) = v else {
            throw ShellError(
                .value, "\(role) expected, found \(v.typeName)" + (e.path.map { " ('\($0)')" } ?? ""), at: e.token)
        }
        return t
    }

    /// Evaluates and requires a whole number.
    func integer(_ e: Expr, _ role: String) throws -> Int {
        let t = try tensor(e, role)
        guard t.count == 1, let v = t.scalars.first, v.isFinite, v == v.rounded(), abs(v) < 1e9 else {
            throw ShellError(
                .value,
                "\(role) must be a whole number, found \(t.count == 1 ? Format.number(t.scalars[0]) : "a tensor \(Format.shape(t.shape))")",
                at: e.token)
        }
        return Int(v)
    }

    func listTensor(_ items: [Expr], _ t: Token) throws -> Tensor {
        let parts = try items.map { try tensor($0, "a list element") }
        guard let first = parts.first else { return Tensor([Float]()) }
        guard parts.allSatisfy({ $0.shape == first.shape }) else {
            throw ShellError(
                .shape,
                "the elements of a list must have one shape; found "
                    + parts.map { Format.shape($0.shape) }.joined(separator: ", "), at: t)
        }
        try Tensor.checkShape([parts.count] + first.shape, op: "list")
        return try Tensor.stack(parts)
    }

    func index(_ x: Tensor, _ subs: [Subscript], _ t: Token) throws -> Tensor {
        guard subs.count <= x.rank else {
            throw ShellError(
                .shape, "\(subs.count) subscripts for a tensor of rank \(x.rank) \(Format.shape(x.shape))", at: t)
        }
        var result = x
        var axis = 0
        for s in subs {
            let n = result.shape[axis]
            func bound(_ e: Expr?, _ fallback: Int) throws -> Int {
                guard let e else { return fallback }
                let i = try integer(e, "an index")
                return min(max(i < 0 ? i + n : i, 0), n)
            }
            switch s {
            case .index(let e):
                let raw = try integer(e, "an index")
                let i = raw < 0 ? raw + n : raw
                guard i >= 0 && i < n else {
                    throw ShellError(
                        .shape, "index \(raw) is outside axis \(axis) of size \(n) (valid: \(-n)…\(n - 1))", at: e.token
                    )
                }
                var shape = result.shape
                shape.remove(at: axis)
                result = try result.slice(axis: axis, start: i, end: i + 1).reshaped(to: shape)
            case .slice(let a, let b):
                let start = try bound(a, 0), end = max(start, try bound(b, n))
                result = try result.slice(axis: axis, start: start, end: end)
                axis += 1
            }
        }
        return result
    }

    func attribute(_ base: Value, _ name: String, _ t: Token, path: String?) throws -> Value {
        let what = path ?? "the value"
        switch base {
        case .tensor(let x):
            switch name {
            case "grad":
                guard let g = x.grad else {
                    throw ShellError(
                        .value, "\(what) has no gradient yet: gradients appear after a training step (step d, step g)",
                        at: t)
                }
                return .tensor(g.detached())
            case "shape": return .tensor(Tensor(x.shape.map(Float.init)))
            case "T":
                guard x.rank == 2 else {
                    throw ShellError(
                        .shape, ".T transposes a matrix; \(what) has shape \(Format.shape(x.shape))", at: t)
                }
                return .tensor(try x.transposed())
            default:
                throw ShellError(
                    .name,
                    "a tensor has .grad, .shape and .T, not .\(name)" + didYouMean(name, among: ["grad", "shape", "T"]),
                    at: t)
            }
        case .network(let n, let net):
            if let i = Int(name) {
                guard net.layers.indices.contains(i) else {
                    throw ShellError(.name, "\(n) has layers 0…\(net.layers.count - 1), not \(i)", at: t)
                }
                return .layer(n, net, i)
            }
            if name == "logits" {
                throw ShellError(.value, "\(n).logits is applied to a tensor: \(n).logits(x)", at: t)
            }
            throw ShellError(
                .name,
                "after '\(n).' comes a layer number (0…\(max(0, net.layers.count - 1))) or logits(x), as in \(n).0.weight; found '\(name)'",
                at: t)
        case .layer(let n, let net, let i):
            let prefix = "\(i)."
            let names = net.stateDict.filter { $0.name.hasPrefix(prefix) }.map {
                String($0.name.dropFirst(prefix.count))
            }
            guard let tensor = net.tensor(named: prefix + name) else {
                let has = names.isEmpty ? "no parameters" : names.joined(separator: ", ")
                throw ShellError(
                    .name,
                    "\(n).\(i) (\(net.layers[i].spec.text)) has \(has), not '\(name)'" + didYouMean(name, among: names),
                    at: t)
            }
            return .tensor(tensor)
        case .gan(let s):
            let model = s.trainer.model
            switch name {
            case "G": return .network(s.generatorName, model.generator)
            // D is the partner of either kind (a VAE's encoder too, as `optD` is its optimizer).
            case "D", model.partnerLetter: return .network(s.partnerName, model.partner)
            case "fixed": return .tensor(s.trainer.fixedNoise)
            default:
                throw ShellError(
                    .name, "\(model.withArticle) has .G, .\(model.partnerLetter) and .fixed, not .\(name)", at: t)
            }
        default:
            throw ShellError(.name, "\(base.typeName) has no attribute '.\(name)'", at: t)
        }
    }

    func call(_ callee: Expr, _ args: [ExprArgument], _ t: Token) throws -> Value {
        if case .name(let n, _) = callee, workspace.lookup(n) == nil {
            guard let f = Functions.lookup(n) else {
                throw ShellError(
                    .name,
                    "unknown function '\(n)'" + didYouMean(n, among: Functions.all.map(\.name) + workspace.names), at: t
                )
            }
            return try f.run(self, args, t)
        }
        // D.logits(x): the raw score of the GAN's D, where D(x) reads out as the step statistics do.
        var raw = false, target: Value
        if case .attribute(let base, "logits", let at) = callee {
            let b = try eval(base)
            guard case .network = b else {
                throw ShellError(
                    .name, ".logits(x) applies a network and gives its raw output; this is \(b.typeName)", at: at)
            }
            raw = true
            target = b
        } else {
            target = try eval(callee)
        }
        let net: Network, label: String, range: Range<Int>
        switch target {
        case .network(let n, let x): net = x; label = n; range = 0..<x.layers.count
        case .layer(let n, let x, let i): net = x; label = "\(n).\(i)"; range = i..<(i + 1)
        default:
            throw ShellError(
                .value, "only functions, networks and layers can be called; this is \(target.typeName)", at: t)
        }
        guard args.count == 1, args[0].label == nil else {
            throw ShellError(.value, "\(label)(x) takes one tensor, found \(args.count) arguments", at: t)
        }
        let x = try tensor(args[0].value)
        let input = net.inputShape(ofLayer: range.lowerBound)
        let single = x.shape == input
        guard single || (x.rank == input.count + 1 && Array(x.shape.dropFirst()) == input) else {
            throw ShellError(
                .shape,
                "\(label) takes a batch [N, \(input.map(String.init).joined(separator: ", "))] (or one sample \(Format.shape(input))), found \(Format.shape(x.shape))",
                at: args[0].value.token)
        }
        var h = single ? try x.reshaped(to: [1] + input) : x
        try net.evaluating { for i in range { h = try net.layers[i].forward(h, training: false) } }
        // The GAN's D under a logistic loss gives D(x) as the statistics do: the probability σ(score).
        if !raw, case .network = target, let s = workspace.session, net === s.trainer.model.adversary,
            s.trainer.options.loss.isLogistic
        {
            h = h.sigmoid()
        }
        return .tensor(single ? try h.reshaped(to: Array(h.shape.dropFirst())) : h)
    }
}
