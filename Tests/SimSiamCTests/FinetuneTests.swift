import Foundation
import Testing
@testable import SimSiamC

/// Fine-tuning on the tiny workload: the supervised graphs built from its feature graph, the
/// backbone loaded from a SimSiam checkpoint, and a short run that learns the synthetic task.
@Suite(.serialized) struct FinetuneTests {
    @Test func supervisedGraphsTrainTheBackboneAndAClassifier() throws {
        let traced = try Workload.tiny.trace(batch: 4)
        let graphs = try SupervisedGraphs.make(features: traced.features, classes: 3, name: "tiny-finetune")
        let training = graphs.training, eval = graphs.features
        #expect(training.inputs.map(\.name) == ["x", "labels"] && training.inputs[1].shape == [4])
        #expect(training.outputs.keys.sorted() == ["logits", "loss"] && training.shape(of: training.outputs["logits"]!) == [4, 3])
        #expect(eval.inputs.map(\.name) == ["x"] && eval.shape(of: eval.outputs["features"]!) == [4, 3])
        func batchNormModes(_ g: Graph) -> [Bool] {
            g.nodes.compactMap { if case .batchNorm(let a) = $0.op { a.training } else { nil } }
        }
        #expect(!batchNormModes(training).isEmpty && batchNormModes(training).allSatisfy { $0 })
        #expect(batchNormModes(eval).count == batchNormModes(training).count && batchNormModes(eval).allSatisfy { !$0 })
        #expect(training.state.parameters.suffix(2).map(\.name) == ["classifier.weight", "classifier.bias"])
        #expect(training.state.parameters.last!.shape == [3] && training.state.parameters.suffix(2).first!.shape == [3, 8])
        let names = SupervisedGraphs.backboneStateNames(traced.features)
        #expect(names.contains("backbone.conv1.weight") && names.contains("backbone.bn1.running_mean")
                && names.contains("backbone.bn1.num_batches_tracked"))
        #expect(!names.contains { !$0.hasPrefix("backbone.") })
        // The loss reaches the backbone: autodiff gives its first convolution a gradient.
        let (differentiated, _) = try Autodiff.differentiate(training)
        let conv1 = training.state.parameters.firstIndex { $0.name == "backbone.conv1.weight" }!
        #expect(differentiated.nodes.contains { $0.op == .accumulateGradient(parameter: conv1) })
    }

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
        #expect(notes.contains { $0.hasPrefix("init:    ") && $0.contains(pretrain.checkpointURL.path) })

        // finetune.json round-trips.
        let url = directory.appendingPathComponent("finetune.json")
        try report.write(to: url)
        #expect(try JSONDecoder().decode(FinetuneReport.self, from: Data(contentsOf: url)) == report)
    }

    /// The fine-tuned network starts from the checkpoint's backbone, not its own initialisation.
    @Test func backboneComesFromTheCheckpoint() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pretrained = ModelState(library: try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache).library)
        pretrained.initialize(seed: 99)
        let checkpoint = directory.appendingPathComponent("c.safetensors")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Checkpoint.save(pretrained, configuration: TrainerTests.configuration(), position: .init(epoch: 1, step: 0), to: checkpoint)

        let traced = try Workload.tiny.trace(batch: 4)
        let graphs = try SupervisedGraphs.make(features: traced.features, classes: 3, name: "tiny-finetune")
        let compiled = try Compiler.build(try Lowering.lower(forward: graphs.training, features: graphs.features), cache: quickTestCache)
        let state = ModelState(library: compiled.library)
        state.initialize(seed: 1)
        let name = "backbone.layer2.0.conv1.weight"
        #expect(state.tensor(named: name) != pretrained.tensor(named: name))
        let study = FinetuneStudy(checkpoint: checkpoint, budget: .perClass(1), recipe: FinetuneRecipe(
            epochs: 1, batch: 4, lr: 0.1, weightDecay: 0, seed: 0, augment: false))
        #expect(try study.loadBackbone(into: state, backbone: traced.features) == SupervisedGraphs.backboneStateNames(traced.features).count)
        #expect(state.tensor(named: name) == pretrained.tensor(named: name))
        #expect(state.tensor(named: "backbone.bn1.running_var") == pretrained.tensor(named: "backbone.bn1.running_var"))

        // A file without the whole backbone is refused, naming what it lacks.
        let partial = directory.appendingPathComponent("partial.safetensors")
        try SafeTensors.write([(name, try #require(pretrained.tensor(named: name)))], metadata: [:], to: partial)
        var partialStudy = study
        partialStudy.checkpoint = partial
        #expect {
            try partialStudy.loadBackbone(into: ModelState(library: compiled.library), backbone: traced.features)
        } throws: { error in
            "\(error)".contains("--checkpoint \(partial.path) lacks backbone tensors") && "\(error)".contains("backbone.conv1.weight")
        }
    }
}
