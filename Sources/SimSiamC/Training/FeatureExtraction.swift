import Foundation

/// Eval-mode features for a whole dataset through a compiled library's
/// feature entry point, one compiled batch at a time (the last batch padded).
public enum FeatureExtraction {
    public static func backbone(_ state: ModelState, images: LabeledImages, augmenter: ViewAugmenter) throws -> FeatureSet {
        let batch = state.library.batch, dim = state.library.featureDim
        var features: [Float] = []
        features.reserveCapacity(images.count * dim)
        for start in stride(from: 0, to: images.count, by: batch) {
            let real = Array(start..<min(images.count, start + batch))
            let padded = real + Array(repeating: real.last!, count: batch - real.count)
            let output = try state.features(batch: augmenter.normalized(images: images, indices: padded))
            features += output[0..<(real.count * dim)]
        }
        return FeatureSet(features: features, labels: images.labels, dim: dim)
    }

    /// Backbone features of a dataset's un-augmented train and test images (kNN bank and queries).
    /// - Throws: `CompileError` when the data has no labels or no held-out split.
    public static func backbone(_ state: ModelState, data: TrainingData) throws -> (train: FeatureSet, test: FeatureSet) {
        let sets = try data.evaluationSets()
        let normalizer = ViewAugmenter(configuration: data.augmentation, seed: 0)
        return (try backbone(state, images: sets.train, augmenter: normalizer),
                try backbone(state, images: sets.test, augmenter: normalizer))
    }

    /// Normalised pixels as features: the baseline self-supervision must beat.
    public static func pixels(images: LabeledImages, augmenter: ViewAugmenter) -> FeatureSet {
        FeatureSet(features: augmenter.normalized(images: images, indices: Array(0..<images.count)), labels: images.labels,
                   dim: images.channels * images.height * images.width)
    }
}
