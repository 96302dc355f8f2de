import Foundation

/// `simsiamc tune`: times every algorithm that can run each convolution pass of a workload's
/// training step on this CPU and keeps the fastest, as tinygrad's BEAM search and torch.compile's
/// max-autotune measure rather than predict.
///
/// Round r compiles one profiling library in which every pass runs its r-th candidate (the cost
/// models' choice is candidate 0), so a handful of builds time every candidate of every layer; the
/// profile attributes time to each pass's kernel. The per-pass winners then form the tuned plan,
/// which must also win as a whole step: the cost models' plan and the tuned one are timed in
/// alternation, and the tuned plan is kept only if its median step is faster.
public struct PlanTuner {
    public var workload: Workload
    public var batch: Int
    /// Precision and vector width to tune for; `plan` and `tunedPlanDirectory` are ignored.
    public var options: CodegenOptions
    /// Steps timed per candidate library and per side of the final comparison (after one warm-up).
    public var steps: Int
    /// Stop starting new candidate rounds once this many seconds have passed (untimed candidates
    /// keep the cost models' choice). nil: time them all.
    public var budgetSeconds: Double?

    public init(workload: Workload, batch: Int, options: CodegenOptions, steps: Int = 3, budgetSeconds: Double? = nil) {
        self.workload = workload
        self.batch = batch
        self.options = options
        self.steps = steps
        self.budgetSeconds = budgetSeconds
    }

    /// Measures, chooses and returns the record `TunedPlanStore` keeps; `progress` gets a line per build.
    public func run(progress: (String) -> Void) throws -> TunedPlanRecord {
        let started = Date()
        var base = options
        base.plan = nil
        base.tunedPlanDirectory = nil
        let lowered = try Lowering.lower(workload, batch: batch, options: base)
        let choices = KernelPlanner.choices(training: lowered.training, features: lowered.features, options: base)
        guard !choices.isEmpty else {
            throw CompileError("\(workload.name) has no labelled convolution to tune (tuned kernels plan convolutions only)")
        }
        let rounds = choices.map(\.algorithms.count).max()!
        // seconds[pass][algorithm]: per-step times of that pass's kernels, one per round that ran it.
        var seconds = Array(repeating: [ConvAlgorithm: [Double]](), count: choices.count)
        for round in 0..<rounds {
            if round > 0, let budget = budgetSeconds, Date().timeIntervalSince(started) > budget {
                progress("budget of \(Int(budget)) s spent after \(round) of \(rounds) candidate builds; untimed candidates keep the cost models' choice")
                break
            }
            let plan = KernelPlan(convolutions: choices.map { choice in
                ConvPlanEntry(layer: choice.derived.layer, pass: choice.derived.pass,
                              algorithm: choice.algorithms[min(round, choice.algorithms.count - 1)])
            })
            var profiling = base
            profiling.profile = true
            profiling.plan = plan
            let compiled = try Compiler.compile(workload, batch: batch, options: profiling)
            let timer = StepTimer(library: compiled.library, workload: workload)
            _ = try timer.step()
            try compiled.library.resetProfile()
            _ = try timer.steps(steps)
            let perKernel = Dictionary(try compiled.library.profile().map { ($0.name, $0.seconds / Double(steps)) },
                                       uniquingKeysWith: +)
            for (index, choice) in choices.enumerated() where !choice.kernelNames.isEmpty {
                let algorithm = plan.convolutions[index].algorithm
                seconds[index][algorithm, default: []].append(choice.kernelNames.reduce(0) { $0 + (perKernel[$1] ?? 0) })
            }
            progress(String(format: "candidates %d/%d timed (%.0f s so far)", round + 1, rounds, Date().timeIntervalSince(started)))
        }
        let layers = choices.enumerated().map { index, choice in
            let timed = seconds[index].mapValues(median)
            // Ties and untimed passes keep the cost models' choice.
            let chosen = timed.filter { $0.value < (timed[choice.derived.algorithm] ?? .infinity) }
                .min { $0.value < $1.value }?.key ?? choice.derived.algorithm
            return TunedPlanRecord.LayerTiming(layer: choice.derived.layer, pass: choice.derived.pass, shape: choice.shape,
                                               derived: choice.derived.algorithm, chosen: chosen,
                                               seconds: Dictionary(uniqueKeysWithValues: timed.map { ($0.key.rawValue, $0.value) }))
        }
        let tuned = KernelPlan(convolutions: zip(choices, layers).map { choice, timing in
            // The cost models' images per pass where the algorithm stays; the new algorithm's own otherwise.
            timing.chosen == choice.derived.algorithm ? choice.derived
                : ConvPlanEntry(layer: timing.layer, pass: timing.pass, algorithm: timing.chosen)
        })
        let derived = KernelPlan(convolutions: choices.map(\.derived))
        progress("timing the whole step: the cost models' plan against the tuned one, in alternation")
        let (derivedStep, tunedStep) = try compareSteps(derived, tuned, base: base)
        let keep = tunedStep < derivedStep
        return TunedPlanRecord(
            format: TunedPlanRecord.currentFormat, plan: keep ? tuned : derived, graph: lowered.training.name, batch: batch,
            precision: base.precision.rawValue, vectorWidth: base.vectorWidth.rawValue, threads: TunedPlanStore.threads(),
            cpu: Self.cpuModel, measured: ISO8601DateFormatter().string(from: started), layers: layers,
            derivedStepSeconds: derivedStep, tunedStepSeconds: tunedStep, tunedPlanKept: keep)
    }

    /// Median step seconds of two plans, timed in three alternating rounds so that drifting
    /// machine load falls on both.
    private func compareSteps(_ first: KernelPlan, _ second: KernelPlan, base: CodegenOptions) throws -> (Double, Double) {
        let timers = try [first, second].map { plan in
            var options = base
            options.plan = plan
            let timer = StepTimer(library: try Compiler.compile(workload, batch: batch, options: options).library, workload: workload)
            _ = try timer.step()
            return timer
        }
        var times: [[Double]] = [[], []]
        for _ in 0..<3 {
            for side in 0..<2 { times[side] += try timers[side].steps(steps) }
        }
        return (median(times[0]), median(times[1]))
    }

    /// `/proc/cpuinfo`'s model name (the store's key has the flags too).
    static var cpuModel: String {
        CPUIdentity.current.split(separator: "\n").first { $0.hasPrefix("model name: ") }
            .map { String($0.dropFirst("model name: ".count)) } ?? "unknown CPU"
    }
}
