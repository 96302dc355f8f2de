import Foundation
import Testing
@testable import SimSiamC

/// The paper's "expectation over augmentations" (section 5.2): no predictor, and
/// per-image targets eta_x^t = m * eta_x^{t-1} + (1 - m) * F_theta_t(T'(x)) kept
/// across epochs. In `TrainerTests`' serialized suite: the Ctrl-C flag is process-wide.
extension TrainerTests {
    static func movingAverage(_ m: Double) -> SimSiamVariant { SimSiamVariant(predictor: .none, targets: .movingAverage, etaMomentum: m) }

    @Test func movingAverageTargetsAreOneGraphInputAndZ2AnOutput() throws {
        let graph = try graph(Self.movingAverage(0.8))
        #expect(graph.inputs.map(\.name) == ["x1", "x2", "eta"] && graph.inputs[2].shape == Shape([4, 16]))
        #expect(Set(graph.outputs.keys) == ["loss", "z1", "z2"])
        #expect(count(graph, "stop_gradient") == 2 && count(graph, "cosine_similarity") == 2)
        #expect(!graph.state.parameters.contains { $0.name.hasPrefix("predictor.") })
        #expect(Self.movingAverage(0.8).summary == "predictor none, moving-average targets (m 0.8)")
    }

    /// Two states starting alike, one compiled with `first`, the other with `second`.
    func twin(_ first: SimSiamVariant, _ second: SimSiamVariant) throws -> (ModelState, ModelState) {
        let a = ModelState(library: try Compiler.compile(Workload.tiny, batch: 4, variant: first, cache: quickTestCache).library)
        let b = ModelState(library: try Compiler.compile(Workload.tiny, batch: 4, variant: second, cache: quickTestCache).library)
        a.initialize(seed: 5)
        for (name, tensor) in a.exportTensors(includeGradients: false) { try b.setTensor(named: name, tensor) }
        return (a, b)
    }

    func expectSameState(_ a: ModelState, _ b: ModelState, tolerance: Double = 1e-5) throws {
        let actual = Dictionary(uniqueKeysWithValues: b.exportTensors(includeGradients: false, includeMomentum: true).map { ($0.name, $0.tensor) })
        for (name, tensor) in a.exportTensors(includeGradients: false, includeMomentum: true) {
            let other = try #require(actual[name], "\(name) missing")
            let error = zip(tensor.doubles, other.doubles).map { abs($0 - $1) / max(1, abs($0)) }.max() ?? 0
            #expect(error < tolerance, "\(name): relative difference \(error)")
        }
    }

    /// m = 0 drops the average: the targets are sg(z2), sg(z1), and a step is a step
    /// of SimSiam without a predictor (the paper's table 1a), whatever eta holds.
    @Test func withMomentumZeroAStepIsSimSiamWithoutAPredictor() throws {
        let (plain, averaged) = try twin(SimSiamVariant(predictor: .none), Self.movingAverage(0))
        let augmenter = ViewAugmenter(configuration: Self.data.augmentation, seed: 5, threadCount: 1)
        let rates = plain.library.groupNames.map { _ in 0.05 }
        for step in 0..<3 {
            let (x1, x2) = augmenter.makeViews(images: Self.data.train, indices: Array(4 * step..<4 * step + 4), epoch: 0)
            let eta = (0..<64).map { (i: Int) -> Float in Float(i % 7) - 3 }
            let a = try plain.trainStep(inputs: [x1, x2], groupLR: rates, weightDecay: 5e-4, momentum: 0.9)
            let b = try averaged.trainStep(inputs: [x1, x2, eta], groupLR: rates, weightDecay: 5e-4, momentum: 0.9)
            #expect(abs(a - b) < 1e-6, "step \(step): loss \(a) vs \(b)")
        }
        try expectSameState(plain, averaged)
    }

    /// The loss and the gradient path: a step with eta equals a step of the cached-targets graph
    /// (targets are constants) given eta1 = m * eta + (1 - m) * z1 and eta2 = m * eta + (1 - m) * z2,
    /// computed here from the step's z1, z2. So the target is the paper's moving average, and
    /// no gradient reaches the encoder through its fresh (1 - m) * F(T'(x)) part.
    @Test func aStepComparesEachViewWithTheMovingAverageAndDifferentiatesOnlyThePrediction() throws {
        let m: Float = 0.8
        let (averaged, cached) = try twin(Self.movingAverage(Double(m)), SimSiamVariant(predictor: .none, targets: .cached))
        let augmenter = ViewAugmenter(configuration: Self.data.augmentation, seed: 7, threadCount: 1)
        let rates = averaged.library.groupNames.map { _ in 0.05 }
        var eta = (0..<64).map { (i: Int) -> Float in Float((i * 5) % 11) / 5 - 1 }
        for step in 0..<3 {
            let (x1, x2) = augmenter.makeViews(images: Self.data.train, indices: Array(4 * step..<4 * step + 4), epoch: 0)
            let z = try cached.forwardOutputs(inputs: [x1, x2, eta, eta], names: ["z1", "z2"])
            let eta1 = Self.blend(eta, z[0], m), eta2 = Self.blend(eta, z[1], m)
            let a = try averaged.trainStep(inputs: [x1, x2, eta], groupLR: rates, weightDecay: 5e-4, momentum: 0.9)
            let b = try cached.trainStep(inputs: [x1, x2, eta1, eta2], groupLR: rates, weightDecay: 5e-4, momentum: 0.9)
            #expect(abs(a - b) < 1e-6, "step \(step): loss \(a) vs \(b)")
            // The graph's z1, z2 are theta_t's (before the update), the ones the bank averages in.
            let z1 = try averaged.output(named: "z1"), z2 = try averaged.output(named: "z2")
            #expect(z1 == z[0] && z2 == z[1])
            eta = zip(eta1, eta2).map { pair -> Float in (pair.0 + pair.1) / 2 }
        }
        try expectSameState(averaged, cached)
    }

    /// m * eta + (1 - m) * z, elementwise.
    static func blend(_ eta: [Float], _ z: [Float], _ m: Float) -> [Float] {
        zip(eta, z).map { pair -> Float in m * pair.0 + (1 - m) * pair.1 }
    }

    @Test func theBankKeepsAMovingAveragePerImageAndRoundTrips() throws {
        var bank = TargetBank(count: 3, dim: 2, momentum: 0.8)
        bank.assign([2, 0], z1: [1, 2, 3, 4], z2: [3, 2, 1, 0])  // eta_2 = (2, 2), eta_0 = (2, 2)
        bank.assign([1], z1: [-1, 1], z2: [1, -1])                // eta_1 = (0, 0)
        #expect(bank.gather([0, 1, 2]) == [2, 2, 0, 0, 2, 2])
        bank.update([2], z1: [7, 2], z2: [3, 2])                  // 0.8 * (2, 2) + 0.2 * (5, 2)
        #expect(zip(bank.gather([2, 0]), [2.6, 2, 2, 2] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(bank.gather([2, 0]))")
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("eta-bank.safetensors")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let position = Checkpoint.Position(epoch: 1, step: 5)
        try bank.write(to: url, position: position)
        var read = TargetBank(count: 3, dim: 2, momentum: 0.8)
        try read.read(from: url, position: position)
        #expect(read.values == bank.values)
        var wrongShape = TargetBank(count: 4, dim: 2, momentum: 0.8)
        #expect(throws: CompileError.self) { try wrongShape.read(from: url, position: position) }
        #expect(throws: CompileError.self) { try read.read(from: url, position: Checkpoint.Position(epoch: 2, step: 0)) }
        #expect(throws: CompileError.self) {
            try read.read(from: directory.appendingPathComponent("missing.safetensors"), position: position)
        }
    }

    @Test func aMovingAverageRunResumesExactlyFromItsSavedBank() throws {
        var configuration = Self.configuration()
        configuration.variant = Self.movingAverage(0.8)
        let compiled = try Compiler.compile(Workload.tiny, batch: 4, variant: configuration.variant, cache: quickTestCache)
        let straight = temporaryDirectory(), interrupted = temporaryDirectory()
        defer { for directory in [straight, interrupted] { try? FileManager.default.removeItem(at: directory) } }
        let reference = Trainer(configuration: configuration, runDirectory: straight, compiled: compiled, data: Self.data) { _ in }
        let history = try reference.run(resume: false)
        #expect(history.count == 2 && history.allSatisfy { $0.loss.isFinite && $0.loss >= -1 && $0.loss <= 1 })
        #expect(FileManager.default.fileExists(atPath: TargetBank.url(besides: reference.checkpointURL).path))

        let first = Trainer(configuration: configuration, runDirectory: interrupted, compiled: compiled, data: Self.data) { event in
            if case .step(1, 4, _, _, _, _, _) = event { Interrupt.requested.store(true, ordering: .relaxed) }
        }
        #expect(try first.run(resume: false).count == 1)
        let resumed = Trainer(configuration: configuration, runDirectory: interrupted, compiled: compiled, data: Self.data) { _ in }
        #expect(try resumed.run(resume: true).map(\.loss) == history.map(\.loss))
        #expect(resumed.targetBank?.values == reference.targetBank?.values)
        let expected = reference.state.exportTensors(includeGradients: false, includeMomentum: true)
        let actual = resumed.state.exportTensors(includeGradients: false, includeMomentum: true)
        for (a, b) in zip(expected, actual) { #expect(a.tensor == b.tensor, "\(a.name) differs after resume") }
    }

    @Test func predictorExpectationStudyVariantsAndThePapersFigure() throws {
        let study = AblationStudy.named("predictor-expectation")!
        let variants = study.configurations(base: Self.configuration()).map(\.configuration.variant)
        #expect(variants == [.standard, SimSiamVariant(predictor: .none), Self.movingAverage(0.8)])
        #expect(study.flagOverridden(inBase: SimSiamVariant(predictor: .none)) == "--predictor")
        #expect(study.flagOverridden(inBase: SimSiamVariant(targets: .movingAverage)) == "--eta-momentum")
        let paper = AblationStudyReport.paperFigures(study: "predictor-expectation")
        #expect(paper.figures.map(\.variant) == study.variants.map(\.name))
        #expect(paper.figures.last?.result == "55.0%" && paper.note.contains("0.8"))
        // Only moving-average targets write m, so every other configuration's JSON is unchanged.
        #expect(!Self.configuration().json.contains("etaMomentum"))
        var configuration = Self.configuration()
        configuration.variant = Self.movingAverage(0.5)
        #expect(try TrainConfiguration.decode(configuration.json) == configuration)
    }
}
