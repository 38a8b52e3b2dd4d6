#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import VoltSerial

/// `voltwatch calibrate`'s output: a live line that shows the current reading, prompts under
/// it, and lines that stay.
///
/// On a terminal the live line is rewritten in place. While a prompt waits for an answer the
/// live line is the one above it: it is rewritten by saving the cursor, moving up, writing,
/// and restoring the cursor, so what the person is typing (echoed by the terminal, which keeps
/// its own line editing: backspace, Ctrl-U, Ctrl-D) is never overwritten. When standard output
/// is not a terminal (a log, a pipe) the live line is printed as a line at most once a second.
/// Only the session's one task writes here, so nothing interleaves.
final class LiveConsole {
    let isTerminal: Bool
    /// A live line is on the screen: the cursor is at its end (no prompt) or on the line
    /// below it (a prompt is waiting).
    private var liveShown = false
    private var promptWaiting = false
    private var lastPrintedLive: ContinuousClock.Instant?
    /// The widest live line written (a classic 80-column terminal): a longer one would wrap,
    /// and the line above the prompt would no longer be the live line.
    private let width = 79

    init(isTerminal: Bool = isatty(1) == 1) {
        self.isTerminal = isTerminal
    }

    /// Shows `text` as the live line. `inputPending` (a line was typed but not handled yet: the
    /// cursor has already left the prompt) skips the update rather than overwrite the prompt.
    func live(_ text: String, inputPending: Bool = false) {
        let text = String(text.prefix(width))
        guard isTerminal else {
            let now = ContinuousClock.now
            if let last = lastPrintedLive, now - last < .seconds(1) { return }
            lastPrintedLive = now
            write(text + "\n")
            return
        }
        if promptWaiting {
            guard liveShown, !inputPending else { return }
            // Save the cursor, up one line, rewrite, restore the cursor.
            write("\u{1B}7\u{1B}[1A\r" + text + "\u{1B}[K\u{1B}8")
        } else {
            write("\r" + text + "\u{1B}[K")
            liveShown = true
        }
    }

    /// Asks `question` under the live line; the answer is typed after it.
    func prompt(_ question: String) {
        if isTerminal {
            write((liveShown ? "\n" : "") + question)
            promptWaiting = true
        } else {
            write(question + "\n")
        }
    }

    /// The answer to the prompt was read: the terminal's echo of Enter put the cursor on a
    /// fresh line, so there is no live line on the screen any more.
    func answered(endOfInput: Bool = false) {
        guard promptWaiting else { return }
        if endOfInput { write("\n") }
        promptWaiting = false
        liveShown = false
    }

    /// A line that stays: it replaces the live line (when not prompting) and a new live line
    /// starts under it on the next update.
    func say(_ text: String) {
        if isTerminal && liveShown && !promptWaiting {
            write("\r" + text + "\u{1B}[K\n")
            liveShown = false
        } else if isTerminal && promptWaiting {
            // Never between the live line and the prompt: end the prompt line first.
            write("\n" + text + "\n")
            promptWaiting = false
            liveShown = false
        } else {
            write(text + "\n")
        }
    }

    /// Ends the live line so the shell's prompt starts on a line of its own.
    func finish() {
        if isTerminal && (liveShown || promptWaiting) { write("\n") }
        liveShown = false
        promptWaiting = false
    }

    private func write(_ text: String) {
        var copy = text
        copy.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = SystemCall.write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }
}
