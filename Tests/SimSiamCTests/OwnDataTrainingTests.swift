import Foundation
import SimSiamTestSupport
import Testing
@testable import SimSiamC

/// End to end on the user's own data: the tiny model trained through
/// `Trainer` on a folder of PNG files of mixed sizes and channel counts, and
/// on unlabelled images. In `TrainerTests`, whose tests run one at a time:
/// the Ctrl-C flag the trainer polls is process-wide.
extension TrainerTests {
    @Test func tinyTrainsAnEpochOnAFolderOfPNGsAndResumesWithItsComputedNormalisation() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try TrainingDataTests.writeFolder(root.appendingPathComponent("data"), train: 48, test: 24)
        var configuration = TrainConfiguration(workload: .tiny, epochs: 1, batch: 4, dataDirectory: root.appendingPathComponent("data").path)
        configuration.seed = 3
        let data = try TrainingData.load(for: .tiny, configuration: configuration)
        let computed = try #require(data.computedNormalization)
        (configuration.normalizationMean, configuration.normalizationStd) = (computed.mean, computed.std)
        let compiled = try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache)
        let run = root.appendingPathComponent("run")
        let trainer = Trainer(configuration: configuration, runDirectory: run, compiled: compiled, data: data, onEvent: { _ in })
        let history = try trainer.run(resume: false)
        #expect(history.count == 1 && history[0].loss.isFinite)
        let knn = try #require(history[0].knnTop1)
        #expect(knn >= 0 && knn <= 1)
        #expect(data.classes == 3 && data.test?.count == 24)
        let stored = try Checkpoint.read(trainer.checkpointURL).0.configuration
        #expect(stored.normalizationMean == computed.mean && stored.normalizationStd == computed.std)
        // The statistics recomputed from the same files equal the stored ones, so --resume accepts the run.
        var reloaded = stored
        (reloaded.normalizationMean, reloaded.normalizationStd) = (nil, nil)
        let again = try TrainingData.load(for: .tiny, configuration: reloaded)
        #expect(again.computedNormalization?.mean == computed.mean && again.computedNormalization?.std == computed.std)
        let resumed = Trainer(configuration: configuration, runDirectory: run, compiled: compiled, data: again, onEvent: { _ in })
        #expect(try resumed.run(resume: true).map(\.epoch) == [0])
        // eval reads the stored normalisation back.
        let evaluation = try TrainingData.load(for: .tiny, configuration: stored)
        #expect(evaluation.augmentation.mean == computed.mean && evaluation.computedNormalization == nil)
        let report = try Evaluation.report(learned: trainer.state, data: evaluation, seed: 4, learnedFeatures: trainer.lastMonitorFeatures)
        #expect(report.learned.knnTop1 == knn)
    }

    @Test func unlabelledImagesTrainWhileTheMonitorSaysItWasSkipped() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        for index in 0..<16 {
            let pixels = TrainingDataTests.classImage(index % 3, side: 10, channels: 3, seed: index)
            try TestImages.write(TestImages.png(pixels, width: 10, height: 10, channels: 3),
                                 to: root.appendingPathComponent("images/\(index).png"))
        }
        var configuration = TrainConfiguration(workload: .tiny, epochs: 1, batch: 4, dataDirectory: root.appendingPathComponent("images").path)
        configuration.seed = 3
        let data = try TrainingData.load(for: .tiny, configuration: configuration)
        let compiled = try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache)
        var notes: [String] = []
        let trainer = Trainer(configuration: configuration, runDirectory: root.appendingPathComponent("run"), compiled: compiled, data: data) {
            if case .note(let text) = $0 { notes.append(text) }
        }
        let history = try trainer.run(resume: false)
        #expect(history.count == 1 && history[0].loss.isFinite && history[0].knnTop1 == nil)
        #expect(notes.contains { $0.hasPrefix("kNN monitor skipped: the training images have no labels") }, "\(notes)")
        #expect(MetricsFile.read(trainer.metricsURL).metrics == history)
        let plots = try RunPlots.write(history, to: root.appendingPathComponent("run"), title: "tiny")
        #expect(plots.map(\.lastPathComponent) == ["loss.svg", "collapse.svg", "rank.svg"])
    }
}
