import Foundation

extension Tensor: CustomStringConvertible {
    /// PyTorch-style: `tensor([[ 0.1000, -2.0000], …], shape=[2, 2])`. Tensors
    /// of more than 1000 elements show the first and last 3 entries of each
    /// dimension with `...` between.
    public var description: String { formatted() }

    public func formatted(threshold: Int = 1000, edgeItems: Int = 3, precision: Int = 4) -> String {
        // An empty tensor prints as [] whatever its other sizes (as PyTorch's `tensor([], size=…)`).
        let summarize = count > threshold || shape.contains { $0 > threshold }
        let style = NumberStyle(
            values: count == 0 ? [] : sampledValues(summarize: summarize, edge: edgeItems), precision: precision)
        let prefix = "tensor("
        var body = ""
        if count == 0 && rank > 0 {
            body = "[]"
        } else if rank == 0 {
            body = style.format(pointer[0])
        } else {
            body = formatDim(0, offset: 0, indent: prefix.count, style: style, summarize: summarize, edge: edgeItems)
        }
        var suffix = ", shape=\(shapeString(shape))"
        if let op = opName { suffix += ", grad_fn=\(op)" } else if requiresGrad { suffix += ", requiresGrad=true" }
        return prefix + body + suffix + ")"
    }

    private func sampledValues(summarize: Bool, edge: Int) -> [Float] {
        guard summarize else { return scalars }
        // The values that will be shown: enough to pick a number style.
        var out: [Float] = []
        let strides = contiguousStrides(shape)
        func walk(_ d: Int, _ off: Int) {
            if d == rank { out.append(pointer[off]); return }
            let n = shape[d]
            let idx = n > 2 * edge ? Array(0..<edge) + Array((n - edge)..<n) : Array(0..<n)
            for i in idx { walk(d + 1, off + i * strides[d]) }
        }
        walk(0, 0)
        return out
    }

    private func formatDim(_ d: Int, offset: Int, indent: Int, style: NumberStyle, summarize: Bool, edge: Int) -> String
    {
        let n = shape[d]
        let stride = shape[(d + 1)...].reduce(1, *)
        let cut = summarize && n > 2 * edge
        let idx: [Int?] =
            cut ? Array(0..<edge).map { $0 } + [nil] + Array((n - edge)..<n).map { $0 } : Array(0..<n).map { $0 }
        if d == rank - 1 {
            let items = idx.map { i in i.map { style.format(pointer[offset + $0]) } ?? "..." }
            return "[" + items.joined(separator: ", ") + "]"
        }
        let blank = String(repeating: "\n", count: rank - d - 1)
        let pad = String(repeating: " ", count: indent + 1)
        let items = idx.map { i -> String in
            guard let i else { return "..." }
            return formatDim(
                d + 1, offset: offset + i * stride, indent: indent + 1, style: style, summarize: summarize, edge: edge)
        }
        return "[" + items.joined(separator: "," + blank + pad) + "]"
    }
}

/// How the numbers of one tensor are printed: all integers (`3.`), fixed
/// (`0.1234`) or scientific (`1.2340e-05`), padded to one width.
struct NumberStyle {
    enum Kind { case integer, fixed, scientific }
    let kind: Kind
    let precision: Int
    let width: Int

    init(values: [Float], precision: Int) {
        self.precision = precision
        let finite = values.filter { $0.isFinite }
        let absNonZero = finite.map { Swift.abs($0) }.filter { $0 != 0 }
        let kind: Kind
        if finite.allSatisfy({ $0 == $0.rounded() }) && (absNonZero.max() ?? 0) < 1e8 {
            kind = .integer
        } else if let hi = absNonZero.max(), let lo = absNonZero.min(), hi / lo > 1000 || hi > 1e8 || lo < 1e-4 {
            kind = .scientific
        } else {
            kind = .fixed
        }
        self.kind = kind
        let raw = values.map { NumberStyle.raw($0, kind, precision) }
        self.width = raw.map(\.count).max() ?? 1
    }

    static func raw(_ v: Float, _ kind: Kind, _ precision: Int) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        switch kind {
        case .integer: return String(format: "%.0f.", Double(v))
        case .fixed: return String(format: "%.\(precision)f", Double(v))
        case .scientific: return String(format: "%.\(precision)e", Double(v))
        }
    }

    func format(_ v: Float) -> String {
        let s = NumberStyle.raw(v, kind, precision)
        return String(repeating: " ", count: Swift.max(0, width - s.count)) + s
    }
}
