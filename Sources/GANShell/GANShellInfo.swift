import Foundation

/// The version and the built-in example scripts.
public enum GANShellInfo {
    public static let version = "0.5.0"

    public static let examples = ["ring", "digits", "names", "grid"]

    /// The text of a built-in example script.
    public static func example(named name: String) -> String? {
        guard examples.contains(name),
            let url = Bundle.module.url(forResource: name, withExtension: "gans", subdirectory: "examples"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
