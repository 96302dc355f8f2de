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
