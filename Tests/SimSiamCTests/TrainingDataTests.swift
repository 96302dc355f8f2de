import Foundation
import SimSiamTestSupport
import Testing
@testable import SimSiamC

/// `TrainingData.load` on the formats `--data` takes: detection, conversion
/// to the model's shape, classes, held-out splits, normalisation, and the
/// kNN monitor's "skipped" for data it cannot score.
@Suite struct TrainingDataTests {
    let directory: URL
    init() throws { directory = try TestImages.temporaryDirectory("simsiamc-trainingdata") }

    /// Class c of an image folder: a bright row (0), column (1) or diagonal (2) on noise, as `TrainerTests`' synthetic set.
    static func classImage(_ label: Int, side: Int, channels: Int, seed: Int) -> [UInt8] {
        var random = TestRandom(seed: UInt64(seed + 1))
        let position = Int(random.uniform(1, Double(side - 1)))
        var pixels: [UInt8] = []
        for y in 0..<side {
            for x in 0..<side {
                let on = label == 0 ? y == position : label == 1 ? x == position : x == y
                let value = UInt8(min(255, (on ? 200 : 30) + random.uniform(0, 50)))
                pixels += [UInt8](repeating: value, count: channels)
            }
        }
        return pixels
    }

    /// train/ and test/ folders of three classes; every third image is a 12x12 RGB PNG, the rest 8x8 grey.
    static func writeFolder(_ root: URL, train: Int, test: Int) throws {
        for (split, count) in [("train", train), ("test", test)] {
            for index in 0..<count {
                let label = index % 3
                let (side, channels) = index % 3 == 2 ? (12, 3) : (8, 1)
                let pixels = classImage(label, side: side, channels: channels, seed: index + (split == "test" ? 1000 : 0))
                let url = root.appendingPathComponent("\(split)/\(["row", "column", "diagonal"][label])/\(index).png")
                try TestImages.write(TestImages.png(pixels, width: side, height: side, channels: channels), to: url)
            }
        }
    }

    func configuration(_ data: URL) -> TrainConfiguration {
        var configuration = TrainConfiguration(workload: .tiny, epochs: 1, batch: 4, dataDirectory: data.path)
        configuration.seed = 3
        return configuration
    }

    @Test func anImageFolderWithSplitsIsLabelledConvertedAndNormalisedFromItsTrainingImages() throws {
        try Self.writeFolder(directory, train: 12, test: 6)
        let data = try TrainingData.load(for: .tiny, configuration: configuration(directory))
        #expect(data.train.count == 12 && data.test?.count == 6 && data.classes == 3 && data.evaluationUnavailable == nil)
        #expect(data.train.shape == ImageShape(channels: 1, height: 8, width: 8))
        // Classes in name order (column, diagonal, row), each class's files in name order.
        #expect(data.train.labels == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
        let statistics = data.train.channelStatistics()
        #expect(data.computedNormalization?.mean == statistics.mean && data.augmentation.mean == statistics.mean)
        #expect(data.summary == "image folder \(directory.path): 12 train / 6 held-out images at 1x8x8, 3 classes (column, diagonal, row)")
        #expect(data.notes.contains("train/: resized 4 of 12 images (heights 8-12, widths 8-12) to 8x8; converted 4 from RGB to grey"),
                "\(data.notes)")
        #expect(data.notes.first?.hasPrefix("normalisation from the training images: mean 0.") == true)
    }

    @Test func aFlatFolderTrainsUnlabelledAndSaysWhyTheMonitorsCannotRun() throws {
        for index in 0..<4 { try TestImages.write(TestImages.png(Self.classImage(0, side: 8, channels: 1, seed: index), width: 8, height: 8, channels: 1),
                                                  to: directory.appendingPathComponent("\(index).png")) }
        let data = try TrainingData.load(for: .tiny, configuration: configuration(directory))
        #expect(data.train.count == 4 && data.test == nil)
        #expect(data.evaluationUnavailable?.contains("no labels") == true)
        #expect(throws: CompileError.self) { _ = try data.evaluationSets() }
    }

    @Test func classFoldersWithoutATestSplitAskForEvalData() throws {
        try Self.writeFolder(directory, train: 6, test: 3)
        var configuration = configuration(directory.appendingPathComponent("train"))
        #expect(try TrainingData.load(for: .tiny, configuration: configuration).evaluationUnavailable?.contains("--eval-data") == true)
        configuration.evalData = directory.appendingPathComponent("test").path
        let data = try TrainingData.load(for: .tiny, configuration: configuration)
        #expect(data.evaluationUnavailable == nil && data.test?.count == 3)
        // A mistyped --eval-data is named as that flag, not as --data.
        configuration.evalData = directory.appendingPathComponent("tset").path
        let message = failure { _ = try TrainingData.load(for: .tiny, configuration: configuration) }
        #expect(message.hasPrefix("--eval-data \(configuration.evalData!) does not exist: pass a folder"), "\(message)")
    }

    @Test func aHeldOutClassWithoutATrainingFolderIsNamed() throws {
        try Self.writeFolder(directory, train: 3, test: 0)
        try TestImages.write(TestImages.png([0], width: 1, height: 1, channels: 1), to: directory.appendingPathComponent("test/cat/1.png"))
        let message = failure { _ = try TrainingData.load(for: .tiny, configuration: configuration(directory)) }
        #expect(message.contains("held-out class folder 'cat'") && message.contains("training classes: column, diagonal, row"), "\(message)")
    }

    @Test func anNpzWithATestSplitAndGivenNormalisation() throws {
        let url = directory.appendingPathComponent("data.npz")
        let pixels = (0..<4 * 64).map { UInt8($0 % 256) }
        try Data(NumPyWriter.zip([
            .init(name: "x_train.npy", contents: NumPyWriter.npy(uint8: pixels, shape: [4, 8, 8]), deflated: true),
            .init(name: "y_train.npy", contents: NumPyWriter.npy(int64: [0, 4, 1, 2], shape: [4])),
            .init(name: "x_test.npy", contents: NumPyWriter.npy(uint8: Array(pixels.prefix(128)), shape: [2, 8, 8])),
            .init(name: "y_test.npy", contents: NumPyWriter.npy(int64: [1, 1], shape: [2])),
        ])).write(to: url)
        var configuration = configuration(url)
        configuration.normalizationMean = [0.5]
        configuration.normalizationStd = [0.25]
        let data = try TrainingData.load(for: .tiny, configuration: configuration)
        #expect(data.classes == 5 && data.train.pixels == pixels && data.test?.labels == [1, 1])
        #expect(data.augmentation.mean == [0.5] && data.augmentation.std == [0.25] && data.computedNormalization == nil)
        configuration.normalizationMean = [0.5, 0.5, 0.5]
        configuration.normalizationStd = [0.2, 0.2, 0.2]
        #expect(throws: CompileError.self) { _ = try TrainingData.load(for: .tiny, configuration: configuration) }
    }

    @Test func fashionMNISTAtItsOwnShapeKeepsItsConstants() throws {
        try SyntheticFashionMNIST.write(to: directory, train: 20, test: 10)
        var configuration = TrainConfiguration(workload: .fmnistResNetMini, epochs: 1, dataDirectory: directory.path)
        let data = try TrainingData.load(for: .fmnistResNetMini, configuration: configuration)
        #expect(data.augmentation.mean == AugmentationConfiguration.fashionMNIST.mean && data.computedNormalization == nil)
        #expect(data.classes == 10 && data.train.count == 20 && data.test?.count == 10)
        #expect(data.train == (try FashionMNIST.load(directory: directory, split: .train)))
        // At another model's shape the same files are converted and normalised from their images.
        configuration.workload = Workload.tiny.name
        let small = try TrainingData.load(for: .tiny, configuration: configuration)
        #expect(small.train.shape == ImageShape(channels: 1, height: 8, width: 8) && small.computedNormalization != nil)
    }

    /// An empty directory gets the built-in dataset's word on the missing file; a path that does not exist, the formats read.
    @Test func aPathWithoutDataSaysWhatIsExpected() {
        let idx = failure {
            _ = try TrainingData.load(for: .fmnistResNetMini,
                                      configuration: TrainConfiguration(workload: .fmnistResNetMini, epochs: 1, dataDirectory: directory.path))
        }
        #expect(idx == "IDX file \(directory.path)/train-images-idx3-ubyte.gz does not exist")
        let cifar = failure {
            _ = try TrainingData.load(for: .cifarResNet18,
                                      configuration: TrainConfiguration(workload: .cifarResNet18, epochs: 1, dataDirectory: directory.path))
        }
        #expect(cifar.hasPrefix("CIFAR-10 file \(directory.path)/data_batch_1.bin does not exist; download"), "\(cifar)")
        let missing = directory.appendingPathComponent("nothing")
        for workload in [Workload.fmnistResNetMini, .tiny] {
            let message = failure {
                _ = try TrainingData.load(for: workload,
                                          configuration: TrainConfiguration(workload: workload, epochs: 1, dataDirectory: missing.path))
            }
            #expect(message.hasPrefix("--data \(missing.path) does not exist: pass a folder of .png/.jpg images"), "\(message)")
        }
    }

    /// Checkpoints written before --eval-data, --labels, --skip-bad-images and
    /// --mean/--std existed still decode, and resume as runs without them.
    @Test func aConfigurationFromBeforeTheDataFlagsStillDecodes() throws {
        let current = configuration(directory)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(current.json.utf8)) as? [String: Any])
        #expect(object["skipBadImages"] == nil && object["normalizationMean"] == nil)  // nil fields are left out
        object["dataDirectory"] = "/old/data"
        let old = try TrainConfiguration.decode(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        #expect(old.evalData == nil && old.labelsFile == nil && old.skipBadImages == nil && old.normalizationMean == nil)
        #expect(old.differences(from: current).map(\.flag) == ["--data"])
        var requested = current
        requested.skipBadImages = true
        requested.normalizationMean = [0.5]
        #expect(current.differences(from: requested).map(\.description)
            == ["--skip-bad-images false in the checkpoint, true now", "--mean none in the checkpoint, [0.5] now"])
    }

    /// The message `body` fails with; records an issue when it does not fail.
    func failure(sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> String {
        do {
            try body()
        } catch {
            return "\(error)"
        }
        Issue.record("expected an error", sourceLocation: sourceLocation)
        return ""
    }
}
