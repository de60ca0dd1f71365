@testable import GANShell
import XCTest

final class ParserTests: XCTestCase {
    func parse(_ s: String, networks: Set<String> = []) throws -> [Statement] {
        try Parser.parse(s, isCommand: { CommandTable.lookup($0) != nil }, isNetwork: { networks.contains($0) }).map(
            \.statement)
    }

    func expression(_ s: String) throws -> Expr {
        guard case .expression(let e)? = try parse(s).first else { throw XCTSkip("not an expression: \(s)") }
        return e
    }

    /// The tree as a fully bracketed string, to check precedence.
    func shape(_ e: Expr) -> String {
        switch e {
        case .number(let v, _): return v == v.rounded() ? String(Int(v)) : String(v)
        case .string(let s, _): return "\"\(s)\""
        case .name(let n, _): return n
        case .list(let xs, _): return "[" + xs.map(shape).joined(separator: ",") + "]"
        case .unary(let op, let x, _): return "(\(op)\(shape(x)))"
        case .binary(let op, let a, let b, _): return "(\(shape(a)) \(op) \(shape(b)))"
        case .call(let f, let args, _):
            return shape(f) + "("
                + args.map { ($0.label.map { $0 + "=" } ?? "") + shape($0.value) }.joined(separator: ",") + ")"
        case .index(let x, let subs, _):
            return shape(x) + "["
                + subs.map { s -> String in
                    switch s {
                    case .index(let i): return shape(i)
                    case .slice(let a, let b): return (a.map(shape) ?? "") + ":" + (b.map(shape) ?? "")
                    }
                }.joined(separator: ",") + "]"
        case .attribute(let x, let a, _): return shape(x) + "." + a
        }
    }

    func testPrecedenceAndAssociativity() throws {
        let cases: [(String, String)] = [
            ("1 + 2 * 3", "(1 + (2 * 3))"),
            ("1 - 2 - 3", "((1 - 2) - 3)"),
            ("-2 ** 2", "(-(2 ** 2))"),
            ("2 ** -1", "(2 ** (-1))"),
            ("a @ b + c", "((a @ b) + c)"),
            ("a + b > c * d", "((a + b) > (c * d))"),
            ("D(G(z))", "D(G(z))"),
            ("D.2.weight.grad", "D.2.weight.grad"),
            ("x[1, 2:3, :]", "x[1,2:3,:]"),
            ("mean(x, axis=1)", "mean(x,axis=1)"),
            ("[[1, 2], [3, 4]]", "[[1,2],[3,4]]"),
            ("(a + b) * c", "((a + b) * c)"),
            ("1e-3 * x", "(0.001 * x)")
        ]
        for (src, want) in cases {
            XCTAssertEqual(shape(try expression(src)), want, src)
        }
    }

    func testStatementKinds() throws {
        let s = try parse("x = 1; step 10; G add relu; show D.2.weight; mean(x)", networks: ["G"])
        XCTAssertEqual(s.count, 5)
        guard case .assignment(let n, _) = s[0] else { return XCTFail("assignment") }
        XCTAssertEqual(n.text, "x")
        guard case .command(let c, let args) = s[1] else { return XCTFail("command") }
        XCTAssertEqual(c.text, "step")
        XCTAssertEqual(args.words.map(\.text), ["10"])
        guard case .edit(let net, let verb, _) = s[2] else { return XCTFail("edit") }
        XCTAssertEqual([net.text, verb.text], ["G", "add"])
        guard case .command(let show, let showArgs) = s[3] else { return XCTFail("show") }
        XCTAssertEqual(show.text, "show")
        XCTAssertEqual(shape(try showArgs.expression()), "D.2.weight")
        guard case .expression = s[4] else { return XCTFail("expression") }
        // A command name glued to '(' is a function call.
        guard case .expression = try parse("sample(4)")[0] else { return XCTFail("sample(4) is a call") }
    }

    func testWordsGlueTokensWithoutSpaces() throws {
        guard case .command(_, let args) = try parse("save G ring-G.safetensors lr=1e-3 'a b'")[0] else {
            return XCTFail()
        }
        let words = args.words
        XCTAssertEqual(words.map(\.text), ["G", "ring-G.safetensors", "lr=1e-3", "a b"])
        XCTAssertEqual(words[2].option?.key, "lr")
        XCTAssertEqual(words[2].option?.value, "1e-3")
        XCTAssertEqual(words[1].location, SourceLocation(line: 1, column: 8))
    }

    func testLocationsAcrossLines() throws {
        let tokens = try Lexer.tokenize("x = (1 +\n  2)\ny", firstLine: 10)
        let y = tokens.first { $0.identifier == "y" }!
        XCTAssertEqual(y.location, SourceLocation(line: 12, column: 1))
        let two = tokens.first { $0.number == 2 }!
        XCTAssertEqual(two.location, SourceLocation(line: 11, column: 3))
        // The newline inside brackets is not a statement break; the one after is.
        XCTAssertEqual(tokens.filter { $0.isSymbol(";") }.count, 1)
    }

    func assertError(
        _ src: String, _ fragment: String, line: Int = 1, column: Int, incomplete: Bool = false,
        file: StaticString = #filePath, testLine: UInt = #line
    ) {
        do {
            _ = try parse(src)
            XCTFail("no error for \(src)", file: file, line: testLine)
        } catch let e as ShellError {
            XCTAssertTrue(e.message.contains(fragment), "\(src): \(e.message)", file: file, line: testLine)
            XCTAssertEqual(e.location, SourceLocation(line: line, column: column), src, file: file, line: testLine)
            XCTAssertEqual(e.incomplete, incomplete, src, file: file, line: testLine)
        } catch {
            XCTFail("\(src): \(error)", file: file, line: testLine)
        }
    }

    func testSyntaxErrorsSayWhatWasExpectedAndWhere() {
        assertError("x = (1 + 2", "'(' is never closed", column: 5, incomplete: true)
        assertError("x = [1, 2)", "']' expected (to close '[' at 1:5)", column: 10)
        assertError("x = 1 +", "a value expected", column: 8)
        assertError("x = 1 2", "end of the statement expected", column: 7)
        assertError("y = x $ 2", "unexpected character '$'", column: 7)
        assertError("x = )", "no bracket is open", column: 5)
        assertError("stpe 10", "unknown command 'stpe'; did you mean 'step'?", column: 1)
        assertError("x = 'abc", "unterminated string", column: 5)
        assertError("D.2.", "a name or a layer number expected after '.'", column: 5)
        assertError("net G = noise 2 |", "a layer expected after '|'", column: 18, incomplete: true)
    }

    func testContinuationDetection() {
        XCTAssertTrue(Lexer.needsMoreInput("x = (1 +"))
        XCTAssertTrue(Lexer.needsMoreInput("net G = noise 2 | linear 8 |"))
        XCTAssertFalse(Lexer.needsMoreInput("x = (1 +\n 2)"))
        XCTAssertFalse(Lexer.needsMoreInput("x = 1)"))
        XCTAssertFalse(Lexer.needsMoreInput("# (just a comment"))
        let chunks = Script.chunks("a = 1\nb = (1 +\n 2)\n\nnet G = noise 2 |\n linear 2\n")
        XCTAssertEqual(
            chunks,
            [
                Script.Chunk(text: "a = 1", firstLine: 1), Script.Chunk(text: "b = (1 +\n 2)", firstLine: 2),
                Script.Chunk(text: "net G = noise 2 |\n linear 2", firstLine: 5)
            ])
    }

    func testErrorFormatHasFileLineColumnAndCaret() {
        var e = ShellError(.name, "unknown name 'zz'", at: SourceLocation(line: 2, column: 3), length: 2)
        XCTAssertEqual(
            Script.format(e, file: "a.gans", source: "x = 1\nD(zz)"),
            "a.gans:2:3: error: unknown name 'zz'\n    D(zz)\n      ^~")
        e.location = SourceLocation(line: 1, column: 1)
        XCTAssertEqual(Script.format(e, file: nil, source: "zz"), "error: unknown name 'zz'\n    zz\n    ^~")
    }
}
