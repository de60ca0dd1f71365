import Foundation

extension CommandTable {
    static let viewCommands: [Command] = [
        Command(
            "view", group: .session, usage: "view [PORT] | view stop",
            summary: "shows the session in the browser as a live notebook that follows the shell",
            details: """
                Starts a web server on 127.0.0.1 (a free port unless PORT is given) and prints the page's address,
                with a token that only this session knows. Open it (or put it on a projector) and keep working:
                each cell appears on the page as it runs, figures as SVG; during 'train N epochs' the epoch rows
                and figures from every=K plot appear as they are made, and the top line shows the last step's
                statistics. Any number of tabs may follow; a slow tab skips frames and never slows training.
                'view stop' ends it; so does leaving the shell (the page then says the session ended).
                gans FILE.gans --view runs a script with the view on.
                """,
            examples: ["view", "view 8090", "view stop"],
            takes: .words(1, keywords: ["stop"])
        ) { shell, _, w, _ in
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
                shell.view = try LiveView(port: UInt16(port), title: shell.currentFile.map {
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
        },
    ]
}
