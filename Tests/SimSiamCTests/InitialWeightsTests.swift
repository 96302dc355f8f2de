import Foundation
import Testing
@testable import SimSiamC
import SimSiamCLI

extension TrainerTests {
    /// `--init`: PyTorch state_dicts (safetensors) as the start of a run or the
    /// weights to evaluate, and a checkpoint's names against the reference's.
    /// Inside the serialized TrainerTests: its runs and the Ctrl-C flag they set are process-wide.
    @Suite struct InitialWeightsTests {
        static let compiled = Result { try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache) }

        func temporaryDirectory() throws -> URL {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-init-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return directory
        }

        func freshState(seed: UInt64) throws -> ModelState {
            let state = ModelState(library: try Self.compiled.get().library)
            state.initialize(seed: seed)
            return state
        }

        /// A tiny run of two epochs: its checkpoint stands for trained PyTorch weights.
        func trainedRun(in directory: URL, configuration: TrainConfiguration = TrainerTests.configuration(),
                        onEvent: @escaping (TrainEvent) -> Void = { _ in }) throws -> (trainer: Trainer, history: [EpochMetrics]) {
            let trainer = Trainer(configuration: configuration, runDirectory: directory, compiled: try Self.compiled.get(),
                                  data: TrainerTests.data, onEvent: onEvent)
            return (trainer, try trainer.run(resume: false))
        }

        func stateNames(_ state: ModelState) -> [String] { state.library.symbols.filter(\.isState).map(\.name) }

        func write(_ tensors: [(name: String, tensor: HostTensor)], to url: URL) throws -> URL {
            try SafeTensors.write(tensors, to: url)
            return url
        }

        /// The message of the error `body` throws, or "" when it throws none.
        func message(_ body: () throws -> Void) -> String {
            do {
                try body()
                return ""
            } catch {
                return "\(error)"
            }
        }

        // MARK: Names against the reference

        /// scripts/pytorch_weights.py wrote the reference backbone's state_dict
        /// (keys, shapes, dtypes) to the fixture; a W1 checkpoint's `backbone.*`
        /// tensors must be exactly those, for `load_state_dict(strict=True)`.
        @Test func w1CheckpointBackboneHasTheReferenceStateDictKeysAndShapes() throws {
            let url = try #require(Bundle.module.url(forResource: "Fixtures/fmnist-resnet-mini-backbone", withExtension: "txt"))
            let reference = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(reference.count == 54)
            let compiled = try Compiler.compile(Workload.fmnistResNetMini, batch: 2, cache: quickTestCache)
            let state = ModelState(library: compiled.library)
            state.initialize(seed: 0)
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let checkpointURL = directory.appendingPathComponent("checkpoint.safetensors")
            var configuration = TrainConfiguration(workload: .fmnistResNetMini, epochs: 1, batch: 2, dataDirectory: "none")
            configuration.initFile = "x.safetensors"
            try Checkpoint.save(state, configuration: configuration, position: .init(epoch: 1, step: 0), to: checkpointURL)
            let (checkpoint, file) = try Checkpoint.read(checkpointURL)
            #expect(checkpoint.configuration.initFile == "x.safetensors")
            let backbone = file.tensors.filter { $0.name.hasPrefix(InitialWeights.backbonePrefix) }.map { name, tensor in
                "\(name.dropFirst(InitialWeights.backbonePrefix.count)) \(tensor.shape.map(String.init).joined(separator: ",")) "
                    + SafeTensors.formatName(of: tensor.dtype)
            }
            #expect(Set(backbone).subtracting(reference).sorted() == [], "in the checkpoint, not in the reference")
            #expect(Set(reference).subtracting(backbone).sorted() == [], "in the reference, not in the checkpoint")
            #expect(backbone.count == reference.count)
        }

        // MARK: Loading

        @Test func checkpointLoadsBackExactlyWithoutItsMomentum() throws {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let trained = try trainedRun(in: directory).trainer
            let state = try freshState(seed: 99)
            let report = try InitialWeights.load(trained.checkpointURL, into: state)
            #expect(report.loaded.sorted() == stateNames(state).sorted())
            #expect(report.missing.isEmpty && report.unexpected.isEmpty)
            #expect(report.optimizerState == state.library.symbols.filter { $0.kind == .trainable }.count)
            for name in stateNames(state) {
                #expect(state.tensor(named: name) == trained.state.tensor(named: name), "\(name) differs after --init")
            }
            let momentum = state.exportTensors(includeGradients: false, includeMomentum: true).filter { $0.name.hasPrefix("momentum.") }
            #expect(!momentum.isEmpty && momentum.allSatisfy { $0.tensor.doubles.allSatisfy { $0 == 0 } }, "a run starts with zero momentum")
        }

        /// A backbone module's state_dict (no `backbone.` prefix, torchvision's
        /// `fc.*` beside it), in float64: the backbone loads, converted, and the
        /// heads keep the seeded initialisation.
        @Test func prefixlessFloat64BackboneLoadsAndTheHeadsKeepTheirSeed() throws {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let trained = try trainedRun(in: directory).trainer
            let prefix = InitialWeights.backbonePrefix
            let backbone = trained.state.exportTensors(includeGradients: false).filter { $0.name.hasPrefix(prefix) }.map {
                (name: String($0.name.dropFirst(prefix.count)), tensor: $0.tensor.dtype == .int64 ? $0.tensor : $0.tensor.converted(to: .float64))
            }
            let extra = [(name: "fc.weight", tensor: HostTensor(shape: [10, 8], floats: Array(repeating: 1, count: 80))),
                         (name: "fc.bias", tensor: HostTensor(shape: [10], floats: Array(repeating: 0, count: 10)))]
            let url = try write(backbone + extra, to: directory.appendingPathComponent("resnet.safetensors"))
            let state = try freshState(seed: 5), seeded = try freshState(seed: 5)
            let report = try InitialWeights.load(url, into: state)
            let heads = stateNames(state).filter { !$0.hasPrefix(prefix) }
            #expect(report.loaded == backbone.map { prefix + $0.name })
            #expect(report.missing == heads)
            #expect(report.unexpected == ["fc.weight", "fc.bias"])
            #expect(report.summary.hasPrefix("loaded \(backbone.count) tensors; missing (seeded initialisation kept): \(heads[0]), "))
            #expect(report.summary.hasSuffix("; unexpected (not loaded): fc.weight, fc.bias"))
            for name in stateNames(state) {
                let expected = name.hasPrefix(prefix) ? trained.state.tensor(named: name) : seeded.tensor(named: name)
                #expect(state.tensor(named: name) == expected, "\(name)")
            }
        }

        @Test func shapeMismatchNamesTheKeyAndBothShapesAndWritesNothing() throws {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let url = try write([(name: "bn1.weight", tensor: HostTensor(shape: [4], floats: [7, 7, 7, 7])),
                                 (name: "conv1.weight", tensor: HostTensor(shape: [4, 1, 5, 5], floats: Array(repeating: 0, count: 100)))],
                                to: directory.appendingPathComponent("wrong.safetensors"))
            let state = try freshState(seed: 1)
            let before = state.tensor(named: "backbone.bn1.weight")
            let text = message { try InitialWeights.load(url, into: state) }
            #expect(text.contains("--init \(url.path) does not fit the model (nothing loaded): 'conv1.weight' (model tensor "
                                  + "'backbone.conv1.weight') has shape [4, 1, 5, 5] in the file but [4, 1, 3, 3] in the model"), "\(text)")
            #expect(state.tensor(named: "backbone.bn1.weight") == before, "nothing is written when a tensor does not fit")
        }

        @Test func wrongDtypesAreErrorsNamingTheKey() throws {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let state = try freshState(seed: 1)
            let integers = try write([(name: "backbone.bn1.weight", tensor: HostTensor(shape: [4], int64s: [1, 1, 1, 1])),
                                      (name: "bn1.num_batches_tracked", tensor: HostTensor(shape: [], floats: [3]))],
                                     to: directory.appendingPathComponent("integers.safetensors"))
            let text = message { try InitialWeights.load(integers, into: state) }
            #expect(text.contains("'backbone.bn1.weight' is I64 in the file but a float tensor in the model"), "\(text)")
            #expect(text.contains("'bn1.num_batches_tracked' (model tensor 'backbone.bn1.num_batches_tracked') is a counter and must be I64, not F32"),
                    "\(text)")

            // Half precision, as `model.half().state_dict()` saves it: "F32" patched to "F16" in the header.
            var bytes = try SafeTensors.encode([(name: "conv1.weight", tensor: HostTensor(shape: [2], floats: [1, 2]))])
            let header = try #require(bytes.range(of: Data("\"F32\"".utf8)))
            bytes.replaceSubrange(header, with: Data("\"F16\"".utf8))
            let half = directory.appendingPathComponent("half.safetensors")
            try bytes.write(to: half)
            let halfText = message { try InitialWeights.load(half, into: state) }
            #expect(halfText.hasPrefix("--init: safetensors file \(half.path) tensor 'conv1.weight' has unsupported dtype 'F16' "
                                       + "(supported: F32, F64, I64; convert it first"), "\(halfText)")
        }

        @Test func aFileOfWhichNothingMatchesOrTwoKeysForOneTensorIsRefused() throws {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let state = try freshState(seed: 1)
            let weight = HostTensor(shape: [4], floats: [1, 1, 1, 1])
            let wrapped = try write([(name: "module.encoder.bn1.weight", tensor: weight)], to: directory.appendingPathComponent("ddp.safetensors"))
            let text = message { try InitialWeights.load(wrapped, into: state) }
            #expect(text.contains("none of its 1 tensors matches a model tensor (keys such as 'module.encoder.bn1.weight')"), "\(text)")
            #expect(text.contains("strip other prefixes such as 'module.'"), "\(text)")
            let twice = try write([(name: "bn1.weight", tensor: weight), (name: "backbone.bn1.weight", tensor: weight)],
                                  to: directory.appendingPathComponent("twice.safetensors"))
            let twiceText = message { try InitialWeights.load(twice, into: state) }
            #expect(twiceText.contains("keys 'bn1.weight' and 'backbone.bn1.weight' both load model tensor 'backbone.bn1.weight'"), "\(twiceText)")
        }

        // MARK: Training from --init

        /// The run starts from the file; an interrupted run resumed with the
        /// same --init goes on from its checkpoint (the init is not applied
        /// again) and ends equal to the uninterrupted one; --resume without
        /// --init is refused like any other changed flag.
        @Test func trainingStartsFromTheFileAndResumeDoesNotApplyItAgain() throws {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let source = try trainedRun(in: directory.appendingPathComponent("source"))
            var configuration = TrainerTests.configuration()
            configuration.initFile = source.trainer.checkpointURL.path
            var notes: [String] = []
            let straight = try trainedRun(in: directory.appendingPathComponent("straight"), configuration: configuration) {
                if case .note(let text) = $0 { notes.append(text) }
            }
            #expect(notes.contains { $0.hasPrefix("init:    \(source.trainer.checkpointURL.path): loaded 61 tensors; missing") }, "\(notes)")
            #expect(straight.history[0].loss != source.history[0].loss, "the same seed without --init must start elsewhere")

            let interruptedDirectory = directory.appendingPathComponent("interrupted")
            _ = try trainedRun(in: interruptedDirectory, configuration: configuration) { event in
                if case .step(let epoch, let step, _, _, _, _, _) = event, epoch == 1, step == 4 {
                    Interrupt.requested.store(true, ordering: .relaxed)  // what Ctrl-C does
                }
            }
            var resumeNotes: [String] = []
            let resumed = Trainer(configuration: configuration, runDirectory: interruptedDirectory, compiled: try Self.compiled.get(),
                                  data: TrainerTests.data) { if case .note(let text) = $0 { resumeNotes.append(text) } }
            #expect(try resumed.run(resume: true).map(\.loss) == straight.history.map(\.loss))
            for name in stateNames(resumed.state) {
                #expect(resumed.state.tensor(named: name) == straight.trainer.state.tensor(named: name), "\(name) differs after resume")
            }
            #expect(resumeNotes.contains { $0.contains("is not applied again") }, "\(resumeNotes)")
            #expect(!resumeNotes.contains { $0.hasPrefix("init:") }, "\(resumeNotes)")

            let withoutInit = Trainer(configuration: TrainerTests.configuration(), runDirectory: interruptedDirectory,
                                      compiled: try Self.compiled.get(), data: TrainerTests.data) { _ in }
            let text = message { try withoutInit.run(resume: true) }
            #expect(text.contains("--init \(source.trainer.checkpointURL.path) in the checkpoint, none now"), "\(text)")
        }

        // MARK: eval --init

        /// Projector and predictor alone leave eval without a backbone: refused, naming what is missing.
        @Test func evalInitRefusesAFileWithoutTheWholeBackbone() throws {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let heads = try freshState(seed: 2).exportTensors(includeGradients: false).filter { !$0.name.hasPrefix(InitialWeights.backbonePrefix) }
            let weights = try write(heads, to: directory.appendingPathComponent("heads.safetensors"))
            let images = directory.appendingPathComponent("images")
            try SyntheticFashionMNIST.write(to: images, train: 8, test: 4)
            var command = try SimSiamCommand.parseAsRoot(["eval", "--init", weights.path, "--workload", "tiny", "--data", images.path])
            let text = message { try command.run() }
            #expect(text.hasPrefix("eval --init \(weights.path): the backbone of tiny needs tensors the file lacks: backbone.conv1.weight, "),
                    "\(text)")
            #expect(text.hasSuffix("; save the whole backbone's state_dict"), "\(text)")
        }

        /// `eval --init` on a backbone-only file writes the same features as the
        /// trained state they came from.
        @Test func evalInitWritesTheFeaturesOfTheLoadedBackbone() throws {
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let trained = try trainedRun(in: directory.appendingPathComponent("run")).trainer
            let prefix = InitialWeights.backbonePrefix
            let backbone = trained.state.exportTensors(includeGradients: false).filter { $0.name.hasPrefix(prefix) }
                .map { (name: String($0.name.dropFirst(prefix.count)), tensor: $0.tensor) }
            let weights = try write(backbone, to: directory.appendingPathComponent("backbone.safetensors"))
            let images = directory.appendingPathComponent("images")
            try SyntheticFashionMNIST.write(to: images, train: 40, test: 20)
            let featuresURL = directory.appendingPathComponent("features.safetensors")
            var command = try SimSiamCommand.parseAsRoot(["eval", "--init", weights.path, "--workload", "tiny", "--data", images.path,
                                                          "--features-out", featuresURL.path, "--json"])
            try command.run()

            var configuration = TrainConfiguration(workload: .tiny, epochs: 1, dataDirectory: images.path)
            configuration.seed = 0
            let data = try TrainingData.load(for: .tiny, configuration: configuration)
            let expected = try FeatureExtraction.backbone(trained.state, data: data).test
            let written = try SafeTensors.read(url: featuresURL)
            let features = try #require(written.tensor(named: "features"))
            #expect(features.shape == [20, 8])
            // The command's library is built at -O3, the test's at -O1: the sums may round differently.
            #expect(relativeError(features.doubles, expected.features.map(Double.init)) < 1e-5)
            #expect(try #require(written.tensor(named: "labels")).int64s == expected.labels.map(Int64.init))
        }
    }
}
