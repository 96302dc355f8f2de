import Foundation
import Testing
@testable import SimSiamData

@Suite struct CIFAR10Tests {
    let fixtures: IDXFixtures
    init() throws { fixtures = try IDXFixtures() }

    /// Records whose pixel bytes are (record seed + position) mod 256.
    static func records(labels: [UInt8], seed: Int) -> [UInt8] {
        labels.enumerated().flatMap { record, label in
            [label] + (0..<3072).map { UInt8((seed + 7 * record + $0) % 256) }
        }
    }

    @Test func loadsTheTestSplit() throws {
        try fixtures.write(Self.records(labels: [3, 9, 0], seed: 5), name: "test_batch.bin")
        let images = try CIFAR10.load(directory: fixtures.directory, split: .test)
        #expect(images.count == 3 && images.channels == 3 && images.height == 32 && images.width == 32)
        #expect(images.labels == [3, 9, 0])
        let second = Array(images.image(at: 1))
        #expect(second.count == 3072)
        #expect(second[0] == 12 && second[1024] == UInt8((5 + 7 + 1024) % 256))
    }

    @Test func concatenatesTheFiveTrainingBatchesInOrder() throws {
        for batch in 1...5 {
            try fixtures.write(Self.records(labels: [UInt8(batch), UInt8(batch)], seed: batch), name: "data_batch_\(batch).bin")
        }
        let images = try CIFAR10.load(directory: fixtures.directory, split: .train)
        #expect(images.count == 10)
        #expect(images.labels == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        #expect(images.image(at: 4).first == 3)
    }

    @Test func findsTheUnpackedArchiveFolder() throws {
        let nested = fixtures.directory.appendingPathComponent(CIFAR10.archiveDirectoryName)
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        try Data(Self.records(labels: [1], seed: 0)).write(to: nested.appendingPathComponent("test_batch.bin"))
        #expect(try CIFAR10.load(directory: fixtures.directory, split: .test).labels == [1])
    }

    @Test func aMissingFileSaysWhereToGetIt() {
        expectDatasetError(containing: ["test_batch.bin", "does not exist", CIFAR10.downloadURL, "--data"]) {
            _ = try CIFAR10.load(directory: fixtures.directory, split: .test)
        }
    }

    @Test func aMissingLaterBatchIsNamed() throws {
        for batch in [1, 2, 3, 5] {
            try fixtures.write(Self.records(labels: [0], seed: 0), name: "data_batch_\(batch).bin")
        }
        expectDatasetError(containing: ["data_batch_4.bin", "does not exist"]) {
            _ = try CIFAR10.load(directory: fixtures.directory, split: .train)
        }
    }

    @Test func rejectsATruncatedFile() throws {
        let url = try fixtures.write(Array(Self.records(labels: [1, 2], seed: 0).dropLast(10)), name: "test_batch.bin")
        expectDatasetError(containing: [url.path, "6136 bytes", "3073"]) {
            _ = try CIFAR10.load(directory: fixtures.directory, split: .test)
        }
    }

    @Test func rejectsAnEmptyFile() throws {
        let url = try fixtures.write([], name: "test_batch.bin")
        expectDatasetError(containing: [url.path, "empty"]) {
            _ = try CIFAR10.load(directory: fixtures.directory, split: .test)
        }
    }

    @Test func rejectsALabelOutOfRange() throws {
        let url = try fixtures.write(Self.records(labels: [4, 10], seed: 0), name: "test_batch.bin")
        expectDatasetError(containing: [url.path, "label 10", "record 1"]) {
            _ = try CIFAR10.load(directory: fixtures.directory, split: .test)
        }
    }
}
