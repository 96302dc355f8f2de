import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc peak`: the machine's FP32 FMA peak with all threads.
struct PeakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak", abstract: "Measure the FP32 FMA peak of this machine (GFLOP/s, all threads).")

    @Option(parsing: .unconditional, help: "OpenMP threads (default: all cores).")
    var threads: Int?

    func validate() throws { try FlagCheck.atLeast(threads, 1, "--threads") }

    func run() throws {
        if let threads { setenv("OMP_NUM_THREADS", String(threads), 1) }
        say(String(format: "FP32 FMA peak: %.1f GFLOP/s", try PeakFlops.measure()))
    }
}
