import TensorCore

/// What a layer is, independent of its weights: printed in summaries, saved
/// in checkpoint metadata, and parsed back (`linear 128`, `conv 64 k=4 s=2 p=1`).
public enum LayerSpec: Equatable, Sendable {
    case linear(out: Int, bias: Bool = true)
    case conv2d(out: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true)
    case convTranspose2d(
        out: Int, kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0, bias: Bool = true)
    /// 1-D over [N, C] or 2-D over [N, C, H, W], chosen by the input's rank.
    case batchNorm(momentum: Float = 0.1, epsilon: Float = 1e-5)
    case layerNorm(epsilon: Float = 1e-5)
    case dropout(Float)
    case relu
    case leakyRelu(Float)
    case tanh
    case sigmoid
    case gelu
    case elu(Float)
    /// Softmax over the last axis (a distribution per position: generated text).
    case softmax
    /// Appends one feature to each sample: the standard deviation across the
    /// batch, averaged over features (minibatch statistics, as in ProGAN), so
    /// D can see a lack of variety. [F] → [F + 1].
    case minibatchStd
    /// Reshapes each sample (the batch dimension is kept).
    case reshape([Int])
    case flatten
    /// Nearest-neighbour upsampling of an image by a whole factor s: [C, H, W] → [C, H·s, W·s]
    /// (before a convolution, an alternative to a transposed one without its checkerboard).
    case upsample(Int)
    /// Token ids in, vectors out: [L] → [L, dim].
    case embedding(vocabulary: Int, dim: Int)
    /// A linear or convolutional layer whose weight is divided by its largest
    /// singular value, estimated by power iteration.
    indirect case spectralNorm(LayerSpec)

    /// The largest size, kernel, stride or padding a layer's text may give (2²⁴).
    public static let maxSize = 1 << 24

    /// The text form, as typed in the shell.
    public var text: String {
        func flag(_ b: Bool) -> String { b ? "" : " bias=false" }
        func num(_ f: Float) -> String { f == f.rounded() && Swift.abs(f) < 1e6 ? String(Int(f)) : "\(f)" }
        switch self {
        case let .linear(out, bias): return "linear \(out)" + flag(bias)
        case let .conv2d(out, k, s, p, bias): return "conv \(out) k=\(k) s=\(s) p=\(p)" + flag(bias)
        case let .convTranspose2d(out, k, s, p, op, bias):
            return "convt \(out) k=\(k) s=\(s) p=\(p)" + (op != 0 ? " op=\(op)" : "") + flag(bias)
        case let .batchNorm(m, e):
            return "batchnorm" + (m != 0.1 ? " momentum=\(num(m))" : "") + (e != 1e-5 ? " eps=\(e)" : "")
        case let .layerNorm(e): return "layernorm" + (e != 1e-5 ? " eps=\(e)" : "")
        case let .dropout(p): return "dropout \(num(p))"
        case .relu: return "relu"
        case let .leakyRelu(a): return "leakyrelu \(num(a))"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .gelu: return "gelu"
        case let .elu(a): return "elu \(num(a))"
        case .softmax: return "softmax"
        case .minibatchStd: return "mbstd"
        case let .reshape(s): return "reshape " + s.map(String.init).joined(separator: " ")
        case .flatten: return "flatten"
        case let .upsample(s): return "upsample \(s)"
        case let .embedding(v, d): return "embedding \(v) \(d)"
        case let .spectralNorm(inner): return "sn " + inner.text
        }
    }

    /// Layer kinds the parser knows, for help and "did you mean".
    public static let kinds = [
        "linear", "conv", "convt", "batchnorm", "layernorm", "dropout", "relu", "leakyrelu",
        "tanh", "sigmoid", "gelu", "elu", "softmax", "mbstd", "reshape", "flatten", "upsample", "embedding", "sn"
    ]

    /// Parses the text form: a kind, positional numbers, then `key=value` options.
    public init(parsing text: String) throws {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let kind = words.first?.lowercased() else { throw SpecError("an empty layer description") }
        var positional: [String] = []
        var options: [String: String] = [:]
        for w in words.dropFirst() {
            if let eq = w.firstIndex(of: "=") {
                options[String(w[..<eq]).lowercased()] = String(w[w.index(after: eq)...])
            } else {
                positional.append(w)
            }
        }
        var used = Set<String>()
        func int(_ i: Int, _ name: String) throws -> Int {
            guard i < positional.count else { throw SpecError("'\(kind)' needs \(name) (e.g. \(Self.example(kind)))") }
            guard let v = Int(positional[i]), v > 0 else {
                throw SpecError("'\(kind)' needs a positive whole number for \(name), found '\(positional[i])'")
            }
            guard v <= LayerSpec.maxSize else {
                throw SpecError("'\(kind)': \(name) must be at most \(LayerSpec.maxSize), found \(v)")
            }
            return v
        }
        func float(_ i: Int, _ name: String, default value: Float? = nil) throws -> Float {
            guard i < positional.count else {
                if let value { return value }
                throw SpecError("'\(kind)' needs \(name) (e.g. \(Self.example(kind)))")
            }
            guard let v = Float(positional[i]), v.isFinite else {
                throw SpecError("'\(kind)' needs a number for \(name), found '\(positional[i])'")
            }
            return v
        }
        func opt(_ names: [String], default value: Int, min: Int = 0) throws -> Int {
            for n in names {
                if let s = options[n] {
                    used.insert(n)
                    guard let v = Int(s), v >= min else {
                        throw SpecError("option \(n)= needs a whole number ≥ \(min), found '\(s)'")
                    }
                    guard v <= LayerSpec.maxSize else {
                        throw SpecError("option \(n)= must be at most \(LayerSpec.maxSize), found \(v)")
                    }
                    return v
                }
            }
            return value
        }
        func optFloat(_ name: String, default value: Float) throws -> Float {
            guard let s = options[name] else { return value }
            used.insert(name)
            guard let v = Float(s), v.isFinite else { throw SpecError("option \(name)= needs a number, found '\(s)'") }
            return v
        }
        func bias() throws -> Bool {
            guard let s = options["bias"] else { return true }
            used.insert("bias")
            switch s.lowercased() {
            case "true", "yes", "1": return true
            case "false", "no", "0": return false
            default: throw SpecError("option bias= needs true or false, found '\(s)'")
            }
        }
        var maxPositional = 0
        switch kind {
        case "linear", "dense":
            self = .linear(out: try int(0, "an output size"), bias: try bias()); maxPositional = 1
        case "conv", "conv2d":
            self = .conv2d(
                out: try int(0, "an output channel count"), kernel: try opt(["k", "kernel"], default: 3, min: 1),
                stride: try opt(["s", "stride"], default: 1, min: 1), padding: try opt(["p", "padding"], default: 0),
                bias: try bias());
            maxPositional = 1
        case "convt", "convtranspose", "deconv":
            self = .convTranspose2d(
                out: try int(0, "an output channel count"), kernel: try opt(["k", "kernel"], default: 3, min: 1),
                stride: try opt(["s", "stride"], default: 1, min: 1), padding: try opt(["p", "padding"], default: 0),
                outputPadding: try opt(["op", "output_padding"], default: 0), bias: try bias());
            maxPositional = 1
        case "batchnorm", "bn":
            self = .batchNorm(
                momentum: try optFloat("momentum", default: 0.1), epsilon: try optFloat("eps", default: 1e-5))
        case "layernorm", "ln":
            self = .layerNorm(epsilon: try optFloat("eps", default: 1e-5))
        case "dropout":
            let p = try float(0, "a probability", default: 0.5)
            guard p >= 0 && p < 1 else { throw SpecError("dropout probability must be in [0, 1), found \(p)") }
            self = .dropout(p); maxPositional = 1
        case "relu": self = .relu
        case "leakyrelu", "lrelu": self = .leakyRelu(try float(0, "a slope", default: 0.2)); maxPositional = 1
        case "tanh": self = .tanh
        case "sigmoid": self = .sigmoid
        case "gelu": self = .gelu
        case "elu": self = .elu(try float(0, "an alpha", default: 1)); maxPositional = 1
        case "reshape", "view", "unflatten":
            guard !positional.isEmpty else {
                throw SpecError("'reshape' needs the per-sample shape (e.g. reshape 128 7 7)")
            }
            guard positional.count <= 8 else {
                throw SpecError("'reshape' takes at most 8 sizes, found \(positional.count)")
            }
            self = .reshape(try positional.indices.map { try int($0, "sizes") }); maxPositional = positional.count
        case "flatten": self = .flatten
        case "upsample", "up":
            self = .upsample(positional.isEmpty ? 2 : try int(0, "a scale factor")); maxPositional = 1
        case "softmax": self = .softmax
        case "mbstd", "minibatchstd": self = .minibatchStd
        case "embedding", "embed":
            self = .embedding(vocabulary: try int(0, "a vocabulary size"), dim: try int(1, "a vector size"));
            maxPositional = 2
        case "sn", "spectralnorm":
            let inner = try LayerSpec(parsing: words.dropFirst().joined(separator: " "))
            switch inner {
            case .linear, .conv2d, .convTranspose2d: self = .spectralNorm(inner)
            default: throw SpecError("spectral norm wraps linear, conv or convt layers, not '\(inner.text)'")
            }
            return
        default:
            throw SpecError(
                "unknown layer '\(kind)'"
                    + (suggestion(for: kind, among: Self.kinds).map { "; did you mean '\($0)'?" } ?? ""))
        }
        if positional.count > maxPositional {
            throw SpecError(
                "'\(kind)' takes \(maxPositional) number\(maxPositional == 1 ? "" : "s"), found \(positional.count): \(positional.joined(separator: " "))"
            )
        }
        if let unknown = options.keys.sorted().first(where: { !used.contains($0) }) {
            throw SpecError("'\(kind)' has no option '\(unknown)='")
        }
    }

    static func example(_ kind: String) -> String {
        switch kind {
        case "linear", "dense": return "linear 128"
        case "conv", "conv2d": return "conv 64 k=4 s=2 p=1"
        case "convt", "convtranspose", "deconv": return "convt 64 k=4 s=2 p=1"
        case "embedding", "embed": return "embedding 27 16"
        default: return kind
        }
    }
}

/// A layer description that cannot be understood.
public struct SpecError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Edit distance, case-insensitive, with adjacent transpositions counted as
/// one edit (optimal string alignment).
public func editDistance(_ x: String, _ y: String) -> Int {
    let a = Array(x.lowercased()), b = Array(y.lowercased())
    if a.isEmpty || b.isEmpty { return Swift.max(a.count, b.count) }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = Swift.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                d[i][j] = Swift.min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[a.count][b.count]
}

/// The candidate nearest to `word` by edit distance, if it is close enough.
public func suggestion(for word: String, among candidates: [String]) -> String? {
    let w = Array(word.lowercased())
    let best = candidates.map { ($0, editDistance(word, $0)) }.min { $0.1 < $1.1 }
    guard let (name, d) = best, d <= Swift.max(1, (w.count + 1) / 3) else { return nil }
    return name
}
