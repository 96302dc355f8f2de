import Foundation
import SimSiamTestSupport
import Testing
@testable import SimSiamC
import SimSiamCLI

/// Fine-tuning after a real pretraining run, through the library and through `simsiamc finetune`.
/// In `TrainerTests`, whose tests run one at a time: the Ctrl-C flag the trainer polls is process-wide.
extension TrainerTests {
    /// Pretrains the tiny SimSiam for an epoch, then fine-tunes it on 8 labels per class of the
    /// synthetic row / column / diagonal task: both trained networks must beat chance (1/3) clearly.
    @Test func shortFinetuneLearnsTheSyntheticTask() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = TrainerTests.configuration()
        configuration.epochs = 1
        let pretrain = Trainer(configuration: configuration, runDirectory: directory,
                               compiled: try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache), data: TrainerTests.data,
                               onEvent: { _ in })
        try pretrain.run(resume: false)

        let recipe = FinetuneRecipe(epochs: 12, batch: 6, lr: 0.1, weightDecay: 5e-4, seed: 2, augment: false)
        var study = FinetuneStudy(checkpoint: pretrain.checkpointURL, budget: .perClass(8), recipe: recipe)
        study.cache = quickTestCache
        var notes: [String] = [], epochs: [String: [Double]] = [:]
        let report = try study.run(model: .tiny, checkpointEpoch: 1, data: TrainerTests.data, note: { notes.append($0) }) { event in
            if case .epochEnd(let run, _, _, let loss, _, _, _) = event { epochs[run, default: []].append(loss) }
        }
        #expect(report.labelledImages == 24 && report.labelsPerClass == 8 && report.testImages == 24)
        #expect(epochs["fine-tune"]?.count == 12 && epochs["scratch"]?.count == 12)
        for (run, losses) in epochs { #expect(losses.last! < losses.first!, "\(run): loss \(losses)") }
        #expect(report.finetunedTop1 > 0.6, "fine-tuned top-1 \(report.finetunedTop1)")
        #expect(try #require(report.scratchTop1) > 0.6, "from-scratch top-1 \(report.scratchTop1!)")
        #expect(try #require(report.linearProbeTop1) >= 0 && report.linearProbeTop1! <= 1)
        // Raw pixels of the labelled images beat chance on the synthetic classes.
        #expect(try #require(report.pixelProbeTop1) > 1 / Double(report.classes) && report.pixelProbeTop1! <= 1)
        #expect(report.table.contains("linear probe on raw pixels"))
        #expect(notes.contains { $0.hasPrefix("init:    ") && $0.contains(pretrain.checkpointURL.path) })

        // finetune.json round-trips.
        let url = directory.appendingPathComponent("finetune.json")
        try report.write(to: url)
        #expect(try JSONDecoder().decode(FinetuneReport.self, from: Data(contentsOf: url)) == report)
    }

    /// The command on a folder of PNGs: refuses unlabelled data and a per-class budget larger than a class,
    /// then runs and writes finetune.json.
    @Test func finetuneCommandRefusesWhatItCannotDoAndWritesItsReport() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let labelled = root.appendingPathComponent("data")
        try TrainingDataTests.writeFolder(labelled, train: 48, test: 24)
        for index in 0..<16 {
            let pixels = TrainingDataTests.classImage(index % 3, side: 10, channels: 3, seed: index)
            try TestImages.write(TestImages.png(pixels, width: 10, height: 10, channels: 3),
                                 to: root.appendingPathComponent("unlabelled/\(index).png"))
        }
        var configuration = TrainConfiguration(workload: .tiny, epochs: 1, batch: 4, dataDirectory: labelled.path)
        let data = try TrainingData.load(for: .tiny, configuration: configuration)
        let computed = try #require(data.computedNormalization)
        (configuration.normalizationMean, configuration.normalizationStd) = (computed.mean, computed.std)
        let pretrain = Trainer(configuration: configuration, runDirectory: root.appendingPathComponent("pre"),
                               compiled: try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache), data: data, onEvent: { _ in })
        try pretrain.run(resume: false)
        let checkpoint = pretrain.checkpointURL.path

        func failure(_ arguments: [String]) -> String? {
            do {
                var command = try SimSiamCommand.parseAsRoot(["finetune", "--checkpoint", checkpoint] + arguments)
                try command.run()
                return nil
            } catch {
                return SimSiamCommand.message(for: error)
            }
        }
        let run = root.appendingPathComponent("ft")
        let unlabelled = failure(["--labels-per-class", "2", "--data", root.appendingPathComponent("unlabelled").path, "--run-dir", run.path])
        #expect(unlabelled?.contains("finetune needs labelled images and a held-out split") == true, "\(unlabelled ?? "no error")")
        let tooMany = failure(["--labels-per-class", "17", "--run-dir", run.path])
        #expect(tooMany?.contains("--labels-per-class 17: class 0 has only 16 training images") == true, "\(tooMany ?? "no error")")
        #expect(failure(["--checkpoint-typo"]) != nil)
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("finetune.json").path))

        #expect(failure(["--labels-per-class", "4", "--epochs", "2", "--batch", "4", "--skip-probe", "--run-dir", run.path]) == nil)
        let report = try JSONDecoder().decode(FinetuneReport.self, from: Data(contentsOf: run.appendingPathComponent("finetune.json")))
        #expect(report.labelsPerClass == 4 && report.labelledImages == 12 && report.checkpointEpoch == 1 && report.testImages == 24)
        #expect(report.scratchTop1 != nil && report.linearProbeTop1 == nil && report.pixelProbeTop1 == nil && report.recipe.epochs == 2)
    }
}
