#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinuxShims

/// Runs blocking work (poll/read on a serial port) on its own OS thread and awaits it.
///
/// The cooperative pool has one thread per core — two on a Raspberry Pi class box — so a
/// reader blocked in `poll` there would stall the server. Each long-running blocking loop
/// gets a dedicated thread instead; the caller stays structured (it awaits the result), and
/// stops the loop through a ``Wakeup``.
package enum BlockingThread {
    private final class Job: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    package static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            var short = Array(name.utf8.prefix(15)).map { CChar(bitPattern: $0) }
            short.append(0)
            let threadName = short
            let job = Job {
                _ = threadName.withUnsafeBufferPointer { vw_set_thread_name($0.baseAddress) }
                continuation.resume(returning: body())
            }
            let context = Unmanaged.passRetained(job).toOpaque()
            #if canImport(Musl)
            var thread: pthread_t? = nil  // musl's pthread_t is a pointer, glibc's an integer
            #else
            var thread = pthread_t()
            #endif
            let status = pthread_create(&thread, nil, { raw in
                let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                job.body()
                return nil
            }, context)
            precondition(status == 0, "cannot start thread \(name): \(Posix.describe(status))")
            pthread_detach(thread)
        }
    }
}
