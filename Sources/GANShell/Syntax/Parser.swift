import Foundation

/// A statement with the text it was parsed from (what `record` writes).
public struct ParsedStatement {
    public var statement: Statement
    public var text: String
}

/// A recursive-descent parser. Each parse function starts with the production
/// it reads; docs/dsl.md collects them into the grammar.
public struct Parser {
    var tokens: [Token]
    var position = 0
    let source: [Character]
    /// Words that start a command (the command table's names).
    var isCommand: (String) -> Bool = { _ in false }
    /// Names of networks in the workspace (for `G add …`).
    var isNetwork: (String) -> Bool = { _ in false }

    static let editVerbs: Set<String> = ["add", "insert", "remove", "replace"]

    init(tokens: [Token], source: [Character]) {
        self.tokens = tokens
        self.source = source
    }

    /// Parses a chunk of source into statements.
    public static func parse(_ source: String, firstLine: Int = 1,
                             isCommand: @escaping (String) -> Bool = { _ in false },
                             isNetwork: @escaping (String) -> Bool = { _ in false }) throws -> [ParsedStatement] {
        var p = Parser(tokens: try Lexer.tokenize(source, firstLine: firstLine), source: Array(source))
        p.isCommand = isCommand
        p.isNetwork = isNetwork
        return try p.statements()
    }

    var peek: Token { tokens[position] }
    func peek(_ k: Int) -> Token { tokens[min(position + k, tokens.count - 1)] }

    mutating func next() -> Token {
        let t = tokens[position]
        if !t.isEnd { position += 1 }
        return t
    }

    mutating func accept(_ symbol: String) -> Bool {
        if peek.isSymbol(symbol) { position += 1; return true }
        return false
    }

    mutating func expect(_ symbol: String, _ what: String) throws -> Token {
        guard peek.isSymbol(symbol) else {
            throw ShellError(.syntax, "'\(symbol)' expected \(what), found \(describe(peek))", at: peek)
        }
        return next()
    }

    func describe(_ t: Token) -> String { t.isEnd ? "the end of the line" : "'\(t.text)'" }

    // statements := statement? (';' statement?)*
    mutating func statements() throws -> [ParsedStatement] {
        var out: [ParsedStatement] = []
        while !peek.isEnd {
            if accept(";") { continue }
            let start = position
            while !peek.isEnd, !peek.isSymbol(";") { position += 1 }
            var sub = Parser(tokens: Array(tokens[start..<position]) + [endToken(at: peek)], source: source)
            sub.isCommand = isCommand
            sub.isNetwork = isNetwork
            let text = String(source[tokens[start].offset..<peek.offset]).trimmingCharacters(in: .whitespacesAndNewlines)
            out.append(ParsedStatement(statement: try sub.statement(), text: text))
        }
        return out
    }

    func endToken(at t: Token) -> Token {
        Token(kind: .end, text: "", location: t.location, offset: t.offset, spaceBefore: true)
    }

    // statement := NAME '=' expr
    //            | NETWORK ('add' | 'insert' | 'remove' | 'replace') words
    //            | COMMAND words
    //            | expr
    mutating func statement() throws -> Statement {
        let first = peek
        if let name = first.identifier {
            let second = peek(1)
            if second.isSymbol("=") {
                position += 2
                let value = try expression()
                try expectEnd()
                return .assignment(first, value)
            }
            let glued = !second.spaceBefore && (second.isSymbol("(") || second.isSymbol(".") || second.isSymbol("["))
            if isNetwork(name), let verb = second.identifier, Parser.editVerbs.contains(verb) {
                position += 2
                return .edit(first, second, rest())
            }
            if isCommand(name), !glued {
                position += 1
                return .command(first, rest())
            }
            // `stpe 10`: a word then another word or number can only be a mistyped command.
            if second.spaceBefore, !isNetwork(name), second.identifier != nil || second.number != nil || { if case .string = second.kind { return true } else { return false } }() {
                throw ShellError(.name, "unknown command '\(name)'" + (nearest(to: name, among: CommandTable.names).map { "; did you mean '\($0)'?" } ?? "; 'help' lists the commands"), at: first)
            }
        }
        let e = try expression()
        try expectEnd()
        return .expression(e)
    }

    mutating func rest() -> Arguments {
        let args = Array(tokens[position..<(tokens.count - 1)])
        position = tokens.count - 1
        return Arguments(tokens: args, end: tokens[tokens.count - 1], source: source)
    }

    func expectEnd() throws {
        guard peek.isEnd else {
            throw ShellError(.syntax, "end of the statement expected, found \(describe(peek))", at: peek)
        }
    }

    // expr := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?
    mutating func expression() throws -> Expr {
        let left = try sum()
        for op in ["<", "<=", ">", ">=", "==", "!="] where peek.isSymbol(op) {
            let t = next()
            return .binary(op, left, try sum(), t)
        }
        return left
    }

    // sum := product (('+' | '-') product)*
    mutating func sum() throws -> Expr {
        var e = try product()
        while peek.isSymbol("+") || peek.isSymbol("-") {
            let t = next()
            e = .binary(t.text, e, try product(), t)
        }
        return e
    }

    // product := unary (('*' | '/' | '@') unary)*
    mutating func product() throws -> Expr {
        var e = try unary()
        while peek.isSymbol("*") || peek.isSymbol("/") || peek.isSymbol("@") {
            let t = next()
            e = .binary(t.text, e, try unary(), t)
        }
        return e
    }

    // unary := '-' unary | power
    mutating func unary() throws -> Expr {
        if peek.isSymbol("-") || peek.isSymbol("+") {
            let t = next()
            let operand = try unary()
            return t.text == "-" ? .unary("-", operand, t) : operand
        }
        return try power()
    }

    // power := postfix ('**' unary)?
    mutating func power() throws -> Expr {
        let base = try postfix()
        if peek.isSymbol("**") {
            let t = next()
            return .binary("**", base, try unary(), t)
        }
        return base
    }

    // postfix := primary ('(' arguments ')' | '[' subscripts ']' | '.' (NAME | INTEGER))*
    mutating func postfix() throws -> Expr {
        var e = try primary()
        while true {
            if peek.isSymbol("(") && !peek.spaceBefore {
                let open = next()
                e = .call(e, try arguments(open), e.token)
            } else if peek.isSymbol("[") && !peek.spaceBefore {
                let open = next()
                e = .index(e, try subscripts(open), open)
            } else if peek.isSymbol(".") {
                position += 1
                let t = next()
                guard Parser.isAttributeName(t) else {
                    throw ShellError(.syntax, "a name or a layer number expected after '.', found \(describe(t))", at: t)
                }
                e = .attribute(e, t.text, t)
            } else {
                return e
            }
        }
    }

    // arguments := (argument (',' argument)*)?      argument := (NAME '=')? expr
    mutating func arguments(_ open: Token) throws -> [ExprArgument] {
        var args: [ExprArgument] = []
        if accept(")") { return args }
        repeat {
            var label: String? = nil
            if let n = peek.identifier, peek(1).isSymbol("=") {
                label = n
                position += 2
            }
            args.append(ExprArgument(label: label, value: try expression()))
        } while accept(",")
        _ = try expect(")", "to close '(' at \(open.location)")
        return args
    }

    // subscripts := subscript (',' subscript)*      subscript := expr | expr? ':' expr?
    mutating func subscripts(_ open: Token) throws -> [Subscript] {
        var subs: [Subscript] = []
        repeat {
            let start: Expr? = peek.isSymbol(":") ? nil : try expression()
            if accept(":") {
                let end: Expr? = peek.isSymbol(",") || peek.isSymbol("]") ? nil : try expression()
                subs.append(.slice(start, end))
            } else if let start {
                subs.append(.index(start))
            }
        } while accept(",")
        _ = try expect("]", "to close '[' at \(open.location)")
        return subs
    }

    // primary := NUMBER | STRING | NAME | '(' expr ')' | '[' (expr (',' expr)*)? ']'
    mutating func primary() throws -> Expr {
        let t = next()
        switch t.kind {
        case .number(let v): return .number(v, t)
        case .string(let s): return .string(s, t)
        case .identifier(let n): return .name(n, t)
        case .symbol("("):
            let e = try expression()
            _ = try expect(")", "to close '(' at \(t.location)")
            return e
        case .symbol("["):
            var items: [Expr] = []
            if !accept("]") {
                repeat { items.append(try expression()) } while accept(",")
                _ = try expect("]", "to close '[' at \(t.location)")
            }
            return .list(items, t)
        default:
            throw ShellError(.syntax, "a value expected (a number, a name, '(' or '['), found \(describe(t))", at: t)
        }
    }

    /// A name, or a whole number (a layer index), may follow a dot.
    static func isAttributeName(_ t: Token) -> Bool {
        if t.identifier != nil { return true }
        return t.text.allSatisfy { $0.isASCII && $0.isNumber } && !t.text.isEmpty
    }

    static func firstToken(of e: Expr) -> Token {
        switch e {
        case .binary(_, let l, _, _): return firstToken(of: l)
        case .call(let c, _, _), .index(let c, _, _), .attribute(let c, _, _): return firstToken(of: c)
        default: return e.token
        }
    }
}
