/// Which half of a dataset to read; every dataset reader here shares it.
public enum DatasetSplit: String, Sendable, CaseIterable {
    /// The training images.
    case train
    /// The held-out test images.
    case test
}
