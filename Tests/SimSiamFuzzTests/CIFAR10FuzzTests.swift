import Foundation
import Testing
@testable import SimSiamData

/// Fuzzes `CIFAR10.parse` and, through a file, `CIFAR10.load`; pins the
/// rejection of a huge file by its length alone.
@Suite struct CIFAR10FuzzTests {
    /// The CI share: fixed, and a few seconds in a debug build.
    static let ciInputs = 5_000

    /// Rejections name the file as empty, its record length, or a label.
    static let fieldWords = ["empty", "record", "label"]

    static func target() -> FuzzTarget<DatasetError> {
        let mutator = ByteMutator(maximumLength: 5 * CIFARSketch.recordLength)
        return FuzzTarget(
            readerName: "cifar10", fieldWords: fieldWords, fileName: "test_batch.bin",
            makeInput: { random in FuzzInput(bytes: mutator.mutateSketch(of: CIFARSketch.seeds, structural: 0.6, random: &random)) },
            readData: { data, source in _ = try CIFAR10.parse(data, source: source) },
            readFile: { url in _ = try CIFAR10.load(directory: url.deletingLastPathComponent(), split: .test) })
    }

    @Test func survivesMutatedFiles() throws {
        try expectSurvivesFuzzing(Self.target(), ciInputs: Self.ciInputs)
    }

    @Test func theSeedsAreValidFiles() throws {
        for sketch in CIFARSketch.seeds {
            #expect(try CIFAR10.parse(Data(sketch.bytes), source: "seed").labels == sketch.labels)
        }
    }

    // MARK: Regressions

    /// CIFAR-10 has no header: the only size claim is the file's length. A
    /// sparse file of 2^40 + 1 bytes is rejected by that length before any
    /// read (it used to be read whole, failing only if the allocation did).
    @Test func aHugeFileOfPartialRecordsIsRejectedBeforeReading() throws {
        let directory = try ScratchDirectory.make()
        let url = directory.appendingPathComponent("test_batch.bin")
        try Data().write(to: url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: 1 << 40 + 1)
        try handle.close()
        expectOneLineRejection(DatasetError.self, source: url.path, containing: ["1099511627777 bytes", "record"]) {
            _ = try CIFAR10.load(directory: directory, split: .test)
        }
    }

    @Test func aLabelPastTheClassesIsNamedWithItsRecord() {
        let data = Data(CIFARSketch(labels: [1, 255]).bytes)
        expectOneLineRejection(DatasetError.self, source: "labels", containing: ["label 255", "record 1"]) {
            _ = try CIFAR10.parse(data, source: "labels")
        }
    }
}
