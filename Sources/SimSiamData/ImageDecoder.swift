import CDecoders
import Foundation

/// One image as a decoder returns it: 8-bit samples, rows top first, pixels
/// interleaved (HWC), grey or RGB.
public struct DecodedImage: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// 1 (grey) or 3 (RGB).
    public let channels: Int
    /// `height * width * channels` samples, HWC.
    public let pixels: [UInt8]

    /// Creates an image; the pixel count must match.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "DecodedImage needs \(width * height * channels) samples")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

/// Decodes PNG and JPEG files with Debian's libpng and libjpeg-turbo.
public enum ImageDecoder {
    /// The largest image accepted, in pixels (8192 x 8192): larger claims are
    /// refused from the header, before any pixel memory is allocated.
    public static let maximumPixels = 1 << 26
    /// The largest image file read into memory.
    public static let maximumFileBytes = 1 << 30
    /// File name extensions taken for images (compared without case).
    public static let fileExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The formats read.
    public enum Format: String, Sendable {
        case png = "PNG"
        case jpeg = "JPEG"
    }

    /// The format `data` starts like, if any.
    public static func format(of data: Data) -> Format? {
        let head = [UInt8](data.prefix(4))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return .png }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// Decodes a PNG or JPEG file held in memory; `source` names it in errors.
    /// - Throws: `DatasetError` naming the source and the part of the file at
    ///   fault (signature, header chunks or markers, image data), including an
    ///   image of more than `maximumPixels` pixels.
    public static func decode(_ data: Data, source: String) throws -> DecodedImage {
        guard let format = format(of: data) else {
            let head = data.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw DatasetError("image file \(source) is neither PNG nor JPEG: its signature is [\(head)]; "
                + "PNG starts 89 50 4e 47, JPEG ff d8 ff")
        }
        var image = cdec_image()
        let status = data.withUnsafeBytes { raw -> Int32 in
            let bytes = raw.bindMemory(to: UInt8.self)
            switch format {
            case .png: return cdec_decode_png(bytes.baseAddress, bytes.count, UInt64(maximumPixels), &image)
            case .jpeg: return cdec_decode_jpeg(bytes.baseAddress, bytes.count, UInt64(maximumPixels), &image)
            }
        }
        guard status == CDEC_OK, let pixels = image.pixels else {
            let reason = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw DatasetError("\(format.rawValue) file \(source) cannot be decoded: \(reason)")
        }
        defer { cdec_free(pixels) }
        let width = Int(image.width), height = Int(image.height), channels = Int(image.channels)
        return DecodedImage(
            width: width, height: height, channels: channels,
            pixels: [UInt8](UnsafeBufferPointer(start: pixels, count: width * height * channels)))
    }

    /// Reads and decodes the image file at `url`.
    /// - Throws: `DatasetError` naming the file: unreadable, too large, or not a valid PNG or JPEG.
    public static func read(_ url: URL) throws -> DecodedImage {
        try decode(try readFile(url, kind: "image", maximumBytes: maximumFileBytes), source: url.path)
    }

}

/// The bytes of the file at `url`, refusing files over `maximumBytes` before reading them.
/// - Throws: `DatasetError` naming the file and `kind` ("image", "NumPy").
func readFile(_ url: URL, kind: String, maximumBytes: Int, mapped: Bool = false) throws -> Data {
    let size: Int
    do {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        size = (attributes[.size] as? NSNumber)?.intValue ?? 0
    } catch {
        throw DatasetError("cannot read \(kind) file \(url.path): it does not exist or is not accessible")
    }
    guard size <= maximumBytes else {
        throw DatasetError("\(kind) file \(url.path) is \(size) bytes, more than the \(maximumBytes) read; is it the right file?")
    }
    do {
        return try Data(contentsOf: url, options: mapped ? .alwaysMapped : [])
    } catch {
        throw DatasetError("cannot read \(kind) file \(url.path): \(error.localizedDescription)")
    }
}
