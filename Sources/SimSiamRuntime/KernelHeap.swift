import Foundation
import Glibc

/// How the process's heap treats the scratch the generated kernels allocate and free on every
/// call (packed panels, channels-last and Winograd buffers, per-thread partial sums: 0.1 to 16 MB).
///
/// glibc serves blocks from 128 KB up with `mmap` (raising that threshold only as such blocks are
/// freed) and gives freed heap tops back, so calls faulted their scratch in again, page by page.
/// Kept in the heap (mmap threshold 32 MB, glibc's maximum; no trimming), the scratch reuses the
/// pages its last call freed: a W1 `bench` at batch 256 (7 steps) took 23.9 thousand minor page
/// faults against 41.3 thousand, and its step 0.520 against 0.527 s (medians of 10 alternating
/// runs, ranges 0.491-0.534 and 0.499-0.545; AMD EPYC Zen 4, 2 threads), peak RSS 0.41 GiB either
/// way. Blocks over 32 MB (the workspace arena) stay mapped on their own.
enum KernelHeap {
    /// glibc's `mallopt` parameters (malloc.h): Swift's Glibc module does not import them.
    private static let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
    private static let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD

    /// Sets the thresholds once per process, before the first generated library loads. A
    /// `GLIBC_TUNABLES` that sets either threshold itself is left to rule.
    static let configured: Bool = {
        let tunables = ProcessInfo.processInfo.environment["GLIBC_TUNABLES"] ?? ""
        guard !tunables.contains("mmap_threshold"), !tunables.contains("trim_threshold"),
              let symbol = dlsym(nil, "mallopt") else { return false }
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        return mallopt(mmapThreshold, 32 << 20) == 1 && mallopt(trimThreshold, Int32.max) == 1
    }()
}
