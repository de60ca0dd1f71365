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
        /// from `low…high` to the heat colours.
        case heatmap(values: [Float], rows: Int, columns: Int, low: Float, high: Float)
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

    /// Heat from 0 (pale purple: "fake") through near-white to 1 (pale green: "real").
    public static func heat(_ t: Float) -> (UInt8, UInt8, UInt8) {
        let v = t.isFinite ? min(max(t, 0), 1) : 0.5
        let low: (Float, Float, Float) = (196, 160, 222), mid: (Float, Float, Float) = (246, 246, 246),
            high: (Float, Float, Float) = (150, 215, 160)
        let (a, b, s) = v < 0.5 ? (low, mid, v * 2) : (mid, high, (v - 0.5) * 2)
        return (UInt8(a.0 + (b.0 - a.0) * s), UInt8(a.1 + (b.1 - a.1) * s), UInt8(a.2 + (b.2 - a.2) * s))
    }
}
