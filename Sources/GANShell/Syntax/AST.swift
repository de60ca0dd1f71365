/// An expression on tensors and workspace values. Every node keeps the token
/// that locates it in the source, for error messages.
public indirect enum Expr {
    case number(Float, Token)
    case string(String, Token)
    case name(String, Token)
    /// `[a, b, c]`: a tensor literal (nested lists make higher ranks).
    case list([Expr], Token)
    case unary(String, Expr, Token)
    case binary(String, Expr, Expr, Token)
    /// `f(args)`: a function, or a network or layer applied to a tensor. The token is the callee's.
    case call(Expr, [ExprArgument], Token)
    /// `x[i, a:b]`
    case index(Expr, [Subscript], Token)
    /// `D.2.weight`, `x.grad`, `x.shape`: the token is the attribute's.
    case attribute(Expr, String, Token)

    public var token: Token {
        switch self {
        case .number(_, let t), .string(_, let t), .name(_, let t), .list(_, let t), .unary(_, _, let t),
            .binary(_, _, _, let t), .call(_, _, let t), .index(_, _, let t), .attribute(_, _, let t):
            return t
        }
    }

    /// The dotted path this expression spells, if it is one (`D.2.weight.grad`).
    public var path: String? {
        switch self {
        case .name(let n, _): return n
        case .attribute(let base, let a, _): return base.path.map { "\($0).\(a)" }
        default: return nil
        }
    }
}

public struct ExprArgument {
    public var label: String?
    public var value: Expr
}

public enum Subscript {
    case index(Expr)
    case slice(Expr?, Expr?)
}

/// One statement: what a line (or a `;`-separated part of one) says.
public enum Statement {
    /// `name = expr`
    case assignment(Token, Expr)
    /// A bare expression: its value is printed.
    case expression(Expr)
    /// `command words…`: the command reads its own arguments.
    case command(Token, Arguments)
    /// `G add linear 64`: an edit of a network.
    case edit(Token, Token, Arguments)

    public var firstToken: Token {
        switch self {
        case .assignment(let t, _), .command(let t, _), .edit(let t, _, _): return t
        case .expression(let e): return Parser.firstToken(of: e)
        }
    }
}

/// The tokens after a command's name, with helpers to read them as
/// whitespace-separated words, `key=value` options or an expression.
public struct Arguments {
    public var tokens: [Token]
    /// Where the arguments end (for "expected … here" at the end).
    public var end: Token
    /// The source the tokens came from, for raw text (layer specs).
    let source: [Character]

    public var isEmpty: Bool { tokens.isEmpty }

    /// A run of tokens typed with no whitespace between them.
    public struct Word {
        public var text: String
        public var tokens: [Token]
        public var first: Token { tokens[0] }
        public var location: SourceLocation { tokens[0].location }
        public var length: Int { text.count }
        /// `key=value` split at the first `=`.
        public var option: (key: String, value: String)? {
            guard tokens.count >= 3, tokens[0].identifier != nil, tokens[1].isSymbol("=") else { return nil }
            return (tokens[0].text, String(text.dropFirst(tokens[0].text.count + 1)))
        }
        public var int: Int? {
            if let i = Int(text) { return i }
            guard let v = Double(text), v.isFinite, v == v.rounded(), abs(v) < 1e15 else { return nil }
            return Int(v)
        }
        public var float: Float? { Float(text) }
    }

    public var words: [Word] {
        var out: [Word] = []
        for t in tokens {
            let text: String
            if case .string(let s) = t.kind { text = s } else { text = t.text }
            if !t.spaceBefore, !out.isEmpty {
                out[out.count - 1].text += text
                out[out.count - 1].tokens.append(t)
            } else {
                out.append(Word(text: text, tokens: [t]))
            }
        }
        return out
    }

    /// The source text from token `index` to the end, as typed.
    public func rawText(from index: Int = 0) -> String {
        guard index < tokens.count else { return "" }
        return String(source[tokens[index].offset..<end.offset]).replacingOccurrences(of: "\n", with: " ")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The arguments from token `index` on, parsed as one expression.
    public func expression(from index: Int = 0) throws -> Expr {
        var p = Parser(tokens: Array(tokens[index...]) + [end], source: source)
        let e = try p.expression()
        guard p.peek.isEnd else {
            throw ShellError(.syntax, "end of the expression expected, found '\(p.peek.text)'", at: p.peek)
        }
        return e
    }
}

import Foundation

extension Arguments {
    /// The words of a line of text, as a command would get them (the view's `plot` words).
    init(text: String) throws {
        let tokens = try Lexer.tokenize(text)
        self.init(tokens: Array(tokens.dropLast()), end: tokens[tokens.count - 1], source: Array(text))
    }
}
