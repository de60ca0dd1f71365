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

    /// How deeply expressions may nest (brackets, unary signs, chains of
    /// operators, calls, subscripts and attributes, each counting one level).
    /// Deeper input is refused with an error instead of exhausting the stack
    /// of the parser or of the evaluator, which walk the tree recursively.
    public static let maxDepth = 200
    /// How deep the expression being parsed runs (parse functions nested now).
    var nesting = 0
    /// The depth of the tree the last parse function returned.
    var lastDepth = 0

    /// Records the depth of a node built on children `depth` deep, refusing trees deeper than `maxDepth`.
    mutating func node(_ e: Expr, over depth: Int) throws -> Expr {
        lastDepth = depth + 1
        guard lastDepth <= Parser.maxDepth else { throw tooDeep(at: e.token) }
        return e
    }

    func tooDeep(at t: Token) -> ShellError {
        ShellError(
            .syntax, "the expression nests deeper than \(Parser.maxDepth) levels; split it into named steps", at: t)
    }

    /// Runs a parse function one level deeper, refusing input nested past `maxDepth`.
    mutating func nested<T>(at t: Token, _ f: (inout Parser) throws -> T) throws -> T {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Parser.maxDepth else { throw tooDeep(at: t) }
        return try f(&self)
    }

    init(tokens: [Token], source: [Character]) {
        self.tokens = tokens
        self.source = source
    }

    /// Parses a chunk of source into statements, all at once (each with the
    /// same view of which names are networks).
    public static func parse(
        _ source: String, firstLine: Int = 1,
        isCommand: @escaping (String) -> Bool = { _ in false },
        isNetwork: @escaping (String) -> Bool = { _ in false }
    ) throws -> [ParsedStatement] {
        try split(source, firstLine: firstLine).map { try $0.parse(isCommand: isCommand, isNetwork: isNetwork) }
    }

    /// A statement's tokens, lexed but not yet parsed: the interpreter parses
    /// each just before running it, so `net D = …; D add relu` sees D as a
    /// network once the first statement has made it one.
    public struct Pending {
        let tokens: [Token]
        let source: [Character]
        public let text: String

        public func parse(isCommand: @escaping (String) -> Bool, isNetwork: @escaping (String) -> Bool) throws
            -> ParsedStatement
        {
            var sub = Parser(tokens: tokens, source: source)
            sub.isCommand = isCommand
            sub.isNetwork = isNetwork
            return ParsedStatement(statement: try sub.statement(), text: text)
        }
    }

    /// Lexes a chunk and cuts it into statements at `;` and line ends.
    public static func split(_ source: String, firstLine: Int = 1) throws -> [Pending] {
        let p = Parser(tokens: try Lexer.tokenize(source, firstLine: firstLine), source: Array(source))
        return p.pendingStatements()
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
    func pendingStatements() -> [Pending] {
        var out: [Pending] = []
        var position = 0
        while !tokens[position].isEnd {
            if tokens[position].isSymbol(";") { position += 1; continue }
            let start = position
            while !tokens[position].isEnd, !tokens[position].isSymbol(";") { position += 1 }
            let end = tokens[position]
            let text = String(source[tokens[start].offset..<end.offset]).trimmingCharacters(in: .whitespacesAndNewlines)
            out.append(
                Pending(tokens: Array(tokens[start..<position]) + [endToken(at: end)], source: source, text: text))
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
            if second.spaceBefore, !isNetwork(name),
                second.identifier != nil || second.number != nil
                    || { if case .string = second.kind { return true } else { return false } }()
            {
                throw ShellError(
                    .name,
                    "unknown command '\(name)'"
                        + (nearest(to: name, among: CommandTable.names).map { "; did you mean '\($0)'?" }
                            ?? "; 'help' lists the commands"),
                    at: first)
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
        try nested(at: peek) { p in
            let left = try p.sum()
            let depth = p.lastDepth
            for op in ["<", "<=", ">", ">=", "==", "!="] where p.peek.isSymbol(op) {
                let t = p.next()
                let right = try p.sum()
                return try p.node(.binary(op, left, right, t), over: max(depth, p.lastDepth))
            }
            return left
        }
    }

    // sum := product (('+' | '-') product)*
    mutating func sum() throws -> Expr {
        var e = try product()
        var depth = lastDepth
        while peek.isSymbol("+") || peek.isSymbol("-") {
            let t = next()
            let right = try product()
            e = try node(.binary(t.text, e, right, t), over: max(depth, lastDepth))
            depth = lastDepth
        }
        lastDepth = depth
        return e
    }

    // product := unary (('*' | '/' | '@') unary)*
    mutating func product() throws -> Expr {
        var e = try unary()
        var depth = lastDepth
        while peek.isSymbol("*") || peek.isSymbol("/") || peek.isSymbol("@") {
            let t = next()
            let right = try unary()
            e = try node(.binary(t.text, e, right, t), over: max(depth, lastDepth))
            depth = lastDepth
        }
        lastDepth = depth
        return e
    }

    // unary := '-' unary | power
    mutating func unary() throws -> Expr {
        if peek.isSymbol("-") || peek.isSymbol("+") {
            let t = next()
            let operand = try nested(at: t) { try $0.unary() }
            return t.text == "-" ? try node(.unary("-", operand, t), over: lastDepth) : operand
        }
        return try power()
    }

    // power := postfix ('**' unary)?
    mutating func power() throws -> Expr {
        let base = try postfix()
        let depth = lastDepth
        if peek.isSymbol("**") {
            let t = next()
            let exponent = try nested(at: t) { try $0.unary() }
            return try node(.binary("**", base, exponent, t), over: max(depth, lastDepth))
        }
        return base
    }

    // postfix := primary ('(' arguments ')' | '[' subscripts ']' | '.' (NAME | INTEGER))*
    mutating func postfix() throws -> Expr {
        var e = try primary()
        while true {
            let depth = lastDepth
            if peek.isSymbol("(") && !peek.spaceBefore {
                let open = next()
                let (args, inner) = try arguments(open)
                e = try node(.call(e, args, e.token), over: max(depth, inner))
            } else if peek.isSymbol("[") && !peek.spaceBefore {
                let open = next()
                let (subs, inner) = try subscripts(open)
                e = try node(.index(e, subs, open), over: max(depth, inner))
            } else if peek.isSymbol(".") {
                position += 1
                let t = next()
                guard Parser.isAttributeName(t) else {
                    throw ShellError(
                        .syntax, "a name or a layer number expected after '.', found \(describe(t))", at: t)
                }
                e = try node(.attribute(e, t.text, t), over: depth)
            } else {
                lastDepth = depth
                return e
            }
        }
    }

    // arguments := (argument (',' argument)*)?      argument := (NAME '=')? expr
    /// The arguments, and the depth of the deepest.
    mutating func arguments(_ open: Token) throws -> ([ExprArgument], Int) {
        var args: [ExprArgument] = []
        var depth = 0
        if accept(")") { return (args, depth) }
        repeat {
            var label: String? = nil
            if let n = peek.identifier, peek(1).isSymbol("=") {
                label = n
                position += 2
            }
            args.append(ExprArgument(label: label, value: try expression()))
            depth = max(depth, lastDepth)
        } while accept(",")
        _ = try expect(")", "to close '(' at \(open.location)")
        return (args, depth)
    }

    // subscripts := subscript (',' subscript)*      subscript := expr | expr? ':' expr?
    /// The subscripts, and the depth of the deepest expression in them.
    mutating func subscripts(_ open: Token) throws -> ([Subscript], Int) {
        var subs: [Subscript] = []
        var depth = 0
        repeat {
            let start: Expr? = peek.isSymbol(":") ? nil : try expression()
            if start != nil { depth = max(depth, lastDepth) }
            if accept(":") {
                let end: Expr? = peek.isSymbol(",") || peek.isSymbol("]") ? nil : try expression()
                if end != nil { depth = max(depth, lastDepth) }
                subs.append(.slice(start, end))
            } else if let start {
                subs.append(.index(start))
            }
        } while accept(",")
        _ = try expect("]", "to close '[' at \(open.location)")
        return (subs, depth)
    }

    // primary := NUMBER | STRING | NAME | '(' expr ')' | '[' (expr (',' expr)*)? ']'
    mutating func primary() throws -> Expr {
        let t = next()
        lastDepth = 1
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
            var depth = 0
            if !accept("]") {
                repeat { items.append(try expression()); depth = max(depth, lastDepth) } while accept(",")
                _ = try expect("]", "to close '[' at \(t.location)")
            }
            return try node(.list(items, t), over: depth)
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
