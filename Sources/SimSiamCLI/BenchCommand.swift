import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc bench`: training throughput on random data, optionally with a
/// per-kernel profile against the machine's measured FMA peak.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training samples/s (one sample = both views forward, backward and the SGD update).",
        discussion: "Under `mpirun -np N` the batch is the global one, split over the ranks; rank 0 reports samples/s of the whole job and its time in collectives.")

    @OptionGroup var options: WorkloadOptions
    @OptionGroup var codegen: CodegenArguments
    @OptionGroup(title: "Tuning (C edited by hand)") var library: LibraryOptions

    @Option(parsing: .unconditional, help: "Timed steps (after warm-up).")
    var steps: Int = 10

    @Option(parsing: .unconditional, help: "Warm-up steps (not timed).")
    var warmup: Int = 2

    @Flag(help: "Time every kernel: share of the step, GFLOP/s and fraction of the measured FMA peak.")
    var profile = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        try FlagCheck.atLeast(steps, 1, "--steps")
        try FlagCheck.atLeast(warmup, 0, "--warmup")
    }

    func run() throws {
        options.applyThreads()
        let ranks = try MPIRanks.join()
        let workload: Workload
        let compiled: CompiledModel
        var shard = BatchShard.whole(0)
        if let directory = try library.directory() {
            if ranks != nil {
                throw ValidationError("--library: C edited by hand is compiled at one batch; bench data-parallel without --library")
            }
            // The directory's C, edited or not; --profile builds it with -DSIMSIAM_PROFILE.
            let program = try library.load(directory, instrumentation: profile ? .profile : .plain, workload: options, codegen: codegen)
            workload = try directory.manifest.resolvedWorkload()
            compiled = program.edited
            if !json { say(compiled.summary + "\n" + program.summary) }
        } else {
            workload = try options.load().workload
            let batch = options.batch(for: workload)
            shard = .of(batch, on: ranks)
            try shard.validate()
            compiled = try Compiler.compile(workload, batch: shard.count, options: try codegen.options(profile: profile))
            if !json { say(compiled.summary) }
        }
        let library = compiled.library
        if let ranks { try ranks.install(on: library) }
        let globalBatch = ranks == nil ? library.batch : shard.globalBatch
        let timer = StepTimer(library: library, workload: workload, globalBatch: globalBatch)
        _ = try timer.steps(warmup)
        if profile { try library.resetProfile() }
        ranks?.barrier()
        ranks?.resetStatistics()
        var times: [Double] = []
        for index in 0..<steps {
            times.append(try timer.step())
            if !json { say(String(format: "step %d/%d: %.3f s", index + 1, steps, times.last!)) }
        }
        let median = times.sorted()[times.count / 2]
        var result = BenchResult(
            workload: workload.name, batch: globalBatch, threads: ProcessInfo.processInfo.environment["OMP_NUM_THREADS"],
            kernels: compiled.lowered.options.kernels.rawValue, medianStepSeconds: median, samplesPerSecond: Double(globalBatch) / median,
            stepSeconds: times, peakRSSBytes: peakResidentBytes(), compileSeconds: compiled.lowered.seconds + compiled.build.seconds,
            cacheHit: compiled.build.cacheHit)
        if let ranks {
            let spent = ranks.statistics()
            result.collectives = .init(ranks: ranks.size, blockingSeconds: spent.blockingSeconds / Double(steps),
                                       gradientSeconds: spent.gradientSeconds / Double(steps), gradientBytes: spent.gradientBytes / Double(steps))
        }
        let kernels = profile ? try library.profile() : []
        let peak = profile ? try PeakFlops.measure() : nil
        if json {
            say(result.json(kernels: kernels, steps: steps, peakGigaflops: peak))
        } else {
            say(result.text)
            if let peak { say(ProfileReport(kernels: kernels, steps: steps, stepSeconds: median, peakGigaflops: peak).text) }
        }
    }
}

/// The peak resident set size of this process (VmHWM), in bytes.
func peakResidentBytes() -> Int {
    guard let data = FileManager.default.contents(atPath: "/proc/self/status"),
          let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kilobytes * 1024
}
