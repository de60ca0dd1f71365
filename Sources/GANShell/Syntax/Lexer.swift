/// Splits a chunk of source into tokens. Newlines outside brackets end a
/// statement (they become `;`); inside brackets, or after a trailing `|`,
/// they are whitespace. `#` starts a comment that runs to the end of the line.
struct Lexer {
    /// The longest line the shell reads, in characters; a longer one is refused.
    static let maxLineLength = 65_536

    var chars: [Character]
    let firstLine: Int
    var i = 0
    var line: Int
    var column = 1
    var tokens: [Token] = []
    /// Open brackets with where each was opened, for "to close '(' at 3:7".
    var open: [(Character, SourceLocation)] = []
    /// Whether white space (or the start) comes before the next character.
    var space = true

    init(_ source: String, firstLine: Int = 1) {
        chars = Array(source)
        self.firstLine = firstLine
        line = firstLine
    }

    static func tokenize(_ source: String, firstLine: Int = 1) throws -> [Token] {
        var lexer = Lexer(source, firstLine: firstLine)
        return try lexer.run()
    }

    /// True when the source ends inside brackets or after a `|`, so that more lines may complete it.
    static func needsMoreInput(_ source: String) -> Bool {
        var lexer = Lexer(source)
        do { _ = try lexer.run() } catch let e as ShellError { return e.incomplete } catch { return false }
        return false
    }

    /// Lexes more source (whole lines) after what came before: a script's
    /// statements are found in one pass, however many lines a bracket spans.
    mutating func feed(_ text: String) throws {
        chars += Array(text)
        try scan()
    }

    /// True when what was fed so far ends inside brackets or after a `|`.
    var needsMore: Bool { !open.isEmpty || tokens.last?.isSymbol("|") == true }

    var here: SourceLocation { SourceLocation(line: line, column: column) }

    mutating func advance() {
        if chars[i] == "\n" { line += 1; column = 1 } else { column += 1 }
        i += 1
    }

    mutating func emit(_ kind: Token.Kind, from start: Int, at loc: SourceLocation, space: Bool) {
        tokens.append(
            Token(kind: kind, text: String(chars[start..<i]), location: loc, offset: start, spaceBefore: space))
    }

    // tokens := (space | comment | newline | token)* END
    mutating func run() throws -> [Token] {
        try scan()
        return try finish()
    }

    mutating func scan() throws {
        while i < chars.count {
            let c = chars[i]
            if c == "\n" {
                let continues = !open.isEmpty || tokens.last?.isSymbol("|") == true
                let loc = here
                let start = i
                advance()
                if !continues { emit(.symbol(";"), from: start, at: loc, space: space) }
                space = true
                continue
            }
            if c == " " || c == "\t" || c == "\r" { advance(); space = true; continue }
            if c == "#" {
                while i < chars.count, chars[i] != "\n" { advance() }
                space = true
                continue
            }
            let loc = here, start = i
            if column > Lexer.maxLineLength {
                throw ShellError(
                    .syntax, "line \(line) is longer than \(Lexer.maxLineLength) characters",
                    at: SourceLocation(line: line, column: 1))
            }
            if c.isASCII && c.isNumber {
                try number(afterDot: tokens.last?.isSymbol(".") == true && !space)
                let text = String(chars[start..<i])
                guard let v = Float(text) else {
                    throw ShellError(.syntax, "'\(text)' is not a number", at: loc, length: text.count)
                }
                emit(.number(v), from: start, at: loc, space: space)
            } else if c == "_" || (c.isLetter && c.isASCII) {
                while i < chars.count, chars[i] == "_" || ((chars[i].isLetter || chars[i].isNumber) && chars[i].isASCII)
                { advance() }
                emit(.identifier(String(chars[start..<i])), from: start, at: loc, space: space)
            } else if c == "\"" || c == "'" {
                advance()
                var value = ""
                while i < chars.count, chars[i] != c, chars[i] != "\n" {
                    if chars[i] == "\\", i + 1 < chars.count, chars[i + 1] == c || chars[i + 1] == "\\" { advance() }
                    value.append(chars[i]); advance()
                }
                guard i < chars.count, chars[i] == c else {
                    throw ShellError(
                        .syntax, "unterminated string: expected \(c) to close the string that starts here", at: loc)
                }
                advance()
                emit(.string(value), from: start, at: loc, space: space)
            } else {
                try symbol(c, at: loc, space: space)
            }
            space = false
        }
    }

    mutating func finish() throws -> [Token] {
        if let (bracket, loc) = open.last {
            var e = ShellError(
                .syntax, "'\(bracket)' is never closed: '\(closing(bracket))' expected before the end of the input",
                at: loc)
            e.incomplete = true
            throw e
        }
        if tokens.last?.isSymbol("|") == true {
            var e = ShellError(.syntax, "a layer expected after '|'", at: here)
            e.incomplete = true
            throw e
        }
        tokens.append(Token(kind: .end, text: "", location: here, offset: i, spaceBefore: true))
        return tokens
    }

    func closing(_ c: Character) -> Character { c == "(" ? ")" : "]" }

    // number := digits ('.' digits)? (('e'|'E') ('+'|'-')? digits)?   (digits only right after a '.')
    mutating func number(afterDot: Bool) throws {
        while i < chars.count, chars[i].isASCII, chars[i].isNumber { advance() }
        if afterDot { return }
        if i + 1 < chars.count, chars[i] == ".", chars[i + 1].isASCII, chars[i + 1].isNumber {
            advance()
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { advance() }
        }
        if i < chars.count, chars[i] == "e" || chars[i] == "E" {
            var j = i + 1
            if j < chars.count, chars[j] == "+" || chars[j] == "-" { j += 1 }
            if j < chars.count, chars[j].isASCII, chars[j].isNumber {
                while i < j { advance() }
                while i < chars.count, chars[i].isASCII, chars[i].isNumber { advance() }
            }
        }
    }

    mutating func symbol(_ c: Character, at loc: SourceLocation, space: Bool) throws {
        let start = i
        let two = i + 1 < chars.count ? String([c, chars[i + 1]]) : ""
        if ["**", "<=", ">=", "==", "!="].contains(two) {
            advance(); advance()
            emit(.symbol(two), from: start, at: loc, space: space)
            return
        }
        switch c {
        case "(", "[":
            open.append((c, loc))
        case ")", "]":
            guard let (o, oloc) = open.last else {
                throw ShellError(.syntax, "unexpected '\(c)': no bracket is open", at: loc)
            }
            guard closing(o) == c else {
                throw ShellError(
                    .syntax, "'\(closing(o))' expected (to close '\(o)' at \(oloc)), found '\(c)'", at: loc)
            }
            open.removeLast()
        case "+", "-", "*", "/", "@", ",", ".", "=", "|", ":", ";", "<", ">", "~":
            break
        default:
            let shown =
                c.isASCII && !c.isWhitespace && c.asciiValue.map({ $0 >= 32 }) == true
                ? "'\(c)'" : "U+" + String(c.unicodeScalars.first!.value, radix: 16, uppercase: true)
            throw ShellError(.syntax, "unexpected character \(shown)", at: loc)
        }
        advance()
        emit(.symbol(String(c)), from: start, at: loc, space: space)
    }
}
