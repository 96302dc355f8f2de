import Foundation

/// Runs `body(chunk)` for every chunk in `0 ..< chunks` on up to `threads` threads.
///
/// Chunks are dealt round-robin so the assignment depends only on `threads`, and callers
/// write each chunk's result to its own slot, so results never depend on scheduling.
/// That disjointness is also why handing a non-`Sendable` body to the workers is safe.
func forEachChunk(_ chunks: Int, threads: Int, _ body: (Int) -> Void) {
    let workers = max(1, min(threads, chunks))
    if workers == 1 {
        for chunk in 0..<chunks { body(chunk) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for chunk in stride(from: worker, to: chunks, by: workers) { shared.value(chunk) }
        }
    }
}

/// Carries a value the caller guarantees is used without data races into worker threads.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The number of threads to use when the caller does not say.
public var defaultThreadCount: Int { ProcessInfo.processInfo.activeProcessorCount }
