import GANKit
import TensorCore
import XCTest

/// The metrics computed in GANKit, against what the samples are known to be.
final class MeasuresTests: XCTestCase {
    func testMixtureMeasuresOfRealAndCollapsedSamples() throws {
        Random.seed(3)
        let ring = try GaussianMixture.ring()
        let data = MeasureData(
            name: "ring8", kind: .points, mixture: ring, samples: nil, words: nil,
            realSamples: { ring.sample($0).0 })
        // Samples of the mixture itself: every mode, and (3σ holds 98.9% of a 2-D Gaussian) nearly all high quality.
        let (context, real) = try Measures.measure(ring.sample(2000).0, against: data)
        guard case .modes(let perMode) = context else { return XCTFail("no per-mode counts for a mixture") }
        XCTAssertEqual(perMode.count, 8)
        XCTAssertEqual(perMode.reduce(0, +), Int((real.first { $0.kind == .hq }!.value * 2000).rounded()))
        XCTAssertEqual(real.first { $0.kind == .modes }?.value, 8)
        XCTAssertGreaterThan(real.first { $0.kind == .hq }!.value, 0.97)
        // All samples at one centre: one mode, all of them high quality.
        let centre = ring.centers[0]
        let collapsed = Tensor(Array(repeating: [centre.0, centre.1], count: 100).flatMap { $0 }, shape: [100, 2])
        let (_, one) = try Measures.measure(collapsed, against: data)
        XCTAssertEqual(one.first { $0.kind == .modes }?.value, 1)
        XCTAssertEqual(one.first { $0.kind == .hq }?.value, 1)
        XCTAssertEqual(one.map(\.key), ["modes", "hq", "kl"])
    }

    func testImagesWithoutLabelsAreRefused() throws {
        let set = try TensorDataset(name: "blank", samples: Tensor(zeros: [4, 1, 2, 2]))
        let data = MeasureData(
            name: "blank", kind: .images, mixture: nil, samples: set, words: nil, realSamples: { _ in set.samples })
        XCTAssertThrowsError(try Measures.measure(Tensor(zeros: [4, 1, 2, 2]), against: data)) { e in
            XCTAssertTrue("\(e)".contains("need labelled data; blank has no labels"), "\(e)")
        }
    }
}
