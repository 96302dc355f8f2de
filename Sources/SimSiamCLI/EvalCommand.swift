import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc eval`: kNN and linear probe of a checkpoint's backbone, or of a
/// PyTorch state_dict's (`--init`), next to raw pixels and a random-init backbone.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a training checkpoint or PyTorch weights: kNN monitor and linear probe, with baselines.",
        discussion: """
            With --checkpoint, the run's model, data and normalisation are the defaults; each data flag given replaces \
            the run's value. With --init, the weights come from a PyTorch state_dict (a whole SimSiam's or a backbone's, \
            matched as `train --init` does) for the model that --workload, --model or --graph names, and the data flags \
            mean what they mean for `train`.
            """)

    @Option(help: "A checkpoint written by `simsiamc train`.")
    var checkpoint: String?

    @Option(name: .customLong("init"), help: ArgumentHelp(
        "A PyTorch state_dict saved as safetensors, keys as for `train --init`; the whole backbone must be in it.",
        valueName: "file.safetensors"))
    var initFile: String?

    /// --workload, --model, --graph and --batch go with --init; --threads with either.
    @OptionGroup var options: WorkloadOptions

    @OptionGroup(title: "Data") var data: DataOptions

    @Option(help: ArgumentHelp(
        "Also write the backbone's eval-mode features of the held-out images: `features` [N, D] float32 and `labels` [N] int64.",
        discussion: "For checking them against another framework (scripts/pytorch_weights.py).", valueName: "file.safetensors"))
    var featuresOut: String?

    @Flag(help: "Print the numbers as one JSON object.")
    var json = false

    @OptionGroup(title: "Tuning (C edited by hand)") var library: LibraryOptions

    func validate() throws {
        guard (checkpoint == nil) != (initFile == nil) else {
            throw ValidationError("give --checkpoint FILE (a simsiamc run's) or --init FILE (a PyTorch state_dict), exactly one")
        }
        if checkpoint != nil && (options.namesModel || options.batch != nil) {
            throw ValidationError("--workload, --model, --graph and --batch go with --init; a checkpoint names its own model and batch")
        }
    }

    func run() throws {
        options.applyThreads()
        try FlagCheck.existingFile(checkpoint, "--checkpoint", FlagCheck.trainCheckpoint)
        try FlagCheck.existingFile(initFile, "--init", FlagCheck.stateDict)
        let subject = try checkpoint.map(checkpointSubject) ?? initSubject(initFile!)
        let data = try TrainingData.load(for: subject.workload, configuration: subject.configuration)
        if let reason = data.evaluationUnavailable {
            throw CompileError("cannot evaluate \(subject.file) on \(subject.configuration.dataDirectory): \(reason)")
        }
        let features = try FeatureExtraction.backbone(subject.state, data: data)
        if let featuresOut {
            try SafeTensors.write([("features", HostTensor(shape: [features.test.count, features.test.dim], floats: features.test.features)),
                                   ("labels", HostTensor(shape: [features.test.count], int64s: features.test.labels.map(Int64.init)))],
                                  metadata: ["source": subject.file, "workload": subject.workload.name], to: URL(fileURLWithPath: featuresOut))
        }
        let report = try Evaluation.report(learned: subject.state, data: data, seed: subject.configuration.seed &+ 1,
                                           learnedFeatures: features)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            say(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            say(subject.title)
            say("data: \(data.summary)")
            say(report.table)
            if let featuresOut { say("features: \(featuresOut) (\(features.test.count) x \(features.test.dim))") }
        }
    }

    /// The weights to evaluate, the model and data they go with, and a title line.
    struct Subject {
        var file: String
        var workload: Workload
        var configuration: TrainConfiguration
        var state: ModelState
        var title: String
    }

    /// A checkpoint: its run's configuration, with the data flags given.
    func checkpointSubject(_ checkpoint: String) throws -> Subject {
        let url = URL(fileURLWithPath: checkpoint)
        var (saved, _) = try Checkpoint.read(url)
        try data.override(&saved.configuration)
        let workload = try LoadedModel.restore(name: saved.configuration.workload, record: saved.configuration.model).workload
        // The checkpoint names the graph: the directory's C must be for the same one.
        let expectation = TuningExpectation(workload: workload.name, batch: saved.configuration.batch, variant: saved.configuration.variant)
        let compiled = try compile(workload, batch: saved.configuration.batch, variant: saved.configuration.variant, expecting: expectation)
        let state = ModelState(library: compiled.library)
        try state.loadSafetensors(url: url, strict: false)
        return Subject(file: checkpoint, workload: workload, configuration: saved.configuration, state: state,
                       title: "\(checkpoint): \(saved.configuration.workload) after \(saved.position.epoch) epoch(s)")
    }

    /// A PyTorch state_dict: the model the flags (or --library's manifest) name, and the data flags as `train` reads them.
    func initSubject(_ file: String) throws -> Subject {
        let tuning = try library.directory()
        let model = try tuning.map { LoadedModel(workload: try $0.manifest.resolvedWorkload(), record: $0.manifest.model) } ?? options.load()
        let workload = model.workload
        var configuration = TrainConfiguration(workload: workload, epochs: 1, batch: tuning?.manifest.batch ?? options.batch(for: workload),
                                               dataDirectory: try data.resolvedData(for: workload))
        try data.apply(to: &configuration)
        configuration.model = model.record
        let compiled = try compile(workload, batch: configuration.batch, variant: .standard,
                                   expecting: TuningExpectation(workload: options.workload, batch: options.batch))
        let state = ModelState(library: compiled.library)
        state.initialize(seed: configuration.seed)
        let report = try InitialWeights.load(URL(fileURLWithPath: file), into: state)
        guard report.missingBackbone.isEmpty else {
            throw CompileError("eval --init \(file): the backbone of \(workload.name) needs tensors the file lacks: "
                + report.missingBackbone.joined(separator: ", ") + "; save the whole backbone's state_dict")
        }
        let unexpected = report.unexpected.isEmpty ? "" : "; unexpected (not loaded): " + report.unexpected.joined(separator: ", ")
        return Subject(file: file, workload: workload, configuration: configuration, state: state,
                       title: "\(file): \(workload.name) backbone from a state_dict (\(report.loaded.count) tensors loaded\(unexpected))")
    }

    /// The workload's library, or the --library directory's C (which must be for the same graph).
    func compile(_ workload: Workload, batch: Int, variant: SimSiamVariant, expecting expectation: TuningExpectation) throws -> CompiledModel {
        guard let directory = try library.directory() else {
            return try Compiler.compile(workload, batch: batch, options: CodegenOptions(tunedPlanDirectory: storedPlans()), variant: variant)
        }
        let program = try Compiler.loadEdited(directory, expecting: expectation)
        if !json { say(program.summary) }
        return program.edited
    }
}
