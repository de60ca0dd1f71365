import Foundation
@testable import GANShell
import GANKit
import TensorCore
import TestSupport
import XCTest

/// Broken copies of real files the shell wrote (`save gan`, `save G`, `save t`
/// for a GAN with a moving average, a WGAN-GP with spectral norm and RMSprop,
/// a VAE and a conditional GAN on digits), each loaded the way a user would.
/// Every mutant must be refused with an error that names the problem, or load
/// and belong to a kind documented as harmless (docs/architecture.md, "How
/// input is validated"); none may crash, and nothing loaded may be non-finite.
final class CheckpointMutantTests: XCTestCase {
    struct Source { var data: String; var file: String; var bytes: [UInt8]; var load: String }

    /// Mutations that can leave a file loadable and still correct to use.
    static let harmless: Set<String> = [
        "a finite weight changed",  // no checksum can tell a trained value from another
        "an unread metadata key",  // `format` and keys gans does not read
        "padding",  // the header's trailing spaces
        "history value",  // step statistics are a record, not state
        "another valid random state",  // the generator's words are any 4 numbers, not all zero
        "no data fingerprint",  // files from before fingerprints were written are trusted by data name
        "no init recorded"  // files from before the weight init was written: layers rebuilt later get PyTorch's
    ]

    /// What a header-byte mutant that still parses changed, in the terms of `harmless`.
    func headerChange(_ original: [UInt8], _ mutant: [UInt8]) -> String {
        guard let a = try? SafeTensors.decode(original), let b = try? SafeTensors.decode(mutant) else {
            return "header byte"
        }
        guard a.names == b.names,
            zip(a.tensors, b.tensors).allSatisfy({
                $0.tensor.scalars == $1.tensor.scalars || $0.tensor.scalars.contains(where: \.isNaN)
            })
        else {
            return "header byte"
        }
        let read: Set<String> = [
            "gans.kind", "gans.network", "gans.init", "gans.G", "gans.D", "gans.G.init", "gans.D.init", "gans.model",
            "gans.decoder", "gans.encoder", "gans.decoder.init", "gans.encoder.init",
            "gans.data",
            "gans.noise", "gans.conditioning", "gans.options", "gans.optG", "gans.optD", "gans.counters", "gans.rng"
        ]
        let changed = Set(a.metadata.keys).union(b.metadata.keys).filter { a.metadata[$0] != b.metadata[$0] }
        if changed.isSubset(of: ["gans.rng"]) { return "another valid random state" }
        if changed.contains("gans.data.fingerprint"), b.metadata["gans.data.fingerprint"] == nil,
            changed.subtracting(["gans.data.fingerprint"]).allSatisfy({ !read.contains($0) })
        {
            return "no data fingerprint"
        }
        let inits: Set<String> = ["gans.init", "gans.G.init", "gans.D.init", "gans.decoder.init", "gans.encoder.init"]
        if changed.contains(where: { inits.contains($0) && b.metadata[$0] == nil }),
            changed.allSatisfy({ (inits.contains($0) && b.metadata[$0] == nil) || !read.contains($0) })
        {
            return "no init recorded"
        }
        if changed.allSatisfy({ !read.contains($0) && $0 != "gans.data.fingerprint" }) {
            return "an unread metadata key"
        }
        return "header byte"
    }

    func sources(in dir: String) throws -> [Source] {
        let setups: [(String, String, [String])] = [
            (
                "data ring8",
                "seed 1; net G = noise 2 | linear 8 | relu | linear 2; net D = input 2 | linear 8 | relu | linear 1; gan G D batch=8 ema=0.9; step; step",
                ["gan", "G", "t"]
            ),
            (
                "data ring8",
                "seed 2; net G = noise 2 | linear 8 | batchnorm | relu | linear 2; net D = input 2 | sn linear 8 | leakyrelu 0.2 | linear 1; gan G D batch=8 loss=wgan-gp opt=rmsprop; step",
                ["gan", "D"]
            ),
            (
                "data ring8",
                "seed 3; net E = input 2 | linear 8 | relu | linear 4; net G = noise 2 | linear 8 | relu | linear 2; vae E G batch=8; step",
                ["gan"]
            ),
            (
                "data digits",
                "seed 4; net G = noise 14 | linear 64 | tanh | reshape 1 8 8; net D = input 11 8 8 | flatten | linear 16 | relu | linear 1; gan G D batch=8 cond=onehot; step",
                ["gan", "G"]
            )
        ]
        var out: [Source] = []
        for (k, (data, setup, saves)) in setups.enumerated() {
            let shell = Interpreter()
            shell.options.directory = dir
            XCTAssertNil(shell.run(data + "; " + setup).error)
            for what in saves {
                let file = "s\(k)-\(what).safetensors"
                if what == "t" { XCTAssertNil(shell.run("t = randn(3, 2)").error) }
                XCTAssertNil(shell.run("save \(what) \(file)").error)
                let bytes = try AtomicFile.read(dir + "/" + file)
                out.append(Source(data: data, file: file, bytes: bytes, load: what == "gan" ? "load gan" : "load X"))
            }
        }
        return out
    }

    struct Mutant { var kind: String; var bytes: [UInt8] }

    /// Re-encodes an archive after `edit`.
    func rewrite(_ bytes: [UInt8], _ edit: (inout SafeTensorsArchive) -> Void) -> [UInt8] {
        guard var a = try? SafeTensors.decode(bytes) else { return bytes }
        edit(&a)
        return (try? SafeTensors.encode(a)) ?? bytes
    }

    func mutants(of bytes: [UInt8], _ r: inout FuzzTests.SplitMix) -> [Mutant] {
        var out: [Mutant] = []
        let headerLen = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        let dataStart = 8 + headerLen
        func setLength(_ n: UInt64) -> [UInt8] {
            var b = bytes; for i in 0..<8 { b[i] = UInt8((n >> (8 * UInt64(i))) & 0xFF) }; return b
        }
        // Structure.
        for _ in 0..<4 { out.append(Mutant(kind: "truncated", bytes: Array(bytes.prefix(r.below(bytes.count))))) }
        for n: UInt64 in [0, 1, UInt64(headerLen - 1), UInt64(headerLen + 1), UInt64(bytes.count), 1 << 40, UInt64.max]
        {
            out.append(Mutant(kind: "header length", bytes: setLength(n)))
        }
        out.append(Mutant(kind: "appended bytes", bytes: bytes + [0, 0, 0, 0]))
        for _ in 0..<6 {
            var b = bytes
            let i = 8 + r.below(headerLen)
            b[i] ^= UInt8(1 << r.below(8))
            // Flipping a bit of a trailing space keeps the header's meaning only if it stays white space.
            let kind =
                bytes[i] == 0x20 && i >= 8 + headerLen - 8 && [0x20, 0x09, 0x0A, 0x0D].contains(b[i])
                ? "padding" : "header byte"
            out.append(Mutant(kind: kind, bytes: b))
        }
        // Values.
        guard let archive = try? SafeTensors.decode(bytes) else { return out }
        let names = archive.names
        for special: Float in [.nan, .infinity, -.infinity] {
            for _ in 0..<3 {
                let name = r.pick(names)
                guard let t = archive[name], t.count > 0 else { continue }
                let k = r.below(t.count)
                out.append(
                    Mutant(
                        kind: name.hasPrefix("history.") ? "history value" : "non-finite \(name)",
                        bytes: rewrite(bytes) { a in
                            let c = a[name]!.copy(); c.withUnsafeMutableBufferPointer { $0[k] = special }
                            a.tensors = a.tensors.map { $0.name == name ? (name, c) : $0 }
                        }))
            }
        }
        for _ in 0..<3 where dataStart < bytes.count {
            // A finite weight changed to another finite value.
            let name = r.pick(
                names.filter {
                    !$0.hasPrefix("history.") && $0 != "data.order" && !$0.hasPrefix("opt") && $0 != "fixed_labels"
                })
            guard let t = archive[name], t.count > 0 else { continue }
            let k = r.below(t.count)
            out.append(
                Mutant(
                    kind: name.hasSuffix("running_var") ? "negative variance" : "a finite weight changed",
                    bytes: rewrite(bytes) { a in
                        let c = a[name]!.copy();
                        c.withUnsafeMutableBufferPointer {
                            $0[k] = name.hasSuffix("running_var") ? -0.5 : $0[k] * 1.5 + 0.25
                        }
                        a.tensors = a.tensors.map { $0.name == name ? (name, c) : $0 }
                    }))
        }
        // Tensors missing, extra, renamed, reshaped.
        let removed = r.pick(names)
        out.append(
            Mutant(
                kind: "missing tensor " + removed,
                bytes: rewrite(bytes) { a in a.tensors.removeAll { $0.name == removed } }))
        out.append(
            Mutant(
                kind: "extra tensor", bytes: rewrite(bytes) { a in a.tensors.append(("extra.weight", Tensor([1, 2]))) })
        )
        out.append(
            Mutant(
                kind: "renamed tensor",
                bytes: rewrite(bytes) { a in
                    let i = r.below(a.tensors.count); a.tensors[i].name += "x"
                }))
        out.append(
            Mutant(
                kind: "reshaped tensor",
                bytes: rewrite(bytes) { a in
                    let i = r.below(a.tensors.count); let t = a.tensors[i].tensor
                    a.tensors[i].tensor = (try? t.reshaped(to: [t.count])) ?? t
                    if t.rank == 1 { a.tensors[i].tensor = Tensor(zeros: [t.count + 1]) }
                }))
        // Metadata.
        let hostile: [(String, [String])] = [
            (
                "gans.counters",
                [
                    "d=9223372036854775807 g=1 epoch=0 batches=1 optG=1 optD=1 position=0",
                    "d=-1 g=1 epoch=0 batches=1 optG=1 optD=1 position=0",
                    "d=1 g=1 epoch=0 batches=1 optG=-1 optD=1 position=0", "garbage", "",
                    "d=1 d=1 g=1 epoch=0 batches=1 optG=1 optD=1 position=0",
                    "d=1 g=1 epoch=0 batches=1 optG=1 optD=1 position=99999999"
                ]
            ),
            (
                "gans.options",
                [
                    "loss=nonsat batch=100000000", "loss=nonsat batch=9223372036854775807",
                    "loss=nonsat batch=8 clip=-1",
                    "loss=wgan-gp batch=8 lambda=-3", "loss=nope", "batch", "loss=nonsat batch=8 ema=2"
                ]
            ),
            (
                "gans.optG",
                ["adam lr=0.001 beta1=0.9 beta2=0.999 eps=0 weight_decay=0", "adam lr=nan", "nadam lr=1", "adam lr"]
            ),
            (
                "gans.G",
                [
                    "noise 2 | linear 8192 | linear 8192 | linear 8192 | linear 8192",
                    "noise 2 | linear 8 | reshape 4611686018427387904 2",
                    "input 1 8 8 | conv 4 k=3 p=4611686018427387904", "noise 2 | linear 8 | relu", "noise 2",
                    "noise 99999999999999999999 | linear 2",
                    "input 1 2 2 | convt 4 k=3 s=16777216 | convt 4 k=3 s=16777216"
                ]
            ),
            (
                "gans.network",
                ["input 8192 | linear 8192 | linear 8192 | linear 8192 | linear 8192", "input 2 | linear 4", "input 2"]
            ),
            ("gans.noise", ["cauchy"]), ("gans.conditioning", ["embedding 99999999999", "telepathy"]),
            ("gans.rng", ["1 2 3 4 2143289344", "0 0 0 0 -", "1 2 3", "a b c d e"]),
            ("gans.data", ["ring9"]), ("gans.data.fingerprint", ["ring(modes: 8, radius: 5.0, std: 0.02)"]),
            ("gans.kind", ["network", "training", "tensor", "x"]), ("gans.model", ["diffusion"]),
            ("format", ["np"])
        ]
        for (key, values) in hostile where archive.metadata[key] != nil || key == "gans.kind" {
            for v in values {
                out.append(
                    Mutant(
                        kind: key == "format" ? "an unread metadata key" : "metadata \(key)",
                        bytes: rewrite(bytes) { $0.metadata[key] = v }))
            }
        }
        if archive["data.order"] != nil {
            out.append(
                Mutant(
                    kind: "data order",
                    bytes: rewrite(bytes) { a in
                        a.tensors = a.tensors.map {
                            $0.name == "data.order" ? ($0.name, Tensor(zeros: [max(1, $0.tensor.count)])) : $0
                        }
                    }))
        }
        // A dtype other than F32, with consistent sizes; a key repeated inside the header.
        if let h = String(bytes: bytes[8..<dataStart], encoding: .utf8) {
            func withHeader(_ text: String) -> [UInt8] {
                var hb = Array(text.utf8); while hb.count % 8 != 0 { hb.append(0x20) }
                var b: [UInt8] = []; var n = UInt64(hb.count).littleEndian
                withUnsafeBytes(of: &n) { b.append(contentsOf: $0) }
                return b + hb + Array(bytes[dataStart...])
            }
            out.append(Mutant(kind: "dtype", bytes: withHeader(h.replacingOccurrences(of: "\"F32\"", with: "\"I32\""))))
            out.append(
                Mutant(
                    kind: "repeated key",
                    bytes: withHeader(
                        h.replacingOccurrences(of: "{\"format\":\"pt\"", with: "{\"format\":\"pt\",\"format\":\"pt\"")))
            )
            out.append(
                Mutant(
                    kind: "repeated key",
                    bytes: withHeader(
                        h.replacingOccurrences(of: "\"dtype\":\"F32\"", with: "\"dtype\":\"F32\",\"dtype\":\"F32\""))))
        }
        return out
    }

    func testMutantsAreRefusedOrHarmless() throws {
        let scratch = try ScratchFolder()
        var r = FuzzTests.SplitMix(state: 20261201)
        var outcomes: [String: (refused: Int, loaded: Int)] = [:]
        var total = 0
        for source in try sources(in: scratch.path) {
            // Several rounds of random choices per file.
            for _ in 0..<4 {
                for m in mutants(of: source.bytes, &r) where m.bytes != source.bytes {
                    total += 1
                    let path = scratch.path + "/mutant.safetensors"
                    try AtomicFile.write(m.bytes, to: path)
                    let shell = Interpreter()
                    shell.options.directory = scratch.path
                    XCTAssertNil(shell.run(source.data).error)
                    let line = source.load == "load gan" ? "load gan mutant.safetensors" : "load X mutant.safetensors"
                    let result = shell.run(line)
                    if let e = result.error {
                        XCTAssertFalse(e.message.isEmpty)
                        XCTAssertTrue(e.message.count > 20, "\(m.kind): vague error '\(e.message)'")
                        outcomes[m.kind, default: (0, 0)].refused += 1
                        continue
                    }
                    let kind = m.kind == "header byte" ? headerChange(source.bytes, m.bytes) : m.kind
                    outcomes[kind, default: (0, 0)].loaded += 1
                    let said = TextRenderer().render(result.outputs)
                    // What loaded is finite, or says it is not (a plain tensor may hold NaN on purpose).
                    let finite = shell.workspace.bindings.networks.values.allSatisfy {
                        $0.stateDict.allSatisfy { $0.tensor.allFinite }
                    }
                    XCTAssertTrue(finite, "\(m.kind) in \(source.file): a network loaded with non-finite values")
                    if case .tensor(let t)? = shell.workspace.bindings.variables["X"], !t.allFinite {
                        XCTAssertTrue(
                            said.contains("NaN or infinite"), "\(m.kind): a non-finite tensor loaded silently")
                    } else {
                        // A plain tensor file has nothing to check its tensor against: any valid one is a tensor.
                        let plain =
                            source.file.hasSuffix("-t.safetensors")
                            && ["renamed tensor", "reshaped tensor", "header byte"].contains(kind)
                        var detail = ""
                        if let i = m.bytes.indices.first(where: {
                            $0 < source.bytes.count && m.bytes[$0] != source.bytes[$0]
                        }) {
                            detail =
                                "at byte \(i): "
                                + String(
                                    decoding: source.bytes[max(8, i - 30)..<min(source.bytes.count, i + 10)],
                                    as: UTF8.self)
                                + " → "
                                + String(decoding: m.bytes[max(8, i - 30)..<min(m.bytes.count, i + 10)], as: UTF8.self)
                        }
                        XCTAssertTrue(
                            Self.harmless.contains(kind) || plain,
                            "\(kind) in \(source.file) loaded: \(said.prefix(100)) \(detail)")
                    }
                    // What loaded can be used: a step and samples either work or fail with a message.
                    for use in ["step", "sample 4", "show gan"] { _ = TextRenderer().render(shell.run(use).outputs) }
                }
            }
        }
        XCTAssertGreaterThanOrEqual(total, 500)
        let refused = outcomes.values.reduce(0) { $0 + $1.refused },
            loaded = outcomes.values.reduce(0) { $0 + $1.loaded }
        print("checkpoint mutants: \(total), refused \(refused), loaded \(loaded) (harmless kinds only)")
        for (k, v) in outcomes.sorted(by: { $0.key < $1.key }) {
            print("  \(k): refused \(v.refused), loaded \(v.loaded)")
        }
    }
}
