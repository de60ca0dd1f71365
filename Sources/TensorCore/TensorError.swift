/// A problem with the operands of an operation: a shape that does not fit,
/// an axis out of range, an index outside a tensor. Never a trap: every check
/// on user-supplied shapes throws one of these.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    /// The operation that refused, e.g. `matmul`.
    public let op: String
    /// What was expected and what was found.
    public let message: String

    public init(_ op: String, _ message: String) {
        self.op = op
        self.message = message
    }

    public var description: String { "[\(op)] \(message)" }
}

/// Formats a shape as `[2, 3]`.
public func shapeString(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
