import Foundation

/// The recipe of one supervised run: plain SGD with momentum, cosine lr, weight decay.
public struct FinetuneRecipe: Codable, Sendable, Equatable {
    public var epochs: Int
    /// Images per step (one view each).
    public var batch: Int
    /// The learning rate at the start; cosine-decayed to 0 over all steps. Not scaled by the batch.
    public var lr: Double
    public var weightDecay: Double
    public var momentum: Double = 0.9
    public var seed: UInt64
    /// Random resized crop (area 0.8-1) and horizontal flip on each step's images; none when false.
    public var augment: Bool

    public init(epochs: Int, batch: Int, lr: Double, weightDecay: Double, seed: UInt64, augment: Bool) {
        self.epochs = epochs
        self.batch = batch
        self.lr = lr
        self.weightDecay = weightDecay
        self.seed = seed
        self.augment = augment
    }

    /// lr at `step` of `total`: base x (1 + cos(pi step / total)) / 2.
    public func lr(step: Int, of total: Int) -> Double {
        lr * 0.5 * (1 + cos(Double.pi * Double(step) / Double(max(total, 1))))
    }

    /// The light augmentation of supervised training: the dataset's normalisation, crops of
    /// 80-100% of the area, flips, no colour jitter (labels, not views, carry the signal here).
    public func augmentation(from data: AugmentationConfiguration) -> AugmentationConfiguration {
        var light = data
        light.cropScale = 0.8...1.0
        light.flipProbability = 0.5
        light.jitterProbability = 0
        return light
    }
}

/// What the fine-tuner reports while it runs.
public enum FinetuneEvent {
    case epochEnd(run: String, epoch: Int, epochs: Int, loss: Double, trainAccuracy: Double, lr: Double, seconds: Double)
}

/// Trains a compiled supervised model (`SupervisedGraphs`) on labelled images and scores it.
public struct FineTuner {
    public let compiled: CompiledModel
    public let recipe: FinetuneRecipe
    public let data: AugmentationConfiguration

    public init(compiled: CompiledModel, recipe: FinetuneRecipe, data: AugmentationConfiguration) {
        self.compiled = compiled
        self.recipe = recipe
        self.data = data
    }

    /// Runs `recipe.epochs` epochs of SGD on `images` from the state's current values
    /// (momentum is zeroed first) and returns the mean loss of the last epoch.
    /// - Throws: `CompileError` when the images make no batch or the loss stops being finite.
    @discardableResult
    public func train(_ state: ModelState, images: LabeledImages, run: String, onEvent: (FinetuneEvent) -> Void) throws -> Double {
        let sampler = BatchSampler(count: images.count, batchSize: recipe.batch, seed: recipe.seed)
        guard sampler.batchesPerEpoch > 0 else {
            throw CompileError("\(images.count) labelled images make no batch of \(recipe.batch); lower --batch (at least 2) or raise the label budget")
        }
        if let momentum = state.pointer(to: .momentum) { memset(momentum, 0, state.byteCount(of: .momentum)) }
        let augmenter = ViewAugmenter(configuration: recipe.augmentation(from: data), seed: recipe.seed)
        let groups = state.library.groupNames.count
        let total = recipe.epochs * sampler.batchesPerEpoch
        let classes = compiled.library.featureDim
        var lastLoss = Double.nan
        for epoch in 0..<recipe.epochs {
            let started = Date()
            var lossSum = 0.0, correct = 0, seen = 0, lr = 0.0
            for (step, indices) in sampler.batches(epoch: epoch).enumerated() {
                let x = recipe.augment ? augmenter.makeViews(images: images, indices: indices, epoch: epoch).x1
                    : augmenter.normalized(images: images, indices: indices)
                let labels = indices.map { Float(images.labels[$0]) }
                lr = recipe.lr(step: epoch * sampler.batchesPerEpoch + step, of: total)
                let loss = try state.trainStep(inputs: [x, labels], groupLR: Array(repeating: lr, count: groups),
                                               weightDecay: recipe.weightDecay, momentum: recipe.momentum)
                guard loss.isFinite else {
                    throw CompileError("\(run): the loss became \(loss) at epoch \(epoch + 1), step \(step + 1); lower --lr (now \(recipe.lr))")
                }
                lossSum += loss
                // The logits of this step's forward pass: training accuracy at no extra cost.
                let predicted = Self.argmax(try state.output(named: "logits"), classes: classes)
                correct += zip(predicted, indices).count { $0 == Int(images.labels[$1]) }
                seen += indices.count
            }
            lastLoss = lossSum / Double(sampler.batchesPerEpoch)
            onEvent(.epochEnd(run: run, epoch: epoch, epochs: recipe.epochs, loss: lastLoss,
                              trainAccuracy: Double(correct) / Double(seen), lr: lr, seconds: Date().timeIntervalSince(started)))
        }
        return lastLoss
    }

    /// Top-1 accuracy of the eval-mode network (BN with running statistics) on `images`.
    public func accuracy(_ state: ModelState, images: LabeledImages) throws -> Double {
        let normalizer = ViewAugmenter(configuration: data, seed: 0)
        let logits = try FeatureExtraction.backbone(state, images: images, augmenter: normalizer)
        let predicted = Self.argmax(logits.features, classes: logits.dim)
        return Double(zip(predicted, logits.labels).count { $0 == $1 }) / Double(max(images.count, 1))
    }

    /// The index of each row's largest value (the first of ties).
    public static func argmax(_ rows: [Float], classes: Int) -> [Int] {
        stride(from: 0, to: rows.count, by: classes).map { start in
            var best = start
            for i in start..<(start + classes) where rows[i] > rows[best] { best = i }
            return best - start
        }
    }
}
