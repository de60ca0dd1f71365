// gans-fuzz: built by scripts/fuzz with -sanitize=fuzzer (and FUZZING
// defined), it is a libFuzzer target; GANS_FUZZ_TARGET picks shell,
// checkpoint or loaders. Built normally, it replays inputs:
//   gans-fuzz TARGET FILE…
import Foundation
import GANShell
import TensorCore

#if FUZZING
    let fuzzTarget: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["GANS_FUZZ_TARGET"] ?? "shell"
        guard let t = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(
                Data("gans-fuzz: GANS_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue))\n".utf8))
            exit(2)
        }
        return t
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        fuzzTarget.run(bytes)
        return 0
    }

    typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: FuzzCallback
    ) -> CInt

    /// SwiftPM links an executable's entry point as `<module>_main`; it hands over to libFuzzer's driver.
    @_cdecl("GANFuzz_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        // Inputs ask for tensors of every size: a small cache of freed buffers keeps the fuzzer's memory flat.
        BufferPool.shared.capacityBytes = 32 << 20
        var c = argc
        var v = argv
        return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzOne(data, size) }
    }
#else
    @main
    struct Replay {
        static func main() {
            let args = CommandLine.arguments.dropFirst()
            guard let name = args.first, let target = FuzzTarget(rawValue: name) else {
                FileHandle.standardError.write(
                    Data("usage: gans-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE…\n".utf8))
                exit(2)
            }
            for file in args.dropFirst() {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("gans-fuzz: cannot read \(file)\n".utf8))
                    exit(1)
                }
                let start = Date()
                let failed = target.run([UInt8](data))
                print(
                    "\(file): ran in \(String(format: "%.3f", Date().timeIntervalSince(start))) s, \(failed) error\(failed == 1 ? "" : "s")"
                )
            }
        }
    }
#endif
