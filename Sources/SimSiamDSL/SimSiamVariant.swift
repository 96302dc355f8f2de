/// Which SimSiam the DSL builds: the paper's default or one of its ablations
/// (Chen & He 2021, section 4). Every field changes the compiled graph except
/// `Predictor.frozen`, which the trainer realises with a zero predictor lr.
public struct SimSiamVariant: Codable, Sendable, Hashable {
    /// The predictor h (paper table 1).
    public enum Predictor: String, Codable, Sendable, CaseIterable {
        /// Trained like the encoder (default).
        case learned
        /// No predictor: p = z.
        case none
        /// Kept at its random initialisation (trained with lr 0).
        case frozen
    }

    /// Where the projection and prediction MLPs have BN (paper table 3).
    public enum HeadNorm: String, Codable, Sendable, CaseIterable {
        /// No BN in either head; every Linear then has a trained bias.
        case none
        /// BN after the hidden layers only.
        case hidden
        /// Hidden layers plus the projector's output (default).
        case hiddenAndOutput = "hidden+output"
        /// Also on the predictor's output.
        case all
    }

    /// The similarity D between a prediction and a target (paper table 4a).
    public enum Similarity: String, Codable, Sendable, CaseIterable {
        /// cos(p, sg(z)) (default).
        case cosine
        /// softmax(sg(z)) . log softmax(p), the negative of a cross-entropy.
        case crossEntropy = "cross-entropy"
    }

    /// Which terms make the loss (paper table 4b).
    public enum Symmetry: String, Codable, Sendable, CaseIterable {
        /// -(D(p1, z2) + D(p2, z1)) / 2 (default).
        case symmetric
        /// -D(p1, z2) only.
        case asymmetric
        /// Asymmetric, with every epoch's batches drawn twice (two pairs per image), matching the symmetric compute.
        case asymmetricDoubleSteps = "asymmetric-2x"
    }

    /// Where the loss's targets come from (paper section 5, the EM hypothesis).
    public enum Targets: String, Codable, Sendable, CaseIterable {
        /// z1, z2 of the same forward pass, detached (default).
        case online
        /// Graph inputs "eta1", "eta2": F_theta_t(x1), F_theta_t(x2) computed by an earlier network
        /// and held fixed for k steps (multi-step alternation); gradients flow through the predictions only.
        case cached
        /// The paper's "expectation over augmentations" (section 5.2): graph input "eta" ([batch, d]), each
        /// image's moving average eta_x^{t-1} kept by the trainer; the target of p1 is
        /// m * eta + (1 - m) * sg(z2), that of p2 is m * eta + (1 - m) * sg(z1), m = `etaMomentum`.
        case movingAverage = "moving-average"
    }

    /// Detach the targets z1, z2 (default). Off, gradients flow through both branches.
    public var stopGradient: Bool
    public var predictor: Predictor
    public var headNorm: HeadNorm
    public var similarity: Similarity
    public var symmetry: Symmetry
    public var targets: Targets
    /// m of the moving-average targets, eta_x^t = m * eta_x^{t-1} + (1 - m) * F(T'(x)) (the paper's 0.8);
    /// used only with `.movingAverage`, where it is a constant of the graph.
    public var etaMomentum: Double

    public init(stopGradient: Bool = true, predictor: Predictor = .learned, headNorm: HeadNorm = .hiddenAndOutput,
                similarity: Similarity = .cosine, symmetry: Symmetry = .symmetric, targets: Targets = .online,
                etaMomentum: Double = 0.8) {
        self.stopGradient = stopGradient
        self.predictor = predictor
        self.headNorm = headNorm
        self.similarity = similarity
        self.symmetry = symmetry
        self.targets = targets
        self.etaMomentum = etaMomentum
    }

    private enum CodingKeys: String, CodingKey { case stopGradient, predictor, headNorm, similarity, symmetry, targets, etaMomentum }

    /// Checkpoints written before `targets` existed decode as `.online`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(stopGradient: try container.decode(Bool.self, forKey: .stopGradient),
                  predictor: try container.decode(Predictor.self, forKey: .predictor),
                  headNorm: try container.decode(HeadNorm.self, forKey: .headNorm),
                  similarity: try container.decode(Similarity.self, forKey: .similarity),
                  symmetry: try container.decode(Symmetry.self, forKey: .symmetry),
                  targets: try container.decodeIfPresent(Targets.self, forKey: .targets) ?? .online,
                  etaMomentum: try container.decodeIfPresent(Double.self, forKey: .etaMomentum) ?? 0.8)
    }

    /// `etaMomentum` is written only for moving-average targets, so every other variant's JSON (in
    /// checkpoints, manifests and cache keys) stays as it was.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(stopGradient, forKey: .stopGradient)
        try container.encode(predictor, forKey: .predictor)
        try container.encode(headNorm, forKey: .headNorm)
        try container.encode(similarity, forKey: .similarity)
        try container.encode(symmetry, forKey: .symmetry)
        try container.encode(targets, forKey: .targets)
        if targets == .movingAverage { try container.encode(etaMomentum, forKey: .etaMomentum) }
    }

    /// The paper's SimSiam.
    public static let standard = SimSiamVariant()

    /// How many times each epoch draws the training set (2 for `asymmetric-2x`).
    public var passesPerEpoch: Int { symmetry == .asymmetricDoubleSteps ? 2 : 1 }

    /// What differs from the standard SimSiam, e.g. "no stop-gradient, predictor none"; "standard" if nothing.
    public var summary: String {
        var parts: [String] = []
        if !stopGradient { parts.append("no stop-gradient") }
        if predictor != .learned { parts.append("predictor \(predictor.rawValue)") }
        if headNorm != .hiddenAndOutput { parts.append("head BN \(headNorm.rawValue)") }
        if similarity != .cosine { parts.append("\(similarity.rawValue) similarity") }
        if symmetry != .symmetric { parts.append("\(symmetry.rawValue) loss") }
        if targets == .movingAverage {
            parts.append("moving-average targets (m \(etaMomentum))")
        } else if targets != .online {
            parts.append("\(targets.rawValue) targets")
        }
        return parts.isEmpty ? "standard" : parts.joined(separator: ", ")
    }
}
