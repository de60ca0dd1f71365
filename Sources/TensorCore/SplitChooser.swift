import CKernels
import Foundation

extension Parallel {
    /// While true, every pool job runs all its chunks on the calling thread,
    /// in order: the same chunks as on all cores, so the same numbers.
    public static var solo: Bool {
        get { gk_pool_solo() != 0 }
        set { gk_pool_set_solo(newValue ? 1 : 0) }
    }
}

/// Chooses, while a loop of training steps runs, whether each step splits
/// its work across the cores or runs on the calling thread alone, by timing
/// both. Splitting pays only while the cores pass data between them quickly;
/// on some machines that path slows down for seconds at a time (a virtual
/// machine whose two CPUs the host moves apart), and a split step then takes
/// longer than the same step on one core. So the loop times a short window
/// of steps each way, keeps the faster way for a while, and times both again.
/// Each round of trials times the kept way first, then the other way, whose
/// trial ends at its first timed step that is clearly slower (a quarter or
/// more): on a step of 70 ms that splits well, the other way costs two steps
/// a round (one to settle the caches, one timed) instead of three.
///
/// Only the step itself is timed, never the caller's work between steps. The
/// choice changes speed, never numbers: a solo step runs the same chunks
/// (`Parallel.solo`). `GANS_SPLIT=always` or `never` fixes the choice.
public struct SplitChooser {
    public enum Policy: String, Sendable { case adaptive, always, never }

    /// The policy of this process: `GANS_SPLIT` (`adaptive` when unset or unknown).
    public static let processPolicy: Policy = {
        let setting = ProcessInfo.processInfo.environment["GANS_SPLIT"]?.lowercased() ?? ""
        return Policy(rawValue: setting) ?? .adaptive
    }()

    /// A trial window lasts about this long (at least `minimumWindow` steps).
    static let windowSeconds = 0.02
    static let minimumWindow = 2, maximumWindow = 512
    /// A step of the other way this many times the kept way's ends its trial.
    static let clearlySlower = 1.25
    /// The faster way is kept for this many trials' worth of steps, times
    /// how much slower the other way was: the slower way's trials then cost
    /// at most about 1/(2·keepTrials) of the steps (2%; less when they end
    /// early), and a change of machine is followed within about a second of
    /// toy steps.
    static let keepTrials = 24

    public let policy: Policy
    /// Steps run split across the cores and on one core.
    public private(set) var splitSteps = 0, soloSteps = 0
    /// How many times the choice changed.
    public private(set) var switches = 0

    let clock: () -> Double
    let splitAvailable: Bool

    enum Stage { case first, second, keep }
    var stage = Stage.keep
    var solo = false
    var left = 0, warmUp = 0
    var window = SplitChooser.minimumWindow
    var elapsed = 0.0, measured = 0
    var trialSeconds: (split: Double, solo: Double) = (0, 0)
    var kept: Bool? = nil

    public init(
        policy: Policy = SplitChooser.processPolicy, cores: Int = Parallel.coreCount,
        clock: @escaping () -> Double = SplitChooser.monotonicSeconds
    ) {
        self.policy = policy
        self.splitAvailable = cores > 1
        self.clock = clock
    }

    public static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Whether the next step runs on one core.
    public var nextIsSolo: Bool {
        mutating get {
            switch policy {
            case .always: return false
            case .never: return splitAvailable
            case .adaptive:
                guard splitAvailable else { return false }
                if left == 0 { advance() }
                return solo
            }
        }
    }

    /// Runs one step the chosen way and times it.
    public mutating func run<T>(_ step: () throws -> T) rethrows -> T {
        let alone = nextIsSolo
        let was = Parallel.solo
        Parallel.solo = alone
        defer { Parallel.solo = was }
        let t0 = clock()
        let result = try step()
        record(seconds: clock() - t0, solo: alone)
        return result
    }

    /// Counts a step of `seconds` run the way `nextIsSolo` said.
    mutating func record(seconds: Double, solo alone: Bool) {
        if alone { soloSteps += 1 } else { splitSteps += 1 }
        guard policy == .adaptive, splitAvailable else { return }
        left -= 1
        guard stage != .keep else { return }
        if warmUp > 0 {
            warmUp -= 1  // the first step after a change settles the caches
        } else {
            elapsed += seconds
            measured += 1
            // The other way, clearly slower than the kept way: the trial ends here.
            let kept = solo ? trialSeconds.split : trialSeconds.solo
            if stage == .second && seconds > Self.clearlySlower * kept { left = 0 }
        }
    }

    /// Times `window` steps run the way `alone` says, after `warmUp` steps that are not timed.
    mutating func startTrial(solo alone: Bool, warmUp: Int) {
        solo = alone
        self.warmUp = warmUp
        left = warmUp + window
        elapsed = 0
        measured = 0
    }

    mutating func advance() {
        switch stage {
        case .keep:
            // The kept way first, without a change of way (the very first
            // trial settles the loop's first step instead).
            stage = .first
            startTrial(solo: kept ?? false, warmUp: kept == nil ? 1 : 0)
        case .first:
            note()
            stage = .second
            startTrial(solo: !solo, warmUp: 1)
        case .second:
            note()
            let (split, alone) = trialSeconds
            let pick = alone < split
            if let before = kept, before != pick { switches += 1 }
            kept = pick
            stage = .keep
            solo = pick
            let fastest = Swift.max(Swift.min(split, alone), 1e-9)
            let slowerBy = Swift.min(Swift.max(split, alone) / fastest, 4)
            window = Swift.min(Self.maximumWindow, Swift.max(Self.minimumWindow, Int(Self.windowSeconds / fastest)))
            left = Int(Double(Self.keepTrials * (window + 1)) * slowerBy)
        }
    }

    mutating func note() {
        let perStep = elapsed / Double(Swift.max(measured, 1))
        if solo { trialSeconds.solo = perStep } else { trialSeconds.split = perStep }
    }
}
