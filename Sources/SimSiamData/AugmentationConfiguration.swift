/// What `ViewAugmenter` does to each view; the defaults are the SimSiam
/// reference workloads' (docs: reference-workloads.md, W1 and W2).
public struct AugmentationConfiguration: Sendable, Equatable {
    /// Output height of a view; `nil` keeps the image height.
    public var outputHeight: Int?
    /// Output width of a view; `nil` keeps the image width.
    public var outputWidth: Int?
    /// RandomResizedCrop's range of the crop's area as a fraction of the image's.
    public var cropScale: ClosedRange<Double>
    /// RandomResizedCrop's range of the crop's width / height.
    public var cropRatio: ClosedRange<Double>
    /// Probability of mirroring a view left to right.
    public var flipProbability: Double
    /// Probability of applying the brightness and contrast jitter to a view.
    public var jitterProbability: Double
    /// Brightness jitter strength s: the factor is uniform in [max(0, 1 - s), 1 + s].
    public var brightness: Double
    /// Contrast jitter strength s: the factor is uniform in [max(0, 1 - s), 1 + s].
    public var contrast: Double
    /// Per-channel mean subtracted after scaling pixels to [0, 1].
    public var mean: [Float]
    /// Per-channel standard deviation divided by after subtracting the mean.
    public var std: [Float]

    /// A configuration normalising with `mean` and `std` (one value per
    /// channel); everything else defaults to the reference augmentation.
    public init(
        mean: [Float], std: [Float],
        outputHeight: Int? = nil, outputWidth: Int? = nil,
        cropScale: ClosedRange<Double> = 0.2...1.0,
        cropRatio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0),
        flipProbability: Double = 0.5,
        jitterProbability: Double = 0.8,
        brightness: Double = 0.4,
        contrast: Double = 0.4
    ) {
        precondition(mean.count == std.count && !mean.isEmpty, "need one mean and one std per channel")
        precondition(std.allSatisfy { $0 > 0 }, "std must be positive")
        precondition(cropScale.lowerBound > 0 && cropRatio.lowerBound > 0, "crop scale and ratio must be positive")
        precondition(brightness >= 0 && contrast >= 0, "jitter strengths must be non-negative")
        self.mean = mean
        self.std = std
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
        self.cropScale = cropScale
        self.cropRatio = cropRatio
        self.flipProbability = flipProbability
        self.jitterProbability = jitterProbability
        self.brightness = brightness
        self.contrast = contrast
    }

    /// W1: Fashion-MNIST, normalised with mean 0.2860 and std 0.3530.
    public static let fashionMNIST = AugmentationConfiguration(mean: [0.2860], std: [0.3530])

    /// W2: CIFAR-10, normalised with its per-channel RGB mean and std.
    public static let cifar10 = AugmentationConfiguration(
        mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])

    /// Number of channels the normalisation expects.
    public var channels: Int { mean.count }
}
