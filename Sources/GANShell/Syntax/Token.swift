/// Where something is in the text the shell read: 1-based line and column.
public struct SourceLocation: Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    public var description: String { "\(line):\(column)" }
}

/// A lexical token. Every token knows where it starts, how long it is and
/// whether whitespace came before it (command words are runs of tokens with
/// no whitespace between them: `ring-G.safetensors`, `1e-3`, `D.2.weight`).
public struct Token: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case number(Float)
        case identifier(String)
        case string(String)
        /// Punctuation and operators: `+ - * / @ ** ( ) [ ] , . = | : ; < > <= >= == !=`.
        case symbol(String)
        case end
    }
    public var kind: Kind
    /// The exact text of the token as typed.
    public var text: String
    public var location: SourceLocation
    /// Offset of the token's first character in the statement's source (in Characters).
    public var offset: Int
    public var spaceBefore: Bool

    public var identifier: String? { if case .identifier(let s) = kind { return s } else { return nil } }
    public var number: Float? { if case .number(let v) = kind { return v } else { return nil } }
    public func isSymbol(_ s: String) -> Bool { kind == .symbol(s) }
    public var isEnd: Bool { kind == .end }
}
