import Foundation
import GANKit
import TensorCore

/// The entry points of the coverage-guided fuzzers (`scripts/fuzz`) and of the
/// tests that replay what they found. Each takes arbitrary bytes; whatever they
/// hold, the call must return (an error is fine, a trap is the bug).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Shell statements run on a small workspace holding a GAN on ring8.
    case shell
    /// A file given to `load gan`, `load NAME` and the safetensors reader.
    case checkpoint
    /// A file given to every data loader: CSV, IDX (raw or gzip), text, PGM/PPM, PNG.
    case loaders

    /// A folder of this process for the files the targets write and read.
    static let folder: String = {
        let path = NSTemporaryDirectory() + "gans-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Options that keep one input small: few steps, small tensors, files confined to `folder`.
    static var options: ShellOptions {
        var o = ShellOptions()
        o.maxSteps = 4
        o.maxElements = 1 << 18
        o.maxMemory = 256 << 20
        o.directory = folder
        o.confined = true
        o.timings = false
        return o
    }

    static let prelude =
        "data ring8; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=8"

    /// Runs one input; returns the number of statements that failed (for the harness's statistics).
    @discardableResult
    public func run(_ bytes: [UInt8]) -> Int {
        Random.seed(1)
        Interrupt.clear()
        switch self {
        case .shell:
            let shell = Interpreter(options: Self.options)
            _ = shell.run(Self.prelude)
            let text = String(decoding: bytes.prefix(1 << 16), as: UTF8.self)
            var failed = 0
            for chunk in Script.chunks(text) {
                let r = shell.run(chunk.text, firstLine: chunk.firstLine)
                _ = TextRenderer().render(r.outputs)
                if let e = r.error { failed += 1; _ = Script.format(e, file: "fuzz.gans", source: text) }
                if r.quit { break }
            }
            return failed
        case .checkpoint:
            let path = Self.folder + "/input.safetensors"
            guard (try? AtomicFile.write(bytes, to: path)) != nil else { return 0 }
            let shell = Interpreter(options: Self.options)
            _ = shell.run(Self.prelude)
            var failed = 0
            // Each load, then what uses what it loaded: a step, samples, a look at the values.
            for line in [
                "load gan input.safetensors", "step", "sample 4", "show gan",
                "load H input.safetensors", "H(randn(2, 2))", "show H",
                "load t input.safetensors", "t"
            ] {
                let r = shell.run(line)
                _ = TextRenderer().render(r.outputs)
                if r.error != nil { failed += 1 }
            }
            return failed
        case .loaders:
            guard let selector = bytes.first else { return 0 }
            let body = Array(bytes.dropFirst())
            let kinds = ["csv", "idx", "txt", "txt", "pgm", "png"]
            let path = Self.folder + "/input." + kinds[Int(selector) % kinds.count]
            guard (try? AtomicFile.write(body, to: path)) != nil else { return 0 }
            let limit = Tensor.elementLimit, budget = Tensor.memoryBudget
            Tensor.elementLimit = Self.options.maxElements
            Tensor.memoryBudget = Self.options.maxMemory
            defer { Tensor.elementLimit = limit; Tensor.memoryBudget = budget }
            do {
                switch Int(selector) % kinds.count {
                case 0:
                    let labels: [Loaders.LabelColumn] = [.none, .first, .last, .index(Int(selector / 8) % 4)]
                    _ = try Loaders.csv(path, label: labels[Int(selector / 6) % labels.count])
                case 1: _ = try Loaders.idx(path)
                case 2: _ = try Loaders.text(path, mode: .lines(length: selector < 128 ? nil : Int(selector % 20)))
                case 3: _ = try Loaders.text(path, mode: .characters(length: Int(selector % 16), limit: 100))
                case 4: _ = try Loaders.netpbm(path)
                default: _ = try Loaders.png(path)
                }
                return 0
            } catch {
                _ = "\(error)"
                return 1
            }
        }
    }
}
