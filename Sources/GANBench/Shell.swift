import Foundation
import GANShell
import TensorCore

/// Shell latencies: the time from starting the `gans` binary beside this one
/// to the end of a trivial script (median of spawns), and in-process parse +
/// run time of commands that do not train (median of repetitions).
func benchShell(quick: Bool) throws {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "gans"
    ).path
    /// Seconds from spawning `gans -c COMMANDS` to its exit, one run.
    func spawn(_ commands: String) -> Double? {
        guard FileManager.default.isExecutableFile(atPath: binary) else { return nil }
        // posix_spawn and waitpid: Foundation's Process adds tens of ms of its own.
        let argv: [UnsafeMutablePointer<CChar>?] = [
            strdup(binary), strdup("-c"), strdup(commands), strdup("--quiet"), nil
        ]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let t0 = now()
        guard posix_spawn(&pid, binary, nil, nil, argv, environ) == 0 else { return nil }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return now() - t0
    }
    func median(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.sorted()[xs.count / 2] }
    let runs = quick ? 5 : 20
    let starts = (0..<runs).compactMap { _ in spawn("quit") }
    // Loading a shipped image set in a new process (its decoded copy from an earlier run is warm).
    let mnistLoads = (0..<runs).compactMap { _ in spawn("data mnist5k") }

    let shell = Interpreter()
    _ = shell.run(
        "data ring8; net G = noise 2 | linear 128 | relu | linear 128 | relu | linear 2; net D = input 2 | linear 128 | relu | linear 128 | relu | linear 1; gan G D batch=256; step 10"
    )
    let commands = [
        "help", "help gan", "explain wasserstein", "show D.2.weight", "show G", "show gan", "vars", "grads",
        "history 20",
        "x = randn(256, 2)", "D(G(x))", "G insert 2 batchnorm", "G remove 2", "snapshot s", "restore s", "sample 16",
        "set lr 2e-4"
    ]
    var fields: [(String, Any)] = [
        ("workload", "shell"), ("start_to_exit_ms", round2(median(starts) * 1000)),
        ("data_mnist5k_new_process_ms", round2((median(mnistLoads) - median(starts)) * 1000))
    ]
    var worst = 0.0
    for c in commands {
        var times: [Double] = []
        for _ in 0..<(quick ? 5 : 25) {
            let t0 = now()
            let r = shell.run(c)
            times.append(now() - t0)
            if let e = r.error {
                throw NSError(
                    domain: "gans-bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(c): \(e.message)"])
            }
        }
        let m = median(times) * 1000
        worst = max(worst, m)
        fields.append((c, round2(m)))
    }
    fields.append(("slowest_command_ms", round2(worst)))
    emit(fields)
}
