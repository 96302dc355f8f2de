/// Everything random about one augmented view, drawn before any pixel is
/// touched so it can be inspected, logged or replayed in torchvision.
public struct ViewParameters: Sendable, Equatable {
    /// The RandomResizedCrop rectangle in the source image.
    public var crop: CropRect
    /// Whether the view is mirrored left to right.
    public var flipped: Bool
    /// The brightness/contrast jitter, or `nil` when it was not applied.
    public var jitter: ColorJitter?

    /// Creates parameters.
    public init(crop: CropRect, flipped: Bool, jitter: ColorJitter?) {
        self.crop = crop
        self.flipped = flipped
        self.jitter = jitter
    }

    /// Draws a view's parameters from `generator` for an image of `height` x `width`.
    /// The jitter numbers are always drawn, applied or not, so that switching
    /// jitter off changes nothing else about the view.
    public static func draw(
        height: Int, width: Int, configuration: AugmentationConfiguration, using generator: inout SplitMix64
    ) -> ViewParameters {
        let crop = RandomResizedCrop.parameters(
            height: height, width: width, scale: configuration.cropScale, ratio: configuration.cropRatio,
            using: &generator)
        let flipped = generator.nextUnit() < configuration.flipProbability
        let jittered = generator.nextUnit() < configuration.jitterProbability
        let brightnessFirst = generator.nextUnit() < 0.5
        let brightness = jitterFactor(strength: configuration.brightness, using: &generator)
        let contrast = jitterFactor(strength: configuration.contrast, using: &generator)
        let jitter = ColorJitter(brightness: brightness, contrast: contrast, brightnessFirst: brightnessFirst)
        return ViewParameters(crop: crop, flipped: flipped, jitter: jittered ? jitter : nil)
    }

    /// A factor uniform in [max(0, 1 - strength), 1 + strength], as `ColorJitter` draws it.
    private static func jitterFactor(strength: Double, using generator: inout SplitMix64) -> Float {
        Float(generator.nextUniform(max(0, 1 - strength), 1 + strength))
    }
}
