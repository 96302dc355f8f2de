import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// `simsiamc tune` (`PlanTuner`, `TunedPlanStore`, `KernelPlanner.choices`): the candidates of each
/// pass are exactly what can run it, the tuner keeps the fastest it timed, and a stored plan is
/// followed by later compiles of the same graph, and only of that graph.
@Suite(.serialized) struct PlanTunerTests {
    static let gallery = Result { try KernelPlanTests.planGallery() }
    static let options = KernelPlanTests.options

    @Test func choicesListWhatCanRunEachPassWithTheCostModelsFirst() throws {
        let lowered = try Lowering.lower(forward: try Self.gallery.get(), features: nil, options: Self.options)
        let choices = KernelPlanner.choices(training: lowered.training, features: nil, options: Self.options)
        #expect(choices.map(\.derived) == lowered.plan.convolutions)
        for choice in choices {
            #expect(choice.algorithms.first == choice.derived.algorithm)
            #expect(Set(choice.algorithms).count == choice.algorithms.count)
            for algorithm in ConvAlgorithm.allCases {
                let plan = KernelPlan(convolutions: [.init(layer: choice.derived.layer, pass: choice.derived.pass, algorithm: algorithm)])
                let runs = (try? KernelPlanner.validate(plan, training: lowered.training, features: nil, options: Self.options)) != nil
                // F(4x4, 3x3) runs wherever F(2x2) does, but is timed only where the cost models may
                // choose it: float32 builds (these options are float64).
                let timed = runs && (algorithm != .winograd4x4 || (Self.options.precision == .float32 && choice.derived.pass != .forward))
                #expect(choice.algorithms.contains(algorithm) == timed, "\(choice.derived.layer) \(choice.derived.pass) \(algorithm)")
            }
            #expect(!choice.kernelNames.isEmpty)
            for name in choice.kernelNames { #expect(lowered.generated.source.contains("static void \(name)(")) }
        }
        // Winograd is 3x3, stride 1 only: listed for "wide" and "narrow", never for "strided".
        #expect(choices.filter { $0.derived.layer == "strided" }.allSatisfy { !$0.algorithms.contains(.winograd) })
        #expect(choices.filter { $0.derived.layer == "wide" }.allSatisfy { $0.algorithms.contains(.winograd) })
    }

    /// Where Winograd can run a pass, its blockings to time: the cost models' first (what a plain
    /// Winograd entry runs), no two alike, every one a plan entry that validates; none elsewhere.
    /// (At the gallery's batch of 2 the images per pass stay 1, so its 9-tile maps have one
    /// blocking; `theTunerKeepsTheFastestWinogradBlockingItTimed` tunes three.)
    @Test func winogradPassesListBlockingsThatValidate() throws {
        let lowered = try Lowering.lower(forward: try Self.gallery.get(), features: nil, options: Self.options)
        for choice in KernelPlanner.choices(training: lowered.training, features: nil, options: Self.options) {
            let at = "\(choice.derived.layer) \(choice.derived.pass)"
            guard choice.algorithms.contains(.winograd) else {
                #expect(choice.winogradBlockings.isEmpty, "\(at) cannot run Winograd but lists blockings")
                continue
            }
            var options = Self.options
            options.plan = KernelPlan(convolutions: [.init(layer: choice.derived.layer, pass: choice.derived.pass,
                                                           algorithm: choice.winogradBlockingAlgorithm)])
            let plain = try #require(Lowering.lower(forward: try Self.gallery.get(), features: nil, options: options).plan
                .entry(layer: choice.derived.layer, pass: choice.derived.pass))
            #expect(choice.winogradBlockings.first == WinogradBlocking(tilesPerBlock: plain.tilesPerBlock!, imagesPerPass: plain.imagesPerPass!), "\(at)")
            #expect(Set(choice.winogradBlockings).count == choice.winogradBlockings.count, "\(at): \(choice.winogradBlockings)")
            for blocking in choice.winogradBlockings {
                let plan = KernelPlan(convolutions: [blocking.entry(layer: choice.derived.layer, pass: choice.derived.pass,
                                                                    algorithm: choice.winogradBlockingAlgorithm)])
                #expect(throws: Never.self, "\(at) \(blocking)") {
                    try KernelPlanner.validate(plan, training: lowered.training, features: nil, options: Self.options)
                }
            }
        }
    }

    @Test func aStoredPlanIsFollowedOnlyForItsGraph() throws {
        let forward = try Self.gallery.get()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plans-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let derived = try Lowering.lower(forward: forward, features: nil, options: Self.options).plan
        // Every pass of "strided" on its other possible algorithm: a plan the cost models never write.
        let choices = KernelPlanner.choices(training: try Lowering.lower(forward: forward, features: nil, options: Self.options).training,
                                            features: nil, options: Self.options)
        // And "wide"'s Winograd forward on another blocking: a change `tune` counts too.
        let stored = KernelPlan(convolutions: choices.map { choice in
            if choice.derived.layer == "wide", choice.derived.pass == .forward, choice.derived.algorithm == .winograd {
                var entry = choice.derived
                entry.tilesPerBlock = choice.derived.tilesPerBlock == 16 ? 8 : 16
                return entry
            }
            return choice.derived.layer == "strided" && choice.algorithms.count > 1
                ? ConvPlanEntry(layer: choice.derived.layer, pass: choice.derived.pass, algorithm: choice.algorithms[1]) : choice.derived
        })
        let otherAlgorithms = zip(stored.convolutions, derived.convolutions).filter { $0.algorithm != $1.algorithm }.count
        #expect(otherAlgorithms > 0)
        #expect(stored != derived)
        let store = TunedPlanStore(directory: directory)
        let file = try store.store(Self.record(stored), forward: forward, options: Self.options, threads: TunedPlanStore.threads())

        var options = Self.options
        options.tunedPlanDirectory = directory.path
        let followed = try Lowering.lower(forward: forward, features: nil, options: options)
        // The lowered plan fills in images per pass where the stored one leaves them to the cost models.
        #expect(followed.plan.convolutions.map(\.algorithm) == stored.convolutions.map(\.algorithm))
        #expect(followed.plan != derived)
        #expect(followed.tunedPlan?.contains(file.path) == true)
        #expect(followed.tunedPlan?.contains("\(otherAlgorithms + 1) of \(derived.convolutions.count) passes differ from the cost models (\(otherAlgorithms) in algorithm, 1 in blocking only)") == true,
                "\(followed.tunedPlan ?? "no tuned plan")")

        // No directory: the cost models' plan, whatever is stored.
        #expect(try Lowering.lower(forward: forward, features: nil, options: Self.options).plan == derived)
        // Another precision is another key.
        var single = options
        single.precision = .float32
        #expect(try Lowering.lower(forward: forward, features: nil, options: single).tunedPlan == nil)
        // A stored plan that no longer fits (a layer the graph lacks) is skipped with a note.
        var stale = Self.record(stored)
        stale.plan.convolutions.append(.init(layer: "gone", pass: .forward, algorithm: .packed))
        try store.store(stale, forward: forward, options: Self.options, threads: TunedPlanStore.threads())
        let skipped = try Lowering.lower(forward: forward, features: nil, options: options)
        #expect(skipped.plan == derived)
        #expect(skipped.tunedPlan?.contains("no longer applies") == true)
    }

    @Test func theTunerKeepsTheFastestAlgorithmItTimed() throws {
        let tuner = PlanTuner(workload: .tiny, batch: 4, options: CodegenOptions(), steps: 1)
        let record = try tuner.run { _ in }
        let lowered = try Lowering.lower(Workload.tiny, batch: 4)
        let choices = KernelPlanner.choices(training: lowered.training, features: lowered.features, options: CodegenOptions())
        #expect(record.layers.map(\.layer) == choices.map(\.derived.layer))
        #expect(record.graph == lowered.training.name && record.batch == 4)
        for (layer, choice) in zip(record.layers, choices) {
            // Every candidate of a training pass was timed (tiny has fewer rounds than any budget).
            #expect(Set(layer.seconds.keys) == Set(choice.algorithms.map(\.rawValue)))
            let best = layer.seconds.values.min()!
            #expect(layer.seconds[layer.chosen.rawValue]! == best)
            #expect(layer.chosen == layer.derived || layer.seconds[layer.derived.rawValue]! > best)
        }
        try KernelPlanner.validate(record.plan, training: lowered.training, features: lowered.features, options: CodegenOptions())
        let tunedEntries = zip(record.layers, choices).map { layer, choice in
            layer.chosen == choice.derived.algorithm ? choice.derived : ConvPlanEntry(layer: layer.layer, pass: layer.pass, algorithm: layer.chosen)
        }
        #expect(record.plan.convolutions == (record.tunedPlanKept ? tunedEntries : choices.map(\.derived)))
        #expect(record.tunedPlanKept == (record.tunedStepSeconds < record.derivedStepSeconds))
    }

    /// A model whose stage runs Winograd (64 channels, 8 x 8 maps): at batch 4 each forward, on
    /// F(2x2, 3x3), has three blockings (32, 16 and 24 tiles per block, two images per pass); the dx
    /// and dw, on F(4x4, 3x3) (4 tiles per image), have one.
    static let winogradWorkload = Workload(name: "winograd-stage", defaultBatch: 4) { variant in
        let m = Model()
        let backbone = ResNet(m, inputChannels: 1, stemWidth: 64, stages: [.init(width: 64, blocks: 1, stride: 1)])
        return SimSiam(model: m, backbone: backbone, projector: Heads.projector(m, 64, 16, layers: 2, norm: variant.headNorm),
                       predictor: Heads.predictor(m, 16, hidden: 4, variant: variant), imageShape: [1, 8, 8], variant: variant)
    }

    /// The second stage: every pass that chose Winograd had each of its blockings timed, kept the
    /// fastest (ties: the cost models'), and the tuned plan runs it; passes that chose another
    /// algorithm have no blockings.
    @Test func theTunerKeepsTheFastestWinogradBlockingItTimed() throws {
        let tuner = PlanTuner(workload: Self.winogradWorkload, batch: 4, options: CodegenOptions(), steps: 1)
        let record = try tuner.run { _ in }
        let lowered = try Lowering.lower(Self.winogradWorkload, batch: 4)
        let choices = KernelPlanner.choices(training: lowered.training, features: lowered.features, options: CodegenOptions())
        #expect(choices.contains { $0.derived.algorithm.isWinograd && $0.winogradBlockings.count == 3 })
        var tunedBlockings = 0
        for (layer, choice) in zip(record.layers, choices) {
            guard layer.chosen == choice.winogradBlockingAlgorithm, choice.winogradBlockings.count > 1 else {
                #expect(layer.blockingSeconds == nil && layer.chosenBlocking == nil, "\(layer.layer) \(layer.pass)")
                continue
            }
            let timed = try #require(layer.blockingSeconds, "\(layer.layer) \(layer.pass): Winograd blockings not timed")
            #expect(Set(timed.keys) == Set(choice.winogradBlockings.map(\.description)))
            let chosen = try #require(layer.chosenBlocking)
            #expect(timed[chosen.description]! == timed.values.min()!)
            #expect(layer.derivedBlocking == choice.winogradBlockings[0])
            #expect(chosen == choice.winogradBlockings[0] || timed[choice.winogradBlockings[0].description]! > timed[chosen.description]!)
            if record.tunedPlanKept, chosen != choice.winogradBlockings[0] {
                #expect(record.plan.entry(layer: layer.layer, pass: layer.pass)
                        == chosen.entry(layer: layer.layer, pass: layer.pass, algorithm: choice.winogradBlockingAlgorithm))
                tunedBlockings += 1
            }
        }
        #expect(record.layers.contains { $0.blockingSeconds != nil }
                == zip(record.layers, choices).contains { $0.chosen == $1.winogradBlockingAlgorithm && $1.winogradBlockings.count > 1 })
        // F(4x4, 3x3) is timed on the dx and dw only: these forwards sum 64 channels, more than
        // `winograd4x4ForwardChannels` (Winograd4x4Tests checks a forward of 32).
        #expect(choices.filter { $0.derived.pass == .forward }.allSatisfy { !$0.algorithms.contains(.winograd4x4) })
        #expect(choices.contains { $0.derived.pass != .forward && $0.algorithms.contains(.winograd4x4) })
        try KernelPlanner.validate(record.plan, training: lowered.training, features: lowered.features, options: CodegenOptions())
        print("winograd-stage tune: \(tunedBlockings) passes reblocked, step \(record.derivedStepSeconds) -> \(record.tunedStepSeconds) s")
    }

    static func record(_ plan: KernelPlan) -> TunedPlanRecord {
        TunedPlanRecord(format: TunedPlanRecord.currentFormat, plan: plan, graph: "plan-gallery", batch: 2, precision: "float64",
                        vectorWidth: "avx512", threads: 1, cpu: "test", measured: "2026-12-03T00:00:00Z", layers: [],
                        derivedStepSeconds: 2, tunedStepSeconds: 1, tunedPlanKept: true)
    }
}
