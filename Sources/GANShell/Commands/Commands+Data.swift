import Foundation
import GANKit
import TensorCore

extension CommandTable {
    static let builtinData = [
        "ring8", "grid25", "ring", "grid", "spiral", "moons", "circles", "gaussian", "line",
        "digits", "mnist5k", "names", "shakespeare"
    ]
    static let fileData = ["csv", "text", "mnist", "images"]
    /// The options of `data`; each source takes some of them.
    static let dataOptions = [
        "modes", "radius", "std", "side", "spacing", "turns", "noise", "factor", "length", "limit",
        "label", "labels", "size", "channels", "steps"
    ]

    static let dataCommands: [Command] = [
        Command(
            "data", group: .data, usage: "data NAME [key=value …] | data csv|text|mnist|images PATH [key=value …]",
            summary: "loads a dataset: built-in points, digits, names or text, or your own file",
            details: """
                Built-in points (fresh samples every batch): ring8 (8 Gaussians on a circle), grid25 (5×5 Gaussians),
                ring modes= radius= std=, grid side= spacing= std=, spiral turns= radius= noise=, moons noise=,
                circles factor= noise=, gaussian std=, line length= noise=.
                Built-in sets: digits (1,797 UCI digits 8×8), mnist5k (5,000 MNIST digits 28×28),
                names length=16 (32,033 names as one-hot letters), shakespeare length=32 limit=10000.
                Your files: csv PATH label=first|last|none|N (one sample per row), text PATH length=N (windows of
                N characters) or text PATH lines (one sample per line), mnist PATH labels=PATH (IDX files, raw or
                gzip), images PATH size=28 channels=1 (a folder of PNG/PGM/PPM).
                Images are scaled to [−1, 1]. A GAN keeps the data it was assembled with.
                """,
            examples: ["data ring8", "data ring modes=6 radius=1.5", "data digits", "data csv points.csv label=none"],
            takes: .words(3, keywords: builtinData + fileData + ["lines"], options: dataOptions)
        ) { shell, args, w, _ in
            try shell.loadData(args, w)
        }
    ]
}

extension Interpreter {
    func loadData(_ args: Arguments, _ w: CommandWords) throws -> [Output] {
        let nameWord = try w.word(
            0, "a dataset name (" + CommandTable.builtinData.joined(separator: ", ") + ") or csv/text/mnist/images PATH"
        )
        let name = nameWord.text
        let steps = try w.intOption("steps", max: 1_000_000) ?? 100
        func f(_ key: String, _ d: Float) throws -> Float { try w.float(key) ?? d }
        func synthetic(_ s: Synthetic2D, _ n: String) throws -> DataEntry {
            let source = try s.dataset(name: n, stepsPerEpoch: steps)
            return DataEntry(name: n, command: args.rawText(), source: source, kind: .points, mixture: try s.mixture())
        }
        func set(_ d: TensorDataset, words: [String]? = nil) -> DataEntry {
            DataEntry(name: d.name, command: args.rawText(), source: d, kind: d.kind, samples: d, words: words)
        }
        func path() throws -> String {
            let p = try w.word(1, "a path")
            return resolve(p.text)
        }
        let entry: DataEntry
        switch name {
        case "ring8": try w.noMoreThan(1); entry = try synthetic(.ring(), "ring8")
        case "grid25": try w.noMoreThan(1); entry = try synthetic(.grid(), "grid25")
        case "ring":
            let m = try w.intOption("modes", max: 1000) ?? 8
            entry = try synthetic(.ring(modes: m, radius: try f("radius", 2), std: try f("std", 0.02)), "ring\(m)")
        case "grid":
            let s = try w.intOption("side", max: 100) ?? 5
            entry = try synthetic(.grid(side: s, spacing: try f("spacing", 2), std: try f("std", 0.05)), "grid\(s * s)")
        case "spiral":
            entry = try synthetic(
                .spiral(turns: try f("turns", 1.5), radius: try f("radius", 3), noise: try f("noise", 0.05)), "spiral")
        case "moons": entry = try synthetic(.moons(noise: try f("noise", 0.05)), "moons")
        case "circles":
            entry = try synthetic(.circles(factor: try f("factor", 0.5), noise: try f("noise", 0.03)), "circles")
        case "gaussian": entry = try synthetic(.gaussian(std: try f("std", 1)), "gaussian")
        case "line": entry = try synthetic(.line(length: try f("length", 4), noise: try f("noise", 0.02)), "line")
        case "digits": entry = set(try BuiltinData.digits())
        case "mnist5k": entry = set(try BuiltinData.mnist5k())
        case "names":
            let length = try w.intOption("length", min: 2, max: 64) ?? 16
            entry = set(try BuiltinData.names(length: length), words: try BuiltinData.nameList())
        case "shakespeare":
            let length = try w.intOption("length", min: 2, max: 256) ?? 32
            let limit = try w.intOption("limit", max: 1_000_000) ?? 10_000
            entry = set(try BuiltinData.shakespeareWindows(length: length, limit: limit))
        case "csv":
            let p = try path()
            let label: Loaders.LabelColumn
            switch w.option("label") ?? "none" {
            case "none": label = .none
            case "first": label = .first
            case "last": label = .last
            case let s:
                guard let i = Int(s), i >= 0 else {
                    throw ShellError(
                        .value, "label must be first, last, none or a column number, found '\(s)'",
                        at: nameWord.location)
                }
                label = .index(i)
            }
            let (x, y) = try Loaders.csv(p, label: label)
            // TensorDataset checks that every label is a class index and counts the classes.
            entry = set(try TensorDataset(name: fileName(p), samples: x, labels: y))
        case "text":
            let p = try path()
            let lines = w.positional.count > 2 && w.positional[2].text == "lines"
            let mode: Loaders.TextMode =
                lines
                ? .lines(length: try w.intOption("length", min: 2, max: 256))
                : .characters(
                    length: try w.intOption("length", min: 2, max: 256) ?? 16,
                    limit: try w.intOption("limit", max: 1_000_000) ?? 10_000)
            let d = try Loaders.text(p, mode: mode)
            var words: [String]? = nil
            if lines {
                words = String(decoding: try AtomicFile.read(p), as: UTF8.self).split(separator: "\n").map(String.init)
            }
            entry = set(d, words: words)
        case "mnist":
            let p = try path()
            var x = try Loaders.idx(p)
            guard x.rank == 3 else {
                throw ShellError(.file, "\(p): an image IDX file holds [N, H, W], found \(Format.shape(x.shape))")
            }
            let maxValue = max(x.scalars.max() ?? 1, 1)
            x = try (x * (2 / maxValue) - 1).reshaped(to: [x.shape[0], 1, x.shape[1], x.shape[2]])
            var labels: Tensor? = nil
            if let lp = w.option("labels") {
                let l = try Loaders.idx(resolve(lp))
                guard l.shape == [x.shape[0]] else {
                    throw ShellError(.file, "\(lp): expected \(x.shape[0]) labels, found \(Format.shape(l.shape))")
                }
                labels = l
            }
            let d = try TensorDataset(name: fileName(p), samples: x, labels: labels)
            d.kind = .images
            entry = set(d)
        case "images":
            let d = try Loaders.imageFolder(
                try path(), size: try w.intOption("size", max: 1024) ?? 28,
                channels: try w.intOption("channels", max: 3) ?? 1)
            entry = set(d)
        default:
            throw ShellError(
                .name,
                "unknown dataset '\(name)'"
                    + (nearest(to: name, among: CommandTable.builtinData + CommandTable.fileData).map {
                        "; did you mean '\($0)'?"
                    }
                        ?? "; built in: " + CommandTable.builtinData.joined(separator: ", ")
                        + "; files: csv, text, mnist, images"),
                at: nameWord.location, length: nameWord.length)
        }
        workspace.bindings.data = entry
        var out = describe(entry)
        if let s = workspace.session, s.data !== entry {
            out +=
                "\n(the GAN keeps training on \(s.data.name); assemble a new one with 'gan \(s.generatorName) \(s.partnerName)' to use these data)"
        }
        return [.text(out)]
    }

    func describe(_ d: DataEntry) -> String {
        let shape = Format.shape(d.source.sampleShape)
        var s = "\(d.name): "
        switch d.kind {
        case .points: s += "points \(shape)"
        case .images: s += "images \(shape)"
        case .sequences(let code): s += "sequences \(shape) (\(code.length) characters of \(code.vocabularySize))"
        }
        if let set = d.samples {
            s += ", \(Format.count(set.count)) samples"
        } else {
            s += ", fresh samples every batch"
        }
        if let c = d.source.classCount { s += ", \(c) classes" }
        if let m = d.mixture { s += ", \(m.centers.count) modes" }
        return s
    }

    func resolve(_ path: String) -> String {
        var p = path
        if options.confined, let dir = options.directory {
            let name = (p as NSString).lastPathComponent
            return dir + "/" + (name.isEmpty || name == ".." || name == "." ? "file" : name)
        }
        if p.hasPrefix("~/") { p = NSHomeDirectory() + p.dropFirst(1) }
        if !p.hasPrefix("/"), let dir = options.directory { p = dir + "/" + p }
        return p
    }

    func fileName(_ p: String) -> String { ((p as NSString).lastPathComponent as NSString).deletingPathExtension }
}
