import Foundation
import Testing
@testable import SimSiamC

/// Divergence in the trainer, on the tiny workload: a check-numerics build names
/// the first bad kernel and tensor, a plain build stops at a non-finite loss, a
/// run that blows up without a NaN is caught at the end of its epoch, and in
/// every case the last checkpoint stays intact for `--resume`.
/// Serialized: the trainer's Ctrl-C flag is process-wide.
@Suite(.serialized) struct DivergenceTests {
    static let checked = CodegenOptions(checkNumerics: true)

    func compile(checked: Bool) throws -> CompiledModel {
        try Compiler.compile(Workload.tiny, batch: 4, options: checked ? Self.checked : CodegenOptions(), cache: quickTestCache)
    }

    func setElement(_ state: ModelState, _ name: String, _ index: Int, to value: Double) throws {
        var values = state.tensor(named: name)!.doubles
        values[index] = value
        try state.setTensor(named: name, HostTensor(shape: state.library.symbol(named: name)!.shape, doubles: values))
    }

    // MARK: Check-numerics builds in a run

    @Test func hugeLearningRateStopsTheCheckedRunAtItsFirstBadKernel() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = TrainerTests.configuration()
        configuration.baseLR = 1e30
        let trainer = Trainer(configuration: configuration, runDirectory: directory, compiled: try compile(checked: true),
                              data: TrainerTests.data, onEvent: { _ in })
        let error = try #require(throws: TrainingDiverged.self) { try trainer.run(resume: false) }
        let failure = try #require(error.nonFinite)
        #expect(failure.kernel != "the caller")
        #expect(error.epoch == 0 && error.history.isEmpty)
        #expect(error.description.hasPrefix("non-finite value in \(failure.tensor) written by \(failure.kernel) ("))
        #expect(error.description.contains(", at epoch 1, step \(error.step + 1); lower --lr (now 1e+30 per 256); "
                                           + "no epoch finished, so there is no checkpoint to resume from"))
        #expect(!FileManager.default.fileExists(atPath: trainer.checkpointURL.path))
    }

    @Test func checkedRunNamesTheKernelAndKeepsTheCheckpoint() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (error, trainer, saved) = try runCorruptedAfterFirstEpoch(directory, checked: true) { state in
            try setElement(state, "projector.0.weight", 3, to: -.infinity)
        }
        let failure = try #require(error.nonFinite)
        #expect(failure.kernel == "linear_fwd__projector_0")
        #expect(error.description.hasPrefix("non-finite value in \(failure.tensor) written by linear_fwd__projector_0 (layer projector.0, DSL "))
        #expect(error.description.contains(", at epoch 2, step 1; lower --lr"))
        #expect(try Data(contentsOf: trainer.checkpointURL) == saved)
    }

    // MARK: Plain builds: the loss check, and the checkpoint left for --resume

    /// Runs the tiny configuration and, once epoch 1's checkpoint is saved, lets
    /// `corrupt` damage the live state; returns the error, the trainer and the
    /// checkpoint's bytes as saved.
    func runCorruptedAfterFirstEpoch(_ directory: URL, checked: Bool = false, corrupt: @escaping (ModelState) throws -> Void,
                                     losses: @escaping (Double) -> Void = { _ in })
        throws -> (error: TrainingDiverged, trainer: Trainer, savedCheckpoint: Data)
    {
        final class Box { var trainer: Trainer?; var saved: Data? }
        let box = Box()
        let compiled = try compile(checked: checked)
        let trainer = Trainer(configuration: TrainerTests.configuration(), runDirectory: directory, compiled: compiled,
                              data: TrainerTests.data) { event in
            switch event {
            case .checkpoint(let url) where box.saved == nil:
                box.saved = try! Data(contentsOf: url)
                try! corrupt(box.trainer!.state)
            case .step(let epoch, _, _, let loss, _, _, _) where epoch == 1:
                losses(loss)
            default:
                break
            }
        }
        box.trainer = trainer
        let error = try #require(throws: TrainingDiverged.self) { try trainer.run(resume: false) }
        return (error, trainer, try #require(box.saved))
    }

    @Test func nonFiniteLossKeepsTheLastCheckpointForResume() throws {
        let directory = temporaryDirectory(), straight = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: directory)
            try? FileManager.default.removeItem(at: straight)
        }
        // The predictor's last layer: no BN or ReLU after it, so the loss sees the infinity.
        let (error, trainer, saved) = try runCorruptedAfterFirstEpoch(directory) { state in
            try setElement(state, "predictor.3.weight", 0, to: .infinity)
        }
        #expect(error.nonFinite == nil && error.loss.isNaN)
        #expect(error.history.map(\.epoch) == [0])
        #expect(error.description == "loss became \(error.loss) at epoch 2, step 1; lower --lr (now 0.06 per 256); "
                + "the checkpoint \(trainer.checkpointURL.path) (end of epoch 1) is intact; continue from it with --resume and a lower --lr")
        // Nothing was written after the bad step.
        #expect(try Data(contentsOf: trainer.checkpointURL) == saved)
        #expect(try Checkpoint.read(trainer.checkpointURL).0.position == Checkpoint.Position(epoch: 1, step: 0))
        let loaded = ModelState(library: trainer.state.library)
        try loaded.loadSafetensors(url: trainer.checkpointURL, strict: false)
        #expect(DivergenceCheck.oversized(in: loaded) == nil)

        // --resume goes on from it and ends where an undisturbed run ends.
        let resumed = Trainer(configuration: TrainerTests.configuration(), runDirectory: directory, compiled: try compile(checked: false),
                              data: TrainerTests.data, onEvent: { _ in })
        let history = try resumed.run(resume: true)
        let reference = Trainer(configuration: TrainerTests.configuration(), runDirectory: straight, compiled: try compile(checked: false),
                                data: TrainerTests.data, onEvent: { _ in })
        #expect(history.map(\.loss) == (try reference.run(resume: false)).map(\.loss))
        let expected = reference.state.exportTensors(includeGradients: false, includeMomentum: true)
        for (a, b) in zip(expected, resumed.state.exportTensors(includeGradients: false, includeMomentum: true)) {
            #expect(a.tensor == b.tensor, "\(a.name) differs after resuming from the intact checkpoint")
        }
    }

    // MARK: Divergence without a NaN

    @Test func hugeButFiniteStateIsFlaggedAtTheEndOfTheEpoch() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var secondEpochLosses: [Double] = []
        // Weights 1e5 x too large ahead of a BN: the BN output and the loss stay
        // finite, the running variance after it grows ~1e10-fold (what a huge lr does to a run).
        let (error, trainer, saved) = try runCorruptedAfterFirstEpoch(directory, corrupt: { state in
            let weight = state.tensor(named: "backbone.layer1.0.conv1.weight")!
            try state.setTensor(named: "backbone.layer1.0.conv1.weight",
                                HostTensor(shape: weight.shape, doubles: weight.doubles.map { $0 * 1e5 }))
        }, losses: { secondEpochLosses.append($0) })
        #expect(secondEpochLosses.count == 12 && secondEpochLosses.allSatisfy(\.isFinite))
        let oversized = try #require(error.oversized)
        #expect(oversized.name == "backbone.layer1.0.bn1.running_var")
        #expect(oversized.largest > 1e8 && oversized.largest.isFinite)
        #expect(error.epoch == 1 && error.nonFinite == nil)
        #expect(error.description.hasPrefix("training diverged without a NaN at the end of epoch 2: backbone.layer1.0.bn1.running_var holds |value| up to "))
        #expect(error.description.contains("(bound 1e+06 for BN running variances)"))
        #expect(error.description.contains("; lower --lr (now 0.06 per 256); the checkpoint \(trainer.checkpointURL.path) (end of epoch 1) is intact"))
        #expect(try Data(contentsOf: trainer.checkpointURL) == saved)
    }

    /// A NaN ahead of a BN + ReLU does not reach the loss of a plain build: the
    /// variance is clamped with fmax (NaN -> 0) and the ReLU (`out > 0 ? out : 0`)
    /// maps NaN to 0. The running mean keeps it, and the end-of-epoch check sees it.
    @Test func nanHiddenFromTheLossIsFlaggedAtTheEndOfTheEpoch() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var secondEpochLosses: [Double] = []
        let (error, trainer, saved) = try runCorruptedAfterFirstEpoch(directory, corrupt: { state in
            try setElement(state, "backbone.conv1.weight", 0, to: .infinity)
        }, losses: { secondEpochLosses.append($0) })
        #expect(secondEpochLosses.count == 12 && secondEpochLosses.allSatisfy(\.isFinite))
        let oversized = try #require(error.oversized)
        #expect(oversized.name.hasPrefix("backbone.") && oversized.largest.isNaN)
        #expect(error.description.contains("holds |value| up to nan"))
        #expect(try Data(contentsOf: trainer.checkpointURL) == saved)
    }

    @Test func knnAtChanceIsAWarning() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        final class Box { var trainer: Trainer?; var warnings: [String] = [] }
        let box = Box()
        // Zero gamma and beta of the last block's two BNs, and their momentum: the
        // block's output, and so every feature, is ReLU(0 + 0) = 0, and the ReLU
        // lets no gradient back to them.
        let trainer = Trainer(configuration: TrainerTests.configuration(), runDirectory: directory, compiled: try compile(checked: false),
                              data: TrainerTests.data) { event in
            switch event {
            case .checkpoint where box.warnings.isEmpty:
                let state = box.trainer!.state
                for layer in ["backbone.layer2.0.bn2", "backbone.layer2.0.downsample.1"] {
                    for name in [layer + ".weight", layer + ".bias"] {
                        let symbol = state.library.symbol(named: name)!
                        try! state.setTensor(named: name, HostTensor(shape: symbol.shape, doubles: Array(repeating: 0, count: symbol.numel)))
                        (state.pointer(to: .momentum)! + 4 * symbol.offset).initializeMemory(as: Float.self, repeating: 0, count: symbol.numel)
                    }
                }
            case .warning(let text):
                box.warnings.append(text)
            default:
                break
            }
        }
        box.trainer = trainer
        let history = try trainer.run(resume: false)
        #expect(history.count == 2 && (history[0].knnTop1 ?? 0) > 0.5)
        // Constant features tie every vote: the lowest class wins, 8 of the 24 test images.
        #expect(box.warnings == ["kNN top-1 33.33% after epoch 2 is at chance (1/3 classes = 33.33%): the features carry no "
                                 + "class information, so training diverged or collapsed (see the collapse std); lower --lr (now 0.06 per 256)",
                                 // Constant features: z spans no direction at all.
                                 "the effective rank of z is 0.0 of 16 after epoch 2: z spans only a few directions (a collapse the std "
                                 + "can miss); kNN tends to fall from here. Lower --lr (now 0.06 per 256) or use a milder crop"])
    }

    @Test func boundsFlagTheTensorFurthestPastThem() throws {
        let state = ModelState(library: try compile(checked: false).library)
        state.initialize(seed: 7)
        #expect(DivergenceCheck.oversized(in: state) == nil)
        try setElement(state, "projector.0.weight", 2, to: 2e3)
        try setElement(state, "backbone.bn1.running_var", 1, to: 5e7)
        let worst = try #require(DivergenceCheck.oversized(in: state))
        #expect(worst.name == "backbone.bn1.running_var" && worst.largest == 5e7 && worst.others == 1)
        try setElement(state, "backbone.bn1.running_mean", 0, to: .nan)
        #expect(DivergenceCheck.oversized(in: state)?.name == "backbone.bn1.running_mean")
        #expect(DivergenceCheck.isAtChance(0.104, classes: 10) && !DivergenceCheck.isAtChance(0.106, classes: 10))
        // lr 0.24's collapse (rank 7.1 of 512 at epoch 11) warns; the default recipe's dip (23.3) does not; nor does NaN.
        #expect(DivergenceCheck.isRankCollapsed(7.1, dim: 512) && !DivergenceCheck.isRankCollapsed(23.3, dim: 512))
        #expect(!DivergenceCheck.isRankCollapsed(.nan, dim: 512))
    }

    @Test func healthyRunsAreNotFlagged() throws {
        for checked in [false, true] {
            let directory = temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            var warnings: [String] = []
            let trainer = Trainer(configuration: TrainerTests.configuration(), runDirectory: directory, compiled: try compile(checked: checked),
                                  data: TrainerTests.data) { event in
                if case .warning(let text) = event { warnings.append(text) }
            }
            let history = try trainer.run(resume: false)
            #expect(history.count == 2, "checks \(checked)")
            #expect(warnings.isEmpty, "checks \(checked): \(warnings)")
            #expect(history.allSatisfy { !DivergenceCheck.isAtChance($0.knnTop1 ?? 0, classes: 3) })
        }
    }
}
