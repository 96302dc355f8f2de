import Foundation

/// `simsiamc tune`: times every algorithm that can run each convolution pass of a workload's
/// training step on this CPU and keeps the fastest, as tinygrad's BEAM search and torch.compile's
/// max-autotune measure rather than predict.
///
/// Round r compiles one profiling library in which every pass runs its r-th candidate (the cost
/// models' choice is candidate 0), so a handful of builds time every candidate of every layer; the
/// profile attributes time to each pass's kernel; the rounds are timed in a sweep up and back down.
/// A second stage times the blockings (tiles per block, images per pass) of the passes that chose
/// Winograd the same way. The per-pass winners then form the tuned plan, which must also win as a
/// whole step: the cost models' plan and the tuned one are timed in alternation, and the tuned
/// plan is kept only if its median step is faster.
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
        let base = untunedOptions
        let lowered = try Lowering.lower(workload, batch: batch, options: base)
        let choices = KernelPlanner.choices(training: lowered.training, features: lowered.features, options: base)
        guard !choices.isEmpty else {
            throw CompileError("\(workload.name) has no labelled convolution to tune (tuned kernels plan convolutions only)")
        }
        let rounds = choices.map(\.algorithms.count).max()!
        // seconds[pass][algorithm]: per-step times of that pass's kernels, one per round that ran it.
        var seconds = Array(repeating: [ConvAlgorithm: [Double]](), count: choices.count)
        let timedRounds = try profileRounds(rounds, started: started, progress: progress, label: "candidates") { round in
            KernelPlan(convolutions: choices.map { choice in
                ConvPlanEntry(layer: choice.derived.layer, pass: choice.derived.pass,
                              algorithm: choice.algorithms[min(round, choice.algorithms.count - 1)])
            })
        } record: { plan, perKernel in
            for (index, choice) in choices.enumerated() where !choice.kernelNames.isEmpty {
                seconds[index][plan.convolutions[index].algorithm, default: []].append(Self.seconds(of: choice, in: perKernel))
            }
        }
        var layers = choices.enumerated().map { index, choice in
            let timed = seconds[index].mapValues(median)
            // Ties and untimed passes keep the cost models' choice.
            let chosen = timed.filter { $0.value < (timed[choice.derived.algorithm] ?? .infinity) }
                .min { $0.value < $1.value }?.key ?? choice.derived.algorithm
            return TunedPlanRecord.LayerTiming(layer: choice.derived.layer, pass: choice.derived.pass, shape: choice.shape,
                                               derived: choice.derived.algorithm, chosen: chosen,
                                               seconds: Dictionary(uniqueKeysWithValues: timed.map { ($0.key.rawValue, $0.value) }))
        }
        // The chosen algorithms, each pass its own entry: the cost models' where they agree (their
        // images per pass), else the new algorithm's own numbers.
        var entries = zip(choices, layers).map { choice, timing in
            timing.chosen == choice.derived.algorithm ? choice.derived
                : ConvPlanEntry(layer: timing.layer, pass: timing.pass, algorithm: timing.chosen)
        }
        if timedRounds == rounds, budgetSeconds.map({ Date().timeIntervalSince(started) <= $0 }) ?? true {
            try tuneWinogradBlockings(choices, &layers, &entries, started: started, progress: progress)
        }
        let tuned = KernelPlan(convolutions: entries)
        let derived = KernelPlan(convolutions: choices.map(\.derived))
        progress("timing the whole step: the cost models' plan against the tuned one, in alternation")
        let (derivedStep, tunedStep) = try compareSteps(derived, tuned, base: base)
        let keep = tunedStep < derivedStep
        return TunedPlanRecord(
            format: TunedPlanRecord.currentFormat, plan: keep ? tuned : derived, graph: lowered.training.name, batch: batch,
            precision: base.trainingPrecision.rawValue, vectorWidth: base.vectorWidth.rawValue,
            threads: TunedPlanStore.threads(),
            cpu: Self.cpuModel, measured: ISO8601DateFormatter().string(from: started), layers: layers,
            derivedStepSeconds: derivedStep, tunedStepSeconds: tunedStep, tunedPlanKept: keep)
    }

    /// `options` without a plan of its own or a plan store: every build here names its plan.
    private var untunedOptions: CodegenOptions {
        var base = options
        base.plan = nil
        base.tunedPlanDirectory = nil
        return base
    }

    /// Second stage, for the passes that chose Winograd: times each blocking of
    /// `PlanChoice.winogradBlockings` (its first, the cost models', ran in the first stage) with the
    /// other passes as chosen, and keeps each pass's fastest.
    private func tuneWinogradBlockings(_ choices: [PlanChoice], _ layers: inout [TunedPlanRecord.LayerTiming],
                                       _ tuned: inout [ConvPlanEntry], started: Date, progress: (String) -> Void) throws {
        let winograd = choices.indices.filter {
            layers[$0].chosen == choices[$0].winogradBlockingAlgorithm && choices[$0].winogradBlockings.count > 1
        }
        guard let rounds = winograd.map({ choices[$0].winogradBlockings.count }).max() else { return }
        var seconds = [Int: [WinogradBlocking: [Double]]]()
        for index in winograd {
            let first = choices[index].winogradBlockings[0]
            seconds[index] = [first: [layers[index].seconds[choices[index].winogradBlockingAlgorithm.rawValue]].compactMap { $0 }]
        }
        let blockingAt = { (index: Int, round: Int) -> WinogradBlocking in
            let blockings = choices[index].winogradBlockings
            return blockings[min(round, blockings.count - 1)]
        }
        _ = try profileRounds(rounds - 1, started: started, progress: progress, label: "Winograd blockings") { round in
            var entries = tuned
            for index in winograd { entries[index] = blockingAt(index, round + 1).entry(layer: tuned[index].layer, pass: tuned[index].pass,
                                                                algorithm: choices[index].winogradBlockingAlgorithm) }
            return KernelPlan(convolutions: entries)
        } record: { plan, perKernel in
            for index in winograd where !choices[index].kernelNames.isEmpty {
                let entry = plan.convolutions[index]
                let blocking = WinogradBlocking(tilesPerBlock: entry.tilesPerBlock!, imagesPerPass: entry.imagesPerPass!)
                seconds[index]![blocking, default: []].append(Self.seconds(of: choices[index], in: perKernel))
            }
        }
        for index in winograd {
            let timed = seconds[index]!.filter { !$0.value.isEmpty }.mapValues(median)
            let first = choices[index].winogradBlockings[0]
            // Ties and untimed blockings keep the cost models' blocking.
            let best = timed.filter { $0.value < (timed[first] ?? .infinity) }.min { $0.value < $1.value }?.key ?? first
            layers[index].blockingSeconds = Dictionary(uniqueKeysWithValues: timed.map { ($0.key.description, $0.value) })
            layers[index].derivedBlocking = first
            layers[index].chosenBlocking = best
            if best != first { tuned[index] = best.entry(layer: tuned[index].layer, pass: tuned[index].pass,
                                                                algorithm: choices[index].winogradBlockingAlgorithm) }
        }
    }

    /// Compiles and profiles `count` plans (`plan(r)` for round r), handing each one's per-kernel
    /// seconds per step to `record`. Every round is timed twice, in a sweep up (0, 1, ...) and back
    /// down (the second time from the build cache): on a shared machine load comes and goes, and a
    /// burst during one round would otherwise fall on every pass it times, one candidate each; up
    /// and down, drifting load falls on all rounds alike. Stops starting rounds once the budget is
    /// spent; returns the rounds timed at least once.
    private func profileRounds(_ count: Int, started: Date, progress: (String) -> Void, label: String,
                               plan: (Int) -> KernelPlan, record: (KernelPlan, [String: Double]) -> Void) throws -> Int {
        var base = untunedOptions
        base.profile = true
        let sweeps = Array(0..<count) + (0..<count).reversed()
        for (position, round) in sweeps.enumerated() {
            if position > 0, let budget = budgetSeconds, Date().timeIntervalSince(started) > budget {
                let timed = min(position, count)
                progress("budget of \(Int(budget)) s spent after \(timed) of \(count) \(label) builds (\(position) timings); untimed candidates keep the cost models' choice")
                return timed
            }
            var profiling = base
            profiling.plan = plan(round)
            let compiled = try Compiler.compile(workload, batch: batch, options: profiling)
            let timer = StepTimer(library: compiled.library, workload: workload)
            _ = try timer.step()
            try compiled.library.resetProfile()
            _ = try timer.steps(steps)
            record(profiling.plan!, Dictionary(try compiled.library.profile().map { ($0.name, $0.seconds / Double(steps)) },
                                               uniquingKeysWith: +))
            let sweep = position < count ? "up" : "down"
            progress("\(label) \(round + 1)/\(count) timed, sweep \(sweep) (\(Int(Date().timeIntervalSince(started).rounded())) s so far)")
        }
        return count
    }

    /// Seconds per step of a pass: the sum over its kernels.
    private static func seconds(of choice: PlanChoice, in perKernel: [String: Double]) -> Double {
        choice.kernelNames.reduce(0) { $0 + (perKernel[$1] ?? 0) }
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
