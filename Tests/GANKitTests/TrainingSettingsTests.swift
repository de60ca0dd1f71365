@testable import GANKit
import XCTest

/// The table of training settings drives parsing, validation and the checkpoint text.
final class TrainingSettingsTests: XCTestCase {
    /// A value other than the default for every setting in the table.
    let changed = [
        "loss": "wgan-gp", "batch": "32", "dsteps": "5", "lambda": "2.5", "gamma": "0.5", "every": "8", "clip": "0.05",
        "smooth": "0.1", "smoothfake": "0.05", "noise": "0.2", "beta": "0.25", "ema": "0.999", "z": "uniform"
    ]

    func testEverySettingRoundTripsThroughItsText() throws {
        XCTAssertEqual(
            Set(TrainingSetting.all.map(\.name)), Set(changed.keys), "a setting without a value in this test")
        XCTAssertEqual(TrainingSetting.all.count, changed.count, "two settings share a name")
        var o = TrainingOptions()
        for s in TrainingSetting.all {
            let before = o
            try o.set(s.name, changed[s.name]!)
            XCTAssertNotEqual(o, before, "\(s.name)=\(changed[s.name]!) changed nothing")
            XCTAssertEqual(s.value(in: o).flatMap(Float.init) ?? 0, Float(changed[s.name]!) ?? 0)
            if Float(changed[s.name]!) == nil { XCTAssertEqual(s.value(in: o), changed[s.name]) }
        }
        XCTAssertEqual(o.loss, .wassersteinGP)
        XCTAssertEqual(o.batchSize, 32)
        XCTAssertEqual(o.r1Every, 8)
        XCTAssertEqual(o.emaDecay, 0.999)
        XCTAssertEqual(o.noise, .uniform)
        XCTAssertEqual(try TrainingOptions(text: o.text), o)
        XCTAssertEqual(try TrainingOptions(text: TrainingOptions().text), TrainingOptions())
        // Off is left out of the text, and comes back as off.
        XCTAssertFalse(TrainingOptions().text.contains("ema="))
        XCTAssertNil(TrainingSetting.named("ema")?.defaultValue)
    }

    func testBadValuesAreRefusedAndChangeNothing() {
        var o = TrainingOptions()
        let cases = [
            ("batch", "0", "positive whole number"), ("batch", "2000000", "batch must be 1…1048576"),
            ("dsteps", "1.5", "positive whole number"), ("smooth", "1", "smooth must be in [0, 1)"),
            ("ema", "1", "ema must be in [0, 1)"), ("clip", "0", "clip must be above zero"),
            ("lambda", "-1", "lambda must be zero or more"), ("gamma", "nan", "gamma needs a number"),
            ("loss", "hing", "unknown loss 'hing'"), ("loss", "hing", "did you mean 'hinge'"),
            ("z", "gauss", "unknown z 'gauss'; there are normal, uniform"), ("lamda", "1", "did you mean 'lambda'")
        ]
        for (key, value, fragment) in cases {
            XCTAssertThrowsError(try o.set(key, value), "\(key)=\(value)") { e in
                XCTAssertTrue("\(e)".contains(fragment), "\(key)=\(value): \(e)")
            }
            XCTAssertEqual(o, TrainingOptions(), "\(key)=\(value) changed the options")
        }
    }

    /// The text checkpoints wrote before the table (floats as 10.0, no every, beta or z) still reads.
    func testTextWrittenBeforeTheTableReads() throws {
        let o = try TrainingOptions(
            text: "loss=nonsat batch=8 dsteps=1 lambda=10.0 gamma=10.0 clip=0.01 smooth=0.0 noise=0.0 ema=0.9")
        var want = TrainingOptions()
        want.batchSize = 8
        want.emaDecay = 0.9
        XCTAssertEqual(o, want)
    }

    func testSettingsSayWhichModelsHaveThem() {
        let vae = TrainingSetting.all.filter { $0.applies(to: .variational) }.map(\.name)
        XCTAssertEqual(vae, ["batch", "beta", "ema"])
        XCTAssertFalse(TrainingSetting.named("beta")!.applies(to: .adversarial))
        XCTAssertEqual(TrainingSetting.named("loss")?.choices, GANLoss.allCases.map(\.rawValue))
        XCTAssertEqual(OptimizerKind.hyperparameterNames.first, "lr")
        XCTAssertTrue(
            Set(["lr", "beta1", "beta2", "eps", "momentum", "weight_decay", "alpha", "nesterov"])
                .isSubset(of: OptimizerKind.hyperparameterNames))
    }
}
