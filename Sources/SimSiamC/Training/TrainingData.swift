import Foundation

/// The images, labels and augmentation of a run's dataset.
public struct TrainingData: Sendable {
    /// The training images, at the model's input shape. Unlabelled data
    /// carries label 0 throughout and says so in `evaluationUnavailable`.
    public let train: LabeledImages
    /// The held-out images the kNN monitor and the evaluation score, if any.
    public let test: LabeledImages?
    public let augmentation: AugmentationConfiguration
    /// Number of classes: the class folders, or the largest label + 1.
    public let classes: Int
    /// Why the kNN monitor and the evaluation cannot run on this data (no
    /// labels, no held-out split), or nil when they can.
    public let evaluationUnavailable: String?
    /// What was read, for the log: format, path, counts, shape and classes.
    public let summary: String
    /// What reading did, one line each: computed normalisation, conversions, skipped and ignored files.
    public let notes: [String]
    /// The normalisation computed from the training images, when neither
    /// flags nor the dataset's built-in constants gave one; the run records it.
    public let computedNormalization: (mean: [Float], std: [Float])?

    /// Labelled data with a held-out split, as the tests and the built-in datasets have.
    public init(train: LabeledImages, test: LabeledImages, augmentation: AugmentationConfiguration, classes: Int) {
        self.init(train: train, test: test, augmentation: augmentation, classes: classes, evaluationUnavailable: nil,
                  summary: "\(train.count) train / \(test.count) test images", computedNormalization: nil)
    }

    public init(train: LabeledImages, test: LabeledImages?, augmentation: AugmentationConfiguration, classes: Int,
                evaluationUnavailable: String?, summary: String, notes: [String] = [],
                computedNormalization: (mean: [Float], std: [Float])?) {
        precondition(evaluationUnavailable != nil || test != nil, "evaluation needs a held-out split")
        self.train = train
        self.test = test
        self.augmentation = augmentation
        self.classes = classes
        self.evaluationUnavailable = evaluationUnavailable
        self.summary = summary
        self.notes = notes
        self.computedNormalization = computedNormalization
    }

    /// The training bank and the held-out queries of kNN and the linear probe.
    /// - Throws: `CompileError` with `evaluationUnavailable` when there are none.
    public func evaluationSets() throws -> (train: LabeledImages, test: LabeledImages) {
        guard evaluationUnavailable == nil, let test else {
            throw CompileError("cannot evaluate: \(evaluationUnavailable ?? "no held-out images")")
        }
        return (train, test)
    }

    /// The first `count` training images (for quick runs).
    public func trainSubset(_ count: Int?) -> LabeledImages {
        guard let count, count < train.count else { return train }
        let pixels = train.channels * train.height * train.width
        return LabeledImages(count: count, channels: train.channels, height: train.height, width: train.width,
                             pixels: Array(train.pixels[0..<(count * pixels)]), labels: Array(train.labels[0..<count]))
    }
}
