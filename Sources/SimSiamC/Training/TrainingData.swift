import Foundation

/// The images, labels and augmentation of a workload's dataset.
public struct TrainingData: Sendable {
    public let train: LabeledImages
    public let test: LabeledImages
    public let augmentation: AugmentationConfiguration
    public let classes: Int

    public init(train: LabeledImages, test: LabeledImages, augmentation: AugmentationConfiguration, classes: Int) {
        self.train = train
        self.test = test
        self.augmentation = augmentation
        self.classes = classes
    }

    /// Fashion-MNIST for 1x28x28 workloads, CIFAR-10 for 3x32x32 ones.
    public static func load(for workload: Workload, configuration: TrainConfiguration) throws -> TrainingData {
        let directory = URL(fileURLWithPath: configuration.dataDirectory)
        let imageShape = workload.makeModel().imageShape
        var augmentation: AugmentationConfiguration
        let train: LabeledImages, test: LabeledImages
        if imageShape.dims == [1, 28, 28] {
            train = try FashionMNIST.load(directory: directory, split: .train)
            test = try FashionMNIST.load(directory: directory, split: .test)
            augmentation = .fashionMNIST
        } else if imageShape.dims == [3, 32, 32] {
            train = try CIFAR10.load(directory: directory, split: .train)
            test = try CIFAR10.load(directory: directory, split: .test)
            augmentation = .cifar10
        } else {
            throw CompileError("workload \(workload.name) takes \(imageShape) images; only 1x28x28 (Fashion-MNIST) and 3x32x32 (CIFAR-10) have a dataset")
        }
        augmentation.cropScale = configuration.cropMinScale...1.0
        augmentation.brightness = configuration.jitterStrength
        augmentation.contrast = configuration.jitterStrength
        augmentation.jitterProbability = configuration.jitterProbability
        return TrainingData(train: train, test: test, augmentation: augmentation, classes: 10)
    }

    /// The first `count` training images (for quick runs).
    public func trainSubset(_ count: Int?) -> LabeledImages {
        guard let count, count < train.count else { return train }
        let pixels = train.channels * train.height * train.width
        return LabeledImages(count: count, channels: train.channels, height: train.height, width: train.width,
                             pixels: Array(train.pixels[0..<(count * pixels)]), labels: Array(train.labels[0..<count]))
    }
}
