import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// The kernel plan (`KernelPlan`, `KernelPlanner`): the derived plan gives the same C as no
/// plan, a plan that forces other algorithms changes exactly those kernels and keeps the
/// gradients right, entries that cannot run are errors naming layer and pass, and plan.json
/// reads back as written.
@Suite(.serialized) struct KernelPlanTests {
    /// Four labelled convolutions on small shapes, each reached by the loss through its own
    /// cosine term (as the op gallery of `GradientCheckTests`). In float64 on AVX-512 tiles
    /// (8 lanes, 16-column panels) the cost models pick Winograd for all of "wide"'s passes;
    /// "narrow" (16 channels) may run Winograd but is too narrow to be chosen for it; "strided"
    /// (stride 2, 24 input channels) can run neither Winograd nor the channels-last dw.
    static func planGallery() throws -> Graph {
        let m = Model()
        func p(_ name: String, _ shape: Shape) -> Int { m.declareParameter(name, shape, .uniformFanIn(fanIn: 1)) }
        let layers: [(String, Shape, Shape, Int, Int)] = [
            ("wide", [2, 32, 6, 6], [32, 32, 3, 3], 1, 1), ("narrow", [2, 16, 6, 6], [16, 16, 3, 3], 1, 1),
            ("strided", [2, 24, 7, 6], [16, 24, 3, 3], 2, 1), ("pointwise", [2, 16, 5, 5], [8, 16, 1, 1], 2, 0),
        ]
        let parameters = layers.map { (p("\($0.0).x", $0.1), p("\($0.0).w", $0.2)) }
        let g = GraphBuilder(name: "plan-gallery", model: m, training: true)
        var terms: [Tensor] = []
        for ((name, _, _, stride, padding), (x, w)) in zip(layers, parameters) {
            let y = g.parameter(x).conv2d(g.parameter(w), stride: stride, padding: padding, label: name).flattened()
            terms.append(y.cosineSimilarity(g.input("t_\(name)", y.shape), label: name + ".cos").mean())
        }
        g.output("loss", terms.dropFirst().reduce(terms[0]) { $0.adding($1) })
        return try g.finish()
    }

    static let options = CodegenOptions(precision: .float64, kernels: .tuned, vectorWidth: .avx512)

    /// A plan for the gallery that forces an algorithm, images per pass, Winograd tiles per block or
    /// thread split the cost models do not choose on every pass of every layer it lists (at batch 2
    /// they choose one image per pass; "narrow"'s 3 x 3 tiles per image make 24 tiles per block at
    /// 2 images, in whole 8-row register tiles; "wide"'s packed dw of 288 columns splits by columns).
    static let forced = KernelPlan(convolutions: [
        .init(layer: "wide", pass: .forward, algorithm: .inPlace), .init(layer: "wide", pass: .dx, algorithm: .channelsLast),
        .init(layer: "wide", pass: .dw, algorithm: .packed, threadSplit: .kBlocks),
        .init(layer: "narrow", pass: .forward, algorithm: .winograd, imagesPerPass: 2, tilesPerBlock: 8),
        .init(layer: "narrow", pass: .dx, algorithm: .winograd, tilesPerBlock: 16),
        .init(layer: "narrow", pass: .dw, algorithm: .winograd, imagesPerPass: 2),
        .init(layer: "strided", pass: .forward, algorithm: .packed), .init(layer: "strided", pass: .dw, algorithm: .packed),
        .init(layer: "pointwise", pass: .forward, algorithm: .channelsLast), .init(layer: "pointwise", pass: .dx, algorithm: .channelsLast, imagesPerPass: 2),
        .init(layer: "pointwise", pass: .dw, algorithm: .inPlace, imagesPerPass: 2),
    ])

    /// The call that marks each algorithm's kernel body, by pass.
    static func marker(_ algorithm: ConvAlgorithm, _ pass: ConvPass) -> String {
        switch (algorithm, pass) {
        case (.inPlace, .dw): "conv_weight_gemm(&plan"
        case (.inPlace, _): "conv_gemm(&plan"
        case (.channelsLast, .dw): "conv_cl_weight_gemm(&plan"
        case (.channelsLast, _): "conv_cl_gemm(&plan"
        case (.packed, _): "&g, conv2d_"
        case (.winograd, .dw): "conv_wino_weight(&plan"
        case (.winograd, _): "conv_wino(&plan"
        case (.winograd4x4, .dw): "conv_wino4_weight(&plan"
        case (.winograd4x4, _): "conv_wino4(&plan"
        }
    }

    /// The body of the kernel of `layer`'s `pass` in `source`.
    static func kernel(_ layer: String, _ pass: ConvPass, in source: String) throws -> String {
        let prefix = ["forward": "conv2d_fwd", "dx": "conv2d_bwd_data", "dw": "conv2d_bwd_weight"][pass.rawValue]!
        let pattern = try Regex("\nstatic void (\(prefix)(_add)?__\(layer))\\(")
        let match = try #require(source.firstMatch(of: pattern), "no \(pass.rawValue) kernel of \(layer)")
        let end = try #require(source.range(of: "\n}\n", range: match.range.upperBound..<source.endIndex))
        return String(source[match.range.lowerBound..<end.lowerBound])
    }

    func lower(_ plan: KernelPlan?, options: CodegenOptions = KernelPlanTests.options) throws -> LoweredProgram {
        var options = options
        options.plan = plan
        return try Lowering.lower(forward: try Self.planGallery(), features: nil, options: options)
    }

    // MARK: The derived plan

    @Test func derivedPlanGivesTheSameCAsNoPlan() throws {
        for workload in ReferenceSources.workloads {
            let model = workload.makeModel()
            let plain = try Lowering.lower(model, name: workload.name, batch: workload.defaultBatch, options: ReferenceSources.options)
            let plan = KernelPlanner.derived(training: plain.training, features: plain.features, options: plain.options)
            var options = ReferenceSources.options
            options.plan = plan
            let planned = try Lowering.lower(model, name: workload.name, batch: workload.defaultBatch, options: options)
            #expect(planned.generated.source == plain.generated.source, "\(workload.name): the derived plan changed the C")
            #expect(planned.plan == plan && plain.plan == plan)
            // Every convolution kernel of the step is planned: three passes of every layer but the stem's dx.
            let layers = Set(plan.convolutions.map(\.layer))
            #expect(plan.convolutions.count == 3 * layers.count - 1, "\(workload.name): \(plan.convolutions.count) entries for \(layers.count) layers")
            #expect(!plain.planTable.contains("*"), "the derived plan's table marks a choice as forced")
        }
    }

    /// The cost models' choices on W1 and W2 where the quiet tune of docs/tuning.md ("W1/W2 on this
    /// machine", AVX-512, float32) timed another algorithm clearly faster (by over 10% and 1 ms per
    /// step), and on the neighbouring downsamples where it confirmed them. At W2's benchmark batch
    /// of 128 the shape-only fixes hold; layer4's Winograd dw, whose threads share one du, beat the
    /// packed GEMM there too (`tune`, 2026-12-04, Zen 4), while its stride-2 conv1 keeps it.
    @Test func derivedChoicesFollowTheQuietTune() throws {
        let expected: [(Workload, Int, String, ConvPass, ConvAlgorithm)] = [
            (.fmnistResNetMini, 256, "layer3.0.downsample.0", .dw, .inPlace),
            (.fmnistResNetMini, 256, "layer2.0.conv1", .dw, .channelsLast),
            (.fmnistResNetMini, 256, "layer3.0.downsample.0", .forward, .inPlace),
            (.cifarResNet18, 512, "layer4.0.conv2", .dw, .winograd),
            (.cifarResNet18, 512, "layer4.1.conv1", .dw, .winograd),
            (.cifarResNet18, 512, "layer4.1.conv2", .dw, .winograd),
            (.cifarResNet18, 512, "layer4.0.conv1", .dw, .channelsLast),
            (.cifarResNet18, 512, "layer4.0.downsample.0", .forward, .channelsLast),
            (.cifarResNet18, 512, "layer4.0.downsample.0", .dw, .channelsLast),
            (.cifarResNet18, 512, "layer3.0.downsample.0", .dw, .channelsLast),
            (.cifarResNet18, 512, "layer3.0.downsample.0", .dx, .channelsLast),
            (.cifarResNet18, 512, "layer3.0.downsample.0", .forward, .inPlace),
            (.cifarResNet18, 512, "layer2.0.downsample.0", .forward, .inPlace),
            (.cifarResNet18, 512, "layer2.0.downsample.0", .dx, .inPlace),
            (.cifarResNet18, 512, "layer2.0.downsample.0", .dw, .inPlace),
            (.cifarResNet18, 128, "layer4.0.downsample.0", .forward, .channelsLast),
            (.cifarResNet18, 128, "layer4.0.downsample.0", .dw, .channelsLast),
            (.cifarResNet18, 128, "layer3.0.downsample.0", .dw, .channelsLast),
            (.cifarResNet18, 128, "layer3.0.downsample.0", .dx, .channelsLast),
            (.cifarResNet18, 128, "layer4.1.conv1", .dw, .winograd),  // one shared du: 79.8 against 104.3 ms packed
            (.cifarResNet18, 128, "layer4.0.conv1", .dw, .packed),
        ]
        var plans: [String: KernelPlan] = [:]
        for (workload, batch, layer, pass, algorithm) in expected {
            let key = "\(workload.name)@\(batch)"
            if plans[key] == nil {
                let lowered = try Lowering.lower(workload, batch: batch, options: ReferenceSources.options)
                plans[key] = KernelPlanner.derived(training: lowered.training, features: lowered.features, options: lowered.options)
            }
            let chosen = plans[key]!.algorithm(layer: "backbone." + layer, pass: pass)
            #expect(chosen == algorithm, "\(key) \(layer) \(pass.rawValue): \(chosen?.rawValue ?? "not planned"), expected \(algorithm.rawValue)")
        }
    }

    @Test func derivedGalleryPlanIsWhatTheForcedPlanAvoids() throws {
        let lowered = try lower(nil)
        for entry in Self.forced.convolutions {
            let derived = try #require(lowered.plan.entry(layer: entry.layer, pass: entry.pass), "\(entry.layer) \(entry.pass) not planned")
            #expect(derived != entry, "\(entry.layer) \(entry.pass): the cost models already choose \(derived)")
            #expect(derived.imagesPerPass == nil || derived.imagesPerPass == 1)
            #expect(try Self.kernel(entry.layer, entry.pass, in: lowered.generated.source).contains(Self.marker(derived.algorithm, entry.pass)))
        }
        #expect(lowered.plan.algorithm(layer: "wide", pass: .forward) == .winograd)
    }

    // MARK: A forced plan

    @Test func forcedAlgorithmsChangeTheirKernelsAndPassFiniteDifferences() throws {
        let derived = try lower(nil)
        let lowered = try lower(Self.forced)
        for entry in Self.forced.convolutions {
            let body = try Self.kernel(entry.layer, entry.pass, in: lowered.generated.source)
            #expect(body.contains(Self.marker(entry.algorithm, entry.pass)), "\(entry.layer) \(entry.pass) is not \(entry.algorithm.rawValue):\n\(body.prefix(400))")
            #expect(lowered.plan.algorithm(layer: entry.layer, pass: entry.pass) == entry.algorithm)
            if let images = entry.imagesPerPass {
                #expect(body.contains(".group = \(images)"), "\(entry.layer) \(entry.pass) does not run \(images) images per pass")
                #expect(lowered.plan.entry(layer: entry.layer, pass: entry.pass)?.imagesPerPass == images)
            }
            if let tiles = entry.tilesPerBlock {
                #expect(body.contains(".block = \(tiles)}"), "\(entry.layer) \(entry.pass) does not run \(tiles) tiles per block")
                #expect(lowered.plan.entry(layer: entry.layer, pass: entry.pass)?.tilesPerBlock == tiles)
            }
            if let split = entry.threadSplit {
                #expect(body.contains(split == .kBlocks ? "gemm_reduce_over_k(" : "gemm_column_panels("), "\(entry.layer) \(entry.pass) does not split by \(split.rawValue)")
                #expect(lowered.plan.entry(layer: entry.layer, pass: entry.pass)?.threadSplit == split)
            }
        }
        // Layers and passes the plan leaves out keep the derived kernel, byte for byte.
        for entry in derived.plan.convolutions where Self.forced.algorithm(layer: entry.layer, pass: entry.pass) == nil {
            #expect(try Self.kernel(entry.layer, entry.pass, in: lowered.generated.source)
                    == (try Self.kernel(entry.layer, entry.pass, in: derived.generated.source)))
        }
        let table = lowered.planTable
        #expect(table.contains("wide") && table.contains("in-place*") && table.contains("winograd x2/8*") && table.contains("winograd x1/16*")
                && table.contains("packed k-blocks*"), "\(table)")

        try Self.expectForcedGradientsMatch(derived: derived, forced: lowered, what: "the forced plan's kernels")
    }

    /// One float64 step of the gallery built with `derived` and with `forced`: the forced build's
    /// gradients pass finite differences and equal the derived build's to 1e-10 (relative).
    static func expectForcedGradientsMatch(derived: LoweredProgram, forced: LoweredProgram, what: String) throws {
        var gradients: [[String: [Double]]] = []
        for program in [derived, forced] {
            let compiled = try Compiler.build(program, cache: quickTestCache)
            let state = ModelState(library: compiled.library)
            state.initialize(seed: 7)
            var random = TestRandom(seed: 11)
            let inputs = compiled.library.inputs.map { random.array($0.numel).map(Float.init) }
            if program.options.plan != nil {
                let errors = try FiniteDifferences.check(state, inputs: inputs, probes: GradientProbes(elementsPerTensor: 8, directionsPerTensor: 4))
                #expect(errors.count == 8)
                for error in errors {
                    #expect(error.error < 1e-6, "gradient of \(error.name) differs from finite differences by \(error.error) (relative)")
                }
            }
            _ = try state.lossAndGradients(inputs)
            gradients.append(Dictionary(uniqueKeysWithValues: compiled.library.symbols.filter { $0.kind == .trainable }.map {
                ($0.name, state.gradient(named: $0.name)!.doubles)
            }))
        }
        for (name, expected) in gradients[0] {
            let error = relativeError(try #require(gradients[1][name]), expected)
            #expect(error < 1e-10, "gradient of \(name): \(what) differ from the derived ones by \(error) (relative)")
        }
    }

    // MARK: Entries that cannot apply

    func planError(_ entries: [ConvPlanEntry], options: CodegenOptions = KernelPlanTests.options) -> String {
        do { _ = try lower(KernelPlan(convolutions: entries), options: options) } catch { return "\(error)" }
        return "no error"
    }

    @Test func impossibleEntriesAreErrorsNamingLayerAndPass() {
        let winograd = planError([.init(layer: "strided", pass: .forward, algorithm: .winograd)])
        #expect(winograd.contains("--plan: plan entry {\"layer\": \"strided\", \"pass\": \"forward\"}"), "\(winograd)")
        #expect(winograd.contains("3x3 kernel at stride 1, padding 1 (this is 3x3, stride 2, padding 1)"), "\(winograd)")
        #expect(winograd.contains("choose one of in-place, channels-last, packed"), "\(winograd)")
        let pointwise = planError([.init(layer: "pointwise", pass: .dw, algorithm: .winograd)])
        #expect(pointwise.contains("\"pass\": \"dw\"") && pointwise.contains("this is 1x1"), "\(pointwise)")
        let packed = planError([.init(layer: "wide", pass: .dx, algorithm: .packed)])
        #expect(packed.contains("\"layer\": \"wide\", \"pass\": \"dx\"") && packed.contains("there is no packed dx kernel"), "\(packed)")
        // 24 input channels fill no 16-column tile of the AVX-512 float64 register tile.
        let tile = planError([.init(layer: "strided", pass: .dw, algorithm: .channelsLast)])
        #expect(tile.contains("\"pass\": \"dw\"") && tile.contains("24 is not a multiple of 16"), "\(tile)")
        // On AVX2 float64 tiles (4 lanes, 8 columns) the same entry can run.
        var avx2 = Self.options
        avx2.vectorWidth = .avx2
        #expect(planError([.init(layer: "strided", pass: .dw, algorithm: .channelsLast)], options: avx2) == "no error")
        let unknown = planError([.init(layer: "nope", pass: .forward, algorithm: .inPlace)])
        #expect(unknown.contains("plan-gallery has no convolution layer \"nope\"; its layers are narrow, pointwise, strided, wide"), "\(unknown)")
        let inPlaceForward = planError([.init(layer: "wide", pass: .forward, algorithm: .inPlace, imagesPerPass: 2)])
        #expect(inPlaceForward.contains("\"pass\": \"forward\"}: in-place has no imagesPerPass"), "\(inPlaceForward)")
        let tooMany = planError([.init(layer: "wide", pass: .dw, algorithm: .winograd, imagesPerPass: 3)])
        #expect(tooMany.contains("\"layer\": \"wide\", \"pass\": \"dw\"}: imagesPerPass 3 is outside 1...2"), "\(tooMany)")
        let tiles = planError([.init(layer: "wide", pass: .forward, algorithm: .winograd, tilesPerBlock: 12)])
        #expect(tiles.contains("\"pass\": \"forward\"}: tilesPerBlock 12 must be a multiple of 8"), "\(tiles)")
        let tilesElsewhere = planError([.init(layer: "wide", pass: .forward, algorithm: .packed, tilesPerBlock: 8)])
        #expect(tilesElsewhere.contains("tilesPerBlock applies to Winograd passes only, not packed"), "\(tilesElsewhere)")
        let split = planError([.init(layer: "wide", pass: .forward, algorithm: .packed, threadSplit: .kBlocks)])
        #expect(split.contains("threadSplit applies to packed dw passes only, not packed forward"), "\(split)")
        let twice = planError([.init(layer: "wide", pass: .dw, algorithm: .packed), .init(layer: "wide", pass: .dw, algorithm: .inPlace)])
        #expect(twice.contains("listed twice"), "\(twice)")
    }

    // MARK: plan.json

    @Test func planJSONRoundTrips() throws {
        let data = try Self.forced.encoded()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"algorithm\" : \"channels-last\"") && text.contains("\"pass\" : \"dx\"") && text.contains("\"format\" : 1")
                && text.contains("\"imagesPerPass\" : 2") && text.contains("\"tilesPerBlock\" : 8") && text.contains("\"threadSplit\" : \"k-blocks\""))
        #expect(try KernelPlan.decode(data, file: "plan.json") == Self.forced)
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("plan.json")
        try data.write(to: file)
        #expect(try PlanFile.read(file.path) == Self.forced)
    }

    @Test func unreadablePlansAreErrorsNamingTheField() throws {
        func error(_ json: String) -> String {
            do { _ = try KernelPlan.decode(Data(json.utf8), file: "p.json") } catch { return "\(error)" }
            return "no error"
        }
        let badAlgorithm = error(#"{"format": 1, "convolutions": [{"layer": "wide", "pass": "dx", "algorithm": "fft"}]}"#)
        #expect(badAlgorithm.contains("p.json:") && badAlgorithm.contains(".convolutions[0].algorithm")
                && badAlgorithm.contains("algorithms in-place, channels-last, packed, winograd"), "\(badAlgorithm)")
        let missing = error(#"{"format": 1, "convolutions": [{"layer": "wide", "algorithm": "packed"}]}"#)
        #expect(missing.contains("no \"pass\" at .convolutions[0]"), "\(missing)")
        #expect(error(#"{"format": 2, "convolutions": []}"#).contains("has format 2"))
        #expect((try? PlanFile.read("/nonexistent/plan.json")) == nil)
    }

    // MARK: Tuning directories

    /// `compile --plan FILE --out DIR`: plan.json holds the plan the C follows, the manifest the
    /// `--plan` given, and `--library DIR` recompiles the graph with it to the same C.
    @Test func planIsRecordedInTheTuningDirectory() throws {
        let derived = try Lowering.lower(Workload.tiny, batch: 4, options: CodegenOptions(tuningHooks: true)).plan
        let first = try #require(derived.convolutions.first { $0.pass == .forward })
        let forced = KernelPlan(convolutions: [
            ConvPlanEntry(layer: first.layer, pass: .forward, algorithm: first.algorithm == .packed ? .inPlace : .packed),
        ])
        let compiled = try Compiler.compile(Workload.tiny, batch: 4, options: CodegenOptions(tuningHooks: true, plan: forced), cache: quickTestCache)
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try TuningDirectory.write(compiled, model: try LoadedModel.builtIn("tiny"), variant: .standard, to: directory, cache: quickTestCache)
        let written = try PlanFile.read(directory.appendingPathComponent(PlanFile.fileName).path)
        #expect(written.algorithm(layer: first.layer, pass: .forward) == forced.convolutions[0].algorithm)
        #expect(written.convolutions.count == derived.convolutions.count && written != derived)
        let tuning = try TuningDirectory.open(library: directory.path)
        #expect(tuning.manifest.plan == forced)
        #expect(try tuning.manifest.codegenOptions().plan == forced)
        let program = try Compiler.loadEdited(tuning, cache: quickTestCache)
        #expect(program.notes.isEmpty, "the manifest's plan did not recompile the same C: \(program.notes)")
        #expect(!program.isEdited)
        // The written plan, passed back, gives the same C again.
        let again = try Lowering.lower(Workload.tiny, batch: 4, options: CodegenOptions(tuningHooks: true, plan: written))
        #expect(again.generated.source == compiled.lowered.generated.source)
    }
}
