import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc plot RUN_DIR`: (re)draw a run's plots from its metrics.jsonl.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot", abstract: "Draw loss, kNN and collapse-monitor plots of a run directory.")

    @Argument(help: "A run directory of `simsiamc train`.")
    var runDir: String

    func run() throws {
        let directory = URL(fileURLWithPath: runDir)
        let metricsURL = directory.appendingPathComponent("metrics.jsonl")
        guard FileManager.default.fileExists(atPath: metricsURL.path) else {
            throw ValidationError("\(metricsURL.path) does not exist: is \(runDir) a run directory of `simsiamc train`?")
        }
        let (metrics, unreadable) = MetricsFile.read(metricsURL)
        if let note = MetricsFile.note(unreadable, in: metricsURL) { printError(note) }
        var baselines: [(String, Double)] = []
        if let evaluation = FileManager.default.contents(atPath: directory.appendingPathComponent("evaluation.json").path),
           let report = try? JSONDecoder().decode(EvaluationReport.self, from: evaluation) {
            baselines.append(("raw pixels kNN", report.pixels.knnTop1))
        }
        let title = (try? Checkpoint.read(directory.appendingPathComponent("checkpoint.safetensors")).0.configuration.workload) ?? runDir
        for url in try RunPlots.write(metrics, to: directory, title: title, baselines: baselines) { say(url.path) }
    }
}
