import Foundation

/// What `simsiamc finetune` measured, as written to `finetune.json`.
public struct FinetuneReport: Codable, Sendable, Equatable {
    public var checkpoint: String
    /// Epochs of self-supervised training the checkpoint had finished.
    public var checkpointEpoch: Int
    public var model: String
    /// Exactly one of the two budgets is set.
    public var labelsPerClass: Int?
    public var labelFraction: Double?
    public var labelledImages: Int
    public var testImages: Int
    public var classes: Int
    public var recipe: FinetuneRecipe
    /// Test top-1 of the network started from the checkpoint's backbone.
    public var finetunedTop1: Double
    /// Test top-1 of the same network from its seeded random initialisation, same labels and budget; nil when skipped.
    public var scratchTop1: Double?
    /// Test top-1 of the linear probe (L-BFGS softmax regression) on the checkpoint's frozen features of the same labels; nil when skipped.
    public var linearProbeTop1: Double?
    /// Test top-1 of the same linear probe on the raw pixels of the same labels (the bar without
    /// any network); nil when skipped, and in reports written before it existed.
    public var pixelProbeTop1: Double?
    public var finetuneSeconds: Double
    public var scratchSeconds: Double?
    public var probeSeconds: Double?
    public var seconds: Double

    /// The three rows a user compares.
    public var table: String {
        func row(_ name: String, _ value: Double?, _ seconds: Double?) -> String? {
            guard let value else { return nil }
            return "  " + name.padding(toLength: 34, withPad: " ", startingAt: 0)
                + String(format: "%6.2f%%", 100 * value) + (seconds.map { String(format: "   %7.1f s", $0) } ?? "")
        }
        return (["  \(labelledImages) labelled images, \(recipe.epochs) epochs     test top-1   time",
                 row("fine-tuned from the checkpoint", finetunedTop1, finetuneSeconds),
                 row("same network from scratch", scratchTop1, scratchSeconds),
                 row("linear probe on frozen features", linearProbeTop1, probeSeconds),
                 row("linear probe on raw pixels", pixelProbeTop1, nil)].compactMap { $0 })
            .joined(separator: "\n")
    }

    /// Writes the report as JSON atomically (temporary file, then rename).
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self), to: url)
    }
}

/// RQ4: a SimSiam checkpoint fine-tuned with few labels, against the same network trained
/// from scratch on the same labels with the same budget, and against the linear probe.
public struct FinetuneStudy {
    public var checkpoint: URL
    public var budget: LabelBudget
    public var recipe: FinetuneRecipe
    public var options: CodegenOptions
    public var skipScratch = false
    public var skipProbe = false
    public var cache: BuildCache?

    public init(checkpoint: URL, budget: LabelBudget, recipe: FinetuneRecipe, options: CodegenOptions = CodegenOptions()) {
        self.checkpoint = checkpoint
        self.budget = budget
        self.recipe = recipe
        self.options = options
    }

    /// Runs the comparison on `data` (labelled, with a held-out split) for the checkpoint's model.
    /// - Parameters:
    ///   - model: the checkpoint's model (`LoadedModel.restore` of its configuration).
    ///   - note: progress lines (compiles, subset, loaded tensors).
    public func run(model: Workload, checkpointEpoch: Int, data: TrainingData, note: (String) -> Void,
                    onEvent: (FinetuneEvent) -> Void) throws -> FinetuneReport {
        let started = Date()
        let sets = try data.evaluationSets()
        let chosen = try LabelSubset.select(labels: sets.train.labels, classes: data.classes, budget: budget, seed: recipe.seed)
        let labelled = LabelSubset.gather(sets.train, chosen)
        note("labels:  \(labelled.count) of \(sets.train.count) training images (\(budget), seed \(recipe.seed)); test: \(sets.test.count) images")

        let graphs = try model.trace(.standard, batch: recipe.batch)
        let supervised = try SupervisedGraphs.make(features: graphs.features, classes: data.classes, name: model.name + "-finetune")
        let compiled = try Compiler.build(try Lowering.lower(forward: supervised.training, features: supervised.features, options: options),
                                          cache: cache)
        note("compile: \(compiled.lowered.training.name): \(compiled.lowered.generated.kernelCount) kernels, clang \(compiled.build.summary)")
        let tuner = FineTuner(compiled: compiled, recipe: recipe, data: data.augmentation)

        let finetuneStart = Date()
        let finetuned = ModelState(library: compiled.library)
        finetuned.initialize(seed: recipe.seed)
        let loaded = try loadBackbone(into: finetuned, backbone: graphs.features)
        note("init:    \(loaded) backbone tensors from \(checkpoint.path); \(SupervisedGraphs.classifierWeight) and .bias from their initialiser")
        try tuner.train(finetuned, images: labelled, run: "fine-tune", onEvent: onEvent)
        let finetunedTop1 = try tuner.accuracy(finetuned, images: sets.test)
        let finetuneSeconds = Date().timeIntervalSince(finetuneStart)
        note(String(format: "fine-tuned: test top-1 %.2f%%", 100 * finetunedTop1))

        var scratch: (top1: Double, seconds: Double)?
        if !skipScratch {
            let start = Date()
            let state = ModelState(library: compiled.library)
            state.initialize(seed: recipe.seed)
            try tuner.train(state, images: labelled, run: "scratch", onEvent: onEvent)
            scratch = (try tuner.accuracy(state, images: sets.test), Date().timeIntervalSince(start))
            note(String(format: "from scratch: test top-1 %.2f%%", 100 * scratch!.top1))
        }

        var probe: (top1: Double, seconds: Double)?
        if !skipProbe {
            let start = Date()
            probe = (try linearProbe(model: model, labelled: labelled, test: sets.test, data: data), Date().timeIntervalSince(start))
            note(String(format: "linear probe: test top-1 %.2f%%", 100 * probe!.top1))
        }
        var pixelProbe: Double?
        if !skipProbe {
            let normalizer = ViewAugmenter(configuration: data.augmentation, seed: 0)
            pixelProbe = LinearProbe.evaluate(train: FeatureExtraction.pixels(images: labelled, augmenter: normalizer),
                                              test: FeatureExtraction.pixels(images: sets.test, augmenter: normalizer),
                                              classes: data.classes).testAccuracy
            note(String(format: "linear probe on raw pixels: test top-1 %.2f%%", 100 * pixelProbe!))
        }

        var perClass: Int?, fraction: Double?
        switch budget {
        case .perClass(let n): perClass = n
        case .fraction(let f): fraction = f
        }
        return FinetuneReport(checkpoint: checkpoint.path, checkpointEpoch: checkpointEpoch, model: model.name,
                              labelsPerClass: perClass, labelFraction: fraction, labelledImages: labelled.count,
                              testImages: sets.test.count, classes: data.classes, recipe: recipe, finetunedTop1: finetunedTop1,
                              scratchTop1: scratch?.top1, linearProbeTop1: probe?.top1, pixelProbeTop1: pixelProbe, finetuneSeconds: finetuneSeconds,
                              scratchSeconds: scratch?.seconds, probeSeconds: probe?.seconds, seconds: Date().timeIntervalSince(started))
    }

    /// Copies the backbone's parameters, BN statistics and counters from the checkpoint (not
    /// its SGD momentum, nor the projector and predictor, which the supervised graph does not read).
    /// - Throws: `CompileError` naming the tensors the checkpoint lacks.
    func loadBackbone(into state: ModelState, backbone: Graph) throws -> Int {
        let file = try SafeTensors.read(url: checkpoint)
        let names = SupervisedGraphs.backboneStateNames(backbone)
        let missing = names.filter { file.tensor(named: $0) == nil }
        guard missing.isEmpty else {
            throw CompileError("--checkpoint \(checkpoint.path) lacks backbone tensors of the model: "
                               + missing.prefix(8).joined(separator: ", ") + (missing.count > 8 ? ", ..." : "")
                               + "; give a checkpoint written by `simsiamc train` for this model")
        }
        for name in names { try state.setTensor(named: name, file.tensor(named: name)!) }
        return names.count
    }

    /// The spec's linear probe on the checkpoint's frozen eval-mode backbone features of the labelled images.
    func linearProbe(model: Workload, labelled: LabeledImages, test: LabeledImages, data: TrainingData) throws -> Double {
        let compiled = try Compiler.compile(model, batch: recipe.batch, options: options, cache: cache)
        let state = ModelState(library: compiled.library)
        state.initialize(seed: recipe.seed)
        try state.loadSafetensors(url: checkpoint, strict: false)
        let normalizer = ViewAugmenter(configuration: data.augmentation, seed: 0)
        let train = try FeatureExtraction.backbone(state, images: labelled, augmenter: normalizer)
        let testFeatures = try FeatureExtraction.backbone(state, images: test, augmenter: normalizer)
        return LinearProbe.evaluate(train: train, test: testFeatures, classes: data.classes).testAccuracy
    }
}
