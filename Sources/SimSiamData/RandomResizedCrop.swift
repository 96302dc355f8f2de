import Foundation

/// A rectangle of an image, in whole pixels: rows top..<top+height, columns left..<left+width.
public struct CropRect: Sendable, Equatable {
    /// First row.
    public var top: Int
    /// First column.
    public var left: Int
    /// Number of rows.
    public var height: Int
    /// Number of columns.
    public var width: Int

    /// Creates a rectangle.
    public init(top: Int, left: Int, height: Int, width: Int) {
        self.top = top
        self.left = left
        self.height = height
        self.width = width
    }
}

/// The crop choice of torchvision's `RandomResizedCrop.get_params`.
public enum RandomResizedCrop {
    /// Number of draws before falling back to a central crop, as in torchvision.
    public static let attempts = 10

    /// A random crop of an image of `height` x `width`: up to 10 times, draw
    /// an area fraction uniform in `scale` and a log aspect ratio (width /
    /// height) uniform in log(`ratio`), round the sides half-to-even as
    /// Python's `round`, and keep the first that fits, placed uniformly.
    /// Otherwise the largest central crop whose ratio is clamped into `ratio`.
    public static func parameters(
        height: Int, width: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>,
        using generator: inout SplitMix64
    ) -> CropRect {
        let area = Double(height * width)
        let logRatio = (log(ratio.lowerBound), log(ratio.upperBound))
        for _ in 0..<attempts {
            let targetArea = area * generator.nextUniform(scale.lowerBound, scale.upperBound)
            let aspectRatio = exp(generator.nextUniform(logRatio.0, logRatio.1))
            let cropWidth = Int((targetArea * aspectRatio).squareRoot().rounded(.toNearestOrEven))
            let cropHeight = Int((targetArea / aspectRatio).squareRoot().rounded(.toNearestOrEven))
            if 0 < cropWidth && cropWidth <= width && 0 < cropHeight && cropHeight <= height {
                let top = generator.nextInt(below: height - cropHeight + 1)
                let left = generator.nextInt(below: width - cropWidth + 1)
                return CropRect(top: top, left: left, height: cropHeight, width: cropWidth)
            }
        }
        return centralFallback(height: height, width: width, ratio: ratio)
    }

    /// torchvision's fallback: the whole image when its ratio lies in `ratio`,
    /// else the central crop of full width or height at the nearest bound.
    static func centralFallback(height: Int, width: Int, ratio: ClosedRange<Double>) -> CropRect {
        let imageRatio = Double(width) / Double(height)
        var cropHeight = height
        var cropWidth = width
        if imageRatio < ratio.lowerBound {
            cropHeight = Int((Double(width) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if imageRatio > ratio.upperBound {
            cropWidth = Int((Double(height) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return CropRect(
            top: (height - cropHeight) / 2, left: (width - cropWidth) / 2, height: cropHeight, width: cropWidth)
    }
}
