import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc eval`: kNN and linear probe of a checkpoint, next to raw pixels and a random-init backbone.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a training checkpoint: kNN monitor and linear probe, with baselines.")

    @Option(help: "A checkpoint written by `simsiamc train`.")
    var checkpoint: String

    @Option(help: "Dataset directory (default: the one the run trained on).")
    var data: String?

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
        guard let workload = Workload.named(saved.configuration.workload) else {
            throw ValidationError("\(checkpoint) was trained on unknown workload \(saved.configuration.workload)")
        }
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
        let report = try Evaluation.report(learned: state, data: data, seed: saved.configuration.seed &+ 1)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            say(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            say("\(checkpoint): \(saved.configuration.workload) after \(saved.position.epoch) epoch(s)")
            say(report.table)
        }
    }
}
