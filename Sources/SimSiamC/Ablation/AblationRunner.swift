import Foundation

/// Trains every variant of a study with the same seed and budget, evaluates
/// each (kNN monitor per epoch, a final linear probe) and writes the report.
/// A variant whose `run.json` already holds a finished run of the same
/// configuration is not trained again, so an interrupted study continues.
public struct AblationRunner {
    public let study: AblationStudy
    public let base: TrainConfiguration
    public let directory: URL
    /// The dataset, loaded once for every variant (no study varies the augmentation).
    public let data: TrainingData
    public let onEvent: (TrainEvent) -> Void
    /// Run each variant's kNN monitor after every `monitorEvery`-th epoch and the last (`Trainer.monitorEvery`),
    /// so that a longer study spends its time training; the report's kNN curves then have fewer points.
    public var monitorEvery = 1
    /// The arithmetic of every variant (`--precision`).
    public var precision: TrainingPrecision = .float32
    /// Where `simsiamc tune` stored plans for this CPU (`CodegenOptions.tunedPlanDirectory`); nil: the cost models'.
    public var tunedPlanDirectory: String?

    public init(study: AblationStudy, base: TrainConfiguration, directory: URL, data: TrainingData,
                onEvent: @escaping (TrainEvent) -> Void) {
        self.study = study
        self.base = base
        self.directory = directory
        self.data = data
        self.onEvent = onEvent
    }

    /// What a finished variant leaves in its directory.
    struct StoredRun: Codable {
        var configuration: TrainConfiguration
        var run: AblationRun
    }

    /// Runs the study; nil when Ctrl-C interrupted it (the current variant's checkpoint is saved).
    public func run() throws -> (report: AblationStudyReport, files: [URL])? {
        if let reason = data.evaluationUnavailable {
            throw CompileError("ablate scores every variant by kNN and a linear probe, which this data cannot give: \(reason)")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var runs: [AblationRun] = []
        for (variant, configuration) in study.configurations(base: base) {
            let runDirectory = directory.appendingPathComponent(AblationStudy.directoryName(variant))
            onEvent(.note("== \(study.name): \(variant.name) \(variant.flags.isEmpty ? "(default flags)" : variant.flags) -> \(runDirectory.path)"))
            if let stored = try? finishedRun(in: runDirectory), stored.configuration == configuration {
                onEvent(.note("   finished earlier; reusing \(runDirectory.appendingPathComponent("run.json").path)"))
                runs.append(stored.run)
                continue
            }
            guard let run = try train(variant, configuration, in: runDirectory) else { return nil }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            encoder.nonConformingFloatEncodingStrategy = Self.nonFiniteFloats
            try AtomicFile.write(try encoder.encode(StoredRun(configuration: configuration, run: run)),
                                    to: runDirectory.appendingPathComponent("run.json"))
            runs.append(run)
        }
        let pixels = try pixelBaseline()
        let paper = AblationStudyReport.paperFigures(study: study.name)
        let report = AblationStudyReport(study: study.name, title: study.title, runs: runs,
                                         paper: paper.figures, paperNote: paper.note,
                                         pixelBaseline: (knn: pixels.knnTop1, linear: pixels.linearTop1), budget: budget)
        return (report, try report.write(to: directory))
    }

    /// The shared budget, as the report states it.
    var budget: String {
        let images = base.subset.map { "the first \($0)" } ?? "all"
        let baseVariant = base.variant == .standard ? "" : ", base variant: \(base.variant.summary)"
        return "\(base.workload)\(baseVariant), \(base.epochs) epoch(s) on \(images) training images, seed \(base.seed), batch \(base.batch) per view (unless the study varies it), base lr \(base.baseLR), crop scale (\(base.cropMinScale), 1), jitter \(base.jitterStrength)"
    }

    private func finishedRun(in runDirectory: URL) throws -> StoredRun {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(StoredRun.self, from: Data(contentsOf: runDirectory.appendingPathComponent("run.json")))
    }

    /// A diverged run's losses may be NaN, which plain JSON cannot hold.
    static let nonFiniteFloats = JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

    /// Trains and probes one variant; a diverged run is reported, not fatal. nil when interrupted.
    private func train(_ variant: AblationStudy.Variant, _ configuration: TrainConfiguration, in runDirectory: URL) throws -> AblationRun? {
        let workload = try LoadedModel.restore(name: configuration.workload, record: configuration.model).workload
        let options = CodegenOptions(precision: precision.scalar, operands: precision.operands, tunedPlanDirectory: tunedPlanDirectory)
        let compiled = try Compiler.compile(workload, batch: configuration.batch, options: options, variant: configuration.variant)
        onEvent(.note(compiled.summary))
        let trainer = Trainer(configuration: configuration, runDirectory: runDirectory, compiled: compiled, data: data, onEvent: onEvent)
        trainer.monitorEvery = monitorEvery
        let started = Date()
        var history: [EpochMetrics]
        var failure: String?
        do {
            let saved = try? Checkpoint.read(trainer.checkpointURL).0
            history = try trainer.run(resume: saved?.configuration == configuration)
            if history.count < configuration.epochs { return nil }
        } catch let error as TrainingDiverged {
            history = error.history
            failure = error.description
            onEvent(.note("   \(error.description); recorded as diverged"))
        }
        var linear: Double?
        if failure == nil, let features = trainer.lastMonitorFeatures {
            onEvent(.note("   linear probe on the frozen backbone's features ..."))
            linear = LinearProbe.evaluate(train: features.train, test: features.test, classes: data.classes).testAccuracy
            onEvent(.note(String(format: "   linear probe top-1 %.2f%%", 100 * linear!)))
        }
        let training = compiled.lowered.training
        let dim = training.outputs["z1"].map { training.shape(of: $0).dims.last! } ?? 1
        return AblationRun(name: variant.name, flags: variant.flags, losses: history.map(\.loss), knnTop1: history.compactMap(\.knnTop1),
                           collapseStd: history.map(\.collapseStd), collapseReference: CollapseMonitor.healthyReference(dim: dim),
                           collapseRank: ranks(history),
                           linearTop1: linear, wallSeconds: Date().timeIntervalSince(started), failure: failure)
    }

    /// The effective rank per epoch, or nil when an epoch lacks it (metrics written before it was
    /// measured, then resumed): a shorter array would put its values under the wrong epochs.
    private func ranks(_ history: [EpochMetrics]) -> [Double]? {
        let ranks = history.compactMap(\.collapseRank)
        return ranks.count == history.count ? ranks : nil
    }

    /// kNN and linear probe on raw pixels, computed once per study directory.
    private func pixelBaseline() throws -> ProtocolScores {
        let url = directory.appendingPathComponent("pixels.json")
        if let saved = try? JSONDecoder().decode(ProtocolScores.self, from: Data(contentsOf: url)) { return saved }
        onEvent(.note("raw-pixel baseline: kNN and linear probe ..."))
        let sets = try data.evaluationSets()
        let normalizer = ViewAugmenter(configuration: data.augmentation, seed: 0)
        let scores = Evaluation.scores(train: FeatureExtraction.pixels(images: sets.train, augmenter: normalizer),
                                       test: FeatureExtraction.pixels(images: sets.test, augmenter: normalizer), classes: data.classes)
        try AtomicFile.write(try JSONEncoder().encode(scores), to: url)
        return scores
    }
}
