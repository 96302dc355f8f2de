/// Frozen features with their class labels: the input of every evaluation in this module.
///
/// `features` is row-major `[count, dim]`: row `i` is `features[i * dim ..< (i + 1) * dim]`.
public struct FeatureSet: Sendable {
    /// Row-major `[count, dim]` feature matrix.
    public let features: [Float]
    /// One class index per row, each in `0 ..< classes` of the evaluation that uses it.
    public let labels: [Int]
    /// Length of each feature row.
    public let dim: Int

    /// Number of rows.
    public var count: Int { labels.count }

    /// Wraps `features` (row-major `[labels.count, dim]`) and their labels.
    public init(features: [Float], labels: [Int], dim: Int) {
        precondition(dim > 0, "feature dimension must be positive")
        precondition(features.count == labels.count * dim,
                     "features hold \(features.count) values, expected \(labels.count) x \(dim)")
        precondition(labels.allSatisfy { $0 >= 0 }, "labels must be non-negative class indices")
        self.features = features
        self.labels = labels
        self.dim = dim
    }

    /// Wraps features with byte labels, as IDX label files store them.
    public init(features: [Float], labels: [UInt8], dim: Int) {
        self.init(features: features, labels: labels.map(Int.init), dim: dim)
    }
}
