import Foundation

/// The two protocols of the spec (kNN monitor and linear probe) on one kind of features.
public struct ProtocolScores: Codable, Sendable, Equatable {
    public var knnTop1: Double
    public var linearTop1: Double
}

/// What self-supervision added: the learned backbone next to raw pixels and a
/// randomly initialised backbone, each under both protocols.
public struct EvaluationReport: Codable, Sendable, Equatable {
    public var learned: ProtocolScores
    public var pixels: ProtocolScores
    public var randomBackbone: ProtocolScores
    public var seconds: Double

    public var table: String {
        func row(_ name: String, _ s: ProtocolScores) -> String {
            "  " + name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + String(format: "   %6.2f%%      %6.2f%%", 100 * s.knnTop1, 100 * s.linearTop1)
        }
        return (["  features                kNN top-1  linear top-1",
                 row("learned backbone", learned), row("raw pixels", pixels), row("random-init backbone", randomBackbone)])
            .joined(separator: "\n")
    }
}

public enum Evaluation {
    /// kNN (k 200, T 0.1) and the linear probe on a state's frozen eval-mode backbone.
    public static func scores(of state: ModelState, data: TrainingData, threads: Int = defaultThreadCount) throws -> ProtocolScores {
        let features = try FeatureExtraction.backbone(state, data: data)
        return scores(train: features.train, test: features.test, classes: data.classes, threads: threads)
    }

    public static func scores(train: FeatureSet, test: FeatureSet, classes: Int, threads: Int = defaultThreadCount) -> ProtocolScores {
        ProtocolScores(knnTop1: KNNMonitor.accuracy(train: train, test: test, classes: classes, threads: threads),
                       linearTop1: LinearProbe.evaluate(train: train, test: test, classes: classes,
                                                        options: .init(threads: threads)).testAccuracy)
    }

    /// The learned state against raw pixels and a random-init backbone of the
    /// same model. `learnedFeatures`, when given, are the state's features
    /// already extracted (by the last kNN monitor).
    public static func report(learned state: ModelState, data: TrainingData, seed: UInt64,
                              learnedFeatures: (train: FeatureSet, test: FeatureSet)? = nil) throws -> EvaluationReport {
        let start = Date()
        let features = try learnedFeatures ?? FeatureExtraction.backbone(state, data: data)
        let learned = scores(train: features.train, test: features.test, classes: data.classes)
        let sets = try data.evaluationSets()
        let normalizer = ViewAugmenter(configuration: data.augmentation, seed: 0)
        let pixels = scores(train: FeatureExtraction.pixels(images: sets.train, augmenter: normalizer),
                            test: FeatureExtraction.pixels(images: sets.test, augmenter: normalizer), classes: data.classes)
        let random = ModelState(library: state.library)
        random.initialize(seed: seed)
        let randomScores = try scores(of: random, data: data)
        return EvaluationReport(learned: learned, pixels: pixels, randomBackbone: randomScores, seconds: Date().timeIntervalSince(start))
    }
}
