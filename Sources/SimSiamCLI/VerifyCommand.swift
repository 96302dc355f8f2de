import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc verify`: checks an edited tuning directory kernel by kernel against the generated C.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that the edited C of a tuning directory still computes what the generated C does, kernel by kernel.",
        discussion: """
            Runs one training step (then eval-mode features) of three tracing builds (-DSIMSIAM_TRACE) on the same \
            seeded parameters and inputs: the generated C of the manifest's graph, the same graph in float64, and \
            the edited C. After every kernel call of the float64 and edited builds, each tensor the call wrote is \
            compared with the generated C's and then replaced by it, so every kernel runs on the generated C's \
            inputs: a difference belongs to that kernel alone and is not amplified downstream.

            Tolerance per tensor: 16 x the generated kernel's own float32 rounding on these inputs \
            (max |generated - float64|) + 64 x eps x max |float64| (eps = 2^-24). Reordered loops or sums round \
            about as much as the generated kernel; an off-by-one bound leaves elements stale or drops a term of a \
            sum (about 1/sqrt(K) of a K-term sum, against rounding of about eps x sqrt(K)): far above it. \
            Float64 directories use 1e-9 x max |generated|.

            Fails (exit status 1) naming every departing tensor and the kernel that writes it, the first in \
            execution order last. An edit that writes outside its own outputs shows up in the first kernel that \
            reads the damaged tensor.
            """)

    @OptionGroup var library: LibraryOptions

    @Option(parsing: .unconditional, help: "Seed of the parameters and inputs.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "OpenMP threads (default: all cores).")
    var threads: Int?

    @Flag(help: "List every tensor, not only the departing ones.")
    var all = false

    func validate() throws {
        guard library.library != nil || library.source != nil else {
            throw ValidationError("verify needs --library DIR (a directory written by `simsiamc compile --out DIR`) or --source FILE.c")
        }
        try FlagCheck.atLeast(threads, 1, "--threads")
    }

    func run() throws {
        if let threads { setenv("OMP_NUM_THREADS", String(threads), 1) }
        let directory = try library.directory()!
        let verification = try KernelVerifier.verify(directory, seed: seed)
        say(verification.report(all: all))
        if !verification.passed { throw ExitCode.failure }
    }
}
