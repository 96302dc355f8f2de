import Foundation
import SimSiamTestSupport
import Testing
@testable import SimSiamData

/// Folders of PNG and JPEG files: layouts, labels, conversion to one shape,
/// and every bad folder or file named in its error.
@Suite struct ImageFolderTests {
    let directory: URL
    init() throws { directory = try TestImages.temporaryDirectory("simsiamc-folder") }

    /// Writes a PNG of `width` x `height` with `channels`, filled with `value`.
    @discardableResult
    func png(_ path: String, width: Int = 4, height: Int = 4, channels: Int = 1, value: UInt8 = 100) throws -> URL {
        let url = directory.appendingPathComponent(path)
        let pixels = [UInt8](repeating: value, count: width * height * channels)
        try TestImages.write(TestImages.png(pixels, width: width, height: height, channels: channels), to: url)
        return url
    }

    let grey4 = ImageShape(channels: 1, height: 4, width: 4)

    @Test func classFoldersAreLabelledInSortedOrderAndConvertedToOneShape() throws {
        try png("dog/b.png", width: 8, height: 6, channels: 3, value: 200)
        try png("dog/a.png", value: 50)
        try png("cat/nested/x.png", width: 4, height: 4, channels: 1, value: 10)
        let url = directory.appendingPathComponent("cat/y.jpg")
        try TestImages.write(TestImages.jpeg([UInt8](repeating: 30, count: 48), width: 4, height: 4, channels: 3), to: url)
        try Data("notes".utf8).write(to: directory.appendingPathComponent("dog/README.txt"))

        let (layout, ignored) = try ImageFolder.scan(directory)
        #expect(ignored == 1)
        guard case .classes(let classes) = layout else { Issue.record("expected class folders"); return }
        #expect(classes.map(\.name) == ["cat", "dog"])
        #expect(classes[0].files.map(\.lastPathComponent) == ["x.png", "y.jpg"])  // recursive, depth first in name order
        let (images, skipped, statistics) = try ImageFolder.load(layout, shape: grey4, skipBadImages: false, threads: 2)
        #expect(skipped.isEmpty)
        #expect(images.count == 4 && images.shape == grey4)
        #expect(images.labels == [0, 0, 1, 1])
        #expect(Array(images.image(at: 0)) == [UInt8](repeating: 10, count: 16))
        #expect(Array(images.image(at: 2)) == [UInt8](repeating: 50, count: 16))
        #expect(Array(images.image(at: 3)) == [UInt8](repeating: 200, count: 16))  // grey of (200, 200, 200)
        #expect(statistics.resized == 1 && statistics.recoloured == 2)
        #expect(statistics.summary == "resized 1 of 4 images (heights 4-6, widths 4-8) to 4x4; converted 2 from RGB to grey")
    }

    @Test func aSymbolicLinkLoopInAClassFolderIsReadOnce() throws {
        try png("cat/1.png")
        try FileManager.default.createSymbolicLink(at: directory.appendingPathComponent("cat/loop"), withDestinationURL: directory)
        let (layout, _) = try ImageFolder.scan(directory)
        guard case .classes(let classes) = layout else { Issue.record("expected class folders"); return }
        // cat/1.png, then through the link the top folder once more: cat/loop/cat/... is not entered again.
        #expect(classes[0].files.map(\.lastPathComponent) == ["1.png"])
    }

    @Test func aFlatFolderIsUnlabelled() throws {
        try png("b.png")
        try png("a.png")
        let (layout, _) = try ImageFolder.scan(directory)
        #expect(layout == .unlabelled([directory.appendingPathComponent("a.png"), directory.appendingPathComponent("b.png")]))
    }

    @Test func trainAndTestSubfoldersAreTheSplits() throws {
        try png("train/a/1.png")
        try png("val/a/1.png")
        let folders = ImageFolder.splitFolders(directory)
        #expect(folders.train.lastPathComponent == "train" && folders.test?.lastPathComponent == "val")
        #expect(ImageFolder.splitFolders(directory.appendingPathComponent("train")).test == nil)
    }

    @Test func anEmptyClassFolderIsNamed() throws {
        try png("cat/1.png")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("dog"), withIntermediateDirectories: true)
        try Data().write(to: directory.appendingPathComponent("dog/notes.txt"))
        expectOneLineError(containing: ["class folder \(directory.path)/dog holds no .png, .jpg or .jpeg files", "remove it"]) {
            _ = try ImageFolder.scan(directory)
        }
    }

    @Test func imagesNextToSubfoldersAreRefused() throws {
        try png("cat/1.png")
        try png("stray.png")
        expectOneLineError(containing: [directory.path, "both image files (stray.png", "subfolders (cat"]) {
            _ = try ImageFolder.scan(directory)
        }
    }

    @Test func aFolderWithoutImagesIsNamed() throws {
        try Data().write(to: directory.appendingPathComponent("notes.txt"))
        expectOneLineError(containing: [directory.path, "holds no .png, .jpg or .jpeg files"]) { _ = try ImageFolder.scan(directory) }
    }

    @Test func aCorruptImageStopsTheLoadNamingTheFileAndTheFlag() throws {
        try png("cat/1.png")
        let bad = directory.appendingPathComponent("cat/2.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).write(to: bad)
        let (layout, _) = try ImageFolder.scan(directory)
        expectOneLineError(containing: ["PNG file \(bad.path) cannot be decoded", "--skip-bad-images"]) {
            _ = try ImageFolder.load(layout, shape: grey4, skipBadImages: false)
        }
    }

    @Test func skippingLeavesBadFilesOutAndCountsThem() throws {
        try png("cat/1.png", value: 1)
        try Data("not an image".utf8).write(to: directory.appendingPathComponent("cat/2.jpg"))
        try png("dog/3.png", value: 3)
        let (layout, _) = try ImageFolder.scan(directory)
        let (images, skipped, _) = try ImageFolder.load(layout, shape: grey4, skipBadImages: true)
        #expect(images.count == 2 && images.labels == [0, 1] && images.image(at: 1).first == 3)
        #expect(skipped.count == 1 && skipped[0].message.contains("2.jpg is neither PNG nor JPEG"))
    }

    @Test func aClassWhoseEveryImageIsBadIsAnErrorEvenWhenSkipping() throws {
        try png("cat/1.png")
        try TestImages.write(Array("junk".utf8), to: directory.appendingPathComponent("dog/2.png"))
        let (layout, _) = try ImageFolder.scan(directory)
        expectOneLineError(containing: ["class folder \(directory.path)/dog has no readable image", "all 1 of its files"]) {
            _ = try ImageFolder.load(layout, shape: grey4, skipBadImages: true)
        }
    }

    @Test func detectionTellsFormatsApart() throws {
        try png("cat/1.png")
        #expect(try DatasetSource.detect(directory) == .imageFolder(directory))
        let npy = directory.appendingPathComponent("data.npy")
        try Data(NumPyWriter.npy(uint8: [1], shape: [1, 1, 1])).write(to: npy)
        #expect(try DatasetSource.detect(npy) == .numpy(npy))
        let other = directory.appendingPathComponent("notes.txt")
        try Data("x".utf8).write(to: other)
        expectOneLineError(containing: [other.path, "is a file but not a NumPy .npy or .npz file"]) { _ = try DatasetSource.detect(other) }
        #expect(try DatasetSource.detect(directory.appendingPathComponent("missing")) == nil)
        let cifar = directory.appendingPathComponent("cifar/cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: cifar, withIntermediateDirectories: true)
        try Data().write(to: cifar.appendingPathComponent("test_batch.bin"))
        #expect(try DatasetSource.detect(cifar.deletingLastPathComponent()) == .cifar10(cifar.deletingLastPathComponent()))
    }
}
