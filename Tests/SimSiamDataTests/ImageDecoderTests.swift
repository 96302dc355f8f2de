import Foundation
import SimSiamTestSupport
import Testing
@testable import SimSiamData

/// PNG and JPEG decoding through libpng and libjpeg-turbo: every storage
/// variant gives the pixels back, every defect a one-line error naming the
/// file and the part of it at fault.
@Suite struct ImageDecoderTests {
    @Test(arguments: [1, 3], TestImages.PNGKind.allCases)
    func pngVariantsDecodeToTheirPixels(channels: Int, kind: TestImages.PNGKind) throws {
        let pixels = TestImages.pattern(width: 7, height: 5, channels: channels)
        for interlaced in [false, true] {
            let file = TestImages.png(pixels, width: 7, height: 5, channels: channels, kind: kind, interlaced: interlaced)
            let image = try ImageDecoder.decode(Data(file), source: "fixture.png")
            #expect(image.width == 7 && image.height == 5)
            // A palette of grey pixels is still an RGB palette: it decodes to three equal channels.
            let expectedChannels = kind == .palette ? 3 : channels
            #expect(image.channels == expectedChannels, "\(kind), interlaced \(interlaced)")
            let expected = expectedChannels == channels ? pixels : pixels.flatMap { [$0, $0, $0] }
            #expect(image.pixels == expected, "\(kind), interlaced \(interlaced)")
        }
    }

    @Test(arguments: [1, 3], [false, true])
    func jpegDecodesCloseToItsPixels(channels: Int, progressive: Bool) throws {
        // Smooth content so that quality 95 keeps every sample within a few levels.
        var pixels: [UInt8] = []
        for y in 0..<16 { for x in 0..<24 { for c in 0..<channels { pixels.append(UInt8(40 + 5 * x + 3 * y + 20 * c)) } } }
        let file = TestImages.jpeg(pixels, width: 24, height: 16, channels: channels, quality: 95, progressive: progressive)
        let image = try ImageDecoder.decode(Data(file), source: "fixture.jpg")
        #expect(image.width == 24 && image.height == 16 && image.channels == channels)
        let error = zip(image.pixels, pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(error <= 6, "largest difference \(error)")
    }

    @Test func readNamesAMissingFile() {
        expectOneLineError(containing: ["/nonexistent/x.png", "does not exist"]) { _ = try ImageDecoder.read(URL(fileURLWithPath: "/nonexistent/x.png")) }
    }

    @Test func aFileThatIsNeitherFormatIsNamedWithItsSignature() {
        expectOneLineError(containing: ["notes.png", "neither PNG nor JPEG", "signature", "[68 65 6c 6c 6f]"]) {
            _ = try ImageDecoder.decode(Data("hello".utf8), source: "notes.png")
        }
    }

    @Test func aTruncatedPNGIsAnErrorNamingTheImageData() {
        let file = TestImages.png(TestImages.pattern(width: 20, height: 20, channels: 3), width: 20, height: 20, channels: 3)
        expectOneLineError(containing: ["PNG file cut.png cannot be decoded", "truncated"]) {
            _ = try ImageDecoder.decode(Data(file.prefix(file.count - 30)), source: "cut.png")
        }
    }

    @Test func aCorruptHeaderCRCIsAnErrorNamingTheChunk() {
        var file = TestImages.png([1, 2, 3, 4], width: 2, height: 2, channels: 1)
        file[29] ^= 0xFF  // last byte of IHDR's CRC
        expectOneLineError(containing: ["bad-crc.png", "header chunks", "IHDR", "CRC"]) {
            _ = try ImageDecoder.decode(Data(file), source: "bad-crc.png")
        }
    }

    /// A header claiming 100,000 x 100,000 pixels is refused before any pixel memory is allocated.
    @Test func aHugePNGClaimIsRefusedFromItsHeader() {
        var file = TestImages.png([0], width: 1, height: 1, channels: 1)
        let dimensions = NumPyWriter.le32(100_000).reversed() + NumPyWriter.le32(100_000).reversed()
        file.replaceSubrange(16..<24, with: dimensions)
        file.replaceSubrange(29..<33, with: NumPyWriter.le32(TestImages.crc32(Array(file[12..<29]))).reversed())
        expectOneLineError(containing: ["huge.png", "IHDR", "100000", "more than the 67108864 allowed"]) {
            _ = try ImageDecoder.decode(Data(file), source: "huge.png")
        }
    }

    @Test func aTruncatedJPEGIsAnErrorNotAGreyBottom() {
        let file = TestImages.jpeg(TestImages.pattern(width: 32, height: 32, channels: 3), width: 32, height: 32, channels: 3)
        expectOneLineError(containing: ["JPEG file cut.jpg cannot be decoded", "Premature end of JPEG file"]) {
            _ = try ImageDecoder.decode(Data(file.prefix(file.count / 2)), source: "cut.jpg")
        }
    }

    @Test func aHugeJPEGClaimIsRefusedFromItsHeader() throws {
        var file = TestImages.jpeg([128], width: 1, height: 1, channels: 1)
        let sof = try #require((0..<file.count - 1).first { file[$0] == 0xFF && file[$0 + 1] == 0xC0 })
        file.replaceSubrange(sof + 5..<sof + 9, with: [0x9C, 0x40, 0x9C, 0x40])  // height, width 40000
        expectOneLineError(containing: ["huge.jpg", "SOF", "40000", "more than the 67108864 allowed"]) {
            _ = try ImageDecoder.decode(Data(file), source: "huge.jpg")
        }
    }

    @Test func aCMYKJPEGSaysToSaveAsRGB() {
        let file = TestImages.jpeg(TestImages.pattern(width: 8, height: 8, channels: 4), width: 8, height: 8, channels: 4)
        expectOneLineError(containing: ["cmyk.jpg", "CMYK", "save the image as RGB"]) {
            _ = try ImageDecoder.decode(Data(file), source: "cmyk.jpg")
        }
    }
}

/// Expects `body` to throw a one-line `DatasetError` containing every fragment.
func expectOneLineError(containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    let error = #expect(throws: DatasetError.self, sourceLocation: sourceLocation) { try body() }
    guard let message = error?.message else { return }
    let oneLine = !message.contains(where: \.isNewline)
    #expect(oneLine, "message spans several lines: \(message)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(message.contains(fragment), "'\(message)' lacks '\(fragment)'", sourceLocation: sourceLocation)
    }
}
