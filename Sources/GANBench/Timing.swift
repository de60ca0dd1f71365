import Foundation
import TensorCore
import GANKit

func now() -> Double { SplitChooser.monotonicSeconds() }

/// Runs `body` in repetitions of at least `seconds`, returning the best
/// seconds per call (the least disturbed repetition on a noisy machine).
func bestSecondsPerCall(reps: Int = 3, seconds: Double = 0.3, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var best = Double.infinity
    for _ in 0..<reps {
        var calls = 0
        let t0 = now()
        var elapsed = 0.0
        repeat {
            try body()
            calls += 1
            elapsed = now() - t0
        } while elapsed < seconds
        best = min(best, elapsed / Double(calls))
    }
    return best
}

/// Current resident set size in MiB (Linux /proc), or 0.
func currentRSSMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = s.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

/// Peak resident set size in MiB.
func peakRSSMiB() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_maxrss) / 1024
}

func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }

/// One JSON object on one line, keys in the given order.
func emit(_ fields: [(String, Any)]) {
    func encode(_ v: Any) -> String {
        switch v {
        case let s as String: return JSONValue.quote(s)
        case let d as Double: return d.isFinite ? "\(d)" : "null"
        case let i as Int: return "\(i)"
        case let b as Bool: return b ? "true" : "false"
        case let o as [(String, Any)]:
            return "{" + o.map { JSONValue.quote($0.0) + ":" + encode($0.1) }.joined(separator: ",") + "}"
        case let a as [Any]: return "[" + a.map(encode).joined(separator: ",") + "]"
        default: return JSONValue.quote("\(v)")
        }
    }
    print(encode(fields))
    fflush(stdout)
}

/// How a trainer's steps ran: the split policy and the share of steps run on one core.
func splitFields(_ t: Trainer) -> [(String, Any)] {
    let c = t.splitChooser
    let total = max(1, c.splitSteps + c.soloSteps)
    return [
        ("split_policy", c.policy.rawValue), ("solo_step_percent", round2(100 * Double(c.soloSteps) / Double(total))),
        ("split_switches", c.switches)
    ]
}

func blasFields() -> [(String, Any)] {
    let info = BLAS.info
    let cpu = CPU.current
    return [
        ("cpu", cpu.modelName), ("cpu_vendor", cpu.vendor), ("cpu_family", cpu.family ?? -1),
        ("cpu_model", cpu.model ?? -1),
        ("cpu_features", cpu.vectorFeatures.joined(separator: " ")), ("c_kernels", cpu.kernelLevel),
        ("blas", info.library), ("core", info.kernel), ("gemm_kernels", info.kernels),
        ("convolutions", BLAS.convolutions), ("core_choice", info.choice),
        ("gemm_split_cores", info.threads)
    ]
}
