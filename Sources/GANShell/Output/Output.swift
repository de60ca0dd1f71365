import Foundation
import GANKit
import TensorCore

/// What a command returns. Commands never print: a renderer draws these
/// (plain text here; terminal graphics, PNG and notebooks draw the same values).
public enum Output {
    /// Lines of text.
    case text(String)
    /// Explanatory text (help, explain) that a renderer wraps at word breaks to its width;
    /// a wrapped line continues under the text after its first two-space gap, or its indentation.
    case prose(String)
    case table(Table)
    case tensor(TensorView)
    case histogram(Histogram)
    /// Statistics of training steps (one line each).
    case steps([StepStats])
    /// Generated samples: points, images or words.
    case samples(SampleView)
    /// How long something took (left out of deterministic transcripts).
    case timing(String, Double)
    /// A plot: scatter, lines, heatmap, arrows.
    case figure(Figure)
    /// A grid of images.
    case images(ImageGrid)
}

/// A table with a header row.
public struct Table {
    public var title: String?
    public var columns: [String]
    public var rows: [[String]]
    /// Right-align numeric columns.
    public var rightAligned: [Bool]
    /// Already shown on the terminal as it was made (a row at a time); notebooks still show it.
    public var streamed = false

    public init(title: String? = nil, columns: [String], rows: [[String]], rightAligned: [Bool]? = nil) {
        self.title = title
        self.columns = columns
        self.rows = rows
        self.rightAligned = rightAligned ?? columns.map { _ in false }
    }
}

/// Counts of values in equal-width bins between `low` and `high`.
public struct Histogram {
    public var title: String?
    public var low: Float, high: Float
    public var counts: [Int]
    /// Values that were NaN or infinite (not binned).
    public var nonFinite: Int

    public init(title: String? = nil, values: [Float], bins: Int = 10) {
        self.title = title
        let finite = values.filter(\.isFinite)
        nonFinite = values.count - finite.count
        low = finite.min() ?? 0
        high = finite.max() ?? 0
        counts = [Int](repeating: 0, count: max(1, bins))
        guard !finite.isEmpty else { return }
        let width = (high - low) / Float(counts.count)
        for v in finite {
            let b = width > 0 ? min(counts.count - 1, max(0, Int((v - low) / width))) : 0
            counts[b] += 1
        }
    }
}

/// What `show` says of a tensor.
public struct TensorView {
    public var name: String?
    public var shape: [Int]
    public var mean: Float, std: Float, min: Float, max: Float
    public var nonFinite: Int
    public var requiresGrad: Bool
    /// Shape of the gradient held, if any.
    public var gradShape: [Int]?
    /// The values, printed PyTorch-style (elided when large).
    public var values: String
    public var histogram: Histogram?

    public init(_ t: Tensor, name: String? = nil, histogram: Bool = false) {
        self.name = name
        shape = t.shape
        let v = t.scalars
        let finite = v.filter(\.isFinite)
        nonFinite = v.count - finite.count
        let n = Float(Swift.max(finite.count, 1))
        let m = finite.reduce(0, +) / n
        mean = finite.isEmpty ? .nan : m
        std =
            finite.count > 1
            ? (finite.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Float(finite.count - 1)).squareRoot() : 0
        min = finite.min() ?? .nan
        max = finite.max() ?? .nan
        requiresGrad = t.requiresGrad
        gradShape = t.grad?.shape
        values = t.formatted(threshold: 200, edgeItems: 3, precision: 4)
        self.histogram = histogram && v.count > 1 ? Histogram(values: v, bins: 10) : nil
    }
}

/// Generated (and optionally real) samples, ready to draw.
public enum SampleView {
    /// `[N, 2]` points; `real` drawn beside them when given.
    case points(generated: Tensor, real: Tensor?)
    /// `[N, C, H, W]` images with values in [0, 1].
    case images(Tensor)
    case words([String])
    /// Any other shape: the tensor itself.
    case values(Tensor)
}
