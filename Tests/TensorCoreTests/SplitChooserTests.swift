import XCTest
import Foundation
import TensorCore

final class SplitChooserTests: XCTestCase {
    /// While `Parallel.solo` is on, a job's chunks all run on the calling
    /// thread, in order, and a split product gives the same bits.
    func testSoloRunsEveryChunkOnTheCallerWithTheSameBits() throws {
        let caller = pthread_self()
        func threads(solo: Bool) -> (order: [Int], onCaller: Bool) {
            Parallel.solo = solo
            defer { Parallel.solo = false }
            let lock = NSLock()
            var order: [Int] = []
            var onCaller = true
            Parallel.run(8) { i in
                lock.lock()
                order.append(i)
                if pthread_equal(pthread_self(), caller) == 0 { onCaller = false }
                lock.unlock()
                usleep(200)
            }
            return (order, onCaller)
        }
        let alone = threads(solo: true)
        XCTAssertEqual(alone.order, Array(0..<8))
        XCTAssertTrue(alone.onCaller)
        XCTAssertEqual(threads(solo: false).order.sorted(), Array(0..<8))
        XCTAssertFalse(Parallel.solo)

        Random.seed(3)
        let a = Tensor.randn([512, 256]), b = Tensor.randn([256, 384])
        XCTAssertNotNil(BLAS.split(m: 512, n: 384, k: 256), "a product the pool splits")
        let split = try a.matmul(b)
        Parallel.solo = true
        let solo = try a.matmul(b)
        Parallel.solo = false
        XCTAssertEqual(split.scalars.map(\.bitPattern), solo.scalars.map(\.bitPattern))
    }

    /// A machine simulated by a clock: a step takes `split(step)` seconds
    /// split and `solo(step)` alone. Returns the chooser and the ways taken.
    func simulate(
        steps: Int, policy: SplitChooser.Policy = .adaptive, cores: Int = 2,
        split: @escaping (Int) -> Double, solo: @escaping (Int) -> Double
    ) -> (SplitChooser, [Bool]) {
        final class Clock { var now = 0.0 }
        let clock = Clock()
        var chooser = SplitChooser(policy: policy, cores: cores, clock: { clock.now })
        var ways: [Bool] = []
        for i in 0..<steps {
            chooser.run {
                let alone = Parallel.solo
                ways.append(alone)
                clock.now += alone ? solo(i) : split(i)
            }
        }
        XCTAssertFalse(Parallel.solo, "the pool is left splitting")
        return (chooser, ways)
    }

    func testTheFasterWayIsKeptMostOfTheTime() {
        let (fastSplit, w1) = simulate(steps: 4000, split: { _ in 0.001 }, solo: { _ in 0.0015 })
        XCTAssertEqual(fastSplit.splitSteps + fastSplit.soloSteps, 4000)
        XCTAssertEqual(fastSplit.soloSteps, w1.filter { $0 }.count)
        XCTAssertGreaterThan(fastSplit.soloSteps, 0, "the other way is still tried")
        XCTAssertLessThan(Double(fastSplit.soloSteps) / 4000, 0.06)
        XCTAssertEqual(fastSplit.switches, 0)

        let (fastSolo, _) = simulate(steps: 4000, split: { _ in 0.0016 }, solo: { _ in 0.0012 })
        XCTAssertGreaterThan(Double(fastSolo.soloSteps) / 4000, 0.94)
        XCTAssertEqual(fastSolo.switches, 0)
    }

    /// When the machine changes (splitting stops paying after step 3,000),
    /// the choice follows within about a second of steps.
    func testTheChoiceFollowsAChangeOfMachine() {
        let (c, ways) = simulate(
            steps: 8000, split: { $0 < 3000 ? 0.0009 : 0.0017 }, solo: { _ in 0.0013 })
        XCTAssertEqual(c.switches, 1)
        XCTAssertLessThan(ways[0..<3000].filter { $0 }.count, 200)
        let after = ways[4500...]
        XCTAssertGreaterThan(Double(after.filter { $0 }.count) / Double(after.count), 0.94)
        XCTAssertGreaterThan(ways[3000..<4000].filter { $0 }.count, 0)
    }

    /// The lengths of the runs of steps taken alone.
    func soloRuns(_ ways: [Bool]) -> [Int] {
        var runs: [Int] = []
        for (i, w) in ways.enumerated() where w {
            if i > 0 && ways[i - 1] { runs[runs.count - 1] += 1 } else { runs.append(1) }
        }
        return runs
    }

    /// Slow steps get short windows, and a trial of the other way ends at its
    /// first clearly slower timed step: with a 0.2 s step split and 0.36 s
    /// alone, each round runs two steps alone (one to settle the caches, one
    /// timed), under 2% of the steps.
    func testAClearlySlowerWayEndsItsTrialAtItsFirstTimedStep() {
        let (c, ways) = simulate(steps: 400, split: { _ in 0.2 }, solo: { _ in 0.36 })
        let solo = ways.filter { $0 }.count
        XCTAssertGreaterThan(solo, 0)
        XCTAssertLessThanOrEqual(Double(solo) / 400, 0.02)
        XCTAssertEqual(c.soloSteps, solo)
        XCTAssertEqual(Set(soloRuns(ways)), [2])
        XCTAssertEqual(
            Array(ways[0..<3]), [false, false, false], "the loop starts split: one step to settle, a window of two")
    }

    /// A way only a little slower (1.1 times) is timed over its whole window,
    /// after one step to settle.
    func testANearlyEqualWayGetsItsWholeWindow() {
        let (short, shortWays) = simulate(steps: 3000, split: { _ in 0.001 }, solo: { _ in 0.0011 })
        XCTAssertEqual(short.switches, 0)
        // A window of about 20 ms of 1 ms steps, after one step to settle
        // (the first round's window is two steps; the last run may be cut off).
        let runs = soloRuns(shortWays)
        XCTAssertEqual(runs.first, 3)
        XCTAssertGreaterThan(runs.count, 3)
        XCTAssertTrue(runs.dropFirst().dropLast().allSatisfy { (20...21).contains($0) }, "\(runs)")
        let (long, longWays) = simulate(steps: 600, split: { _ in 0.05 }, solo: { _ in 0.055 })
        XCTAssertEqual(long.switches, 0)
        XCTAssertEqual(Set(soloRuns(longWays)), [3])
    }

    func testFixedPoliciesAndOneCore() {
        XCTAssertEqual(simulate(steps: 300, policy: .never, split: { _ in 1 }, solo: { _ in 2 }).0.soloSteps, 300)
        XCTAssertEqual(simulate(steps: 300, policy: .always, split: { _ in 2 }, solo: { _ in 1 }).0.soloSteps, 0)
        let one = simulate(steps: 300, cores: 1, split: { _ in 2 }, solo: { _ in 1 }).0
        XCTAssertEqual(one.soloSteps, 0, "one core: nothing to choose")
        XCTAssertEqual(one.splitSteps, 300)
    }
}
