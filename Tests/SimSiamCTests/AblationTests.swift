import Foundation
import Testing
@testable import SimSiamC

/// The paper's ablations: each variant is its own graph (or lr rule) and
/// trains; `ablate` writes its report. In `TrainerTests`' serialized suite:
/// the trainer's Ctrl-C flag is process-wide.
extension TrainerTests {
    func graph(_ variant: SimSiamVariant) throws -> Graph {
        try Workload.tiny.makeModel(variant).trainingGraph(name: "tiny", batch: 4)
    }

    func count(_ graph: Graph, _ kind: String) -> Int { graph.nodes.filter { $0.op.mnemonic == kind }.count }

    @Test func variantsChangeTheGraph() throws {
        let standard = try graph(.standard)
        #expect(count(standard, "cosine_similarity") == 2 && count(standard, "stop_gradient") == 2)

        let noPredictor = try graph(SimSiamVariant(predictor: .none))
        #expect(!noPredictor.state.parameters.contains { $0.name.hasPrefix("predictor.") })
        #expect(standard.state.parameters.contains { $0.name == "predictor.3.weight" })

        let noHeadBN = try graph(SimSiamVariant(headNorm: .none))
        let headBuffers = { (g: Graph) in g.state.buffers.map(\.name).filter { $0.hasPrefix("projector.") || $0.hasPrefix("predictor.") } }
        #expect(headBuffers(noHeadBN).isEmpty)
        #expect(noHeadBN.state.parameters.filter { $0.name.hasPrefix("projector.") && $0.name.hasSuffix(".bias") && $0.isTrainable }.count == 3)
        let hiddenOnly = try graph(SimSiamVariant(headNorm: .hidden))
        #expect(!headBuffers(hiddenOnly).contains("projector.7.running_mean"))
        #expect(headBuffers(standard).contains("projector.7.running_mean"))
        #expect(try headBuffers(graph(SimSiamVariant(headNorm: .all))).contains("predictor.4.running_mean"))

        let crossEntropy = try graph(SimSiamVariant(similarity: .crossEntropy))
        #expect(count(crossEntropy, "cross_entropy_similarity") == 2 && count(crossEntropy, "cosine_similarity") == 0)

        let asymmetric = try graph(SimSiamVariant(symmetry: .asymmetric))
        #expect(count(asymmetric, "cosine_similarity") == 1 && count(asymmetric, "stop_gradient") == 1)
        #expect(try graph(SimSiamVariant(symmetry: .asymmetricDoubleSteps)).nodes.count == asymmetric.nodes.count)
    }

    @Test func stopGradientOffEmitsTheBackwardThroughZ() throws {
        let cut = try Autodiff.differentiate(try graph(.standard)).1
        let uncut = try Autodiff.differentiate(try graph(SimSiamVariant(stopGradient: false))).1
        #expect(uncut.backwardOps > cut.backwardOps && uncut.prunedByStopGradient == 0 && cut.prunedByStopGradient > 0)
    }

    @Test func frozenPredictorKeepsItsInitialisationAndDoubleStepsDrawTwice() throws {
        var configuration = Self.configuration()
        configuration.epochs = 1
        configuration.variant = SimSiamVariant(predictor: .frozen, symmetry: .asymmetricDoubleSteps)
        let compiled = try Compiler.compile(Workload.tiny, batch: 4, variant: configuration.variant, cache: quickTestCache)
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var steps: Set<Int> = []
        let trainer = Trainer(configuration: configuration, runDirectory: directory, compiled: compiled, data: Self.data) { event in
            if case .step(_, _, let total, _, _, _, _) = event { steps.insert(total) }
        }
        let initial = ModelState(library: compiled.library)
        initial.initialize(seed: configuration.seed)
        try trainer.run(resume: false)
        #expect(steps == [2 * (Self.data.train.count / 4)])
        for symbol in compiled.library.symbols where symbol.kind == .trainable {
            let moved = trainer.state.tensor(named: symbol.name)!.doubles != initial.tensor(named: symbol.name)!.doubles
            #expect(moved == !symbol.name.hasPrefix("predictor."), "\(symbol.name) moved: \(moved)")
        }
    }

    @Test func everyStudyTrainsEachVariantAndWritesItsReport() throws {
        var base = Self.configuration()
        base.epochs = 1
        for study in AblationStudy.all where study.name != "batch" {
            let directory = temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let runner = AblationRunner(study: study, base: base, directory: directory, data: Self.data, onEvent: { _ in })
            let (report, files) = try #require(try runner.run())
            #expect(report.runs.map(\.name) == study.variants.map(\.name))
            for run in report.runs {
                #expect(run.losses.count == 1 && run.knnTop1.count == 1 && run.collapseStd.count == 1 && run.collapseRank?.count == 1, "\(study.name): \(run.name)")
                #expect(run.failure != nil || run.linearTop1 != nil, "\(study.name): \(run.name)")
            }
            #expect(files.allSatisfy { FileManager.default.fileExists(atPath: $0.path) })
            #expect(files.map(\.lastPathComponent).contains("report.md"))
        }
    }

    @Test func monitorEveryKEpochsThinsEachVariantsKNNCurveButKeepsTheLast() throws {
        var base = Self.configuration()
        base.epochs = 3
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var runner = AblationRunner(study: AblationStudy.named("similarity")!, base: base, directory: directory, data: Self.data,
                                    onEvent: { _ in })
        runner.monitorEvery = 2
        let (report, _) = try #require(try runner.run())
        for run in report.runs {
            #expect(run.losses.count == 3 && run.knnTop1.count == 2, "\(run.name): kNN after \(run.knnTop1.count) epochs")
            #expect(run.linearTop1 != nil)
        }
    }

    @Test func aBaseVariantCarriesIntoEveryVariantUnlessTheStudySetsIt() {
        var base = Self.configuration()
        base.variant.headNorm = .hidden
        let stopGradient = AblationStudy.named("stop-gradient")!
        let variants = stopGradient.configurations(base: base).map(\.configuration.variant)
        #expect(variants == [SimSiamVariant(headNorm: .hidden), SimSiamVariant(stopGradient: false, headNorm: .hidden)])
        #expect(stopGradient.flagOverridden(inBase: base.variant) == nil)
        let runner = AblationRunner(study: stopGradient, base: base, directory: temporaryDirectory(), data: Self.data, onEvent: { _ in })
        #expect(runner.budget.contains("base variant: head BN hidden"))
        #expect(AblationStudy.named("bn")!.flagOverridden(inBase: base.variant) == "--head-bn")
        #expect(stopGradient.flagOverridden(inBase: SimSiamVariant(stopGradient: false)) == "--no-stop-gradient")
        #expect(AblationStudy.named("predictor")!.flagOverridden(inBase: SimSiamVariant(predictor: .none)) == "--predictor")
        #expect(AblationStudy.named("batch")!.flagOverridden(inBase: SimSiamVariant(similarity: .crossEntropy)) == nil)
    }

    @Test func batchStudyScalesTheLearningRateLinearly() {
        let base = Self.configuration()
        let configurations = AblationStudy.named("batch")!.configurations(base: base).map(\.configuration)
        #expect(configurations.map(\.batch) == [64, 128, 256, 512])
        #expect(configurations.map(\.initialLR) == [64, 128, 256, 512].map { base.baseLR * Double($0) / 256 })
    }

    @Test func finishedVariantsAreReusedWhenAStudyRunsAgain() throws {
        var base = Self.configuration()
        base.epochs = 1
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let study = AblationStudy.named("stop-gradient")!
        _ = try AblationRunner(study: study, base: base, directory: directory, data: Self.data, onEvent: { _ in }).run()
        var notes: [String] = []
        _ = try AblationRunner(study: study, base: base, directory: directory, data: Self.data) { event in
            if case .note(let text) = event { notes.append(text) }
        }.run()
        #expect(notes.filter { $0.contains("reusing") }.count == study.variants.count)
    }

    @Test func anInterruptedVariantResumesFromItsCheckpointWithTheSameNumbers() throws {
        var base = Self.configuration()
        base.epochs = 2
        let study = AblationStudy.named("stop-gradient")!
        let uninterrupted = temporaryDirectory(), interrupted = temporaryDirectory()
        defer { for directory in [uninterrupted, interrupted] { try? FileManager.default.removeItem(at: directory) } }
        let expected = try #require(try AblationRunner(study: study, base: base, directory: uninterrupted, data: Self.data,
                                                       onEvent: { _ in }).run()).report

        // Ctrl-C in the second epoch of the first variant, as the signal handler would set it.
        let stopped = try AblationRunner(study: study, base: base, directory: interrupted, data: Self.data) { event in
            if case .step(1, 2, _, _, _, _, _) = event { Interrupt.requested.store(true, ordering: .relaxed) }
        }.run()
        #expect(stopped == nil)
        var notes: [String] = []
        let resumed = try #require(try AblationRunner(study: study, base: base, directory: interrupted, data: Self.data) { event in
            if case .note(let text) = event { notes.append(text) }
        }.run()).report
        #expect(notes.contains("resuming at epoch 2, step 4"), "\(notes)")
        #expect(resumed.runs.map(\.losses) == expected.runs.map(\.losses))
        #expect(resumed.runs.map(\.knnTop1) == expected.runs.map(\.knnTop1))
        #expect(resumed.runs.map(\.linearTop1) == expected.runs.map(\.linearTop1))
    }

    @Test func aDivergedVariantIsReportedAsFailedAndTheStudyGoesOn() throws {
        var base = Self.configuration()
        base.epochs = 2
        base.baseLR = 1e30
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let study = AblationStudy.named("stop-gradient")!
        let (report, files) = try #require(try AblationRunner(study: study, base: base, directory: directory, data: Self.data,
                                                              onEvent: { _ in }).run())
        #expect(report.runs.count == study.variants.count)
        for run in report.runs {
            #expect(run.failure?.contains("loss became") == true, "\(run.name): \(run.failure ?? "finished")")
            #expect(run.linearTop1 == nil && run.losses.count < base.epochs)
        }
        let markdown = try String(contentsOf: files[0], encoding: .utf8)
        #expect(markdown.contains("Runs that stopped early") && markdown.contains("n/a (failed)"))
    }
}
