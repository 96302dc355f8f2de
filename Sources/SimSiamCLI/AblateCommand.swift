import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc ablate`: one of the SimSiam paper's ablation studies on this machine.
struct AblateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate",
        abstract: "Train every variant of one of the paper's ablation studies with the same seed and budget; write a report.",
        discussion: """
            Studies: \(AblationStudy.all.map { "\($0.name) (\($0.variants.map(\.name).joined(separator: ", ")))" }.joined(separator: "; ")).
            The report (report.md, report.json, loss.svg, knn.svg, collapse.svg, rank.svg) goes to the run \
            directory, one sub-directory per variant. Rerunning the same command reuses the variants that finished.
            The variant flags set the base every variant starts from: `--study stop-gradient --head-bn hidden` \
            compares stop-gradient on and off without the projector's output BN, which otherwise keeps z from \
            collapsing to a point.
            """)

    @Option(help: "The study: \(AblationStudy.names.joined(separator: ", ")).")
    var study: String

    @OptionGroup var options: WorkloadOptions

    @Option(parsing: .unconditional, help: "Epochs per variant.")
    var epochs: Int = 2

    @Option(parsing: .unconditional, help: "Train each variant on the first N training images (the kNN monitor still uses all of them).")
    var subset: Int = 20_000

    @Option(name: .customLong("lr"), parsing: .unconditional, help: "Base learning rate per 256 samples (default: the workload's).")
    var baseLR: Double?

    @Option(parsing: .unconditional, help: "Seed shared by every variant.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Run the kNN monitor after every K-th epoch and the last (default 1: every epoch).")
    var monitorEvery: Int = 1

    @OptionGroup(title: "Data") var data: DataOptions

    @Option(help: "Run directory (default: runs/ablate-<study>, plus the base variant when it is not the standard one).")
    var runDir: String?

    @OptionGroup(title: "Base variant (every variant of the study starts from it)") var baseVariant: VariantOptions

    @OptionGroup var precision: TrainingPrecisionOption

    func validate() throws {
        guard AblationStudy.named(study) != nil else {
            throw ValidationError("unknown study \"\(study)\"; choose one of: \(AblationStudy.names.joined(separator: ", "))")
        }
        try FlagCheck.atLeast(epochs, 1, "--epochs")
        try FlagCheck.atLeast(subset, 2, "--subset", "a batch needs at least two images")
        try FlagCheck.atLeast(monitorEvery, 1, "--monitor-every")
        try FlagCheck.positive(baseLR, "--lr")
        if let flag = AblationStudy.named(study)!.flagOverridden(inBase: baseVariant.variant) {
            throw ValidationError("the \(study) study sets \(flag) itself, per variant; drop \(flag)")
        }
    }

    func run() throws {
        options.applyThreads()
        try precision.checkThisCPU()
        let model = try options.load()
        var base = TrainConfiguration(workload: model.workload, epochs: epochs, batch: options.batch(for: model.workload), baseLR: baseLR,
                                      dataDirectory: try data.resolvedData(for: model.workload))
        base.model = model.record
        try data.apply(to: &base)
        base.seed = seed
        base.subset = subset
        base.variant = baseVariant.variant
        base.alternation = baseVariant.alternateEvery
        let defaultDirectory = "runs/ablate-\(study)" + (base.variant == .standard ? "" : "-" + AblationStudy.slug(base.variant.summary))
        let directory = URL(fileURLWithPath: runDir ?? defaultDirectory)
        let progress = ProgressPrinter()
        let data = try TrainingData.load(for: model.workload, configuration: base)
        if let computed = data.computedNormalization {
            (base.normalizationMean, base.normalizationStd) = (computed.mean, computed.std)
        }
        var runner = AblationRunner(study: AblationStudy.named(study)!, base: base, directory: directory, data: data,
                                    onEvent: progress.handle)
        runner.monitorEvery = monitorEvery
        runner.precision = precision.precision
        runner.tunedPlanDirectory = storedPlans()
        guard let (report, files) = try runner.run() else {
            say("interrupted: rerun the same command to continue; finished variants are kept")
            return
        }
        say(report.markdown)
        say("report:  " + files.map(\.path).joined(separator: ", "))
    }
}
