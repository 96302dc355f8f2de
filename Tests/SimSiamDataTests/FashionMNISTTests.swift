import Foundation
import Testing
@testable import SimSiamData

@Suite struct FashionMNISTTests {
    let fixtures: IDXFixtures
    init() throws { fixtures = try IDXFixtures() }

    @Test(arguments: [true, false])
    func loadsASplit(compressed: Bool) throws {
        try fixtures.writeSplit(prefix: "t10k", imageCount: 3, labels: [0, 9, 4], compressed: compressed)
        let images = try FashionMNIST.load(directory: fixtures.directory, split: .test)
        #expect(images.count == 3)
        #expect(images.height == 2 && images.width == 3)
        #expect(images.labels == [0, 9, 4])
        #expect(images.pixels == (0..<18).map { UInt8($0) })
        #expect(Array(images.image(at: 1)) == [6, 7, 8, 9, 10, 11])
    }

    @Test func rejectsACountMismatch() throws {
        try fixtures.writeSplit(prefix: "train", imageCount: 3, labels: [1, 2], compressed: true)
        expectDatasetError(containing: ["train-images-idx3-ubyte.gz", "3 images", "train-labels-idx1-ubyte.gz", "2 labels"]) {
            _ = try FashionMNIST.load(directory: fixtures.directory, split: .train)
        }
    }

    @Test func rejectsALabelOutOfRange() throws {
        try fixtures.writeSplit(prefix: "train", imageCount: 2, labels: [1, 10], compressed: false)
        expectDatasetError(containing: ["train-labels-idx1-ubyte", "label 10", "index 1"]) {
            _ = try FashionMNIST.load(directory: fixtures.directory, split: .train)
        }
    }

    @Test func aMissingFileNamesTheCompressedPath() {
        expectDatasetError(containing: ["t10k-images-idx3-ubyte.gz", "does not exist"]) {
            _ = try FashionMNIST.load(directory: fixtures.directory, split: .test)
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory.path)))
    func readsTheInstalledTestSplit() throws {
        let images = try FashionMNIST.load(split: .test)
        #expect(images.count == 10_000)
        #expect(images.height == 28 && images.width == 28)
        #expect(images.pixels.count == 10_000 * 28 * 28)
        #expect(Set(images.labels) == Set(0..<10))
        #expect(images.labels.filter { $0 == 0 }.count == 1_000)
    }
}
