import Foundation
import GANShell

/// `gans-bench view`: the live view's cost, read by a tab as a browser would.
///
/// 1. A 1,000-cell session (`step 20` and `history 3` cells, a `plot game` figure every 50th)
///    with the view on and a tab reading every message: how long after `run` returns (when the
///    shell prints a cell) the tab has the whole cell, and the process's peak RSS after it.
/// 2. Training speed: `train N epochs` on the ring with R1 at batch 256, the view off and the
///    view on with a tab reading, in interleaved pairs of fresh interpreters; the speed ratio is
///    the median seconds without over the median seconds with. With a tab open the view draws
///    its figures at its own pace.
func benchView(epochs: Int, rounds: Int, cells: Int) throws {
    let setup = [
        "seed 1", "data ring8", "net G = noise 2 | linear 128 | relu | linear 128 | relu | linear 2",
        "net D = input 2 | linear 128 | relu | linear 128 | relu | linear 1",
        "gan G D loss=r1 gamma=0.1 lr=1e-3 beta1=0.5 batch=256"
    ]
    func prepare(view: Bool) throws -> Interpreter {
        let shell = Interpreter()
        for line in setup + (view ? ["view"] : []) {
            if let e = shell.run(line).error { throw BenchError("gans-bench view: \(line): \(e.message)") }
        }
        return shell
    }

    /// A tab on its own thread: the arrival time of every cell message, until the view ends.
    final class Tab: @unchecked Sendable {
        let lock = NSLock()
        var cellArrivals: [Double] = []
        var bytes = 0
        let finished = DispatchSemaphore(value: 0)

        init(_ view: LiveView) throws {
            let reader = try ViewReader(port: view.port, path: "/ws?token=\(view.token)", timeout: 60)
            guard try reader.status().contains("101") else { throw BenchError("gans-bench view: the tab was refused") }
            let deadline = now() + 10
            while view.clients < 1 && now() < deadline { usleep(2000) }
            Thread.detachNewThread { [self] in
                while let m = try? reader.text() {
                    let t = now()
                    if m == "{\"kind\":\"end\"}" { break }
                    lock.lock()
                    bytes += m.utf8.count
                    if m.contains("\"kind\":\"cell\"") { cellArrivals.append(t) }
                    lock.unlock()
                }
                finished.signal()
            }
        }

        var arrivals: [Double] { lock.lock(); defer { lock.unlock() }; return cellArrivals }
    }

    // 1. Cells: latency and memory.
    let rssBefore = peakRSSMiB()
    let session = try prepare(view: true)
    guard let view = session.view else { throw BenchError("gans-bench view: no view") }
    let tab = try Tab(view)
    var returned: [Double] = []
    var figureIndices: Set<Int> = []
    for i in 0..<cells {
        let command: String
        if i % 50 == 49 {
            command = "plot game"
            figureIndices.insert(i)
        } else {
            command = i % 2 == 0 ? "step 20" : "history 3"
        }
        if let e = session.run(command).error { throw BenchError("gans-bench view: \(command): \(e.message)") }
        returned.append(now())
    }
    let deadline = now() + 30
    while tab.arrivals.count < cells && now() < deadline { usleep(1000) }
    let arrivals = tab.arrivals
    guard arrivals.count == cells else {
        throw BenchError("gans-bench view: the tab received \(arrivals.count) of \(cells) cells")
    }
    let rssCells = peakRSSMiB()
    let received = tab.bytes
    view.stop()
    _ = tab.finished.wait(timeout: .now() + 10)
    let latencies = zip(arrivals, returned).map { ($0 - $1) * 1000 }
    let figureLatencies = latencies.enumerated().filter { figureIndices.contains($0.offset) }.map(\.element)
    func percentile(_ xs: [Double], _ p: Double) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? .nan : s[min(s.count - 1, Int(Double(s.count - 1) * p))]
    }

    // 2. Training speed, interleaved pairs.
    var without: [Double] = [], with: [Double] = []
    for _ in 0..<rounds {
        for viewOn in [false, true] {
            let shell = try prepare(view: viewOn)
            let tab = try shell.view.map(Tab.init)
            let t0 = now()
            if let e = shell.run("train \(epochs) epochs").error {
                throw BenchError("gans-bench view: train: \(e.message)")
            }
            let seconds = now() - t0
            shell.view?.stop()
            if let tab { _ = tab.finished.wait(timeout: .now() + 10) }
            (viewOn ? { with.append(seconds) } : { without.append(seconds) })()
        }
    }
    emit(
        [
            ("bench", "view"), ("cells", cells), ("cell_latency_ms_median", round2(percentile(latencies, 0.5))),
            ("cell_latency_ms_p99", round2(percentile(latencies, 0.99))),
            ("cell_latency_ms_max", round2(latencies.max() ?? .nan)),
            ("figure_cell_latency_ms_max", round2(figureLatencies.max() ?? .nan)),
            ("tab_received_mb", round2(Double(received) / 1e6)),
            ("peak_rss_mib_before", round2(rssBefore)), ("peak_rss_mib_after_cells", round2(rssCells)),
            ("train_epochs", epochs), ("seconds_without_view", without.map(round2)),
            ("seconds_with_view_and_tab", with.map(round2)),
            ("speed_with_over_without", round2(median(without) / median(with)))
        ] + blasFields())
}
