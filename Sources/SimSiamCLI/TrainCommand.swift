import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc train`: SimSiam on real data with monitors, checkpoints and plots.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a workload on its dataset; kNN and collapse monitors each epoch, checkpoints, plots, final evaluation.")

    @OptionGroup var options: WorkloadOptions

    @Option(parsing: .unconditional, help: "Epochs (the lr follows a cosine over them).")
    var epochs: Int = TrainDefaults.epochs

    @Option(name: .customLong("lr"), parsing: .unconditional, help: "Base learning rate per 256 samples (default: \(TrainDefaults.described(\.baseLR))).")
    var baseLR: Double?

    @Option(parsing: .unconditional, help: "Weight decay (default: the workload's).")
    var weightDecay: Double?

    @Flag(inversion: .prefixedNo, help: "Keep the predictor's lr fixed at the initial lr (default: \(TrainDefaults.described(\.fixPredictorLR))).")
    var fixPredLr: Bool?

    @Option(parsing: .unconditional, help: "Linear lr warm-up, in epochs.")
    var warmupEpochs: Double = 0

    @Option(parsing: .unconditional, help: "RandomResizedCrop's smallest area fraction.")
    var cropMinScale: Double = 0.2

    @Option(parsing: .unconditional, help: "Brightness and contrast jitter strength.")
    var jitter: Double = 0.4

    @Option(parsing: .unconditional, help: "Seed of initialisation, batch order and augmentation.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Train on the first N training images only.")
    var subset: Int?

    @Option(name: .customLong("init"), help: ArgumentHelp(
        "Start from a PyTorch state_dict saved as safetensors: a whole SimSiam's, or a backbone's (keys without 'backbone.').",
        discussion: "Keys load into the model tensor of the same name, else of the name with 'backbone.' in front; the rest of "
            + "the model keeps the seeded initialisation. Prints what loaded, what is missing and what was unexpected; a shape "
            + "mismatch is an error. Recorded in the checkpoint: --resume takes it too and goes on from the checkpoint instead.",
        valueName: "file.safetensors"))
    var initFile: String?

    @OptionGroup(title: "Data") var data: DataOptions

    @Option(help: "Run directory for checkpoint, metrics.jsonl and plots (default: runs/<workload>).")
    var runDir: String?

    @Flag(help: "Continue the run in --run-dir from its checkpoint (same flags, same thread count for identical results).")
    var resume = false

    @Flag(help: "Skip the final evaluation (linear probe and baselines).")
    var noEval = false

    @Option(parsing: .unconditional, help: "Run the kNN monitor after every K-th epoch and the last (the final evaluation stays complete).")
    var monitorEvery: Int = 1

    // Not part of the TrainConfiguration: checks change no number, so a run may be resumed with or without them.
    @Flag(help: ArgumentHelp(CodegenArguments.checkNumericsHelp))
    var checkNumerics = false

    // Not part of the TrainConfiguration either: a plan changes which kernels run, not the math
    // (results agree to rounding), like the thread count.
    @Option(help: ArgumentHelp(CodegenArguments.planHelp, discussion: CodegenArguments.planDiscussion, valueName: "file"))
    var plan: String?

    @Flag(help: ArgumentHelp(CodegenArguments.untunedHelp))
    var untuned = false

    @OptionGroup var precision: TrainingPrecisionOption

    @OptionGroup(title: "SimSiam variant (the paper's ablations)") var variant: VariantOptions

    @OptionGroup(title: "Tuning (C edited by hand)") var library: LibraryOptions

    func validate() throws {
        try FlagCheck.atLeast(epochs, 1, "--epochs")
        try FlagCheck.atLeast(monitorEvery, 1, "--monitor-every")
        try FlagCheck.atLeast(subset, 2, "--subset", "a batch needs at least two images")
        try FlagCheck.positive(baseLR, "--lr")
        try FlagCheck.nonNegative(weightDecay, "--weight-decay")
        try FlagCheck.within(warmupEpochs, 0...Double(epochs), "--warmup-epochs", "at most --epochs")
        try FlagCheck.within(cropMinScale, 0.01...1, "--crop-min-scale", "the smallest crop's fraction of the image area")
        try FlagCheck.within(jitter, 0...1, "--jitter", "brightness and contrast factors are drawn from [1 - s, 1 + s]")
    }

    func run() throws {
        options.applyThreads()
        try precision.checkThisCPU()
        try FlagCheck.existingFile(initFile, "--init", FlagCheck.stateDict)
        let ranks = try MPIRanks.join()
        let tuning = try library.directory()
        if ranks != nil, tuning != nil {
            throw ValidationError("--library: C edited by hand is compiled at one batch; a data-parallel run compiles each rank's shard itself, so run it without --library")
        }
        if let tuning, checkNumerics && !tuning.manifest.checkNumerics {
            throw ValidationError("--check-numerics: the C in \(tuning.directory.path) was written without checks; compile the directory with --check-numerics")
        }
        if let tuning, precision.precision != .float32, precision.precision.rawValue != tuning.manifest.precision {
            throw ValidationError("--precision \(precision.precision.rawValue): the C in \(tuning.directory.path) is \(tuning.manifest.precision); compile the directory with --precision")
        }
        if let tuning, let plan {
            throw ValidationError("--plan \(plan): the C in \(tuning.directory.path) follows the plan it was compiled with; compile the directory with --plan")
        }
        let kernelPlan = try plan.map(PlanFile.read)
        // With --library the manifest names the graph; flags that name another are refused when it loads.
        let model = try tuning.map { LoadedModel(workload: try $0.manifest.resolvedWorkload(), record: $0.manifest.model) } ?? options.load()
        let workload = model.workload
        let recipe = TrainDefaults.recipe(for: workload)
        var configuration = TrainConfiguration(workload: workload, epochs: epochs, batch: tuning?.manifest.batch ?? options.batch(for: workload),
                                               baseLR: baseLR ?? recipe.baseLR, weightDecay: weightDecay,
                                               dataDirectory: try data.resolvedData(for: workload))
        try data.apply(to: &configuration)
        configuration.model = model.record
        configuration.fixPredictorLR = fixPredLr ?? recipe.fixPredictorLR
        configuration.warmupEpochs = warmupEpochs
        configuration.cropMinScale = cropMinScale
        configuration.jitterStrength = jitter
        configuration.seed = seed
        configuration.subset = subset
        configuration.initFile = initFile
        configuration.variant = tuning.map { variant.variant == .standard ? $0.manifest.variant : variant.variant } ?? variant.variant
        configuration.alternation = variant.alternateEvery
        if let mismatch = configuration.alternationMismatch { throw ValidationError(mismatch) }
        let directory = URL(fileURLWithPath: runDir ?? "runs/\(workload.name)")
        let edited = try tuning.map {
            try library.load($0, workload: options, variant: configuration.variant)
        }
        try train(configuration, directory: directory, resume: resume, evaluate: !noEval, checkNumerics: checkNumerics, plan: kernelPlan,
                  tunedPlans: storedPlans(unless: plan != nil || untuned),
                  precision: precision.precision, edited: edited, monitorEvery: monitorEvery, ranks: ranks)
    }
}

/// The defaults of `train` and of the README's demo: for W1 the best recipe of
/// docs/recipe-study.md (base lr 0.12 with a fixed predictor lr; the spec's is
/// 0.06, decayed), for other workloads their spec recipe.
enum TrainDefaults {
    static let epochs = 10

    struct Recipe {
        var baseLR: Double
        var fixPredictorLR: Bool
    }

    static func recipe(for workload: Workload) -> Recipe {
        workload.name == Workload.fmnistResNetMini.name ? Recipe(baseLR: 0.12, fixPredictorLR: true)
            : Recipe(baseLR: workload.baseLR, fixPredictorLR: false)
    }

    /// "0.12 for fmnist-resnet-mini, 0.06 for ..." for --help.
    static func described<T>(_ field: KeyPath<Recipe, T>) -> String {
        Workload.all.map { "\(recipe(for: $0)[keyPath: field]) for \($0.name)" }.joined(separator: ", ")
    }
}

/// Compile, load data, train with progress, then plot and evaluate.
/// `edited`, when given, is the library to train (`--library DIR`) instead of compiling the workload.
/// With `ranks` (data-parallel), each rank compiles its shard of the batch; rank 0 plots and evaluates
/// while the others wait.
func train(_ requested: TrainConfiguration, directory: URL, resume: Bool, evaluate: Bool, checkNumerics: Bool = false, plan: KernelPlan? = nil, tunedPlans: String? = nil,
           precision: TrainingPrecision = .float32, edited: EditedProgram? = nil, monitorEvery: Int = 1, ranks: MPIRanks? = nil) throws {
    let workload = try LoadedModel.restore(name: requested.workload, record: requested.model).workload
    let data = try TrainingData.load(for: workload, configuration: requested)
    // Statistics computed from the data are part of the run: the checkpoint
    // keeps them for `eval`, and --resume compares them like flags.
    var configuration = requested
    if let computed = data.computedNormalization {
        (configuration.normalizationMean, configuration.normalizationStd) = (computed.mean, computed.std)
    }
    if let subset = configuration.subset, subset > data.train.count {
        throw CompileError("--subset \(subset): \(configuration.dataDirectory) holds only \(data.train.count) training images; lower it or drop --subset")
    }
    let shard = BatchShard.of(configuration.batch, on: ranks)
    try shard.validate()
    let options = CodegenOptions(precision: precision.scalar, checkNumerics: checkNumerics, plan: plan, operands: precision.operands,
                                 tunedPlanDirectory: tunedPlans)
    let compiled = try edited?.edited ?? Compiler.compile(workload, batch: shard.count, options: options, variant: configuration.variant)
    say(compiled.summary)
    if let ranks { say("ranks:   \(ranks.size) processes, global batch \(configuration.batch) per view, \(shard.count) on rank 0 (docs/mpi.md)") }
    if let edited { say(edited.summary) }
    say("data:    \(data.summary)" + (configuration.subset.map { "; training on the first \($0)" } ?? ""))
    for note in data.notes { say("         " + note) }
    say("recipe:  " + configuration.recipeSummary)
    let progress = ProgressPrinter()
    let trainer = Trainer(configuration: configuration, runDirectory: directory, compiled: compiled, data: data,
                          ranks: ranks, onEvent: progress.handle)
    trainer.monitorEvery = monitorEvery
    let history = try trainer.run(resume: resume)
    guard !progress.wasInterrupted, shard.isLead else {
        // The other ranks wait while rank 0 evaluates and plots, then all leave MPI together.
        ranks?.barrier()
        return
    }
    defer { ranks?.barrier() }
    if evaluate, let reason = data.evaluationUnavailable {
        say("evaluation skipped: \(reason)")
        let plots = try RunPlots.write(history, to: directory, title: configuration.workload)
        say("plots:   " + plots.map(\.path).joined(separator: ", "))
    } else if evaluate {
        say("evaluating: kNN and linear probe on the learned backbone, raw pixels and a random-init backbone ...")
        let report = try Evaluation.report(learned: trainer.state, data: data, seed: configuration.seed &+ 1,
                                           learnedFeatures: trainer.lastMonitorFeatures)
        say(report.table)
        say(String(format: "  (evaluation took %.0f s)", report.seconds))
        let plots = try RunPlots.write(history, to: directory, title: configuration.workload,
                                       baselines: [("raw pixels kNN", report.pixels.knnTop1)])
        try AtomicFile.write(Data((try JSONEncoder().encode(report))), to: directory.appendingPathComponent("evaluation.json"))
        say("plots:   " + plots.map(\.path).joined(separator: ", "))
    } else {
        let plots = try RunPlots.write(history, to: directory, title: configuration.workload)
        say("plots:   " + plots.map(\.path).joined(separator: ", "))
    }
    say("checkpoint: \(trainer.checkpointURL.path)")
}

/// Progress on a terminal as one updating line; plain periodic lines otherwise.
final class ProgressPrinter {
    let isTerminal = isatty(STDOUT_FILENO) == 1
    private(set) var wasInterrupted = false
    private var lastLine = Date.distantPast

    func handle(_ event: TrainEvent) {
        switch event {
        case .step(let epoch, let step, let steps, let loss, let lr, let rate, let eta):
            let line = String(format: "epoch %d  step %d/%d  loss %+.4f  lr %.4g  %.0f samples/s  ETA %@",
                              epoch + 1, step + 1, steps, loss, lr, rate, Self.duration(eta) as NSString)
            if isTerminal {
                let done = Int(20 * Double(step + 1) / Double(steps))
                FileHandle.standardOutput.write(Data(("\r[" + String(repeating: "#", count: done)
                    + String(repeating: ".", count: 20 - done) + "] " + line + "   ").utf8))
            } else if Date().timeIntervalSince(lastLine) > 30 || step + 1 == steps || step == 0 {
                say(line)
                lastLine = Date()
            }
        case .epochEnd(let m):
            if isTerminal { say("") }
            let knn = m.knnTop1.map { String(format: "kNN top-1 %.2f%%", 100 * $0) } ?? "kNN skipped"
            say(String(format: "epoch %d done: loss %+.4f, %@, collapse std %.4f (1/sqrt(d) = %.4f), effective rank %.1f, %.0f s (data %.1f s overlapped, waited %.1f s; compute %.0f s; monitors %.0f s), %.0f samples/s",
                         m.epoch + 1, m.loss, knn as NSString, m.collapseStd, m.collapseReference, m.collapseRank ?? .nan, m.epochSeconds,
                         m.dataSeconds, m.dataWaitSeconds, m.computeSeconds, m.monitorSeconds, m.samplesPerSecond))
        case .checkpoint, .targetsRefreshed:
            break
        case .interrupted(let url):
            wasInterrupted = true
            if isTerminal { say("") }
            say("interrupted: saved \(url.path); continue with the same command plus --resume")
        case .note(let text):
            say(text)
        case .warning(let text):
            if isTerminal { say("") }
            say("WARNING: " + text)
        }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
