import Foundation

/// The processor the core runs on, as Linux describes it in `/proc/cpuinfo`:
/// what `gans-bench` prints beside every figure, and what decides the BLAS
/// kernel family and which copy of the C kernels runs.
public struct CPU: Sendable, CustomStringConvertible {
    /// `GenuineIntel`, `AuthenticAMD`, …
    public var vendor: String
    /// The marketing name, e.g. `AMD EPYC 7B13` (some hypervisors shorten it).
    public var modelName: String
    /// x86 family and model numbers (AMD family 25 is Zen 3 and Zen 4; the model tells them apart).
    public var family: Int?
    public var model: Int?
    /// Every feature flag the kernel reports.
    public var flags: Set<String>

    /// The flags that decide speed here, widest first: AVX-512 (F, BW, DQ, VL, CD all present), AVX2, FMA.
    public var vectorFeatures: [String] {
        var out: [String] = []
        if hasAVX512 { out.append("AVX-512") }
        if flags.contains("avx2") { out.append("AVX2") }
        if flags.contains("fma") { out.append("FMA") }
        return out
    }

    public var hasAVX512: Bool {
        ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"].allSatisfy(flags.contains)
    }

    /// The copy of the C kernels the loader picks: the widest x86-64 level the CPU runs.
    public var kernelLevel: String {
        #if arch(x86_64)
            let v3: Set = ["avx2", "fma", "bmi1", "bmi2", "movbe", "f16c", "abm"]
            if hasAVX512 && v3.isSubset(of: flags) { return "x86-64-v4" }
            if v3.isSubset(of: flags) { return "x86-64-v3" }
            return "baseline"
        #else
            return "baseline"
        #endif
    }

    public var description: String {
        var s = modelName.isEmpty ? vendor : modelName
        if let family, let model { s += " (\(vendor) family \(family) model \(model))" }
        let features = vectorFeatures
        return s + (features.isEmpty ? "" : ", " + features.joined(separator: " "))
    }

    /// This machine's processor (the first one listed; they are all alike here).
    public static let current: CPU = parse((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")

    /// Reads the first processor's block of a `/proc/cpuinfo` text.
    public static func parse(_ text: String) -> CPU {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !fields.isEmpty { break } else { continue }
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = value }
        }
        return CPU(
            vendor: fields["vendor_id"] ?? "unknown",
            modelName: fields["model name"] ?? "",
            family: fields["cpu family"].flatMap { Int($0) },
            model: fields["model"].flatMap { Int($0) },
            flags: Set((fields["flags"] ?? "").split(separator: " ").map(String.init)))
    }
}
