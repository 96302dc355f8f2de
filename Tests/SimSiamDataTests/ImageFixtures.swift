@testable import SimSiamData

/// Small in-memory image sets for the augmentation tests.
enum ImageFixtures {
    /// `count` images of random bytes (fixed by `seed`).
    static func random(count: Int, channels: Int = 1, side: Int = 28, seed: UInt64 = 1) -> LabeledImages {
        var generator = SplitMix64(seed: seed)
        let pixels = (0..<count * channels * side * side).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        return LabeledImages(
            count: count, channels: channels, height: side, width: side, pixels: pixels,
            labels: (0..<count).map { UInt8($0 % 10) })
    }

    /// One image whose every pixel is `value`.
    static func constant(_ value: UInt8, channels: Int = 1, side: Int = 28) -> LabeledImages {
        LabeledImages(
            count: 1, channels: channels, height: side, width: side,
            pixels: [UInt8](repeating: value, count: channels * side * side), labels: [0])
    }

    /// One image with a left-right asymmetric ramp: pixel (c, y, x) = 40c + 3x + y.
    static func ramp(channels: Int = 1, side: Int = 16) -> LabeledImages {
        var pixels: [UInt8] = []
        for channel in 0..<channels {
            for y in 0..<side {
                for x in 0..<side { pixels.append(UInt8(40 * channel + 3 * x + y)) }
            }
        }
        return LabeledImages(count: 1, channels: channels, height: side, width: side, pixels: pixels, labels: [0])
    }

    /// A configuration that leaves values in [0, 1] (mean 0, std 1) with the
    /// reference crop, flip and jitter unless overridden.
    static func unnormalized(
        channels: Int = 1, cropScale: ClosedRange<Double> = 0.2...1.0,
        cropRatio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0),
        flipProbability: Double = 0.5, jitterProbability: Double = 0.8,
        brightness: Double = 0.4, contrast: Double = 0.4
    ) -> AugmentationConfiguration {
        AugmentationConfiguration(
            mean: [Float](repeating: 0, count: channels), std: [Float](repeating: 1, count: channels),
            cropScale: cropScale, cropRatio: cropRatio, flipProbability: flipProbability,
            jitterProbability: jitterProbability, brightness: brightness, contrast: contrast)
    }
}
