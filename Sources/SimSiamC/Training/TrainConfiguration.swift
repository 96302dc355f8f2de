import Foundation

/// Everything that defines a training run; stored in every checkpoint so a
/// run can be resumed and evaluated without repeating its flags.
public struct TrainConfiguration: Codable, Sendable, Equatable {
    public var workload: String
    public var epochs: Int
    /// Batch per view.
    public var batch: Int
    /// Learning rate for batch 256; the run uses baseLR * batch / 256 (the spec's linear scaling).
    public var baseLR: Double
    public var weightDecay: Double
    public var momentum: Double = 0.9
    /// Keep the predictor at the initial lr instead of decaying it (SimSiam's --fix-pred-lr).
    public var fixPredictorLR: Bool = false
    /// Linear warm-up of the lr over this many epochs (0: the spec's schedule).
    public var warmupEpochs: Double = 0
    public var seed: UInt64 = 0
    /// Train on the first `subset` training images only.
    public var subset: Int?
    /// The dataset (`--data`): a directory (Fashion-MNIST, CIFAR-10, a folder
    /// of images) or a .npy/.npz file. The JSON key keeps its old name.
    public var dataDirectory: String
    /// RandomResizedCrop's smallest area fraction (spec: 0.2).
    public var cropMinScale: Double = 0.2
    /// Brightness and contrast jitter strength (spec: 0.4) and probability (spec: 0.8).
    public var jitterStrength: Double = 0.4
    public var jitterProbability: Double = 0.8
    /// The standard SimSiam or one of the paper's ablations.
    public var variant: SimSiamVariant = .standard
    // The fields below came later; optional, so that older checkpoints decode.
    /// Held-out images for the kNN monitor and the evaluation (`--eval-data`), instead of the dataset's own split.
    public var evalData: String?
    /// An .npy of labels for .npy images (`--labels`), and for `--eval-data` (`--eval-labels`).
    public var labelsFile: String?
    public var evalLabelsFile: String?
    /// Leave out images that do not decode instead of stopping (`--skip-bad-images`); nil means false.
    public var skipBadImages: Bool?
    /// Per-channel normalisation (`--mean`, `--std`, or computed from the training images of a
    /// dataset without built-in constants); nil: the built-in dataset's constants.
    public var normalizationMean: [Float]?
    public var normalizationStd: [Float]?
    /// The model description or graph file, for a model that is not built in.
    public var model: ModelRecord?
    /// The PyTorch `state_dict` the run started from (`--init`, see ``InitialWeights``); nil: the seeded initialisation alone.
    public var initFile: String?
    /// Multi-step alternation (`--alternate-every`): how long cached targets are held; nil for
    /// SimSiam's online targets. Set exactly when `variant.targets` is `.cached`.
    public var alternation: AlternationInterval?

    public init(workload: Workload, epochs: Int, batch: Int? = nil, baseLR: Double? = nil, weightDecay: Double? = nil,
                dataDirectory: String) {
        self.workload = workload.name
        self.epochs = epochs
        self.batch = batch ?? workload.defaultBatch
        self.baseLR = baseLR ?? workload.baseLR
        self.weightDecay = weightDecay ?? workload.weightDecay
        self.dataDirectory = dataDirectory
    }

    /// The lr at the start of training: baseLR * batch / 256.
    public var initialLR: Double { baseLR * Double(batch) / 256 }

    /// Encoder lr at a fractional epoch: linear warm-up, then the spec's per-epoch
    /// cosine: lr * 0.5 * (1 + cos(pi * e / E)) with e the 0-based epoch.
    public func encoderLR(epoch: Int, progress: Double) -> Double {
        let position = Double(epoch) + progress
        if warmupEpochs > 0 && position < warmupEpochs { return initialLR * (position + 1e-3) / warmupEpochs }
        return initialLR * 0.5 * (1 + cos(Double.pi * Double(epoch) / Double(epochs)))
    }

    /// Predictor lr: 0 for a frozen predictor, fixed at the initial lr with
    /// `fixPredictorLR`, else the encoder's.
    public func predictorLR(epoch: Int, progress: Double) -> Double {
        variant.predictor == .frozen ? 0 : fixPredictorLR ? initialLR : encoderLR(epoch: epoch, progress: progress)
    }

    /// One line for logs: schedule, optimizer, augmentation and variant.
    public var recipeSummary: String {
        String(format: "%d epoch%@, batch %d, lr %.4g (base %.4g), wd %.1e%@%@, crop scale (%.2g, 1), jitter %.2g (p %.2g), %@",
               epochs, epochs == 1 ? "" : "s", batch, initialLR, baseLR, weightDecay, fixPredictorLR ? ", fixed predictor lr" : "",
               warmupEpochs > 0 ? String(format: ", %.1f warm-up epochs", warmupEpochs) : "",
               cropMinScale, jitterStrength, jitterProbability,
               variant.summary + " SimSiam" + (alternation.map { ", targets refreshed every \($0)" } ?? ""))
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Why the variant and `alternation` do not fit together, naming the flag to fix; nil when they do.
    public var alternationMismatch: String? {
        switch (variant.targets, alternation) {
        case (.cached, nil): "cached targets need an interval: add --alternate-every K (SGD steps) or --alternate-every epoch"
        case (.online, .some(let interval)): "--alternate-every \(interval.argument) needs the cached-targets graph (variant targets cached)"
        default: nil
        }
    }

    public static func decode(_ json: String) throws -> TrainConfiguration {
        try JSONDecoder().decode(TrainConfiguration.self, from: Data(json.utf8))
    }
}
