/// The shape of one image: channels, height and width.
public struct ImageShape: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// 1 for grey, 3 for RGB.
    public var channels: Int
    /// Rows.
    public var height: Int
    /// Columns.
    public var width: Int

    /// Creates a shape.
    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Bytes of one image at 8 bits per sample.
    public var byteCount: Int { channels * height * width }

    /// "3x32x32".
    public var description: String { "\(channels)x\(height)x\(width)" }
}

extension LabeledImages {
    /// The shape every image of the set has.
    public var shape: ImageShape { ImageShape(channels: channels, height: height, width: width) }
}
