import Foundation

extension CommandTable {
    static let viewCommands: [Command] = [
        Command(
            "view", group: .session, usage: "view [PORT] | view stop | view plot WHAT …",
            summary: "shows the session in the browser as a live notebook that follows the shell",
            details: """
                Starts a web server on 127.0.0.1 (a free port unless PORT is given) and prints the page's address,
                with a token that only this session knows. Open it (or put it on a projector) and keep working:
                each cell appears on the page as it runs, figures as SVG; during 'train N epochs' the epoch rows
                and figures from every=K plot appear as they are made, and the top line shows the last step's
                statistics. Any number of tabs may follow; a slow tab skips frames and never slows training.
                While a tab is open, training also redraws figures on the page: for 2-D data the game and the
                losses, otherwise samples and the losses; 'view plot WHAT …' chooses them (any of plot's figures,
                with their words: view plot samples losses smooth=20). They are drawn as often as keeps their
                cost under 5% of the training time, or every K steps with 'set view.every K' ('auto' again).
                'view stop' ends it; so does leaving the shell (the page then says the session ended).
                gans FILE.gans --view runs a script with the view on.
                """,
            examples: ["view", "view 8090", "view stop", "view plot game losses smooth=20"],
            takes: .own(keywords: ["stop", "plot"] + plotKinds, options: ["smooth", "class"])
        ) { shell, args, _, _ in
            let all = args.words
            if let first = all.first, first.text == "plot" {
                // Each figure's name starts a new figure; numbers and options go with the one before.
                var plots: [String] = []
                for word in all.dropFirst() {
                    if word.option == nil, word.int == nil {
                        guard (plotKinds + statNames).contains(word.text), word.text != "hist" else {
                            throw ShellError(
                                .name,
                                "view plot: unknown figure '\(word.text)'; view plot "
                                    + (plotKinds.filter { $0 != "hist" } + statNames).joined(separator: ", ")
                                    + didYouMean(word.text, among: plotKinds + statNames),
                                at: word.location, length: word.length)
                        }
                        plots.append(word.text)
                    } else if !plots.isEmpty {
                        plots[plots.count - 1] += " " + word.text
                    } else {
                        throw ShellError(
                            .syntax, "view plot: a figure's name first, found '\(word.text)'", at: word.location)
                    }
                }
                shell.viewPlots = plots
                return [
                    .text(
                        plots.isEmpty
                            ? "the view draws the data's own figures during training"
                            : "the view draws " + plots.joined(separator: ", ") + " during training")
                ]
            }
            let w = try CommandWords(args, command: "view", allowed: [])
            try w.noMoreThan(1)
            if let word = w.positional.first, word.text == "stop" {
                guard let view = shell.view else { return [.text("no view is open")] }
                view.stop()
                shell.view = nil
                return [.text("view stopped")]
            }
            let port = try w.positional.first.map { _ in try w.int(0, "a port", min: 1024, max: 65535) } ?? 0
            if let view = shell.view {
                return [.text("the view is open at \(view.url) (view stop ends it)")]
            }
            do {
                shell.view = try LiveView(
                    port: UInt16(port),
                    title: shell.currentFile.map {
                        (($0 as NSString).lastPathComponent as NSString).deletingPathExtension
                    } ?? "gans session")
            } catch {
                throw ShellError(.file, "\(error)")
            }
            // The page starts with the cells so far.
            let cells = shell.cells
            shell.viewCells = 0
            shell.viewFigures = 0
            for c in cells { shell.publish(c) }
            return [.text("the view is at \(shell.view!.url)")]
        }
    ]
}
