import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc eval`: kNN and linear probe of a checkpoint's backbone, or of a
/// PyTorch state_dict's (`--init`), next to raw pixels and a random-init backbone.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a training checkpoint or PyTorch weights: kNN monitor and linear probe, with baselines.",
        discussion: """
            With --checkpoint, the run's workload, data and normalisation are the defaults; each data flag given replaces \
            the run's value. With --init, the weights come from a PyTorch state_dict (a whole SimSiam's or a backbone's, \
            matched as `train --init` does) and the data flags mean what they mean for `train`.
            """)

    @Option(help: "A checkpoint written by `simsiamc train`.")
    var checkpoint: String?

    @Option(name: .customLong("init"), help: ArgumentHelp(
        "A PyTorch state_dict saved as safetensors, keys as for `train --init`; the whole backbone must be in it.",
        valueName: "file.safetensors"))
    var initFile: String?

    @Option(help: "With --init: the model the weights are for: \(Workload.choices) (default: \(Workload.fmnistResNetMini.name)).")
    var workload: String?

    @OptionGroup(title: "Data") var data: DataOptions

    @Option(parsing: .unconditional, help: "OpenMP threads (default: all cores).")
    var threads: Int?

    @Option(help: ArgumentHelp(
        "Also write the backbone's eval-mode features of the held-out images: `features` [N, D] float32 and `labels` [N] int64.",
        discussion: "For checking them against another framework (scripts/pytorch_weights.py).", valueName: "file.safetensors"))
    var featuresOut: String?

    @Flag(help: "Print the numbers as one JSON object.")
    var json = false

    @OptionGroup(title: "Tuning (C edited by hand)") var library: LibraryOptions

    func validate() throws {
        try FlagCheck.atLeast(threads, 1, "--threads")
        guard (checkpoint == nil) != (initFile == nil) else {
            throw ValidationError("give --checkpoint FILE (a simsiamc run's) or --init FILE (a PyTorch state_dict), exactly one")
        }
        if let workload {
            guard initFile != nil else { throw ValidationError("--workload goes with --init; a checkpoint names its own workload") }
            guard Workload.named(workload) != nil else {
                throw ValidationError("unknown workload \"\(workload)\"; choose one of: \(Workload.choices)")
            }
        }
    }

    func run() throws {
        if let threads { setenv("OMP_NUM_THREADS", String(threads), 1) }
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
        guard let workload = Workload.named(saved.configuration.workload) else {
            throw ValidationError("\(checkpoint) was trained on unknown workload \(saved.configuration.workload)")
        }
        // The checkpoint names the graph: the directory's C must be for the same one.
        let expectation = TuningExpectation(workload: workload.name, batch: saved.configuration.batch, variant: saved.configuration.variant)
        let compiled = try compile(workload, batch: saved.configuration.batch, variant: saved.configuration.variant, expecting: expectation)
        let state = ModelState(library: compiled.library)
        try state.loadSafetensors(url: url, strict: false)
        return Subject(file: checkpoint, workload: workload, configuration: saved.configuration, state: state,
                       title: "\(checkpoint): \(saved.configuration.workload) after \(saved.position.epoch) epoch(s)")
    }

    /// A PyTorch state_dict: the workload's default batch and the data flags as `train` reads them.
    func initSubject(_ file: String) throws -> Subject {
        let tuning = try library.directory()
        let workload = try tuning?.manifest.resolvedWorkload() ?? self.workload.flatMap(Workload.named) ?? .fmnistResNetMini
        var configuration = TrainConfiguration(workload: workload, epochs: 1, batch: tuning?.manifest.batch,
                                               dataDirectory: try data.resolvedData(for: workload))
        try data.apply(to: &configuration)
        let compiled = try compile(workload, batch: configuration.batch, variant: .standard,
                                   expecting: TuningExpectation(workload: self.workload))
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
            return try Compiler.compile(workload, batch: batch, variant: variant)
        }
        let program = try Compiler.loadEdited(directory, expecting: expectation)
        if !json { say(program.summary) }
        return program.edited
    }
}
