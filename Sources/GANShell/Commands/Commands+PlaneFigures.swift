import Foundation
import GANKit
import TensorCore

/// The figures of a GAN on the plane, as GAN Lab draws them: D's surface with its middle
/// level, the real and generated points, the way G's loss pushes each sample, and how G
/// stretches its noise.
extension Interpreter {
    /// D over the plane: a heatmap on a grid over the ranges (a diverging colour map centred on
    /// D = 0.5, or on 0 for a critic, spanning the values D takes there) and its middle level.
    struct Surface {
        var heatmap: Figure.Mark
        var contour: [(Figure.Point, Figure.Point)]
        /// What the colours show, and the name of the middle level.
        var label: String, level: String
    }

    func surface(_ s: Session, _ xr: ClosedRange<Float>, _ yr: ClosedRange<Float>, side: Int = 96) throws -> Surface {
        let model = s.trainer.model
        var grid: [Float] = []
        grid.reserveCapacity(2 * side * side)
        for r in 0..<side {
            for c in 0..<side {
                grid += [
                    xr.lowerBound + (xr.upperBound - xr.lowerBound) * (Float(c) + 0.5) / Float(side),
                    yr.upperBound - (yr.upperBound - yr.lowerBound) * (Float(r) + 0.5) / Float(side)
                ]
            }
        }
        let labels = model.conditioning != nil ? Tensor(zeros: [side * side]) : nil
        var scores = try model.partner.evaluating {
            try withNoGrad { try model.discriminate(Tensor(grid, shape: [side * side, 2]), labels: labels) }
        }.scalars
        let loss = s.trainer.options.loss
        let center: Float, label: String, level: String
        switch loss {
        case .minimax, .nonSaturating, .r1:
            scores = scores.map { 1 / (1 + Foundation.exp(-$0)) }
            (center, label, level) = (0.5, "D(x)", "D = 0.5")
        case .leastSquares: (center, label, level) = (0.5, "D score", "D = 0.5")
        case .hinge, .wasserstein, .wassersteinGP: (center, label, level) = (0, "critic score", "critic = 0")
        }
        // The colours span what D does here, symmetric about the middle: near equilibrium a
        // range of 0.45…0.55 still shows where D leans.
        let deviation = scores.filter(\.isFinite).map { abs($0 - center) }.max() ?? 0
        // Probabilities: at least 0.45…0.55, and the whole 0…1 once D is nearly sure somewhere.
        let half = loss.isLogistic ? (deviation > 0.45 ? 0.5 : max(deviation, 0.05)) : max(deviation, 1e-3)
        return Surface(
            heatmap: .heatmap(values: scores, rows: side, columns: side, low: center - half, high: center + half),
            contour: Figure.contour(scores, rows: side, columns: side, level: center, xRange: xr, yRange: yr),
            label: label, level: level)
    }

    /// D's surface and its middle level under `points` generated points (the first `arrows` of them
    /// with the push G's loss gives them) and as many real points on top: `plot surface`,
    /// `plot arrows`, `plot game`.
    func planeFigure(_ what: String, points n: Int, arrows: Int) throws -> Output {
        let s = try discriminatorSession(what)
        let model = s.trainer.model
        let x = try generate(s, n)
        let fake = pointsOf(x), real = pointsOf(try s.data.realSamples(n))
        let (xr, yr) = Figure.bounds(fake + real, pad: 0.15)
        var f = Figure(
            title: "", xRange: xr, yRange: yr, series: ["real", "generated"], marks: [], equalAspect: true)
        (f.xRange, f.yRange) = f.equalAspectRanges(width: 1, height: 1)
        let d = try surface(s, f.xRange, f.yRange)
        f.series.append(d.level)
        f.heatLabel = d.label
        f.marks = [d.heatmap, .segments(d.contour, series: 2), .points(fake, series: 1)]
        if arrows > 0 {
            // −∇ of G's loss at each point: where G's loss would move it.
            let pushed = try x.slice(axis: 0, start: 0, end: min(arrows, x.shape[0]))
            let labels = model.cyclingLabels(pushed.shape[0])
            let xg = pushed.detached().requiringGrad()
            let gradient = try model.partner.evaluating {
                try withGrad {
                    let loss = try s.trainer.options.loss.generator(fake: try model.discriminate(xg, labels: labels))
                    return try grad(of: loss, wrt: [xg])[0]
                }
            }
            let span = max(f.xRange.upperBound - f.xRange.lowerBound, f.yRange.upperBound - f.yRange.lowerBound)
            f.marks.append(
                .arrows(Self.arrows(from: pointsOf(pushed), gradient: pointsOf(gradient), span: span), series: 3))
            f.series.append("G's push")
            f.note =
                "arrows: −∇ of G's loss, length ∝ √‖∇‖ (the median 6% of the plot, at most 2.5 times that)"
                + (arrows < n ? "; \(arrows) of the \(n) generated points" : "")
        }
        f.marks.append(.points(real, series: 0))
        f.title =
            (arrows == 0 ? "D over the plane" : what == "game" ? "the game on the plane" : "G's loss pushes samples")
            + ", \(stepLabel(s))"
        return .figure(f)
    }

    /// Arrows along −g from each point, lengths on a square-root scale about the median gradient
    /// so most stay visible: the median arrow is 6% of `span`, none longer than 2.5 times that.
    static func arrows(from points: [Figure.Point], gradient g: [Figure.Point], span: Float)
        -> [(Figure.Point, Figure.Point)]
    {
        let norms = g.map { ($0.x * $0.x + $0.y * $0.y).squareRoot() }
        let positive = norms.filter { $0.isFinite && $0 > 0 }.sorted()
        guard !positive.isEmpty else { return [] }
        let median = positive[positive.count / 2], unit = 0.06 * span
        return zip(points, zip(g, norms)).compactMap { p, gn in
            let (v, norm) = gn
            guard norm.isFinite, norm > 0 else { return nil }
            let length = unit * min((norm / median).squareRoot(), 2.5)
            return (p, Figure.Point(p.x - v.x / norm * length, p.y - v.y / norm * length))
        }
    }

    /// G's image of a grid of noise values: each cell shaded by how much G stretches or
    /// compresses it (the log of its area over the median cell's), the images of the two noise
    /// axes drawn with arrows (their direction), over the real data.
    func plotManifold() throws -> Output {
        let s = try planarSession("manifold")
        let model = s.trainer.model
        guard model.noiseShape.count == 1 else {
            throw ShellError(.value, "plot manifold needs vector noise; G takes \(Format.shape(model.noiseShape))")
        }
        let dim = model.noiseShape[0], side = 31
        let span: Float = model.noise == .uniform ? 1 : 2.5
        var z = [Float](repeating: 0, count: side * side * dim)
        for i in 0..<side {
            for j in 0..<side {
                let k = i * side + j
                z[k * dim] = -span + 2 * span * Float(j) / Float(side - 1)
                if dim > 1 { z[k * dim + 1] = -span + 2 * span * Float(i) / Float(side - 1) }
            }
        }
        let labels = model.conditioning != nil ? Tensor(zeros: [side * side]) : nil
        let mapped = pointsOf(
            try model.generator.evaluating {
                try withNoGrad { try model.generate(Tensor(z, shape: [side * side, dim]), labels: labels) }
            })
        func at(_ i: Int, _ j: Int) -> Figure.Point { mapped[i * side + j] }
        var segments: [(Figure.Point, Figure.Point)] = []
        for i in 0..<side {
            for j in 0..<side {
                if j + 1 < side { segments.append((at(i, j), at(i, j + 1))) }
                if i + 1 < side, dim > 1 { segments.append((at(i, j), at(i + 1, j))) }
            }
        }
        let real = pointsOf(try s.data.realSamples(500))
        let (xr, yr) = Figure.bounds(mapped + real)
        var f = Figure(
            title: "G's image of a noise grid, \(stepLabel(s))", xRange: xr, yRange: yr,
            series: ["real", "G(noise grid)", "z₁ axis", "z₂ axis"], marks: [], equalAspect: true)
        let middle = side / 2
        let axis1 = (0..<(side - 1)).map { (at(dim > 1 ? middle : 0, $0), at(dim > 1 ? middle : 0, $0 + 1)) }
        if dim > 1 {
            var quads: [[Figure.Point]] = [], areas: [Float] = []
            for i in 0..<(side - 1) {
                for j in 0..<(side - 1) {
                    let q = [at(i, j), at(i, j + 1), at(i + 1, j + 1), at(i + 1, j)]
                    quads.append(q)
                    areas.append(Figure.area(q))
                }
            }
            let positive = areas.filter { $0.isFinite && $0 > 0 }.sorted()
            let median = positive.isEmpty ? 1 : positive[positive.count / 2]
            let logs = areas.map { $0 > 0 ? Foundation.log($0 / median) : -Float.infinity }
            let extent = min(max(logs.filter(\.isFinite).map(abs).max() ?? 1, 0.5), 5)
            // Large cells first, so the small ones where G packs its noise stay on top.
            let order = quads.indices.sorted { areas[$0] > areas[$1] }
            f.marks.append(
                .cells(
                    order.map { quads[$0] }, values: order.map { max(logs[$0], -extent) }, low: -extent, high: extent))
            f.heatLabel = "log(cell area / median): stretched > 0 > compressed"
        }
        f.marks.append(.segments(segments, series: 1))
        f.marks.append(.points(real, series: 0))
        // The images of the noise axes, as curves with a head where the noise value is largest.
        f.marks.append(.line([axis1[0].0] + axis1.map(\.1), series: 2))
        f.marks.append(.arrows([axis1[axis1.count - 1]], series: 2))
        if dim > 1 {
            let axis2 = (0..<side).map { at($0, middle) }
            f.marks.append(.line(axis2, series: 3))
            f.marks.append(.arrows([(axis2[side - 2], axis2[side - 1])], series: 3))
        } else {
            f.series.removeLast()
        }
        f.note =
            "noise from −\(Format.number(span)) to \(Format.number(span)) on each axis"
            + (dim > 2 ? "; the other \(dim - 2) noise values are 0" : "")
        return .figure(f)
    }
}

extension Figure {
    /// The segments where values on a grid (row 0 at the top, each value at its cell's centre
    /// over the ranges) cross `level`, by marching squares.
    static func contour(
        _ v: [Float], rows: Int, columns: Int, level: Float, xRange: ClosedRange<Float>, yRange: ClosedRange<Float>
    ) -> [(Point, Point)] {
        guard rows > 1, columns > 1, v.count >= rows * columns else { return [] }
        let dx = (xRange.upperBound - xRange.lowerBound) / Float(columns)
        let dy = (yRange.upperBound - yRange.lowerBound) / Float(rows)
        func point(_ r: Float, _ c: Float) -> Point {
            Point(xRange.lowerBound + (c + 0.5) * dx, yRange.upperBound - (r + 0.5) * dy)
        }
        var out: [(Point, Point)] = []
        for r in 0..<(rows - 1) {
            for c in 0..<(columns - 1) {
                let a = v[r * columns + c], b = v[r * columns + c + 1]
                let d = v[(r + 1) * columns + c + 1], e = v[(r + 1) * columns + c]
                guard a.isFinite, b.isFinite, d.isFinite, e.isFinite else { continue }
                var crossings: [Point] = []
                // Edges in order around the square: top, right, bottom, left.
                func edge(_ p: Float, _ q: Float, _ from: (Float, Float), _ to: (Float, Float)) {
                    guard (p < level) != (q < level) else { return }
                    let t = (level - p) / (q - p)
                    crossings.append(point(from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t))
                }
                let rf = Float(r), cf = Float(c)
                edge(a, b, (rf, cf), (rf, cf + 1))
                edge(b, d, (rf, cf + 1), (rf + 1, cf + 1))
                edge(e, d, (rf + 1, cf), (rf + 1, cf + 1))
                edge(a, e, (rf, cf), (rf + 1, cf))
                if crossings.count == 2 {
                    out.append((crossings[0], crossings[1]))
                } else if crossings.count == 4 {
                    out.append((crossings[0], crossings[3])); out.append((crossings[1], crossings[2]))
                }
            }
        }
        return out
    }

    /// The area of a polygon (the shoelace formula), whatever its orientation.
    static func area(_ q: [Point]) -> Float {
        guard q.count >= 3 else { return 0 }
        var twice: Float = 0
        for (i, p) in q.enumerated() {
            let n = q[(i + 1) % q.count]
            twice += p.x * n.y - n.x * p.y
        }
        return abs(twice) / 2
    }
}
