#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOPosix
import Synchronization

/// Runs work that must never hold up the live stream (scoring a `POST /api/replay` upload) on
/// a thread of its own at nice 10: the serial reader and the event loops, at nice 0, then get
/// about nine tenths of a busy core whenever they need it, where an upload scored on Swift's
/// shared threads competed with them as an equal and paused the stream for hundreds of
/// milliseconds.
///
/// A `TaskExecutor` over a one-thread `NIOThreadPool`; a task asks for it with
/// `withTaskExecutorPreference`. Where the nice value cannot be raised (a seccomp filter that
/// refuses `setpriority`), the work still runs on its own thread, at the usual priority.
final class LowPriorityExecutor: TaskExecutor, Sendable {
    static let shared = LowPriorityExecutor(nice: 10)

    private let pool: NIOThreadPool
    /// -1 until the thread has tried; then 0 if it runs at the nice value asked for, else the
    /// errno that refused it.
    let niceError = Atomic<Int32>(-1)

    init(nice: Int32) {
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        pool.submit { [self] _ in
            // Linux keeps a nice value per thread; `who` 0 names the calling thread.
            #if canImport(Glibc)
            let failed = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) != 0
            #else
            let failed = setpriority(Int32(PRIO_PROCESS), 0, nice) != 0
            #endif
            self.niceError.store(failed ? errno : 0, ordering: .relaxed)
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pool.submit { [self] _ in job.runSynchronously(on: asUnownedTaskExecutor()) }
    }
}
