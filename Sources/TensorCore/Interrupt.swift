/// Ctrl-C, as long computations see it. The SIGINT handler only counts
/// presses in `requested`; code checks the count between units of work.
///
/// Training stops after the current step at the first press (the steps taken
/// are kept). Other long work — metrics, sampling, plots, export — is
/// abandoned by `check()` once `requested` reaches `abandonAt`: at the
/// prompt the first press, in a script the second (the first stops the
/// script after its current command). An abandoned command throws
/// `InterruptedError`, and the shell puts the workspace back as it was.
public enum Interrupt {
    /// Ctrl-C presses since the last `clear()`.
    nonisolated(unsafe) public static var requested: Int32 = 0
    /// Presses that abandon a command that is not training.
    nonisolated(unsafe) public static var abandonAt: Int32 = 1
    public static var isRequested: Bool { requested != 0 }
    public static func clear() { requested = 0 }
    /// Throws when enough presses have come to abandon the current command.
    public static func check() throws {
        if requested >= abandonAt { throw InterruptedError() }
    }
}

/// A command was abandoned by Ctrl-C before it finished.
public struct InterruptedError: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "interrupted" }
}
