import Foundation
import TensorCore

/// `gans-bench spin --cpu C`: pins itself to CPU C and spins until killed,
/// the busy neighbour of `busy`.
func spin(cpu: Int) -> Never {
    if !Parallel.pinProcess(toCPU: cpu) {
        FileHandle.standardError.write(Data("gans-bench spin: could not pin to CPU \(cpu); spinning unpinned\n".utf8))
    }
    var x: UInt64 = 1
    while true { x = x &* 6364136223846793005 &+ 1442695040888963407; if x == 0 { print(x) } }
}

/// `gans-bench busy WORKLOAD`: runs the workload quiet and with another
/// process spinning on the last CPU, interleaved (quiet, busy, quiet, busy, …),
/// each run a fresh process, and reports the median speed of each and their
/// ratio. Training must not collapse when the machine is shared.
func benchBusy(workload: String, rounds: Int) throws {
    let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    let arguments: [String]
    switch workload {
    case "toy2d": arguments = ["toy2d", "--steps", "2000", "--seeds", "0"]
    case "wgan-gp-toy": arguments = ["wgan-gp-toy", "--steps", "300", "--seeds", "0"]
    case "mlp-gan": arguments = ["mlp-gan", "--epochs", "1"]
    case "dcgan": arguments = ["dcgan", "--steps", "60", "--reps", "1"]
    default:
        FileHandle.standardError.write(
            Data("gans-bench busy: unknown workload '\(workload)' (toy2d, wgan-gp-toy, mlp-gan, dcgan)\n".utf8))
        exit(2)
    }
    let busyCPU = max(0, Parallel.coreCount - 1)
    /// Runs one workload process and reads its speed from the JSON line it prints.
    func run() throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: me)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BenchError("gans-bench busy: \(workload) printed no JSON (exit \(p.terminationStatus))")
        }
        for key in ["steps_per_sec_median", "gen_steps_per_sec_median", "steps_per_sec"] {
            if let v = object[key] as? Double { return v }
        }
        throw BenchError("gans-bench busy: \(workload)'s JSON has no speed field")
    }
    var quiet: [Double] = [], busy: [Double] = []
    for _ in 0..<rounds {
        quiet.append(try run())
        let spinner = Process()
        spinner.executableURL = URL(fileURLWithPath: me)
        spinner.arguments = ["spin", "--cpu", "\(busyCPU)"]
        try spinner.run()
        defer { spinner.terminate(); spinner.waitUntilExit() }
        usleep(200_000)
        busy.append(try run())
    }
    emit(
        [
            ("bench", "busy"), ("workload", workload), ("cores", Parallel.coreCount), ("busy_cpu", busyCPU),
            ("quiet_steps_per_sec", quiet.map(round2)), ("busy_steps_per_sec", busy.map(round2)),
            ("quiet_median", round2(median(quiet))), ("busy_median", round2(median(busy))),
            ("busy_over_quiet", round2(median(busy) / median(quiet)))
        ] + blasFields())
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
