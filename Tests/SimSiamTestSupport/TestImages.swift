import CImageEncode
import Foundation

/// PNG and JPEG files for tests, written by the same libpng and libjpeg-turbo
/// the readers decode with.
public enum TestImages {
    /// How a PNG stores the 8-bit grey or RGB pixels it is given.
    public enum PNGKind: Int32, CaseIterable, Sendable {
        case plain = -1
        case palette = 2
        case alpha = 3
        case sixteenBit = 4
    }

    /// A pattern of `height * width * channels` samples (HWC) that differs per
    /// pixel, channel and `seed`, with few enough colours for a palette.
    public static func pattern(width: Int, height: Int, channels: Int, seed: Int = 0) -> [UInt8] {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for channel in 0..<channels { pixels.append(UInt8(truncatingIfNeeded: 16 * ((x + 2 * y + 5 * channel + seed) % 15))) }
            }
        }
        return pixels
    }

    /// A PNG of the HWC `pixels` (1 or 3 channels), stored as `kind`.
    public static func png(_ pixels: [UInt8], width: Int, height: Int, channels: Int, kind: PNGKind = .plain,
                           interlaced: Bool = false) -> [UInt8] {
        let colour = kind == .plain ? (channels == 1 ? 0 : 1) : kind.rawValue
        return encoded { out in
            cenc_png(pixels, UInt32(width), UInt32(height), UInt32(channels), colour, interlaced ? 1 : 0, &out)
        }
    }

    /// A JPEG of the HWC `pixels` (1, 3, or 4 for CMYK channels).
    public static func jpeg(_ pixels: [UInt8], width: Int, height: Int, channels: Int, quality: Int = 95,
                            progressive: Bool = false) -> [UInt8] {
        encoded { out in
            cenc_jpeg(pixels, UInt32(width), UInt32(height), UInt32(channels), Int32(quality), progressive ? 1 : 0, &out)
        }
    }

    /// `data` as a raw deflate stream (zip's method 8).
    public static func deflate(_ data: [UInt8], level: Int = 6) -> [UInt8] {
        encoded { out in cenc_deflate_raw(data, data.count, Int32(level), &out) }
    }

    /// zlib's CRC-32 of `data`.
    public static func crc32(_ data: [UInt8]) -> UInt32 {
        cenc_crc32(data, data.count)
    }

    private static func encoded(_ body: (inout UnsafeMutablePointer<UInt8>?) -> Int) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let size = body(&out)
        guard let out, size > 0 else { fatalError("the test encoder failed") }
        defer { cenc_free(out) }
        return [UInt8](UnsafeBufferPointer(start: out, count: size))
    }

    /// Writes `bytes` to `url`, creating its folder.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// A fresh temporary directory.
    public static func temporaryDirectory(_ name: String = "simsiamc-data") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
