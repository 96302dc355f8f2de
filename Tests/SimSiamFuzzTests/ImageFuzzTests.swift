import Foundation
import SimSiamTestSupport
import Testing
@testable import SimSiamData

/// Fuzzes the PNG and JPEG readers (`ImageDecoder.decode`, and through a
/// file `ImageDecoder.read`) over structurally mutated files, and pins the
/// defects found or guarded against.
@Suite struct ImageFuzzTests {
    /// The CI share per format: fixed, and a few seconds in a debug build.
    static let ciInputs = 5_000

    /// Rejections name the part of the file: the signature, the header
    /// chunks or markers, the image or scan data, or what follows it.
    static let pngFieldWords = ["signature", "header chunks", "image data", "chunks after the image data"]
    static let jpegFieldWords = ["signature", "header markers", "scan data", "end of image"]

    static func target<Sketch: FileSketch>(
        _ name: String, fileName: String, fieldWords: [String], seeds: [Sketch]
    ) -> FuzzTarget<DatasetError> {
        let mutator = ByteMutator(maximumLength: 8_192)
        return FuzzTarget(
            readerName: name, fieldWords: fieldWords, fileName: fileName,
            makeInput: { random in FuzzInput(bytes: mutator.mutateSketch(of: seeds, structural: 0.7, random: &random)) },
            readData: { data, source in _ = try ImageDecoder.decode(data, source: source) },
            readFile: { url in _ = try ImageDecoder.read(url) })
    }

    static func pngTarget() -> FuzzTarget<DatasetError> {
        target("png", fileName: "input.png", fieldWords: pngFieldWords, seeds: PNGSketch.seeds)
    }

    static func jpegTarget() -> FuzzTarget<DatasetError> {
        target("jpeg", fileName: "input.jpg", fieldWords: jpegFieldWords, seeds: JPEGSketch.seeds)
    }

    @Test func pngSurvivesMutatedFiles() throws {
        try expectSurvivesFuzzing(Self.pngTarget(), ciInputs: Self.ciInputs)
    }

    @Test func jpegSurvivesMutatedFiles() throws {
        try expectSurvivesFuzzing(Self.jpegTarget(), ciInputs: Self.ciInputs)
    }

    @Test func theSeedsAreValidFiles() throws {
        for sketch in PNGSketch.seeds { _ = try ImageDecoder.decode(Data(sketch.bytes), source: "seed.png") }
        for sketch in JPEGSketch.seeds { _ = try ImageDecoder.decode(Data(sketch.bytes), source: "seed.jpg") }
    }

    // MARK: Regressions and guards

    /// A valid progressive 8x8 grey JPEG of 1 + 63 x (1 + `refinements`)
    /// scans: the DC scan, then each AC coefficient alone, first at point
    /// transform `refinements`, then refined one bit at a time. Huffman tables
    /// of the single code '0' (EOB, or DC difference 0) make every scan's data
    /// one byte: the code, padded with ones.
    static func manyScanJPEG(refinements: Int) -> [UInt8] {
        func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
            [0xFF, marker, UInt8((payload.count + 2) >> 8), UInt8(truncatingIfNeeded: payload.count + 2)] + payload
        }
        func scan(_ start: UInt8, _ end: UInt8, _ high: Int, _ low: Int) -> [UInt8] {
            segment(0xDA, [1, 1, 0x00, start, end, UInt8(high << 4 | low)]) + [0x7F]
        }
        let table = [UInt8](arrayLiteral: 1) + [UInt8](repeating: 0, count: 15) + [0]
        var file: [UInt8] = [0xFF, 0xD8] + segment(0xDB, [0] + [UInt8](repeating: 1, count: 64))
            + segment(0xC2, [8, 0, 8, 0, 8, 1, 1, 0x11, 0]) + segment(0xC4, [0x00] + table) + segment(0xC4, [0x10] + table)
        file += scan(0, 0, 0, 0)
        for coefficient in UInt8(1)...63 {
            file += scan(coefficient, coefficient, 0, refinements)
            for low in stride(from: refinements - 1, through: 0, by: -1) { file += scan(coefficient, coefficient, low + 1, low) }
        }
        return file + [0xFF, 0xD9]
    }

    /// A progressive JPEG may hold a valid sequence of hundreds of scans, each
    /// a pass over the whole image: the reader stops after 500.
    @Test func aJPEGOfManyValidScansIsStoppedAt500() throws {
        let fewer = try ImageDecoder.decode(Data(Self.manyScanJPEG(refinements: 5)), source: "379-scans.jpg")  // 1 + 63 x 6
        #expect(fewer.width == 8 && fewer.height == 8 && fewer.channels == 1)
        expectOneLineRejection(DatasetError.self, source: "694-scans.jpg", containing: ["scan data", "more than 500 progressive scans"]) {
            _ = try ImageDecoder.decode(Data(Self.manyScanJPEG(refinements: 10)), source: "694-scans.jpg")  // 1 + 63 x 11
        }
    }

    /// Repeating a scan breaks the progression, which libjpeg only warns of
    /// (and then decodes garbage); the reader takes it as the error it is.
    @Test func aRepeatedScanIsAnError() throws {
        var sketch = JPEGSketch.seeds[2]
        let scan = try #require(sketch.segments.firstIndex { $0.marker == 0xDA })
        sketch.segments.insert(sketch.segments[scan], at: scan)
        expectOneLineRejection(DatasetError.self, source: "repeat.jpg", containing: ["scan data", "Inconsistent progression sequence"]) {
            _ = try ImageDecoder.decode(Data(sketch.bytes), source: "repeat.jpg")
        }
    }

    /// 8192 x 8192 is the largest accepted; one more row is refused from the header.
    @Test func thePixelLimitIsExact() throws {
        var sketch = PNGSketch.seeds[5]
        sketch.chunks[0].data.replaceSubrange(0..<8, with: PNGSketch.bigEndian32(8_192) + PNGSketch.bigEndian32(8_193))
        expectOneLineRejection(DatasetError.self, source: "big.png", containing: ["header chunks", "67117056 pixels"]) {
            _ = try ImageDecoder.decode(Data(sketch.bytes), source: "big.png")
        }
        sketch.chunks[0].data.replaceSubrange(4..<8, with: PNGSketch.bigEndian32(8_192))
        // Accepted by the size check, the image then lacks its data: an error about the image data, not the size.
        expectOneLineRejection(DatasetError.self, source: "limit.png", containing: ["image data"]) {
            _ = try ImageDecoder.decode(Data(sketch.bytes), source: "limit.png")
        }
    }
}
