import Foundation
import Testing
@testable import SimSiamC
import SimSiamCLI

/// The training loop on the tiny workload and a synthetic 8x8 dataset:
/// artifacts, checkpoints, and resume equality. Serialized: the Ctrl-C flag is process-wide.
@Suite(.serialized) struct TrainerTests {
    /// Three classes of 8x8 images (a bright row, column or diagonal) plus noise.
    static func syntheticImages(count: Int, seed: UInt64) -> LabeledImages {
        var random = TestRandom(seed: seed)
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for index in 0..<count {
            let label = index % 3, position = Int(random.uniform(1, 7))
            for y in 0..<8 {
                for x in 0..<8 {
                    let on = label == 0 ? y == position : label == 1 ? x == position : x == y
                    pixels.append(UInt8(min(255, (on ? 200 : 30) + random.uniform(0, 50))))
                }
            }
            labels.append(UInt8(label))
        }
        return LabeledImages(count: count, height: 8, width: 8, pixels: pixels, labels: labels)
    }

    static let data = TrainingData(train: syntheticImages(count: 48, seed: 1), test: syntheticImages(count: 24, seed: 2),
                                   augmentation: AugmentationConfiguration(mean: [0.4], std: [0.3]), classes: 3)

    static func configuration() -> TrainConfiguration {
        var configuration = TrainConfiguration(workload: .tiny, epochs: 2, batch: 4, dataDirectory: "synthetic")
        configuration.seed = 3
        return configuration
    }

    func trainer(_ directory: URL, configuration: TrainConfiguration = configuration(),
                 onEvent: @escaping (TrainEvent) -> Void = { _ in }) throws -> Trainer {
        let compiled = try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache)
        return Trainer(configuration: configuration, runDirectory: directory, compiled: compiled, data: Self.data,
                       onEvent: onEvent)
    }

    @Test func shortRunWritesMetricsCheckpointAndPlots() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try trainer(directory)
        let history = try trainer.run(resume: false)
        #expect(history.map(\.epoch) == [0, 1])
        for metrics in history {
            #expect(metrics.loss.isFinite && metrics.loss >= -1 && metrics.loss <= 1)
            #expect(metrics.knnTop1.map { $0 >= 0 && $0 <= 1 } == true)
            #expect(metrics.collapseStd > 0 && metrics.collapseReference == 0.25)  // 1/sqrt(16)
        }
        #expect(history[1].lr < history[0].lr)  // cosine schedule
        let lines = try String(contentsOf: trainer.metricsURL, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let (checkpoint, file) = try Checkpoint.read(trainer.checkpointURL)
        #expect(checkpoint.position.epoch == 2 && checkpoint.position.step == 0)
        #expect(checkpoint.configuration == Self.configuration())
        #expect(file.names.contains("momentum.projector.0.weight"))
        #expect(file.tensor(named: "backbone.bn1.num_batches_tracked")?.int64s == [2 * 2 * 12])  // 2 epochs x 12 steps x 2 views
        #expect(history.allSatisfy { ($0.collapseRank ?? 0) > 1 })
        let plots = try RunPlots.write(history, to: directory, title: "tiny")
        #expect(plots.map(\.lastPathComponent) == ["loss.svg", "knn.svg", "collapse.svg", "rank.svg"])
        for plot in plots { #expect(try String(contentsOf: plot, encoding: .utf8).contains("<svg")) }
    }

    @Test func checkpointRoundTripRestoresParametersAndMomentum() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let trained = try trainer(directory)
        try trained.run(resume: false)
        let restored = ModelState(library: trained.state.library)
        try restored.loadSafetensors(url: trained.checkpointURL, strict: false)
        let before = trained.state.exportTensors(includeGradients: false, includeMomentum: true)
        let after = restored.exportTensors(includeGradients: false, includeMomentum: true)
        #expect(before.map(\.name) == after.map(\.name))
        for (a, b) in zip(before, after) { #expect(a.tensor == b.tensor, "\(a.name) differs after the round trip") }
    }

    @Test func resumedRunEndsWithTheSameParametersAsAnUninterruptedOne() throws {
        let straight = temporaryDirectory(), interrupted = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: straight)
            try? FileManager.default.removeItem(at: interrupted)
        }
        let reference = try trainer(straight)
        let referenceHistory = try reference.run(resume: false)

        let first = try trainer(interrupted) { event in
            if case .step(let epoch, let step, _, _, _, _, _) = event, epoch == 1, step == 4 {
                Interrupt.requested.store(true, ordering: .relaxed)  // what Ctrl-C does
            }
        }
        let partial = try first.run(resume: false)
        #expect(partial.count == 1)
        let saved = try Checkpoint.read(first.checkpointURL).0.position
        #expect(saved.epoch == 1 && saved.step == 5)  // interrupted after epoch 2's fifth step

        let resumed = try trainer(interrupted)
        let resumedHistory = try resumed.run(resume: true)
        #expect(resumedHistory.map(\.epoch) == [0, 1])
        #expect(resumedHistory.map(\.loss) == referenceHistory.map(\.loss))
        let expected = reference.state.exportTensors(includeGradients: false, includeMomentum: true)
        let actual = resumed.state.exportTensors(includeGradients: false, includeMomentum: true)
        for (a, b) in zip(expected, actual) { #expect(a.tensor == b.tensor, "\(a.name) differs after resume") }
    }

    @Test func monitorEveryKEpochsSkipsTheOthersButNotTheLast() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var threeEpochs = Self.configuration()
        threeEpochs.epochs = 3
        let trainer = try trainer(directory, configuration: threeEpochs)
        trainer.monitorEvery = 2
        let history = try trainer.run(resume: false)
        #expect(history.map { $0.knnTop1 != nil } == [false, true, true])  // epoch 2, and the last
        #expect(history.allSatisfy { $0.collapseStd > 0 })
        #expect(trainer.lastMonitorFeatures != nil, "the final evaluation reuses the last epoch's features")
    }

    @Test func resumeNamesTheChangedFlagsAndAcceptsOnlyAnotherLR() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = Self.configuration()
        try trainer(directory) { event in
            if case .step(let epoch, let step, _, _, _, _, _) = event, epoch == 1, step == 2 {
                Interrupt.requested.store(true, ordering: .relaxed)  // what Ctrl-C does
            }
        }.run(resume: false)

        var changed = original
        changed.seed = 4
        changed.batch = 8
        let error = #expect(throws: CompileError.self) { try trainer(directory, configuration: changed).run(resume: true) }
        let message = error?.description ?? ""
        #expect(message.contains("--batch 4 in the checkpoint, 8 now; --seed 3 in the checkpoint, 4 now"), "\(message)")
        #expect(!message.contains("\n") && !message.contains("{"), "names the fields instead of printing both configurations: \(message)")

        var lowerLR = original
        lowerLR.baseLR = original.baseLR / 10
        var notes: [String] = []
        let resumed = try trainer(directory, configuration: lowerLR) { if case .note(let text) = $0 { notes.append(text) } }
        let history = try resumed.run(resume: true)
        #expect(history.map(\.epoch) == [0, 1])
        #expect(notes.contains { $0.contains("--lr 0.006") && $0.contains("used 0.06") }, "\(notes)")
        #expect(try Checkpoint.read(resumed.checkpointURL).0.configuration.baseLR == lowerLR.baseLR)
    }
}

/// A torn or garbled metrics.jsonl line (a copy taken mid-write, a hand edit)
/// is skipped and reported by `--resume` and `plot`, never fatal.
@Suite(.serialized) struct TornMetricsTests {
    @Test func tornLineIsSkippedByResumeAndPlot() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-torn-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let compiled = try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache)
        func trainer(_ events: @escaping (TrainEvent) -> Void = { _ in }) -> Trainer {
            Trainer(configuration: TrainerTests.configuration(), runDirectory: directory, compiled: compiled,
                    data: TrainerTests.data, onEvent: events)
        }
        let history = try trainer().run(resume: false)
        let metricsURL = directory.appendingPathComponent("metrics.jsonl")
        let whole = try String(contentsOf: metricsURL, encoding: .utf8)
        let lines = whole.split(separator: "\n")
        // Line 2 cut in half, then a line of garbage.
        let torn = lines[0] + "\n" + lines[1].prefix(lines[1].count / 2) + "\n{\"epoch\": \n"
        try torn.write(to: metricsURL, atomically: true, encoding: .utf8)

        let read = MetricsFile.read(metricsURL)
        #expect(read.metrics == [history[0]])
        #expect(read.unreadableLines == [2, 3])
        #expect(MetricsFile.note(read.unreadableLines, in: metricsURL) == "skipped unreadable lines 2, 3 of \(metricsURL.path)")

        var plot = try SimSiamCommand.parseAsRoot(["plot", directory.path])
        try plot.run()
        #expect(try String(contentsOf: directory.appendingPathComponent("loss.svg"), encoding: .utf8).contains("</svg>"))

        var notes: [String] = []
        let resumed = trainer { if case .note(let text) = $0 { notes.append(text) } }
        #expect(try resumed.run(resume: true) == [history[0]])  // the checkpoint is at the end: nothing left to run
        #expect(notes.contains { $0.hasPrefix("skipped unreadable lines 2, 3 of") }, "\(notes)")
    }
}
