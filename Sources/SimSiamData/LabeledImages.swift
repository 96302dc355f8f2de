/// Images with one class label each, as a dataset reader returns them.
public struct LabeledImages: Sendable, Equatable {
    /// Number of images (and labels).
    public let count: Int
    /// Colour channels per pixel: 1 for grey, 3 for RGB.
    public let channels: Int
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// The pixels, `count * channels * height * width` of them, image after
    /// image, each image channel-major (CHW) and each channel row-major.
    public let pixels: [UInt8]
    /// One class label per image.
    public let labels: [UInt8]

    /// Creates a labeled image set; sizes must agree.
    public init(count: Int, channels: Int = 1, height: Int, width: Int, pixels: [UInt8], labels: [UInt8]) {
        precondition(channels > 0 && height > 0 && width > 0, "LabeledImages needs positive channels, height and width")
        precondition(
            pixels.count == count * channels * height * width && labels.count == count,
            "inconsistent LabeledImages sizes")
        self.count = count
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
    }

    /// Number of bytes of one image: `channels * height * width`.
    public var pixelsPerImage: Int { channels * height * width }

    /// The pixels of image `index`, CHW.
    public func image(at index: Int) -> ArraySlice<UInt8> {
        pixels[index * pixelsPerImage..<(index + 1) * pixelsPerImage]
    }
}
