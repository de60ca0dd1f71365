import Foundation
import GANKit
@testable import GANShell
import TensorCore
import TestSupport
import XCTest

final class RenderTests: XCTestCase {
    /// Equal aspect widens the shorter range about its centre so a unit of x and one of y are
    /// as long on the canvas (pixels square; an ASCII cell twice as tall as wide).
    func testEqualAspectRangesKeepUnitsEqual() {
        let f = Figure(title: "", xRange: 0...4, yRange: 0...1, series: [], marks: [], equalAspect: true)
        let (x, y) = f.equalAspectRanges(width: 100, height: 100)
        XCTAssertEqual(x, 0...4)
        XCTAssertEqual(y, -1.5...2.5)
        // 100 × 50 cells, each twice as tall: the canvas is square, so the same ranges.
        let (x2, y2) = f.equalAspectRanges(width: 100, height: 50, cellAspect: 2)
        XCTAssertEqual(x2, 0...4)
        XCTAssertEqual(y2, -1.5...2.5)
        // Tall data widen x; a tall canvas widens y (ranges only grow).
        let g = Figure(title: "", xRange: 0...1, yRange: 0...4, series: [], marks: [], equalAspect: true)
        let (x3, y3) = g.equalAspectRanges(width: 100, height: 100)
        XCTAssertEqual(x3, -1.5...2.5)
        XCTAssertEqual(y3, 0...4)
        let square = Figure(title: "", xRange: 0...1, yRange: 0...1, series: [], marks: [], equalAspect: true)
        let (x4, y4) = square.equalAspectRanges(width: 50, height: 100)
        XCTAssertEqual(x4, 0...1)
        XCTAssertEqual(y4, -0.5...1.5)
    }

    /// Help wraps at word breaks to the width: list rows hang under their text column,
    /// paragraphs typed over several lines are reflowed, list items keep their own lines.
    func testProseWrapsAtWordsToTheWidth() {
        let text =
            "Data\n  data …     loads a dataset: built-in points, digits, names or text, or your own file\n\n"
            + "A paragraph typed over\ntwo lines joins up.\n- an item\n- another item"
        let out = TextRenderer(width: 40).render([.prose(text)])
        XCTAssertEqual(
            out,
            """
            Data
              data …     loads a dataset: built-in
                         points, digits, names or
                         text, or your own file

            A paragraph typed over two lines joins
            up.
            - an item
            - another item
            """)
        XCTAssertTrue(out.split(separator: "\n").allSatisfy { $0.count <= 40 })
        // Every command's help fits 60 columns, and each of its examples keeps a line of its own.
        for c in CommandTable.all {
            let rendered = TextRenderer(width: 60).render([.prose(c.help)])
            let lines = rendered.split(separator: "\n")
            XCTAssertTrue(lines.allSatisfy { $0.count <= 60 }, c.name)
            for example in c.examples where example.count <= 56 {
                XCTAssertTrue(lines.contains { $0 == "    " + example }, "\(c.name): \(example)")
            }
        }
    }

    /// Words with spaces of their own go one to a line, numbered and quoted; plain words wrap side by side.
    func testSamplesWithSpacesAreOneToALine() {
        let r = TextRenderer(showTimings: false, width: 40)
        XCTAssertEqual(
            r.render([.samples(.words(["to be o", "r not t", "o be"]))]), "1  \"to be o\"\n2  \"r not t\"\n3  \"o be\"")
        XCTAssertEqual(r.render([.samples(.words(["anna", "bob"]))]), "anna  bob")
    }

    /// Cairo's PNG of an image drawn one unit a pixel decodes back to the same pixels.
    func testPNGDecodesBackToTheSamePixels() throws {
        let scratch = try ScratchFolder()
        var g = SystemRandomNumberGenerator()
        for (w, h) in [(1, 1), (7, 3), (64, 40)] {
            let rgb = (0..<(w * h * 3)).map { _ in UInt8.random(in: 0...255, using: &g) }
            var d = Drawing(width: Double(w), height: Double(h))
            d.items = [
                .image(pixels: rgb, width: w, height: h, into: (0, 0, Double(w), Double(h)), smooth: false)
            ]
            let t = try Loaders.png(try scratch.write("x\(w).png", try Cairo.png(d, scale: 1)))
            XCTAssertEqual(t.shape, [3, h, w])
            let v = t.scalars
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<3 {
                        XCTAssertEqual(
                            UInt8((v[(c * h + y) * w + x] * 255).rounded()), rgb[(y * w + x) * 3 + c],
                            "\(w)x\(h) at \(x),\(y),\(c)")
                    }
                }
            }
        }
    }

    /// A figure is laid out as shapes where its data say: the point at the centre of the ranges
    /// is a marker of its series at the centre of the plot area, the line a polyline, the title
    /// and legend texts; the PNG is the drawing at two pixels a unit, the SVG at one.
    func testFigureDrawingPlacesMarks() throws {
        var f = Figure(
            title: "t", xRange: 0...1, yRange: 0...1, series: ["a", "b"],
            marks: [
                .line([Figure.Point(0, 0), Figure.Point(1, 1)], series: 0), .points([Figure.Point(0.5, 0.5)], series: 1)
            ])
        f.xLabel = "step"; f.yLabel = "loss"
        f.references = [Figure.Reference(y: 0.25, label: "quarter")]
        let d = try XCTUnwrap(Graphics.drawing(.figure(f)))
        guard
            case let .rect(x, y, w, h, _, _, _)? = d.items.first(where: {
                if case .rect = $0 { return true } else { return false }
            })
        else { return XCTFail("no plot area") }
        let markers = d.items.compactMap { item -> [Drawing.P]? in
            if case let .circles(ps, _, fill, _, role) = item, role == "b" {
                XCTAssertEqual(fill.with(alpha: 1), RGBA(f.color(1)))
                return ps
            }
            return nil
        }.flatMap { $0 }
        XCTAssertEqual(markers.count, 1)
        XCTAssertEqual(markers[0].x, x + w / 2, accuracy: 1e-6)
        XCTAssertEqual(markers[0].y, y + h / 2, accuracy: 1e-6)
        XCTAssertTrue(
            d.items.contains {
                if case .polyline(let ps, _, _, let dash) = $0 {
                    return ps.count == 2 && dash.isEmpty
                } else {
                    return false
                }
            })
        for text in ["t", "a", "b", "step", "loss", "quarter"] { XCTAssertTrue(d.texts.contains(text), text) }
        let scratch = try ScratchFolder()
        let png = try Loaders.png(try scratch.write("f.png", try XCTUnwrap(try Graphics.png(.figure(f)))))
        XCTAssertEqual(png.shape, [3, Int((d.height * 2).rounded(.up)), Int((d.width * 2).rounded(.up))])
        let svg = try XCTUnwrap(try Graphics.svg(.figure(f)))
        XCTAssertTrue(
            svg.hasPrefix("<?xml") && svg.contains("viewBox=\"0 0 \(Int(d.width)) \(Int(d.height))\""),
            String(svg.prefix(300)))
        // The legend's marker, the plot's marker and the line's end are painted in their colours.
        let images = Tensor((0..<(4 * 1 * 2 * 2)).map { Float($0 % 2) }, shape: [4, 1, 2, 2])
        let grid = try XCTUnwrap(Graphics.drawing(.images(ImageGrid(title: "", images: images))))
        // 2 columns of 2×2 images at 42× zoom with 6-unit gaps.
        XCTAssertEqual(grid.width, 2 * (84 + 6) + 6)
        XCTAssertEqual(
            grid.items.filter { if case .image(_, _, _, _, false) = $0 { return true } else { return false } }.count, 4)
    }

    /// Marching squares on x² + y² finds the unit circle: every end of every segment lies on it.
    func testContourOfACircle() {
        let side = 64
        var v: [Float] = []
        for r in 0..<side {
            for c in 0..<side {
                let x = -2 + 4 * (Float(c) + 0.5) / Float(side), y = 2 - 4 * (Float(r) + 0.5) / Float(side)
                v.append(x * x + y * y)
            }
        }
        let segments = Figure.contour(v, rows: side, columns: side, level: 1, xRange: -2...2, yRange: -2...2)
        XCTAssertGreaterThan(segments.count, 40)
        for (a, b) in segments {
            for p in [a, b] { XCTAssertEqual((p.x * p.x + p.y * p.y).squareRoot(), 1, accuracy: 0.02) }
        }
        XCTAssertEqual(Figure.area([Figure.Point(0, 0), Figure.Point(2, 0), Figure.Point(2, 3), Figure.Point(0, 3)]), 6)
    }

    /// Arrow lengths: √ of the gradient over the median's, the median 6% of the span, at most
    /// 2.5 times that; each against its gradient; none where the gradient is zero.
    func testArrowLengthsAreOnASquareRootScale() {
        let points = [Figure.Point(0, 0), Figure.Point(1, 1), Figure.Point(2, 2), Figure.Point(3, 3)]
        let g = [Figure.Point(1, 0), Figure.Point(0, 4), Figure.Point(-100, 0), Figure.Point(0, 0)]
        let a = Interpreter.arrows(from: points, gradient: g, span: 10)
        XCTAssertEqual(a.count, 3)
        let unit: Float = 0.6
        XCTAssertEqual(a[0].1.x, 0 - unit * 0.5, accuracy: 1e-5)
        XCTAssertEqual(a[1].1.y, 1 - unit, accuracy: 1e-5)
        XCTAssertEqual(a[2].1.x, 2 + unit * 2.5, accuracy: 1e-5)
    }

    /// The moving average of `smooth=K` against a naive one.
    func testMovingAverageAgainstNaive() {
        let ys: [Float] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
        let series = ys.enumerated().map { Figure.Point(Float($0.offset), $0.element) }
        for k in [1, 3, 4, 20] {
            let got = Interpreter.movingAverage(series, k).map(\.y)
            let naive = ys.indices.map { i in ys[max(0, i - k + 1)...i].reduce(0, +) / Float(min(i + 1, k)) }
            for (x, y) in zip(got, naive) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        }
    }

    /// A 10×3 character plot area: each braille cell holds 2×4 dots.
    func testBrailleScatterGolden() {
        let f = Figure(
            title: "", xRange: 0...19, yRange: 0...11, series: ["real", "generated"],
            marks: [.points([Figure.Point(0, 11), Figure.Point(19, 0), Figure.Point(1, 10)], series: 0)])
        // Empty cells are spaces; (0, 11) and (1, 10) share the top-left cell, (19, 0) is the last dot.
        // Braille is drawn with colour (which tells series apart); the escapes are left out here.
        let coloured = TextPlot(figure: f, style: TextStyle(unicode: true, colors: .truecolor), width: 14, height: 4)
            .render()
        let text = coloured.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        XCTAssertEqual(
            text,
            """
            10┤⠑
              │
              │
             0┤         ⢀
              └──────────
               0   10
               ● real   ● generated
            """)
    }

    /// Without colour each series has its own glyph, in the plot and the legend, and real points
    /// drawn last win a shared cell.
    func testColourlessPlotsKeepSeriesApart() {
        let f = Figure(
            title: "", xRange: 0...10, yRange: 0...10, series: ["real", "generated"],
            marks: [
                .points([Figure.Point(0, 10), Figure.Point(5, 5)], series: 1),
                .points([Figure.Point(10, 0), Figure.Point(5, 5)], series: 0)
            ])
        let text = TextPlot(figure: f, style: TextStyle(unicode: true, colors: .none), width: 14, height: 5).render()
        XCTAssertTrue(text.contains("○") && text.contains("•"), text)
        XCTAssertTrue(text.contains("• real") && text.contains("○ generated"), text)
        XCTAssertEqual(text.filter { $0 == "•" }.count, 3, "two real points and the legend's key: \(text)")
        XCTAssertFalse(
            text.unicodeScalars.contains { (0x2800...0x28FF).contains($0.value) }, "no braille without colour")
    }

    /// Rows of an image grid are apart, and a narrow window gets fewer images a row, never none.
    func testImageGridsFitTheWidth() {
        let images = Tensor((0..<(16 * 64)).map { Float($0 % 7) / 6 }, shape: [16, 1, 8, 8])
        for width in [60, 160] {
            let text = TextImages(
                grid: ImageGrid(title: "t", images: images), style: TextStyle(unicode: true, colors: .truecolor),
                width: width
            ).render()
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let visible = lines.map {
                $0.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
            }
            XCTAssertTrue(visible.allSatisfy { $0.count <= width }, "\(width): \(visible.map(\.count).max()!)")
            XCTAssertTrue(lines.dropFirst().contains(""), "a blank line between rows of images")
            let perRow = visible[1].split(separator: " ").count
            XCTAssertGreaterThanOrEqual(perRow, 3, "at \(width) columns")
        }
    }

    /// A diverged D gives NaN scores: every style draws them as the midpoint instead of trapping.
    func testNonFiniteHeatmapRenders() throws {
        let f = Figure(
            title: "nan", xRange: 0...1, yRange: 0...1, series: ["real", "generated"],
            marks: [.heatmap(values: [.nan, 1, .infinity, 0], rows: 2, columns: 2, low: 0, high: 1)])
        for style in [TextStyle.plain, TextStyle(unicode: true, colors: .none)] {
            let text = TextPlot(figure: f, style: style, width: 20, height: 6).render()
            XCTAssertTrue(text.hasPrefix("nan"), text)
        }
        XCTAssertNotNil(try Graphics.png(.figure(f)))
    }

    func testASCIIScatterAndHeatGolden() {
        let f = Figure(
            title: "map", xRange: 0...3, yRange: 0...1, series: ["real", "generated"],
            marks: [
                .heatmap(values: [0, 1, 0, 1], rows: 1, columns: 4, low: 0, high: 1),
                .points([Figure.Point(0, 1)], series: 1), .points([Figure.Point(3, 0)], series: 0)
            ],
            heatLabel: "D(x)")
        // Four heat values over ten columns; the marks sit on top of the shades.
        let text = TextPlot(figure: f, style: .plain, width: 15, height: 4).render()
        XCTAssertEqual(
            text,
            """
            map
              1|o  @@   @@
               |   @@   @@
            0.5|   @@   @@
              0|   @@   @.
               +----------
                0  1  2  3
                . real   o generated   background: D(x), light to dark 0…1
            """)
    }

    func testHalfBlockImagesInTrueColor() {
        // One 2×2 image: top row white, black; bottom row black, white.
        let img = Tensor([1, 0, 0, 1], shape: [1, 1, 2, 2])
        let text = TextImages(
            grid: ImageGrid(title: "", images: img), style: TextStyle(unicode: true, colors: .truecolor), width: 80
        ).render()
        let fgWhite = "\u{1B}[38;2;255;255;255m", bgBlack = "\u{1B}[48;2;0;0;0m"
        let fgBlack = "\u{1B}[38;2;0;0;0m", bgWhite = "\u{1B}[48;2;255;255;255m"
        // Small images are doubled: 4 columns, 2 rows of half blocks.
        let row1 =
            String(repeating: fgWhite + bgWhite + "▀", count: 2) + String(repeating: fgBlack + bgBlack + "▀", count: 2)
        XCTAssertEqual(text.split(separator: "\n").count, 2)
        XCTAssertEqual(String(text.split(separator: "\n")[0]), row1 + "\u{1B}[0m")
        XCTAssertTrue(text.contains(fgWhite + bgBlack + "▀") == false)
        // 256 colours map greys onto the grey ramp.
        XCTAssertEqual(TextStyle.cube((128, 128, 128)), 244)
        XCTAssertEqual(TextStyle.cube((255, 0, 0)), 196)
    }

    func testProgressLine() {
        let line = Runner.progressLine(done: 25, total: 100, seconds: 0.5, width: 60)
        XCTAssertEqual(line, "[#####----------------]  25%  25/100 steps  50/s  ETA 1.50 s")
        XCTAssertEqual(line.count, 60)
        // A runner without a sink (scripts, pipes) leaves the interpreter without progress reports.
        let r = Runner(interpreter: Interpreter(), out: { _ in }, err: { _ in })
        XCTAssertNil(r.interpreter.progress)
        r.progressSink = { _ in }
        XCTAssertNotNil(r.interpreter.progress)
    }

    func testUnicodeHistogramBars() {
        var h = Histogram(values: [0, 0, 0, 0, 0, 0, 0, 0, 1], bins: 2)
        h.title = nil
        let text = TextRenderer(width: 24, style: TextStyle(unicode: true, colors: .none)).render(.histogram(h))
        // 14 columns of bar: 8 of 8 fills them, 1 of 8 is 1¾ blocks.
        XCTAssertEqual(text, "  0 │ 8 ██████████████\n0.5 │ 1 █▊")
    }

    func session(_ lines: String) throws -> Interpreter {
        Random.seed(3)
        let shell = Interpreter()
        let r = shell.run(lines)
        if let e = r.error { XCTFail(e.message) }
        return shell
    }

    func testPlotCommandsOnTheRing() throws {
        let scratch = try ScratchFolder()
        let shell = try session(
            "data ring8; net G = noise 2 | linear 16 | relu | linear 2; net D = input 2 | linear 16 | relu | linear 1; gan G D batch=32; step 20"
        )
        shell.options.directory = scratch.path
        for kind in ["samples", "surface", "game", "manifold", "arrows 50", "losses", "dx dgz"] {
            let r = shell.run("plot \(kind) to p.png")
            XCTAssertNil(r.error, "plot \(kind): \(r.error?.message ?? "")")
            guard case .figure(let f)? = r.outputs.first else { XCTFail("plot \(kind) gave no figure"); continue }
            XCTAssertFalse(f.marks.isEmpty)
            XCTAssertEqual(try Loaders.png(scratch.path + "/p.png").shape[0], 3)
        }
        XCTAssertNil(shell.run("plot hist D.0.weight to h.png").error)
        XCTAssertNil(shell.run("sample 9 to s.png").error)
        XCTAssertTrue(shell.run("plot hist").error!.message.contains("a tensor expected"))
        XCTAssertTrue(shell.run("plot loses").error!.message.contains("did you mean 'losses'?"))
        XCTAssertTrue(shell.run("plot samples to p.jpg").error!.message.contains(".png"))
        // The arrows point where G's loss decreases: moving a point a little along its arrow lowers the loss.
        guard case .figure(let f)? = shell.run("plot arrows 20").outputs.first,
            let arrows = f.marks.lazy.compactMap({ m -> [(Figure.Point, Figure.Point)]? in
                if case .arrows(let a, _) = m { return a } else { return nil }
            }).first
        else {
            return XCTFail("no arrows")
        }
        // Under them D's surface, its D = 0.5 level, and the real points drawn last, on top.
        XCTAssertTrue(f.marks.contains { if case .heatmap = $0 { return true } else { return false } })
        XCTAssertTrue(f.series.contains("D = 0.5"))
        guard case .points(_, series: 0)? = f.marks.last else { return XCTFail("real points are not on top") }
        // A manifold's cells are shaded by their log area ratio; statistics keep their colours.
        guard case .figure(let m)? = shell.run("plot manifold").outputs.first,
            let cells = m.marks.lazy.compactMap({ mark -> Int? in
                if case .cells(let q, _, _, _) = mark { return q.count } else { return nil }
            }).first
        else { return XCTFail("no shaded cells") }
        XCTAssertEqual(cells, 30 * 30)
        guard case .figure(let l)? = shell.run("plot gloss dloss smooth=5").outputs.first else {
            return XCTFail("no losses")
        }
        let red = Palette.named["D loss"]!
        XCTAssertTrue(l.color(l.series.firstIndex(of: "D loss")!) == red)
        XCTAssertEqual(l.references.map(\.y), [Float(0.6931472), Float(1.3862944)])
        XCTAssertTrue(l.marks.contains { if case .faintLine = $0 { return true } else { return false } })
        XCTAssertTrue(shell.run("plot losses smooth=0").error!.message.contains("smooth=K"))
        XCTAssertNil(shell.run("plot game to g.svg").error)
        XCTAssertTrue(try String(contentsOfFile: scratch.path + "/g.svg", encoding: .utf8).contains("<svg"))
        let gan = shell.workspace.session!.trainer.model
        func loss(_ p: [Figure.Point]) throws -> Float {
            try withNoGrad {
                try GANLoss.nonSaturating.generator(
                    fake: try gan.discriminate(Tensor(p.flatMap { [$0.x, $0.y] }, shape: [p.count, 2]), labels: nil)
                ).item
            }
        }
        let start = arrows.map(\.0),
            moved = arrows.map { a, b in Figure.Point(a.x + (b.x - a.x) * 0.01, a.y + (b.y - a.y) * 0.01) }
        XCTAssertLessThan(try loss(moved), try loss(start))
    }

    func testNotebooksHaveTheirStructure() throws {
        let scratch = try ScratchFolder()
        let shell = try session(
            "data ring8; net G = noise 2 | linear 16 | relu | linear 2; net D = input 2 | linear 16 | relu | linear 1")
        _ = shell.run("gan G D batch=32")
        _ = shell.run("step 5")
        _ = shell.run("plot samples")
        _ = shell.run("nosuch")
        XCTAssertEqual(shell.cells.count, 5, shell.cells.map(\.source).joined(separator: " / "))
        shell.options.directory = scratch.path
        XCTAssertNil(shell.run("export nb.ipynb").error)
        XCTAssertNil(shell.run("export nb.html").error)
        XCTAssertNil(shell.run("export nb.md").error)
        XCTAssertTrue(shell.run("export nb.txt").error!.message.contains(".html, .ipynb or .md"))

        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.path + "/nb.ipynb")))
            as! [String: Any]
        XCTAssertEqual(json["nbformat"] as? Int, 4)
        XCTAssertEqual(json["nbformat_minor"] as? Int, 5)
        let all = json["cells"] as! [[String: Any]]
        // A title cell first (the session has no comment to name it), then the code cells.
        XCTAssertEqual(all.count, 6)
        XCTAssertEqual(all[0]["cell_type"] as? String, "markdown")
        XCTAssertTrue((all[0]["source"] as! [String]).joined().hasPrefix("# gans session\n\n*gans "))
        XCTAssertEqual(
            (json["metadata"] as? [String: Any]).flatMap { ($0["kernelspec"] as? [String: Any])?["name"] as? String },
            "python3")
        let cells = Array(all.dropFirst())
        for (i, c) in cells.enumerated() {
            XCTAssertEqual(c["cell_type"] as? String, "code")
            XCTAssertEqual(c["execution_count"] as? Int, i + 1)
            XCTAssertNotNil(c["id"] as? String)
            XCTAssertNotNil(c["source"] as? [String])
        }
        let plotOutputs = cells[3]["outputs"] as! [[String: Any]]
        let data = plotOutputs[0]["data"] as! [String: Any]
        let png = try XCTUnwrap(Data(base64Encoded: data["image/png"] as! String))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let err = (cells[4]["outputs"] as! [[String: Any]])[0]
        XCTAssertEqual(err["name"] as? String, "stderr")
        XCTAssertTrue(((err["text"] as! [String]).joined()).contains("unknown name 'nosuch'"))

        let html = try String(contentsOfFile: scratch.path + "/nb.html", encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        // The HTML was exported after the .ipynb, whose export command is a cell too.
        XCTAssertEqual(html.components(separatedBy: "<div class=\"cell\">").count - 1, 6)
        // Figures are inline SVG with their title as the label, ids kept apart per figure.
        XCTAssertTrue(html.contains("<figure><svg role=\"img\" aria-label=\"real and 500 generated samples"), html)
        XCTAssertFalse(html.contains("<img"))
        XCTAssertTrue(html.contains("<title>gans session</title>") && html.contains("<p class=\"run\">gans "))
        // Self-contained: nothing is fetched (an SVG names its namespace by a URL, which loads nothing).
        for fetch in ["src=\"http", "href=\"http", "url(http", "@import"] {
            XCTAssertFalse(html.contains(fetch), fetch)
        }
        XCTAssertTrue(html.contains("gan G D batch=32"))

        let md = try String(contentsOfFile: scratch.path + "/nb.md", encoding: .utf8)
        XCTAssertTrue(md.contains("![real and 500 generated samples"))
        XCTAssertTrue(md.contains("**In [2]:**\n\n```gans\ngan G D batch=32\n```"), md)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.path + "/nb_files/cell-4-1.png"))
    }

    /// Comment-only cells become prose: one block per run of them, paragraphs
    /// at empty comment lines, indented lines on lines of their own.
    func testCommentsBecomeProse() throws {
        let shell = try session("x = 1")
        for line in [
            "# Title line", "#", "# A paragraph that", "# continues here.", "#   1. an item", "#      that goes on",
            "#   2. another"
        ] {
            _ = shell.run(line)
        }
        _ = shell.run("y = 2")
        let blocks = Notebook.blocks(shell.cells)
        XCTAssertEqual(blocks.count, 3)
        guard case .prose(let lines) = blocks[1], case .code(_, let n) = blocks[2] else {
            return XCTFail("prose then code expected")
        }
        XCTAssertEqual(n, 2, "prose takes no number")
        XCTAssertEqual(
            Notebook.paragraphs(lines),
            [["Title line"], ["A paragraph that continues here.", "1. an item that goes on", "2. another"]])
        let html = try Notebook.html(shell.cells, title: "t")
        XCTAssertTrue(
            html.contains(
                "<div class=\"prose\"><p>Title line</p><p>A paragraph that continues here.<br>1. an item that goes on<br>2. another</p></div>"
            ), html)
        let json = try JSONSerialization.jsonObject(with: Data(Notebook.ipynb(shell.cells))) as! [String: Any]
        let cells = json["cells"] as! [[String: Any]]
        XCTAssertEqual(cells.map { $0["cell_type"] as! String }, ["markdown", "code", "markdown", "code"])
        XCTAssertNil(cells[2]["execution_count"])
        XCTAssertEqual(cells[3]["execution_count"] as? Int, 2)
        // A session that starts with a comment takes its first line as its title; backticks are code.
        let titled = try session("# Lesson: the `ring`")
        _ = titled.run("# About `step`.")
        _ = titled.run("x = 1")
        let page = try Notebook.html(titled.cells, title: "file")
        XCTAssertTrue(
            page.contains("<title>Lesson: the ring</title>") && page.contains("<h1>Lesson: the <code>ring</code></h1>"),
            page)
        XCTAssertTrue(page.contains("<p>About <code>step</code>.</p>"), page)
    }

    /// Where Python's nbformat is installed (GANS_NBFORMAT_PYTHON names that Python), the notebook must validate.
    func testNotebookValidatesWithNbformat() throws {
        guard let python = ProcessInfo.processInfo.environment["GANS_NBFORMAT_PYTHON"] else {
            throw XCTSkip("GANS_NBFORMAT_PYTHON is not set; scripts/test sets it from scripts/nbformat-python")
        }
        let scratch = try ScratchFolder()
        let shell = try session(
            "data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=16; step 3; plot samples; plot losses; history"
        )
        _ = shell.run("# A note between cells,")
        _ = shell.run("# in two lines.")
        _ = shell.run("history 2")
        try Notebook.write(shell.cells, title: "t", to: scratch.path + "/v.ipynb")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [
            "-c", "import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print('valid')",
            scratch.path + "/v.ipynb"
        ]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), "valid\n")
    }
}
