import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc eval`: kNN and linear probe of a checkpoint, next to raw pixels and a random-init backbone.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a training checkpoint: kNN monitor and linear probe, with baselines.")

    @Option(help: "A checkpoint written by `simsiamc train`.")
    var checkpoint: String

    @Option(help: ArgumentHelp("The dataset, in any format `train --data` takes (default: the one the run trained on).",
                               valueName: "path"))
    var data: String?

    @Option(help: ArgumentHelp("Held-out images to score, in any --data format (default: the run's --eval-data, else the "
                               + "dataset's test/ split).", valueName: "path"))
    var evalData: String?

    @Option(help: ArgumentHelp("Labels for .npy --eval-data images.", valueName: "file.npy"))
    var evalLabels: String?

    @Option(parsing: .unconditional, help: "OpenMP threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Print the numbers as one JSON object.")
    var json = false

    @OptionGroup(title: "Tuning (C edited by hand)") var library: LibraryOptions

    func validate() throws { try FlagCheck.atLeast(threads, 1, "--threads") }

    func run() throws {
        if let threads { setenv("OMP_NUM_THREADS", String(threads), 1) }
        let url = URL(fileURLWithPath: checkpoint)
        var (saved, _) = try Checkpoint.read(url)
        if let data { saved.configuration.dataDirectory = data }
        if let evalData { (saved.configuration.evalData, saved.configuration.evalLabelsFile) = (evalData, evalLabels) }
        let workload = try LoadedModel.restore(name: saved.configuration.workload, record: saved.configuration.model).workload
        let compiled: CompiledModel
        if let directory = try library.directory() {
            // The checkpoint names the graph: the directory's C must be for the same one.
            let expectation = TuningExpectation(workload: workload.name, batch: saved.configuration.batch, variant: saved.configuration.variant)
            let program = try Compiler.loadEdited(directory, expecting: expectation)
            if !json { say(program.summary) }
            compiled = program.edited
        } else {
            compiled = try Compiler.compile(workload, batch: saved.configuration.batch, variant: saved.configuration.variant)
        }
        let state = ModelState(library: compiled.library)
        try state.loadSafetensors(url: url, strict: false)
        let data = try TrainingData.load(for: workload, configuration: saved.configuration)
        if let reason = data.evaluationUnavailable {
            throw CompileError("cannot evaluate \(checkpoint) on \(saved.configuration.dataDirectory): \(reason)")
        }
        let report = try Evaluation.report(learned: state, data: data, seed: saved.configuration.seed &+ 1)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            say(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            say("\(checkpoint): \(saved.configuration.workload) after \(saved.position.epoch) epoch(s)")
            say("data: \(data.summary)")
            say(report.table)
        }
    }
}
