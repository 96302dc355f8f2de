import Foundation
import Testing
@testable import SimSiamC

/// `simsiamc train` killed with SIGKILL at random moments of each phase, then
/// resumed with `--resume` until it finishes: every resumed run must end with
/// the parameters, metrics, evaluation and plots of an uninterrupted run, and
/// no half-written file (issue 18, item 1).
///
/// CI runs one kill per phase; `SIMSIAMC_KILL_TRIALS=N` (and `SIMSIAMC_KILL_SEED`)
/// runs N, cycling through the phases; `SIMSIAMC_EXECUTABLE` may name a release build.
@Suite(.serialized) struct KillResumeTests {
    enum Phase: String, CaseIterable {
        case step = "in a training step"
        case checkpointWrite = "while writing the checkpoint"
        case knnMonitor = "in the kNN monitor"
        case evaluation = "in the final evaluation"
    }

    static let epochs = 2

    /// A run directory's results, as compared between runs.
    struct Results: Equatable {
        var tensors: [String: Data]
        var losses: [Double]
        var knn: [Double?]
        var evaluation: [Double]
    }

    let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-kill-\(UUID().uuidString)")
    var dataDirectory: URL { workspace.appendingPathComponent("data") }

    func arguments(runDirectory: URL) -> [String] {
        ["train", "--data", dataDirectory.path, "--batch", "16", "--epochs", "\(Self.epochs)", "--seed", "5",
         "--threads", "2", "--run-dir", runDirectory.path]
    }

    func command(_ runDirectory: URL, resume: Bool = false, fileSizeLimit: Int? = nil) -> CommandLineRun {
        CommandLineRun(arguments: arguments(runDirectory: runDirectory) + (resume ? ["--resume"] : []),
                       environment: ["SIMSIAMC_CACHE_DIR": testCacheDirectory.path], fileSizeLimit: fileSizeLimit)
    }

    func results(_ runDirectory: URL) throws -> Results {
        let checkpoint = try SafeTensors.read(url: runDirectory.appendingPathComponent("checkpoint.safetensors"))
        var tensors: [String: Data] = [:]
        for name in checkpoint.names { tensors[name] = checkpoint.tensor(named: name)!.withUnsafeRawBytes { Data($0) } }
        let (metrics, unreadable) = MetricsFile.read(runDirectory.appendingPathComponent("metrics.jsonl"))
        #expect(unreadable.isEmpty, "metrics.jsonl has unreadable lines \(unreadable)")
        let evaluation = try JSONDecoder().decode(
            EvaluationReport.self, from: Data(contentsOf: runDirectory.appendingPathComponent("evaluation.json")))
        for plot in ["loss", "knn", "collapse", "rank"] {
            let svg = try String(contentsOf: runDirectory.appendingPathComponent("\(plot).svg"), encoding: .utf8)
            #expect(svg.hasPrefix("<?xml") && svg.hasSuffix("</svg>\n"), "\(plot).svg is not a whole SVG")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: runDirectory.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "temporary files left in \(runDirectory.path): \(leftovers)")
        return Results(tensors: tensors, losses: metrics.map(\.loss), knn: metrics.map(\.knnTop1),
                       evaluation: [evaluation.learned.knnTop1, evaluation.learned.linearTop1])
    }

    /// Decides when to kill: after the phase's marker line, a random delay
    /// within the phase's duration in the reference run.
    struct KillPlan {
        var phase: Phase
        var epoch: Int  // 1-based
        var delay: Double
        var runDirectory: URL

        func marker(steps: Int) -> String {
            switch phase {
            case .step: "epoch \(epoch)  step 1/"
            case .knnMonitor: "epoch \(epoch)  step \(steps)/\(steps)"
            case .evaluation: "evaluating:"
            case .checkpointWrite: "epoch \(epoch - 1) done"
            }
        }
    }

    @Test func killedRunsResumeToTheUninterruptedResult() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        try SyntheticFashionMNIST.write(to: dataDirectory, train: 192, test: 60)
        let trials = Int(ProcessInfo.processInfo.environment["SIMSIAMC_KILL_TRIALS"] ?? "") ?? Phase.allCases.count
        var random = TestRandom(seed: UInt64(ProcessInfo.processInfo.environment["SIMSIAMC_KILL_SEED"] ?? "") ?? 1)

        let referenceDirectory = workspace.appendingPathComponent("reference")
        let reference = try command(referenceDirectory).run()
        try #require(reference.status == 0, "reference run failed:\n\(reference.output)")
        let expected = try results(referenceDirectory)
        let steps = 192 / 16
        let timings = ReferenceTimings(output: reference.output,
                                       metrics: MetricsFile.read(referenceDirectory.appendingPathComponent("metrics.jsonl")).metrics)

        var landed: [Phase: Int] = [:], missed = 0
        for trial in 0..<trials {
            let phase = Phase.allCases[trial % Phase.allCases.count]
            let epoch = 1 + Int(random.next() * Double(Self.epochs))
            let directory = workspace.appendingPathComponent("trial-\(trial)")
            var plan = KillPlan(phase: phase, epoch: phase == .evaluation ? Self.epochs : epoch, delay: 0, runDirectory: directory)
            // A checkpoint write lasts milliseconds and the 1 ms poll can miss it: try again.
            var killed = false
            for attempt in 0..<5 where !killed {
                // Within the phase as the reference run timed it; closer to its start on each retry,
                // since this run's phase may be shorter (the machine is shared).
                plan.delay = random.next() * 0.8 * timings.duration(of: phase, epoch: plan.epoch) / Double(1 << attempt)
                try? FileManager.default.removeItem(at: directory)
                killed = try runAndKill(plan, steps: steps)
                if !killed { missed += 1 }
            }
            #expect(killed, "trial \(trial): the run finished before the kill \(phase.rawValue) (epoch \(plan.epoch)), 5 times")
            if killed { landed[phase, default: 0] += 1 }
            var attempts = 0
            while true {
                attempts += 1
                let resumed = try command(directory, resume: true).run()
                if resumed.status == 0 { break }
                try #require(attempts < 3, "trial \(trial): --resume failed after a kill \(phase.rawValue):\n\(resumed.output)")
            }
            let actual = try results(directory)
            let differing = Set(expected.tensors.keys).union(actual.tensors.keys).filter { expected.tensors[$0] != actual.tensors[$0] }
            #expect(differing.isEmpty, "trial \(trial), killed \(phase.rawValue): \(differing.count) tensors differ from the uninterrupted run, e.g. \(differing.sorted().prefix(3))")
            #expect(actual.losses == expected.losses && actual.knn == expected.knn, "trial \(trial): metrics differ")
            #expect(actual.evaluation == expected.evaluation, "trial \(trial): evaluation differs")
            try? FileManager.default.removeItem(at: directory)
        }
        print("kill-resume: \(trials) trials, kills per phase: "
              + Phase.allCases.map { "\($0.rawValue) \(landed[$0] ?? 0)" }.joined(separator: ", ")
              + " (\(missed) runs finished before the kill and were repeated)")
    }

    /// Starts a run and SIGKILLs it as `plan` says; true if the kill happened.
    func runAndKill(_ plan: KillPlan, steps: Int) throws -> Bool {
        var markerSeen: Date?
        let marker = plan.marker(steps: steps)
        let outcome = try command(plan.runDirectory).run { line in
            if let line {
                if markerSeen == nil && (line.hasPrefix(marker) || (plan.phase == .checkpointWrite && plan.epoch == 1 && line.hasPrefix("recipe:"))) {
                    markerSeen = Date()
                }
                return false
            }
            guard let seen = markerSeen else { return false }
            if plan.phase == .checkpointWrite {
                // The checkpoint is being written while its temporary file exists.
                let names = (try? FileManager.default.contentsOfDirectory(atPath: plan.runDirectory.path)) ?? []
                return names.contains { $0.hasPrefix(".checkpoint.safetensors.") && $0.hasSuffix(".tmp") }
            }
            return Date().timeIntervalSince(seen) >= plan.delay
        }
        return outcome.killed
    }
}

/// How long each phase took in the reference run, to place kills inside them.
struct ReferenceTimings {
    var epochCompute: [Double]
    var epochMonitor: [Double]
    var evaluation: Double

    init(output: String, metrics: [EpochMetrics]) {
        epochCompute = metrics.map(\.computeSeconds)
        epochMonitor = metrics.map(\.monitorSeconds)
        let line = output.split(separator: "\n").first { $0.contains("(evaluation took") }
        evaluation = line.flatMap { Double($0.split(separator: " ").dropFirst(2).first ?? "") } ?? 1
    }

    func duration(of phase: KillResumeTests.Phase, epoch: Int) -> Double {
        switch phase {
        case .step: epochCompute[epoch - 1]
        case .knnMonitor: epochMonitor[epoch - 1]
        case .evaluation: evaluation
        case .checkpointWrite: 0
        }
    }
}
