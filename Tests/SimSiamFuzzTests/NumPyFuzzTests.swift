import Foundation
import SimSiamTestSupport
import Testing
@testable import SimSiamData

/// Fuzzes the .npy and .npz readers (`NumPyImages.parse` in memory,
/// `NumPyImages.read` through a file): header, dtype, shape and value checks,
/// and the zip directory, inflate and CRC of archives.
@Suite struct NumPyFuzzTests {
    /// The CI share per format: fixed, and a few seconds in a debug build.
    static let ciInputs = 5_000

    /// Rejections name the .npy field (magic, version, header and its keys,
    /// data or a value), the zip record or entry, or the arrays an archive lacks.
    static let fieldWords = [
        "magic", "version", "header", "'descr'", "'fortran_order'", "'shape'", "data", "value", "label",
        "end of central directory", "zip64", "central directory", "entry", "entries", "'images'",
    ]

    static func target<Sketch: FileSketch>(
        _ name: String, fileName: String, seeds: [Sketch]
    ) -> FuzzTarget<DatasetError> {
        let mutator = ByteMutator(maximumLength: 1 << 15)
        return FuzzTarget(
            readerName: name, fieldWords: fieldWords, fileName: fileName,
            makeInput: { random in FuzzInput(bytes: mutator.mutateSketch(of: seeds, structural: 0.7, random: &random)) },
            readData: { data, source in _ = try NumPyImages.parse(data, source: source) },
            readFile: { url in _ = try NumPyImages.read(url) })
    }

    @Test func npySurvivesMutatedFiles() throws {
        try expectSurvivesFuzzing(
            Self.target("npy", fileName: "input.npy", seeds: NpySketch.seeds),
            ciInputs: Self.ciInputs)
    }

    @Test func npzSurvivesMutatedFiles() throws {
        try expectSurvivesFuzzing(
            Self.target("npz", fileName: "input.npz", seeds: NpzSketch.seeds),
            ciInputs: Self.ciInputs)
    }

    @Test func theSeedsAreValidFiles() throws {
        for sketch in NpySketch.seeds { _ = try NumPyFile.parse(Data(sketch.bytes), source: "seed.npy") }
        for sketch in NpzSketch.seeds { _ = try NumPyImages.parse(Data(sketch.bytes), source: "seed.npz") }
    }

    // MARK: Regressions and guards

    @Test func aShapeOf2To62ElementsIsAnErrorNotAnAllocation() {
        var sketch = NpySketch(descr: "|u1", shape: [1 << 31, 1 << 31])
        sketch.dataLength = 16
        expectOneLineRejection(DatasetError.self, source: "huge", containing: ["'shape' (2147483648, 2147483648)", "needs 4611686018427387904 data bytes"]) {
            _ = try NumPyImages.parse(Data(sketch.bytes), source: "huge")
        }
        sketch.shape = [1 << 62, 4]
        expectOneLineRejection(DatasetError.self, source: "overflow", containing: ["'shape'", "too large to address"]) {
            _ = try NumPyImages.parse(Data(sketch.bytes), source: "overflow")
        }
    }

    /// A header of nested brackets is refused at a fixed depth, not by running out of stack.
    @Test func deeplyNestedHeadersAreRefused() {
        var sketch = NpySketch(descr: "|u1", shape: [1, 1, 1])
        sketch.shapeText = String(repeating: "(", count: 30_000)
        expectOneLineRejection(DatasetError.self, source: "deep", containing: ["unreadable header", "nesting deeper than 16"]) {
            _ = try NumPyImages.parse(Data(sketch.bytes), source: "deep")
        }
    }

    /// A zip entry name or dtype may hold line breaks; messages stay on one line.
    @Test func lineBreaksInFileTextStayOutOfMessages() {
        var sketch = NpySketch(descr: "<f4\n2", shape: [1, 1, 1])
        sketch.dataLength = 4
        expectOneLineRejection(DatasetError.self, source: "newline", containing: ["'descr' '<f4 2'"]) {
            _ = try NumPyImages.parse(Data(sketch.bytes), source: "newline")
        }
    }

    @Test func aNaNPixelIsNamedWithItsIndex() {
        var sketch = NpySketch(descr: "<f4", shape: [1, 2, 2])
        sketch.poke = (3, .nan)
        expectOneLineRejection(DatasetError.self, source: "nan", containing: ["value nan at index [0, 1, 1]", "[0, 1]"]) {
            _ = try NumPyImages.parse(Data(sketch.bytes), source: "nan")
        }
    }
}
