import Foundation
import Testing
@testable import SimSiamC

/// `--model FILE.swift` and `--graph FILE.json`: descriptions written outside
/// the package, built against the DSL module, traced, verified and recorded.
@Suite struct ModelDescriptionTests {
    /// A tiny SimSiam in a description file: 1x8x8 images, a one-stage ResNet and
    /// narrow heads; `projectorWidth` changes the graph.
    static func tinyDescription(projectorWidth: Int = 16, projectorInput: Int = 8) -> String {
        """
        import SimSiamDSL

        let small = Workload(name: "small-described", defaultBatch: 4, baseLR: 0.05) { variant in
            let m = Model()
            let backbone = ResNet(m, inputChannels: 1, stemWidth: 8, stages: [.init(width: 8, blocks: 1, stride: 2)])
            let projector = Sequential(m, "projector") { s in
                s.linear(\(projectorInput), \(projectorWidth), bias: .none); s.batchNorm(\(projectorWidth)); s.relu()
                s.linear(\(projectorWidth), \(projectorWidth), bias: .frozen); s.batchNorm(\(projectorWidth), affine: false)
            }
            let predictor = m.inGroup("predictor") {
                Sequential(m, "predictor") { s in s.linear(\(projectorWidth), 4, bias: .none); s.batchNorm(4); s.relu(); s.linear(4, \(projectorWidth)) }
            }
            return SimSiam(model: m, backbone: backbone, projector: projector, predictor: predictor, imageShape: [1, 8, 8], variant: variant)
        }
        describe(small)
        """
    }

    static func write(_ text: String, named name: String, in directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func aDescriptionTracesAtAnyBatchAndVariantAndCompiles() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = try Self.write(Self.tinyDescription(), named: "small.swift", in: root)
        let loaded = try ModelDescription.load(file.path)
        #expect(loaded.workload.name == "small-described" && loaded.workload.defaultBatch == 4 && loaded.workload.baseLR == 0.05)
        #expect(loaded.workload.imageShape == [1, 8, 8])
        let record = try #require(loaded.record)
        #expect(record.kind == .description && record.text == Self.tinyDescription() && record.graphHash.count == 64)
        let atSix = try loaded.workload.trace(batch: 6)
        #expect(atSix.training.inputs.map(\.shape) == [[6, 1, 8, 8], [6, 1, 8, 8]])
        #expect(atSix.training.state.parameters.map(\.name).contains("backbone.layer1.0.downsample.0.weight"))
        // Every node cites the user's file, as the DSL recorded it.
        #expect(atSix.training.nodes.contains { $0.origin?.fileID == "small/small.swift" })
        let collapsing = try loaded.workload.trace(SimSiamVariant(stopGradient: false), batch: 4)
        #expect(!collapsing.training.nodes.contains { $0.op == .stopGradient })
        #expect(atSix.training.nodes.contains { $0.op == .stopGradient })
        let compiled = try Compiler.compile(loaded.workload, batch: 4, options: CodegenOptions(kernels: .reference), cache: quickTestCache)
        let state = ModelState(library: compiled.library)
        state.initialize(seed: 1)
        var random = TestRandom(seed: 2)
        let inputs = compiled.library.inputs.map { random.array($0.numel).map(Float.init) }
        #expect(try state.lossAndGradients(inputs).isFinite)
    }

    @Test func swiftErrorsCiteTheUsersFileAndLine() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let broken = Self.tinyDescription().replacingOccurrences(of: "bias: .frozen", with: "bias: .frozenn")
        let file = try Self.write(broken, named: "typo.swift", in: root)
        do {
            _ = try ModelDescription.load(file.path)
            Issue.record("a description that does not compile was accepted")
        } catch let error as DescriptionBuildError {
            #expect(error.description.hasPrefix("model description \(file.path) does not compile:"))
            #expect(error.description.contains("\(file.path):8:"), "\(error)")
            #expect(error.description.contains("frozenn"), "\(error)")
        }
    }

    @Test func aGraphThatDoesNotVerifyNamesTheLayerTheLineAndTheShapes() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = try Self.write(Self.tinyDescription(projectorInput: 12), named: "shapes.swift", in: root)
        let error = try #require(throws: CompileError.self) { try ModelDescription.load(file.path) }
        #expect(error.description.contains("\(file.path):7: error: linear [projector.0]"), "\(error)")
        #expect(error.description.contains("[4,8]") && error.description.contains("[16,12]"), "\(error)")
    }

    @Test func aFileWithoutDescribeIsToldWhatIsMissing() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = try Self.write(Self.tinyDescription().replacingOccurrences(of: "describe(small)", with: ""), named: "quiet.swift", in: root)
        let error = try #require(throws: CompileError.self) { try ModelDescription.load(file.path) }
        #expect(error.description.contains("does it end with describe(yourWorkload)?"), "\(error)")
        #expect(throws: CompileError.self) { try ModelDescription.load(root.appendingPathComponent("model.py").path) }
    }

    @Test func aNameDeclaredTwiceIsAnErrorNamingIt() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let twice = Self.tinyDescription().replacingOccurrences(
            of: "let m = Model()", with: "let m = Model()\n    _ = Conv2d(m, \"backbone.conv1\", 1, 8, kernel: 3)")
        let file = try Self.write(twice, named: "twice.swift", in: root)
        let error = try #require(throws: CompileError.self) { try ModelDescription.load(file.path) }
        #expect(error.description == "model description \(file.path) failed while tracing its graph:\n"
                + "error: parameter backbone.conv1.weight is declared twice: two layers share the name \"backbone.conv1\"; give each layer its own")
    }

    @Test func aGraphFileCompilesAtItsOwnBatchOnly() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = try Self.write(Self.tinyDescription(), named: "small.swift", in: root)
        let loaded = try ModelDescription.load(file.path)
        let described = try DescribedModel(tracing: loaded.workload, variant: .standard, batch: 4)
        let json = root.appendingPathComponent("graph.json")
        try JSONEncoder().encode(described).write(to: json)
        let fromFile = try GraphFile.load(json.path)
        #expect(try fromFile.workload.trace(batch: 4) == described.graphs)
        #expect(fromFile.record?.graphHash == loaded.record?.graphHash)
        let error = try #require(throws: CompileError.self) { try fromFile.workload.trace(batch: 8) }
        #expect(error.description.contains("traced at batch 4"), "\(error)")
        try Data("{\"format\": \"something-else\"}".utf8).write(to: json)
        #expect(throws: CompileError.self) { try GraphFile.load(json.path) }
    }
}

extension TrainerTests {
    /// A checkpoint keeps the description: it restores with the file gone, and
    /// `--resume` refuses a description whose graph changed.
    @Test func aCheckpointRecordsItsDescriptionForEvalAndResume() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try TrainingDataTests.writeFolder(root.appendingPathComponent("data"), train: 24, test: 12)
        let file = try ModelDescriptionTests.write(ModelDescriptionTests.tinyDescription(), named: "small.swift", in: root)
        let loaded = try ModelDescription.load(file.path)
        var configuration = TrainConfiguration(workload: loaded.workload, epochs: 1, dataDirectory: root.appendingPathComponent("data").path)
        configuration.model = loaded.record
        let data = try TrainingData.load(for: loaded.workload, configuration: configuration)
        let compiled = try Compiler.compile(loaded.workload, batch: configuration.batch, cache: quickTestCache)
        let trainer = Trainer(configuration: configuration, runDirectory: root.appendingPathComponent("run"), compiled: compiled,
                              data: data, onEvent: { _ in })
        #expect(try trainer.run(resume: false).count == 1)
        let stored = try Checkpoint.read(trainer.checkpointURL).0.configuration
        #expect(stored.model == loaded.record && stored.workload == "small-described")
        try FileManager.default.removeItem(at: file)
        let restored = try LoadedModel.restore(name: stored.workload, record: stored.model)
        #expect(try restored.workload.trace(batch: 4) == (try loaded.workload.trace(batch: 4)))
        #expect(restored.record?.graphHash == loaded.record?.graphHash)
        let changed = try ModelDescriptionTests.write(ModelDescriptionTests.tinyDescription(projectorWidth: 24), named: "small.swift", in: root)
        var requested = configuration
        requested.model = try ModelDescription.load(changed.path).record
        #expect(stored.differences(from: requested).map(\.flag) == ["--model"])
        var moved = configuration
        moved.model?.path = "elsewhere/small.swift"
        #expect(stored.differences(from: moved).isEmpty)
        // A comment line moves every DSL line below it, but the graph hash is the computation's.
        let commented = try ModelDescriptionTests.write("// My model.\n" + ModelDescriptionTests.tinyDescription(), named: "small.swift", in: root)
        #expect(try ModelDescription.load(commented.path).record?.graphHash == loaded.record?.graphHash)
    }
}
