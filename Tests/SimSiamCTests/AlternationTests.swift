import Foundation
import Testing
@testable import SimSiamC

/// Multi-step alternation (paper section 5): the cached-targets graph, the
/// forward pass without an update, the k-step cache and the study. In
/// `TrainerTests`' serialized suite: the trainer's Ctrl-C flag is process-wide.
extension TrainerTests {
    static let cached = SimSiamVariant(targets: .cached)

    @Test func cachedTargetsAreGraphInputsAndTheBackwardMatchesStopGradient() throws {
        let graph = try graph(Self.cached)
        #expect(graph.inputs.map(\.name) == ["x1", "x2", "eta1", "eta2"])
        #expect(graph.inputs[2].shape == Shape([4, 16]) && graph.inputs[3].shape == Shape([4, 16]))
        #expect(Set(graph.outputs.keys) == ["loss", "z1", "z2"])
        #expect(count(graph, "cosine_similarity") == 2 && count(graph, "stop_gradient") == 0)
        // The targets are inputs, which take no gradient: the backward is the
        // stop-gradient one (through the predictions only), with nothing pruned.
        let cached = try Autodiff.differentiate(graph).1
        let standard = try Autodiff.differentiate(try self.graph(.standard)).1
        #expect(cached.backwardOps == standard.backwardOps, "cached \(cached.backwardOps), standard \(standard.backwardOps)")
        #expect(cached.prunedByStopGradient == 0 && standard.prunedByStopGradient > 0)
        let noStopGradient = try Autodiff.differentiate(try self.graph(SimSiamVariant(stopGradient: false))).1
        #expect(noStopGradient.backwardOps > cached.backwardOps)
    }

    /// With eta = (z1, z2) of the same views under the same parameters, the loss
    /// -(D(p1, eta2) + D(p2, eta1)) / 2 and its gradient are SimSiam's: sg(z) is
    /// z as a constant, and the cached graph's inputs are constants.
    @Test func oneCachedStepOnItsOwnViewsEqualsAPlainSimSiamStep() throws {
        let plain = try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache)
        let alternating = try Compiler.compile(Workload.tiny, batch: 4, variant: Self.cached, cache: quickTestCache)
        let a = ModelState(library: plain.library), b = ModelState(library: alternating.library)
        a.initialize(seed: 5)
        // Same start (momentum is zero after init in both).
        for (name, tensor) in a.exportTensors(includeGradients: false) { try b.setTensor(named: name, tensor) }
        let augmenter = ViewAugmenter(configuration: Self.data.augmentation, seed: 5, threadCount: 1)
        let before = b.exportTensors(includeGradients: false, includeMomentum: true)
        var lossPairs: [(Double, Double)] = []
        for step in 0..<3 {
            let (x1, x2) = augmenter.makeViews(images: Self.data.train, indices: Array(4 * step..<4 * step + 4), epoch: 0)
            let placeholder = [Float](repeating: 1, count: 4 * 16)
            let eta = try b.forwardOutputs(inputs: [x1, x2, placeholder, placeholder], names: ["z1", "z2"])
            if step == 0 {
                // The forward pass changed nothing: params, momentum, BN running statistics, counters.
                let after = b.exportTensors(includeGradients: false, includeMomentum: true)
                for (x, y) in zip(before, after) { #expect(x.tensor == y.tensor, "\(x.name) changed by forwardOutputs") }
            }
            let rates = plain.library.groupNames.map { _ in 0.05 }
            let plainLoss = try a.trainStep(inputs: [x1, x2], groupLR: rates, weightDecay: 5e-4, momentum: 0.9)
            let cachedLoss = try b.trainStep(inputs: [x1, x2, eta[0], eta[1]], groupLR: rates, weightDecay: 5e-4, momentum: 0.9)
            lossPairs.append((plainLoss, cachedLoss))
        }
        for (plainLoss, cachedLoss) in lossPairs { #expect(abs(plainLoss - cachedLoss) < 1e-6, "\(plainLoss) vs \(cachedLoss)") }
        let expected = a.exportTensors(includeGradients: false, includeMomentum: true)
        let actual = Dictionary(uniqueKeysWithValues: b.exportTensors(includeGradients: false, includeMomentum: true).map { ($0.name, $0.tensor) })
        for (name, tensor) in expected {
            let other = try #require(actual[name], "\(name) missing")
            let error = zip(tensor.doubles, other.doubles).map { abs($0 - $1) / max(1, abs($0)) }.max() ?? 0
            #expect(error < 1e-5, "\(name): relative difference \(error)")
        }
    }

    /// A cache whose targets record the network's version when filled: every step
    /// of a block sees the version of the block's start, and fills happen only there.
    @Test func cachedTargetsStayFixedForKStepsAndAreRefreshedAfter() throws {
        var cache = TargetCache(blockLength: 3, stepsPerEpoch: 7)
        var version = 0, fills: [Range<Int>] = []
        for step in 0..<7 {
            let (entry, refreshed) = cache.entry(for: step) { block in
                fills.append(block)
                return block.map { _ in TargetCache.Entry(batch: PreparedBatch(x1: [], x2: [], seconds: 0),
                                                          eta1: [Float(version)], eta2: [Float(version)]) }
            }
            #expect(refreshed == [0, 3, 6].contains(step))
            #expect(entry.eta1 == [Float(step / 3 * 3)], "step \(step) trained on targets of version \(entry.eta1)")
            version += 1  // one SGD step
        }
        #expect(fills == [0..<3, 3..<6, 6..<7])
        #expect((0..<7).filter(cache.endsBlock) == [2, 5, 6])
        #expect(TargetCache(blockLength: 100, stepsPerEpoch: 7).block(containing: 4) == 0..<7)
    }

    func alternationConfiguration(_ interval: AlternationInterval) -> TrainConfiguration {
        var configuration = Self.configuration()
        configuration.variant = Self.cached
        configuration.alternation = interval
        return configuration
    }

    @Test func theTrainerRefreshesTargetsAtEachBlockAndResumesAtAnEpochBoundary() throws {
        let compiled = try Compiler.compile(Workload.tiny, batch: 4, variant: Self.cached, cache: quickTestCache)
        let straight = temporaryDirectory(), interrupted = temporaryDirectory()
        defer { for directory in [straight, interrupted] { try? FileManager.default.removeItem(at: directory) } }
        var refreshes: [(Int, Range<Int>)] = []
        let configuration = alternationConfiguration(.steps(5))
        let reference = Trainer(configuration: configuration, runDirectory: straight, compiled: compiled, data: Self.data) { event in
            if case .targetsRefreshed(let epoch, let steps) = event { refreshes.append((epoch, steps)) }
        }
        let history = try reference.run(resume: false)
        // 48 images / batch 4 = 12 steps per epoch: blocks of 5, 5 and 2, restarting at every epoch.
        #expect(refreshes.map { $0.0 } == [0, 0, 0, 1, 1, 1] && refreshes.map { $0.1 } == [0..<5, 5..<10, 10..<12, 0..<5, 5..<10, 10..<12])
        #expect(history.count == 2 && history.allSatisfy { $0.loss.isFinite && $0.loss >= -1 && $0.loss <= 1 })

        // Ctrl-C in a block waits for its end (step 10 here), and a resumed run ends where the straight one did.
        let first = Trainer(configuration: configuration, runDirectory: interrupted, compiled: compiled, data: Self.data) { event in
            if case .step(1, 6, _, _, _, _, _) = event { Interrupt.requested.store(true, ordering: .relaxed) }
        }
        #expect(try first.run(resume: false).count == 1)
        #expect(try Checkpoint.read(first.checkpointURL).0.position.step == 10)
        let resumed = Trainer(configuration: configuration, runDirectory: interrupted, compiled: compiled, data: Self.data) { _ in }
        #expect(try resumed.run(resume: true).map(\.loss) == history.map(\.loss))
        let expected = reference.state.exportTensors(includeGradients: false, includeMomentum: true)
        let actual = resumed.state.exportTensors(includeGradients: false, includeMomentum: true)
        for (a, b) in zip(expected, actual) { #expect(a.tensor == b.tensor, "\(a.name) differs after resume") }
    }

    @Test func aMismatchedAlternationIsRefusedNamingTheFlag() throws {
        var online = Self.configuration()
        online.alternation = .steps(10)
        #expect(online.alternationMismatch?.contains("--alternate-every 10") == true)
        var cachedWithoutInterval = Self.configuration()
        cachedWithoutInterval.variant = Self.cached
        #expect(cachedWithoutInterval.alternationMismatch?.contains("--alternate-every K") == true)
        #expect(alternationConfiguration(.epoch).alternationMismatch == nil)
        #expect(AlternationInterval(argument: "epoch") == .epoch && AlternationInterval(argument: "10") == .steps(10))
        #expect(AlternationInterval(argument: "0") == nil && AlternationInterval(argument: "ten") == nil)
        // A checkpoint written before the field existed decodes with online targets.
        let old = try TrainConfiguration.decode(Self.configuration().json.replacingOccurrences(of: ",\"targets\":\"online\"", with: ""))
        #expect(!Self.configuration().json.contains("\"alternation\"") && old.variant.targets == .online)
    }

    @Test func alternationStudyVariantsAndTheirPaperRows() {
        let study = AblationStudy.named("alternation")!
        let configurations = study.configurations(base: Self.configuration()).map(\.configuration)
        #expect(study.variants.map(\.name) == ["1-step", "10-step", "100-step", "1-epoch"])
        #expect(study.variants.map(\.flags) == ["--alternate-every 1", "--alternate-every 10", "--alternate-every 100", "--alternate-every epoch"])
        #expect(configurations.map(\.alternation) == [.steps(1), .steps(10), .steps(100), .epoch])
        #expect(configurations.allSatisfy { $0.variant == Self.cached && $0.alternationMismatch == nil })
        #expect(study.flagOverridden(inBase: Self.cached) == "--alternate-every")
        let paper = AblationStudyReport.paperFigures(study: "alternation")
        #expect(paper.figures.map(\.result) == ["68.1%", "68.7%", "68.9%", "67.0%"])
        let run = { (name: String) in
            AblationRun(name: name, flags: "", losses: [-0.5], knnTop1: [0.6], collapseStd: [0.2], collapseReference: 0.25,
                        linearTop1: 0.7, wallSeconds: 60)
        }
        let report = AblationStudyReport(study: study.name, title: study.title, runs: study.variants.map { run($0.name) },
                                         paper: paper.figures, paperNote: paper.note, pixelBaseline: (knn: 0.8, linear: 0.84), budget: "b")
        for variant in study.variants { #expect(report.markdown.contains("| \(variant.name) |"), "\(variant.name) row missing") }
        #expect(report.markdown.contains("| 100-step | 68.9% |"))
    }
}
