import Foundation
import TensorCore

/// A plot as data: marks in data coordinates over an x and y range. The
/// terminal renderer draws it in braille and colour, the PNG renderer in
/// pixels, the plain renderer in ASCII.
public struct Figure {
    public struct Point: Equatable {
        public var x: Float, y: Float
        public init(_ x: Float, _ y: Float) { self.x = x; self.y = y }
    }

    public enum Mark {
        /// Dots of one series.
        case points([Point], series: Int)
        /// A polyline of one series.
        case line([Point], series: Int)
        /// Separate segments (a warped grid).
        case segments([(Point, Point)], series: Int)
        /// Arrows from the first point toward the second.
        case arrows([(Point, Point)], series: Int)
        /// Values on a grid spanning the whole plot, row 0 at the top, mapped
        /// from `low…high` to the heat colours (a diverging map: its middle is the middle of the range).
        case heatmap(values: [Float], rows: Int, columns: Int, low: Float, high: Float)
        /// A raw trace drawn faintly under a line of the same series (its moving average).
        case faintLine([Point], series: Int)
        /// Quadrilaterals shaded by a value mapped from `low…high` to the heat colours (a warped grid's cells).
        case cells([[Point]], values: [Float], low: Float, high: Float)
    }

    /// A horizontal line where theory puts a value (log 4 for D's minimax loss at equilibrium).
    public struct Reference: Equatable {
        public var y: Float
        public var label: String
        public init(y: Float, label: String) { self.y = y; self.label = label }
    }

    public var title: String
    public var xRange: ClosedRange<Float>
    public var yRange: ClosedRange<Float>
    /// Legend names, by series index.
    public var series: [String]
    public var marks: [Mark]
    /// What the heat colours mean (legend of a heatmap).
    public var heatLabel: String?
    /// Keep one unit of x as long as one unit of y (scatter plots of the plane).
    public var equalAspect: Bool
    /// What the axes count and measure.
    public var xLabel: String? = nil, yLabel: String? = nil
    public var references: [Reference] = []
    /// A line under the legend saying how to read the figure (how arrow lengths are scaled).
    public var note: String? = nil
    /// Already drawn on the terminal while a command ran (`train … every=K plot`); notebooks still show it.
    public var streamed = false

    public init(
        title: String, xRange: ClosedRange<Float>, yRange: ClosedRange<Float>, series: [String], marks: [Mark],
        heatLabel: String? = nil, equalAspect: Bool = false
    ) {
        self.title = title
        self.xRange = xRange
        self.yRange = yRange
        self.series = series
        self.marks = marks
        self.heatLabel = heatLabel
        self.equalAspect = equalAspect
    }

    /// The ranges widened about their centres so that a unit of x and a unit of y are drawn the
    /// same length on a canvas `width` × `height` units, a vertical unit `cellAspect` times as
    /// long as a horizontal one (an ASCII cell is about twice as tall as wide; pixels and
    /// braille dots are square).
    func equalAspectRanges(width: Int, height: Int, cellAspect: Float = 1) -> (ClosedRange<Float>, ClosedRange<Float>) {
        var x = xRange, y = yRange
        let unitsX = (x.upperBound - x.lowerBound) / Float(width)
        let unitsY = (y.upperBound - y.lowerBound) / Float(height) / cellAspect
        if unitsX > unitsY {
            let c = (y.lowerBound + y.upperBound) / 2, half = unitsX * Float(height) * cellAspect / 2
            y = (c - half)...(c + half)
        } else {
            let c = (x.lowerBound + x.upperBound) / 2, half = unitsY * Float(width) / 2
            x = (c - half)...(c + half)
        }
        return (x, y)
    }

    /// The colour of a series: a quantity keeps its colour in every figure (D's loss is always
    /// the same red), other series take the palette in order.
    public func color(_ series: Int) -> (UInt8, UInt8, UInt8) {
        if series >= 0, series < self.series.count, let c = Palette.named[self.series[series]] { return c }
        return Palette.color(series)
    }

    /// A scatter of generated points over real ones (drawn last, on top), each `[N, 2]`.
    static func scatter(generated: Tensor, real: Tensor?, title: String) -> Figure {
        func points(_ t: Tensor) -> [Point] {
            let v = t.scalars
            return (0..<t.shape[0]).map { Point(v[2 * $0], v[2 * $0 + 1]) }
        }
        let g = points(generated), r = real.map(points) ?? []
        let (xr, yr) = bounds(g + r)
        var marks: [Mark] = [.points(g, series: 1)]
        if !r.isEmpty { marks.append(.points(r, series: 0)) }
        return Figure(
            title: title, xRange: xr, yRange: yr, series: ["real", "generated"], marks: marks, equalAspect: true)
    }

    /// Ranges that hold all points, padded by 5% (never empty).
    static func bounds(_ points: [Point], pad: Float = 0.05) -> (ClosedRange<Float>, ClosedRange<Float>) {
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        guard let first = finite.first else { return (-1...1, -1...1) }
        var x0 = first.x, x1 = first.x, y0 = first.y, y1 = first.y
        for p in finite { x0 = min(x0, p.x); x1 = max(x1, p.x); y0 = min(y0, p.y); y1 = max(y1, p.y) }
        func padded(_ a: Float, _ b: Float) -> ClosedRange<Float> {
            let span = b - a
            if span <= 1e-12 { return (a - 1)...(b + 1) }
            return (a - span * pad)...(b + span * pad)
        }
        return (padded(x0, x1), padded(y0, y1))
    }

    /// About `count` round tick values inside a range (1, 2 or 5 times a power of ten apart).
    static func ticks(_ r: ClosedRange<Float>, count: Int = 5) -> [Float] {
        let span = Double(r.upperBound - r.lowerBound)
        guard span > 0, span.isFinite else { return [r.lowerBound] }
        let raw = span / Double(max(count, 1))
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2.0, 5.0, 10.0].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = ceil(Double(r.lowerBound) / step) * step
        var out: [Float] = []
        while t <= Double(r.upperBound) + step * 1e-9, out.count < 50 {
            out.append(Float(abs(t) < step * 1e-9 ? 0 : t))
            t += step
        }
        return out
    }
}

/// Images to show side by side: `[N, C, H, W]` with values in [0, 1].
public struct ImageGrid {
    public var title: String
    public var images: Tensor
    /// Images per row (nil: a square-ish grid).
    public var columns: Int?
    public init(title: String, images: Tensor, columns: Int? = nil) {
        self.title = title; self.images = images; self.columns = columns
    }
}

/// Colours shared by every renderer, so a figure looks the same in the terminal and in a PNG.
public enum Palette {
    /// Real data, generated samples, then further series.
    public static let series: [(UInt8, UInt8, UInt8)] = [
        (46, 160, 67), (148, 60, 200), (255, 127, 14), (31, 119, 180), (214, 39, 40), (140, 86, 75)
    ]

    public static func color(_ series: Int) -> (UInt8, UInt8, UInt8) {
        Self.series[((series % Self.series.count) + Self.series.count) % Self.series.count]
    }

    /// Colours of named quantities, the same in every figure and renderer.
    public static let named: [String: (UInt8, UInt8, UInt8)] = [
        "real": (46, 160, 67), "generated": (148, 60, 200), "reconstructed": (148, 60, 200),
        "D loss": (214, 39, 40), "G loss": (31, 119, 180), "loss": (31, 119, 180),
        "D(x)": (46, 160, 67), "D(G(z))": (148, 60, 200), "Wasserstein estimate": (140, 86, 75),
        "W": (140, 86, 75), "penalty": (127, 127, 127), "reconstruction error": (255, 127, 14),
        "recon": (255, 127, 14), "KL": (23, 190, 207), "D = 0.5": (30, 30, 30), "critic = 0": (30, 30, 30),
        "G's push": (84, 22, 120), "G(noise grid)": (90, 90, 90), "z₁ axis": (0, 0, 0), "z₂ axis": (230, 120, 0)
    ]

    /// Moreland's cool–warm diverging map (as matplotlib's `coolwarm`): blue below the middle,
    /// light grey at it, red above; its lightness changes evenly on both sides.
    static let coolwarm: [(Float, Float, Float)] = [
        (59, 76, 192), (98, 130, 234), (141, 176, 254), (184, 208, 249), (221, 221, 221),
        (245, 196, 173), (244, 154, 123), (222, 96, 77), (180, 4, 38)
    ]

    /// The diverging colour of t in 0…1 (0.5 the middle); NaN is the middle.
    public static func heat(_ t: Float) -> (UInt8, UInt8, UInt8) {
        let v = t.isFinite ? min(max(t, 0), 1) : 0.5
        let x = v * Float(coolwarm.count - 1)
        let i = min(Int(x), coolwarm.count - 2), s = x - Float(i)
        let a = coolwarm[i], b = coolwarm[i + 1]
        func mix(_ p: Float, _ q: Float) -> UInt8 { UInt8(min(max(p + (q - p) * s, 0), 255).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

/// A plot coordinate as a whole number of cells or pixels: NaN is 0 and
/// anything beyond ±2³⁰ is clamped, so no value a plot is given can trap the
/// conversion (a zero-width range makes infinities).
func cell(_ v: Float) -> Int {
    guard !v.isNaN else { return 0 }
    return Int(max(-1_073_741_824, min(1_073_741_824, v)))
}

func cell(_ v: Double) -> Int { cell(Float(v)) }
