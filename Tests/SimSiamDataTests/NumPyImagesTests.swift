import Foundation
import SimSiamTestSupport
import Testing
@testable import SimSiamData

/// .npy and .npz files written by numpy itself (Fixtures/make_numpy_fixtures.py)
/// and, for the defects numpy never writes, by `NumPyWriter`.
@Suite struct NumPyImagesTests {
    static func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil)!
    }

    /// numpy's grey fixture: pixel k is 7k mod 256, N x H x W = 2 x 3 x 4.
    static let grey: [UInt8] = (0..<24).map { UInt8(7 * $0 % 256) }

    @Test func greyUInt8NHW() throws {
        let (train, test) = try NumPyImages.read(Self.fixture("grey-nhw-u1.npy"))
        #expect(test == nil && !train.labelled)
        #expect(train.images.shape == ImageShape(channels: 1, height: 3, width: 4) && train.images.count == 2)
        #expect(train.images.pixels == Self.grey)
    }

    @Test func versionTwoHeaderAndFloat64ReadTheSame() throws {
        #expect(try NumPyImages.read(Self.fixture("grey-v2.npy")).train.images.pixels == Self.grey)
        #expect(try NumPyImages.read(Self.fixture("grey-f8.npy")).train.images.pixels == Self.grey)  // k/255 scaled back
    }

    @Test func float32NCHWIsScaledFrom0To1() throws {
        let images = try NumPyImages.read(Self.fixture("rgb-nchw-f4.npy")).train.images
        #expect(images.shape == ImageShape(channels: 3, height: 2, width: 2) && images.count == 2)
        #expect(images.pixels == (0..<24).map { UInt8((Double(Float($0) / 23) * 255).rounded()) })
    }

    @Test func uint8NHWCBecomesCHW() throws {
        let images = try NumPyImages.read(Self.fixture("rgb-nhwc-u1.npy")).train.images
        #expect(images.shape == ImageShape(channels: 3, height: 2, width: 2))
        // Element (n, y, x, c) was 5 * (12n + 6y + 3x + c); CHW puts channel planes first.
        var expected: [UInt8] = []
        for n in 0..<2 { for c in 0..<3 { for y in 0..<2 { for x in 0..<2 { expected.append(UInt8(5 * (12 * n + 6 * y + 3 * x + c))) } } } }
        #expect(images.pixels == expected)
    }

    @Test func labelsComeFromAFlagFile() throws {
        let (train, _) = try NumPyImages.read(Self.fixture("grey-nhw-u1.npy"), labels: Self.fixture("labels-i8.npy"))
        #expect(train.labelled && train.images.labels == [1, 0])
    }

    @Test func storedNpzWithImagesAndLabels() throws {
        let (train, test) = try NumPyImages.read(Self.fixture("labelled.npz"))
        #expect(test == nil && train.labelled && train.images.labels == [3, 1] && train.images.pixels == Self.grey)
    }

    @Test func deflatedNpzWithKerasNamesHasBothSplits() throws {
        let (train, test) = try NumPyImages.read(Self.fixture("keras-style-deflated.npz"))
        #expect(train.images.labels == [0, 2] && test?.images.labels == [2, 1] && test?.labelled == true)
        // x_test is x_train with the images in reverse order.
        #expect(Array(test!.images.image(at: 0)) == Array(train.images.image(at: 1)))
    }

    @Test func fortranOrderIsRefusedWithWhatToDo() {
        let url = Self.fixture("fortran.npy")
        expectOneLineError(containing: ["NumPy file \(url.path)", "'fortran_order' True", "np.ascontiguousarray"]) {
            _ = try NumPyImages.read(url)
        }
    }

    @Test func aLabelsArrayOfTheWrongLengthIsNamedWithBothCounts() throws {
        let directory = try TestImages.temporaryDirectory()
        let labels = directory.appendingPathComponent("labels.npy")
        try Data(NumPyWriter.npy(int64: [0, 1, 2], shape: [3])).write(to: labels)
        let images = Self.fixture("grey-nhw-u1.npy")
        expectOneLineError(containing: ["labels file \(labels.path)", "'shape' (3,)", "3 labels for the 2 images of \(images.path)"]) {
            _ = try NumPyImages.read(images, labels: labels)
        }
    }

    /// Each defect numpy does not write, with the words its message must hold.
    @Test(arguments: [
        (NumPyWriter.npy(header: NumPyWriter.header(descr: "<f4", shape: [1, 2, 2]), data: [0, 0, 0x80, 0x3F] + [UInt8](repeating: 0, count: 8) + [0, 0, 0x20, 0x41]),
         ["value 10 at index [0, 1, 1]", "outside [0, 1]"]),
        (NumPyWriter.npy(header: NumPyWriter.header(descr: "<i8", shape: [1, 1, 1]), data: NumPyWriter.le64(256)), ["value 256", "0-255"]),
        (NumPyWriter.npy(header: NumPyWriter.header(descr: ">f4", shape: [1, 1, 1]), data: [0, 0, 0, 0]), ["'descr' '>f4'", "little-endian"]),
        (NumPyWriter.npy(header: NumPyWriter.header(descr: "|u1", shape: [2, 5]), data: [UInt8](repeating: 0, count: 10)), ["'shape' (2, 5)", "N x H x W"]),
        (NumPyWriter.npy(header: NumPyWriter.header(descr: "|u1", shape: [1, 4, 2, 2]), data: [UInt8](repeating: 0, count: 16)), ["'shape' (1, 4, 2, 2)", "C = 1 (grey) or 3 (RGB)"]),
        (NumPyWriter.npy(header: NumPyWriter.header(descr: "|u1", shape: [0, 2, 2]), data: []), ["'shape' (0, 2, 2)", "no images"]),
        (NumPyWriter.npy(header: NumPyWriter.header(descr: "|u1", shape: [1, 3, 3]), data: [1, 2]), ["truncated", "'shape' (1, 3, 3)", "needs 9 data bytes, the file has 2"]),
        (NumPyWriter.npy(header: "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]), ["'descr'", "structured"]),
        (NumPyWriter.npy(header: "{'descr': '|u1', 'shape': (1, 1, 1), }", data: [0]), ["no 'fortran_order'"]),
        (NumPyWriter.npy(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1, 1)", data: [0]), ["unreadable header", "expected ',' or '}'"]),
        (Array("PK\u{3}\u{4}".utf8), ["zip archive", "no end of central directory"]),
        ([0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0], ["format version 9.0"]),
        (Array("hello, world".utf8), ["bad magic"]),
    ] as [([UInt8], [String])])
    func aBadArrayIsNamedWithItsField(bytes: [UInt8], fragments: [String]) throws {
        let url = try TestImages.temporaryDirectory().appendingPathComponent("bad.npy")
        try Data(bytes).write(to: url)
        expectOneLineError(containing: [url.path] + fragments) { _ = try NumPyImages.read(url) }
    }

    @Test func zip64DirectoriesAndDeflatedEntriesRead() throws {
        let images = NumPyWriter.npy(uint8: Self.grey, shape: [2, 3, 4])
        let labels = NumPyWriter.npy(int64: [5, 6], shape: [2])
        let url = try TestImages.temporaryDirectory().appendingPathComponent("z64.npz")
        try Data(NumPyWriter.zip([.init(name: "x.npy", contents: images, deflated: true), .init(name: "y.npy", contents: labels)],
                                 zip64: true)).write(to: url)
        let (train, _) = try NumPyImages.read(url)
        #expect(train.images.pixels == Self.grey && train.images.labels == [5, 6])
    }

    @Test func aCorruptEntryIsNamedByItsCRC() throws {
        var archive = NumPyWriter.zip([.init(name: "x.npy", contents: NumPyWriter.npy(uint8: Self.grey, shape: [2, 3, 4]))])
        archive[30 + 5 + 130] ^= 1  // a pixel byte inside the stored entry
        let url = try TestImages.temporaryDirectory().appendingPathComponent("crc.npz")
        try Data(archive).write(to: url)
        expectOneLineError(containing: ["zip archive \(url.path) entry 'x.npy'", "CRC-32"]) { _ = try NumPyImages.read(url) }
    }

    @Test func anArchiveWithoutKnownNamesListsItsArrays() throws {
        let one = NumPyWriter.npy(uint8: [1], shape: [1, 1, 1])
        let url = try TestImages.temporaryDirectory().appendingPathComponent("names.npz")
        try Data(NumPyWriter.zip([.init(name: "a.npy", contents: one), .init(name: "b.npy", contents: one)])).write(to: url)
        expectOneLineError(containing: [url.path, "'a', 'b'", "none named 'images' or 'x'"]) { _ = try NumPyImages.read(url) }
    }

    @Test func aDeflatedEntryClaimingMoreThanDeflateCanGiveIsRefusedBeforeAllocating() throws {
        var archive = NumPyWriter.zip([.init(name: "x.npy", contents: [UInt8](repeating: 7, count: 200), deflated: true)])
        let directory = try #require((0..<archive.count - 3).first { archive[$0..<$0 + 4] == [0x50, 0x4B, 0x01, 0x02] })
        archive.replaceSubrange(directory + 24..<directory + 28, with: NumPyWriter.le32(0xFFFF_FFF0))
        let url = try TestImages.temporaryDirectory().appendingPathComponent("bomb.npz")
        try Data(archive).write(to: url)
        expectOneLineError(containing: ["entry 'x.npy'", "claims 4294967280 uncompressed bytes", "more than deflate can produce"]) {
            _ = try NumPyImages.read(url)
        }
    }
}
