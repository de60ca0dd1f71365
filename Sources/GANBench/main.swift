// gans-bench: the benchmark workloads, one JSON line each.
//
//   gans-bench gemm      GFLOP/s of square sizes 64…2048 and the GAN shapes
//   gans-bench ops       per-op overhead with autograd, elementwise throughput
//   gans-bench memory    RSS over a long forward/backward loop on a small MLP
//
// Build in release mode (scripts/bench does): debug builds are many times slower.
import Foundation
import TensorCore

let args = Array(CommandLine.arguments.dropFirst())
let usage = """
    usage: gans-bench <workload> [options]
      gemm [--quick] [--shape M,N,K[,TA,TB]]…  GFLOP/s for square sizes 64…2048 and the GAN layer shapes, or
                                        for the given products only, as one block and as split
      conv [--quick]             GFLOP/s of each pass of the DCGAN convolutions, one block and split
      ops [--quick]              µs per recorded op (forward+backward) and elementwise GB/s
      memory [--steps N]         RSS across N forward/backward steps of a small MLP (default 100000)
      toy2d [--steps N] [--seeds S…]        vanilla GAN on the ring of 8 (the reference toy2d.py)
      wgan-gp-toy [--steps N] [--seeds S…]  WGAN-GP on the ring of 8 (the reference wgan_gp_toy.py)
      mlp-gan [--epochs N]                  MLP GAN, 937-step epochs of MNIST-shaped data (mlp_gan.py)
      dcgan [--steps N] [--reps R]          DCGAN on 28x28 data, blocks of steps (dcgan.py)
      profile-op [--iterations N]           a tight loop of one small recorded op, to run under a profiler
      shell [--quick]                       start-to-exit time of gans and ms per command that does not train
      busy WORKLOAD [--rounds R]            WORKLOAD (toy2d, wgan-gp-toy, mlp-gan, dcgan) quiet and beside a process
                                            spinning on the last CPU, interleaved; prints the speed ratio busy / quiet
      spin --cpu C                          spin on CPU C until killed (the busy neighbour)
      view [--epochs N] [--rounds R] [--cells C]  the live view read by a tab: cell latency and peak RSS over a
                                            C-cell session (1000), train N epochs (40) with and without it, interleaved
    """

guard let workload = args.first else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
}
let quick = args.contains("--quick")
func option(_ name: String, default value: Int) -> Int {
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return value }
    return v
}

func seedsOption() -> [UInt64] {
    guard let i = args.firstIndex(of: "--seeds") else { return [0, 1, 2] }
    return args[(i + 1)...].prefix { !$0.hasPrefix("--") }.compactMap { UInt64($0) }
}

switch workload {
case "gemm":
    var shapes: [[Int]] = []
    for i in args.indices where args[i] == "--shape" {
        let text = i + 1 < args.count ? args[i + 1] : ""
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard (3...5).contains(parts.count), parts.allSatisfy({ $0 != nil }),
            parts.prefix(3).allSatisfy({ $0! >= 1 && $0! <= 1 << 14 }),
            parts.dropFirst(3).allSatisfy({ $0 == 0 || $0 == 1 })
        else {
            FileHandle.standardError.write(
                Data(
                    "gans-bench gemm: --shape expects M,N,K[,TA,TB] with sizes 1 to 16384 and TA, TB 0 or 1, found '\(text)'\n"
                        .utf8))
            exit(2)
        }
        shapes.append(parts.map { $0! })
    }
    benchGEMM(quick: quick, shapes: shapes)
case "conv": try benchConv(quick: quick)
case "ops": try benchOps(quick: quick)
case "memory": try benchMemory(steps: option("--steps", default: 100_000))
case "toy2d": try benchToy(wgan: false, steps: option("--steps", default: 2000), seeds: seedsOption())
case "wgan-gp-toy": try benchToy(wgan: true, steps: option("--steps", default: 2000), seeds: seedsOption())
case "mlp-gan": try benchMLPGAN(epochs: option("--epochs", default: 3))
case "dcgan": try benchDCGAN(steps: option("--steps", default: 200), reps: option("--reps", default: 3))
case "profile-op": try profileSmallOp(iterations: option("--iterations", default: 200_000))
case "shell": try benchShell(quick: quick)
case "busy":
    guard args.count > 1 else {
        FileHandle.standardError.write(Data("gans-bench busy: which workload?\n\(usage)\n".utf8)); exit(2)
    }
    try benchBusy(workload: args[1], rounds: option("--rounds", default: 3))
case "view":
    try benchView(
        epochs: option("--epochs", default: 40), rounds: option("--rounds", default: 3),
        cells: option("--cells", default: 1000))
case "spin": spin(cpu: option("--cpu", default: 1))
case "-h", "--help", "help": print(usage)
default:
    FileHandle.standardError.write(Data("gans-bench: unknown workload '\(workload)'\n\(usage)\n".utf8))
    exit(2)
}
