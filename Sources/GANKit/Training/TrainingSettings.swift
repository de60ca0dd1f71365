import Foundation

/// One declaration per training setting: the name typed in `gan G D key=value`
/// and `set key value`, the values it takes, its default, the models that have
/// it and a line of help. Parsing and validation (`TrainingOptions.set`), the
/// checkpoint's `gans.options` text, the shell's `settings` table, completion
/// of names and values, the help of `gan`, `vae` and `set` and the generated
/// reference all read `TrainingSetting.all`; adding a setting is one entry
/// here and its use in training.
public struct TrainingSetting {
    /// The key, as typed: `lambda`, `ema`.
    public let name: String
    /// What it does, in a few words (help and reference).
    public let help: String
    /// The models that have it.
    public let models: Set<GenerativeModel>
    /// The values completion offers; empty for numbers.
    public let choices: [String]
    /// The rule a value must follow, as error messages and help say it.
    public let rule: String
    let read: (TrainingOptions) -> String?
    let write: (inout TrainingOptions, String) throws -> Void

    /// The value in `options` as typed (nil: off, as `ema` before it is set).
    public func value(in options: TrainingOptions) -> String? { read(options) }
    /// The default, as typed (nil: off).
    public var defaultValue: String? { read(TrainingOptions()) }

    public func applies(to model: GenerativeModel) -> Bool { models.contains(model) }

    /// The setting named `name`, if there is one.
    public static func named(_ name: String) -> TrainingSetting? { all.first { $0.name == name } }

    /// Every training setting, in the order `settings` lists them.
    public static let all: [TrainingSetting] = [
        choice("loss", \.loss, help: "the game D and G play (explain losses)", models: [.adversarial]),
        whole("batch", \.batchSize, max: 1 << 20, help: "samples in each batch"),
        whole("dsteps", \.dSteps, max: 1000, help: "D steps per G step", models: [.adversarial]),
        number(
            "lambda", \.gpLambda, atLeast: 0, help: "weight of the WGAN-GP gradient penalty", models: [.adversarial]),
        number("gamma", \.r1Gamma, atLeast: 0, help: "weight of the R1 penalty", models: [.adversarial]),
        whole(
            "every", \.r1Every, max: 1000, help: "R1 on every n-th D step only, weighted n times",
            models: [.adversarial]),
        number("clip", \.clip, above: 0, help: "bound of the WGAN critic's weights", models: [.adversarial]),
        fraction(
            "smooth", \.labelSmoothing, help: "one-sided label smoothing: D aims at 1 − smooth for real data",
            models: [.adversarial]),
        fraction(
            "smoothfake", \.fakeLabelSmoothing,
            help: "smoothing of the fake side: D aims at smoothfake for generated data",
            models: [.adversarial]),
        number(
            "noise", \.instanceNoise, atLeast: 0, help: "σ of the instance noise added to all D sees",
            models: [.adversarial]),
        number("beta", \.beta, atLeast: 0, help: "weight of the KL term of a VAE", models: [.variational]),
        TrainingSetting(
            name: "ema", help: "decay of a moving average of G's weights (off by default)",
            models: [.adversarial, .variational], choices: [], rule: "in [0, 1)",
            read: { $0.emaDecay.map { "\($0)" } },
            write: { o, text in o.emaDecay = try parse(text, "ema", "in [0, 1)") { $0 >= 0 && $0 < 1 } }),
        choice("z", \.noise, help: "the distribution of G's noise", models: [.adversarial])
    ]

    static func parse(_ text: String, _ name: String, _ rule: String, _ valid: (Float) -> Bool) throws -> Float {
        guard let v = Float(text), v.isFinite else {
            throw HyperparameterError(message: "\(name) needs a number, found '\(text)'")
        }
        guard valid(v) else { throw HyperparameterError(message: "\(name) must be \(rule), found \(v)") }
        return v
    }

    static func number(
        _ name: String, _ path: WritableKeyPath<TrainingOptions, Float>, atLeast low: Float? = nil, above: Float? = nil,
        help: String, models: Set<GenerativeModel> = [.adversarial, .variational]
    ) -> TrainingSetting {
        let rule = low != nil ? "zero or more" : "above zero"
        return TrainingSetting(
            name: name, help: help, models: models, choices: [], rule: rule,
            read: { "\($0[keyPath: path])" },
            write: { o, text in
                o[keyPath: path] = try parse(text, name, rule) { v in
                    low.map { v >= $0 } ?? above.map { v > $0 } ?? true
                }
            })
    }

    static func fraction(
        _ name: String, _ path: WritableKeyPath<TrainingOptions, Float>, help: String,
        models: Set<GenerativeModel>
    ) -> TrainingSetting {
        TrainingSetting(
            name: name, help: help, models: models, choices: [], rule: "in [0, 1)",
            read: { "\($0[keyPath: path])" },
            write: { o, text in o[keyPath: path] = try parse(text, name, "in [0, 1)") { $0 >= 0 && $0 < 1 } })
    }

    static func whole(
        _ name: String, _ path: WritableKeyPath<TrainingOptions, Int>, max: Int, help: String,
        models: Set<GenerativeModel> = [.adversarial, .variational]
    ) -> TrainingSetting {
        TrainingSetting(
            name: name, help: help, models: models, choices: [], rule: "a whole number 1…\(max)",
            read: { "\($0[keyPath: path])" },
            write: { o, text in
                guard let v = Int(text), v > 0 else {
                    throw HyperparameterError(message: "\(name) needs a positive whole number, found '\(text)'")
                }
                guard v <= max else { throw HyperparameterError(message: "\(name) must be 1…\(max), found \(v)") }
                o[keyPath: path] = v
            })
    }

    static func choice<Value: RawRepresentable & CaseIterable>(
        _ name: String, _ path: WritableKeyPath<TrainingOptions, Value>,
        help: String, models: Set<GenerativeModel>
    ) -> TrainingSetting
    where Value.RawValue == String {
        let names = Value.allCases.map(\.rawValue)
        return TrainingSetting(
            name: name, help: help, models: models, choices: names, rule: "one of " + names.joined(separator: ", "),
            read: { $0[keyPath: path].rawValue },
            write: { o, text in
                guard let v = Value(rawValue: text) else {
                    throw HyperparameterError(
                        message: "unknown \(name) '\(text)'; there are \(names.joined(separator: ", "))"
                            + (suggestion(for: text, among: names).map { " (did you mean '\($0)'?)" } ?? ""))
                }
                o[keyPath: path] = v
            })
    }
}

extension TrainingOptions {
    /// Every setting with a value, as `key=value` words (the checkpoint's `gans.options`).
    public var text: String {
        TrainingSetting.all.compactMap { s in s.value(in: self).map { "\(s.name)=\($0)" } }.joined(separator: " ")
    }

    /// Sets one setting by its name, as typed; a bad value changes nothing.
    public mutating func set(_ key: String, _ value: String) throws {
        guard let setting = TrainingSetting.named(key) else {
            let keys = TrainingSetting.all.map(\.name)
            throw HyperparameterError(
                message: "unknown training option '\(key)'"
                    + (suggestion(for: key, among: keys).map { "; did you mean '\($0)'?" } ?? ""))
        }
        var copy = self
        try setting.write(&copy, value)
        self = copy
    }

    /// Options from `key=value` words; settings not named keep their defaults.
    public init(text: String) throws {
        self.init()
        for word in text.split(separator: " ") {
            let kv = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw HyperparameterError(message: "expected key=value, found '\(word)'") }
            try set(kv[0], kv[1])
        }
    }
}
