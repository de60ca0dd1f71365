import Foundation
import TensorCore

/// The metrics of generated samples, declared once: the name `expect` and
/// `metrics` use, what each measures, and how its value reads.
public enum MeasureKind: String, CaseIterable, Sendable {
    case modes, hq, kl, nearest
    case coverage, classkl, score, frechet, floor, agreement
    case js, jsfloor, novelty, wellformed

    /// How a value reads: a plain number, a percentage of a fraction, or a count out of a total.
    public enum Reading: Sendable { case plain, percent, outOf(Int) }

    /// What it measures; `count` is the sample count of a floor, as it should print.
    public func label(count: String? = nil) -> String {
        let n = count ?? "as many"
        switch self {
        case .modes: return "modes covered"
        case .hq: return "high-quality fraction (within 3σ of a mode)"
        case .kl: return "reverse KL of the mode histogram"
        case .nearest: return "mean distance to the nearest real sample"
        case .coverage: return "classes covered"
        case .classkl: return "KL from the data's class histogram"
        case .score: return "classifier score"
        case .frechet: return "Fréchet distance of classifier features"
        case .floor: return "the same distance for \(n) held-out real images"
        case .agreement: return "classifier agrees with the requested class"
        case .js: return "4-gram JS divergence from the data"
        case .jsfloor: return "the same divergence for \(n) real words"
        case .novelty: return "novel (not in the data)"
        case .wellformed: return "well formed"
        }
    }
}

/// One measured value.
public struct Measure: Sendable {
    public var kind: MeasureKind
    public var value: Float
    public var reading: MeasureKind.Reading = .plain
    /// The sample count behind a floor (its label says it).
    public var count: Int? = nil

    public var key: String { kind.rawValue }
}

/// What the measures need to know of the data they compare against.
public struct MeasureData {
    public var name: String
    public var kind: DataKind
    /// The mixture behind ring and grid data (mode coverage).
    public var mixture: GaussianMixture?
    /// The finite samples, when the data are a fixed set.
    public var samples: TensorDataset?
    /// The words of a word list.
    public var words: [String]?
    /// n real samples, drawn without disturbing training.
    public var realSamples: (Int) throws -> Tensor

    public init(
        name: String, kind: DataKind, mixture: GaussianMixture?, samples: TensorDataset?, words: [String]?,
        realSamples: @escaping (Int) throws -> Tensor
    ) {
        self.name = name
        self.kind = kind
        self.mixture = mixture
        self.samples = samples
        self.words = words
        self.realSamples = realSamples
    }
}

/// What a set of measures was taken on, for the title the shell gives them.
public enum MeasureContext: Sendable {
    /// Points of a known mixture, with the high-quality samples at each mode.
    case modes(perMode: [Int])
    case points
    /// Images judged by a classifier trained on the named data.
    case classifier(data: String)
    case sequences
}

public struct MeasureError: Error, CustomStringConvertible {
    public let description: String
}

public enum Measures {
    /// The measures that fit the data, on generated samples `x` (of a GAN, or of its moving average).
    /// With `requestedClasses`, sample i was asked for class i mod that count, and the classifier's
    /// agreement with it is measured too. Ctrl-C is honoured between the long parts.
    public static func measure(_ x: Tensor, against d: MeasureData, requestedClasses: Int? = nil) throws
        -> (context: MeasureContext, values: [Measure])
    {
        let n = x.shape[0]
        switch d.kind {
        case .points:
            if let mix = d.mixture {
                let c = mix.coverage(x)
                var out = [
                    Measure(kind: .modes, value: Float(c.modes), reading: .outOf(mix.centers.count)),
                    Measure(kind: .hq, value: c.highQuality, reading: .percent)
                ]
                if let kl = mix.reverseKL(x) { out.append(Measure(kind: .kl, value: Float(kl))) }
                return (.modes(perMode: c.perMode), out)
            }
            let real = try d.realSamples(min(n, 5000))
            return (.points, [Measure(kind: .nearest, value: try SampleMetrics.meanNearestDistance(x, training: real))])
        case .images:
            guard let set = d.samples, set.classCount != nil else {
                throw MeasureError(description: "the metrics of images need labelled data; \(d.name) has no labels")
            }
            // The classifier learns from four fifths of the data; the held-out fifth,
            // scored the same way, is the floor a perfect generator would reach (docs/data.md).
            let (trainPart, heldOut) = try set.split(heldOut: 0.2, seed: 0)
            let classifier = try ImageClassifier.cached(for: trainPart)
            let sc = try classifier.scores(x, real: trainPart)
            var out = [
                Measure(kind: .coverage, value: Float(sc.coverage), reading: .outOf(classifier.classes)),
                Measure(kind: .classkl, value: Float(sc.klFromData)),
                Measure(kind: .score, value: Float(sc.score)),
                Measure(kind: .frechet, value: Float(sc.frechet))
            ]
            try Interrupt.check()
            let floor = try classifier.scores(heldOut.samples, real: trainPart).frechet
            out.append(Measure(kind: .floor, value: Float(floor), count: heldOut.count))
            if let classes = requestedClasses {
                let predicted = try classifier.probabilities(x).argmax(axis: -1).scalars
                let agree = predicted.enumerated().filter { Int($0.element) == $0.offset % max(classes, 1) }.count
                out.append(Measure(kind: .agreement, value: Float(agree) / Float(n), reading: .percent))
            }
            return (.classifier(data: d.name), out)
        case .sequences(let code):
            let generated = try code.decode(oneHot: x)
            try Interrupt.check()
            let realWords: [String]
            if let words = d.words {
                realWords = words
            } else if let set = d.samples {
                realWords = try code.decode(oneHot: try set.samples.slice(axis: 0, start: 0, end: min(set.count, 5000)))
            } else {
                realWords = []
            }
            var out = [
                Measure(kind: .js, value: Float(TextMetrics.ngramJS(generated, realWords, n: 4))),
                Measure(
                    kind: .novelty, value: Float(TextMetrics.novelty(generated, training: Set(realWords))),
                    reading: .percent)
            ]
            if !realWords.isEmpty {
                // The same divergence for as many real words: what sampling alone gives.
                let sample = Random.permutation(realWords.count).prefix(generated.count).map { realWords[$0] }
                out.append(
                    Measure(
                        kind: .jsfloor, value: Float(TextMetrics.ngramJS(sample, realWords, n: 4)), count: sample.count)
                )
            }
            if d.name == "names" {
                out.append(
                    Measure(kind: .wellformed, value: Float(TextMetrics.wellFormedNames(generated)), reading: .percent))
            }
            return (.sequences, out)
        }
    }
}
