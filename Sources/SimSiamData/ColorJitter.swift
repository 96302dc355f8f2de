/// The brightness and contrast part of torchvision's `ColorJitter`, on float
/// images in [0, 1] (CHW, one image).
public struct ColorJitter: Sendable, Equatable {
    /// Luma weights of torchvision's `rgb_to_grayscale` for tensors (ITU-R 601-2, as TensorFlow rounds them).
    public static let lumaWeights: (red: Float, green: Float, blue: Float) = (0.2989, 0.587, 0.114)

    /// Brightness factor b: `img * b`, clamped to [0, 1].
    public var brightness: Float
    /// Contrast factor c: `c * img + (1 - c) * mean(grey(img))`, clamped to [0, 1].
    public var contrast: Float
    /// Whether brightness is applied before contrast (torchvision draws the order at random).
    public var brightnessFirst: Bool

    /// Creates a jitter with the given factors and order.
    public init(brightness: Float, contrast: Float, brightnessFirst: Bool) {
        self.brightness = brightness
        self.contrast = contrast
        self.brightnessFirst = brightnessFirst
    }

    /// Applies both adjustments in order to `image` (`channels` planes of `planeSize` floats).
    func apply(to image: UnsafeMutableBufferPointer<Float>, channels: Int, planeSize: Int) {
        if brightnessFirst {
            Self.adjustBrightness(image, factor: brightness)
            Self.adjustContrast(image, factor: contrast, channels: channels, planeSize: planeSize)
        } else {
            Self.adjustContrast(image, factor: contrast, channels: channels, planeSize: planeSize)
            Self.adjustBrightness(image, factor: brightness)
        }
    }

    /// torchvision `adjust_brightness`: blend with black.
    static func adjustBrightness(_ image: UnsafeMutableBufferPointer<Float>, factor: Float) {
        for index in image.indices {
            image[index] = min(max(image[index] * factor, 0), 1)
        }
    }

    /// torchvision `adjust_contrast`: blend with the mean grey level of the
    /// whole image (the grey of RGB for 3 channels, otherwise the plain mean).
    static func adjustContrast(
        _ image: UnsafeMutableBufferPointer<Float>, factor: Float, channels: Int, planeSize: Int
    ) {
        let mean = Float(meanGrey(UnsafeBufferPointer(image), channels: channels, planeSize: planeSize))
        let offset = (1 - factor) * mean
        for index in image.indices {
            image[index] = min(max(factor * image[index] + offset, 0), 1)
        }
    }

    /// Mean of the greyscale image, accumulated in double so large images lose nothing.
    static func meanGrey(_ image: UnsafeBufferPointer<Float>, channels: Int, planeSize: Int) -> Double {
        var sum = 0.0
        if channels == 3 {
            let (red, green, blue) = lumaWeights
            for index in 0..<planeSize {
                let grey = red * image[index] + green * image[planeSize + index] + blue * image[2 * planeSize + index]
                sum += Double(grey)
            }
            return sum / Double(planeSize)
        }
        for value in image { sum += Double(value) }
        return sum / Double(image.count)
    }
}
