import Foundation
import GANKit
import TensorCore

/// A function callable in expressions: `randn(4, 2)`, `mean(x, 0)`.
struct Function {
    let name: String
    let usage: String
    let summary: String
    let run: (Interpreter, [ExprArgument], Token) throws -> Value
}

/// Reads a call's arguments by position, with checks that name the function.
struct CallArguments {
    let interpreter: Interpreter
    let function: Function
    let args: [ExprArgument]
    let token: Token

    func fail(_ message: String) -> ShellError {
        ShellError(.value, "\(function.name): \(message) (usage: \(function.usage))", at: token)
    }

    func count(_ range: ClosedRange<Int>) throws {
        guard range.contains(args.count) else {
            let want =
                range.lowerBound == range.upperBound
                ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
            throw fail("takes \(want) argument\(range.upperBound == 1 ? "" : "s"), found \(args.count)")
        }
        if let labelled = args.first(where: { $0.label != nil }) {
            throw fail("takes no named argument '\(labelled.label!)'")
        }
    }

    func tensor(_ i: Int) throws -> Tensor {
        try interpreter.tensor(args[i].value, "argument \(i + 1) of \(function.name)")
    }
    func int(_ i: Int) throws -> Int { try interpreter.integer(args[i].value, "argument \(i + 1) of \(function.name)") }
    func float(_ i: Int) throws -> Float {
        let t = try tensor(i)
        guard t.count == 1 else {
            throw fail("argument \(i + 1) must be a number, found a tensor \(Format.shape(t.shape))")
        }
        return t.scalars[0]
    }

    /// Dimensions given as numbers (`randn(4, 2)`) or as one list (`randn([4, 2])`).
    func shape() throws -> [Int] {
        var dims: [Int]
        if args.count == 1, let t = try? tensor(0), t.rank == 1 {
            dims = try t.scalars.map { v in
                guard v.isFinite, v == v.rounded(), Swift.abs(v) < 1e9 else {
                    throw fail("sizes must be whole numbers, found \(Format.number(v))")
                }
                return Int(v)
            }
        } else {
            dims = try args.indices.map { try int($0) }
        }
        guard dims.allSatisfy({ $0 >= 0 }) else {
            throw fail("sizes must be zero or more, found \(Format.shape(dims))")
        }
        try Tensor.checkShape(dims, op: function.name)
        return dims
    }

    func axis(_ i: Int, of x: Tensor) throws -> [Int]? {
        guard i < args.count else { return nil }
        let a = try int(i)
        guard a >= -x.rank && a < max(x.rank, 1) else { throw fail("axis \(a) is outside a tensor of rank \(x.rank)") }
        return [a < 0 ? a + x.rank : a]
    }
}

enum Functions {
    static func lookup(_ name: String) -> Function? { table[name] }
    static let table: [String: Function] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    static func make(
        _ name: String, _ usage: String, _ summary: String,
        _ body: @escaping (CallArguments) throws -> Tensor
    ) -> Function {
        var f: Function! = nil
        f = Function(name: name, usage: usage, summary: summary) { interp, args, token in
            .tensor(try body(CallArguments(interpreter: interp, function: f, args: args, token: token)))
        }
        return f
    }

    static func elementwise(_ name: String, _ summary: String, _ op: @escaping (Tensor) -> Tensor) -> Function {
        make(name, "\(name)(x)", summary) { a in
            try a.count(1...1); return op(try a.tensor(0))
        }
    }

    static func reduction(_ name: String, _ summary: String, _ op: @escaping (Tensor, [Int]?) throws -> Tensor)
        -> Function
    {
        make(name, "\(name)(x) or \(name)(x, axis)", summary) { a in
            try a.count(1...2)
            let x = try a.tensor(0)
            return try op(x, try a.axis(1, of: x))
        }
    }

    /// `f(x)` or `f(x, axis)` on one axis, the last by default.
    static func alongAxis(_ name: String, _ summary: String, _ op: @escaping (Tensor, Int) throws -> Tensor) -> Function
    {
        make(name, "\(name)(x) or \(name)(x, axis)", summary) { a in
            try a.count(1...2)
            let x = try a.tensor(0)
            guard x.rank >= 1 else { throw a.fail("needs a tensor with at least one axis") }
            return try op(x, try a.axis(1, of: x)?.first ?? -1)
        }
    }

    static func session(_ a: CallArguments) throws -> Session {
        guard let s = a.interpreter.workspace.session else { throw a.fail("needs a GAN; assemble one with 'gan G D'") }
        return s
    }

    static let all: [Function] = [
        make("randn", "randn(d1, d2, …)", "samples of the standard normal distribution") { a in .randn(try a.shape()) },
        make("rand", "rand(d1, d2, …)", "samples uniform in [0, 1)") { a in .rand(try a.shape()) },
        make("zeros", "zeros(d1, d2, …)", "a tensor of zeros") { a in Tensor(zeros: try a.shape()) },
        make("ones", "ones(d1, d2, …)", "a tensor of ones") { a in Tensor(zeros: try a.shape()) + 1 },
        make(
            "arange", "arange(n) or arange(start, end) or arange(start, end, step)",
            "evenly spaced values in [start, end)"
        ) { a in
            try a.count(1...3)
            if a.args.count == 1 { return try Tensor.arange(0, try a.float(0)) }
            return try Tensor.arange(try a.float(0), try a.float(1), step: a.args.count == 3 ? try a.float(2) : 1)
        },
        make("linspace", "linspace(start, end, n)", "n evenly spaced values from start to end") { a in
            try a.count(3...3)
            let lo = try a.float(0), hi = try a.float(1), n = try a.int(2)
            guard n >= 1 else { throw a.fail("n must be at least 1, found \(n)") }
            try Tensor.checkShape([n], op: "linspace")
            return Tensor((0..<n).map { n == 1 ? lo : lo + (hi - lo) * Float($0) / Float(n - 1) })
        },
        reduction("mean", "the mean of all values, or along an axis") { try $0.mean(axes: $1) },
        reduction("sum", "the sum of all values, or along an axis") { try $0.sum(axes: $1) },
        reduction("std", "the standard deviation (unbiased), of all values or along an axis") { try $0.std(axes: $1) },
        reduction("var", "the variance (unbiased), of all values or along an axis") { try $0.variance(axes: $1) },
        reduction("min", "the smallest value, or the smallest along an axis") { try $0.min(axes: $1) },
        reduction("max", "the largest value, or the largest along an axis") { try $0.max(axes: $1) },
        alongAxis("argmax", "the index of the largest value along the last axis (or the given one)") {
            try $0.argmax(axis: $1)
        },
        make("norm", "norm(x)", "the Euclidean norm of all values") { a in
            try a.count(1...1)
            return Tensor(try a.tensor(0).sumOfSquares.squareRoot())
        },
        elementwise("abs", "absolute values") { $0.abs() },
        elementwise("exp", "e to the power of each value") { $0.exp() },
        elementwise("log", "natural logarithm") { $0.log() },
        elementwise("sqrt", "square root") { $0.sqrt() },
        elementwise("tanh", "hyperbolic tangent") { $0.tanh() },
        elementwise("sigmoid", "logistic sigmoid 1/(1+e^-x)") { $0.sigmoid() },
        elementwise("relu", "max(x, 0)") { $0.relu() },
        elementwise("softplus", "log(1 + e^x)") { $0.softplus() },
        alongAxis("softmax", "exponentials normalised to sum to 1 along the last axis (or the given one)") {
            try $0.softmax(axis: $1)
        },
        make("reshape", "reshape(x, d1, d2, …)", "the same values in another shape (one size may be -1)") { a in
            guard a.args.count >= 2 else { throw a.fail("needs a tensor and the new sizes") }
            let x = try a.tensor(0)
            let dims = try (1..<a.args.count).map { try a.int($0) }
            return try x.reshaped(to: dims)
        },
        make("transpose", "transpose(x)", "swaps the last two axes") { a in
            try a.count(1...1)
            let x = try a.tensor(0)
            guard x.rank >= 2 else { throw a.fail("needs at least two axes, found \(Format.shape(x.shape))") }
            return try x.transposed()
        },
        make("flatten", "flatten(x)", "keeps the first axis and flattens the rest") { a in
            try a.count(1...1)
            let x = try a.tensor(0)
            guard x.rank >= 1 else { throw a.fail("needs at least one axis") }
            return try x.flattened(from: 1)
        },
        make("concat", "concat(a, b, …) or concat(a, b, …, axis=k)", "joins tensors along an axis (0 by default)") {
            a in
            var axis = 0
            var parts: [Tensor] = []
            for (i, arg) in a.args.enumerated() {
                if arg.label == "axis" { axis = try a.int(i); continue }
                guard arg.label == nil else { throw a.fail("knows no named argument '\(arg.label!)'") }
                parts.append(try a.tensor(i))
            }
            guard !parts.isEmpty else { throw a.fail("needs at least one tensor") }
            return try Tensor.concat(parts, axis: axis)
        },
        make("onehot", "onehot(labels, classes)", "rows of zeros with a 1 at each label") { a in
            try a.count(2...2)
            let classes = try a.int(1)
            guard classes >= 1 && classes <= 100_000 else {
                throw a.fail("classes must be in 1…100000, found \(classes)")
            }
            return try Tensor.oneHot(try a.tensor(0), classes: classes)
        },
        make("noise", "noise(n)", "n noise vectors as the GAN's generator takes them") { a in
            try a.count(1...1)
            let s = try session(a)
            let n = try a.int(0)
            guard n >= 1 else { throw a.fail("n must be at least 1") }
            try Tensor.checkShape([n] + s.trainer.model.noiseShape, op: "noise")
            return s.trainer.model.sampleNoise(n)
        },
        make("sample", "sample(n)", "n samples of the generator (eval mode), as the data hold them") { a in
            try a.count(1...1)
            let s = try session(a)
            return try a.interpreter.generate(s, try a.int(0))
        },
        make("real", "real(n)", "n samples of the data") { a in
            try a.count(1...1)
            guard let d = a.interpreter.workspace.data else { throw a.fail("needs data; load some with 'data'") }
            let n = try a.int(0)
            guard n >= 1 else { throw a.fail("n must be at least 1") }
            try Tensor.checkShape([n] + d.source.sampleShape, op: "real")
            return try d.realSamples(n)
        }
    ]
}

extension Interpreter {
    /// The moving average of G, ready to sample, or an error saying why there is none.
    func movingAverage(_ s: Session) throws -> Network {
        guard let g = try s.trainer.movingAverage() else {
            throw ShellError(
                .value,
                s.trainer.options.emaDecay == nil
                    ? "\(s.generatorName) has no moving average; set one with 'set ema 0.999' and train"
                    : "the moving average of \(s.generatorName) starts with the first G step; train first")
        }
        return g
    }

    /// n samples of G (or of the moving average of its weights), in eval mode;
    /// conditional GANs cycle through the classes.
    func generate(_ s: Session, _ n: Int, ema: Bool = false, labels given: Tensor? = nil) throws -> Tensor {
        guard n >= 1 else { throw ShellError(.value, "the number of samples must be at least 1, found \(n)") }
        let gan = s.trainer.model
        try Tensor.checkShape([n] + gan.generator.outputShape, op: "sample")
        // Every layer's activations for n samples must fit, not only the output.
        let largest = ([gan.generator.inputShape] + gan.generator.shapes).map { $0.reduce(1, *) }.max() ?? 1
        let (values, overflow) = n.multipliedReportingOverflow(by: largest)
        guard !overflow, values <= options.maxElements else {
            throw ShellError(
                .limit,
                "\(Format.count(n)) samples would make activations of \(Format.count(n)) × \(Format.count(largest)) values in G, more than maxelements (\(Format.count(options.maxElements))); ask for fewer"
            )
        }
        try Tensor.checkMemory(bytes: values * 4 * 2, op: "sample", what: "\(Format.count(n)) samples")
        let g = ema ? try movingAverage(s) : gan.generator
        let labels = given ?? gan.cyclingLabels(n)
        let z = gan.sampleNoise(n)
        // Many samples are made a piece at a time, so that Ctrl-C can abandon them between pieces.
        let piece = 4096
        guard n > piece else {
            return try g.evaluating { try withNoGrad { try gan.generate(z, labels: labels, using: g) } }
        }
        var parts: [Tensor] = []
        let began = Date()
        for start in stride(from: 0, to: n, by: piece) {
            progress?(start, n, Date().timeIntervalSince(began))
            try Interrupt.check()
            let end = min(n, start + piece)
            let zi = try z.slice(axis: 0, start: start, end: end)
            let li = try labels.map { try $0.slice(axis: 0, start: start, end: end) }
            parts.append(try g.evaluating { try withNoGrad { try gan.generate(zi, labels: li, using: g) } })
        }
        return try Tensor.concat(parts, axis: 0)
    }
}
