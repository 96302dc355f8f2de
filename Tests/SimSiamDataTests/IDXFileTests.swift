import Foundation
import Testing
@testable import SimSiamData

/// Expects `body` to throw a `DatasetError` whose message contains every fragment.
func expectDatasetError(
    containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    let error = #expect(throws: DatasetError.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return }
    for fragment in fragments {
        #expect(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", sourceLocation: sourceLocation)
    }
}

@Suite struct IDXFileTests {
    let fixtures: IDXFixtures
    init() throws { fixtures = try IDXFixtures() }

    @Test func readsAPlainFile() throws {
        let url = try fixtures.write(IDXFixtures.idxBytes(dims: [2, 3], data: [1, 2, 3, 4, 5, 255]), name: "plain")
        #expect(try IDXFile.read(url) == IDXArray(dims: [2, 3], bytes: [1, 2, 3, 4, 5, 255]))
    }

    @Test func readsAGzipFile() throws {
        let data = (0..<300_000).map { UInt8($0 % 251) }
        let url = try fixtures.writeGzip(IDXFixtures.idxBytes(dims: [300, 1000], data: data), name: "big")
        let array = try IDXFile.read(url)
        #expect(array.dims == [300, 1000])
        #expect(array.bytes == data)
    }

    @Test func readsLargeDimensions() throws {
        let url = try fixtures.write(IDXFixtures.idxBytes(dims: [70_000], data: [UInt8](repeating: 7, count: 70_000)), name: "wide")
        #expect(try IDXFile.read(url).dims == [70_000])
    }

    @Test func rejectsBadMagic() throws {
        let url = try fixtures.write([0x50, 0x4b, 0x08, 0x01, 0, 0, 0, 0], name: "zip")
        expectDatasetError(containing: [url.path, "magic"]) { _ = try IDXFile.read(url) }
    }

    @Test func rejectsAnUnsupportedTypeCode() throws {
        let url = try fixtures.write(IDXFixtures.idxBytes(dims: [1], data: [0, 0, 0, 0], type: 0x0d), name: "floats")
        expectDatasetError(containing: [url.path, "0xd", "0x08"]) { _ = try IDXFile.read(url) }
    }

    @Test func rejectsTruncatedData() throws {
        let url = try fixtures.write(IDXFixtures.idxBytes(dims: [2, 3], data: [1, 2, 3]), name: "short")
        expectDatasetError(containing: [url.path, "truncated", "6", "3"]) { _ = try IDXFile.read(url) }
        let header = try fixtures.write([0, 0, 8, 3, 0, 0], name: "header")
        expectDatasetError(containing: [header.path, "truncated"]) { _ = try IDXFile.read(header) }
    }

    @Test func rejectsATruncatedGzipFile() throws {
        let url = try fixtures.writeGzip(IDXFixtures.idxBytes(dims: [1000], data: [UInt8](repeating: 1, count: 1000)), name: "cut")
        let compressed = try Data(contentsOf: url)
        try compressed.prefix(compressed.count / 2).write(to: url)
        expectDatasetError(containing: [url.path]) { _ = try IDXFile.read(url) }
    }

    @Test func rejectsTrailingBytes() throws {
        let url = try fixtures.write(IDXFixtures.idxBytes(dims: [2], data: [1, 2, 3]), name: "long")
        expectDatasetError(containing: [url.path, "unexpected"]) { _ = try IDXFile.read(url) }
    }

    @Test func aMissingFileNamesIt() {
        let url = fixtures.directory.appendingPathComponent("absent")
        expectDatasetError(containing: [url.path, "does not exist"]) { _ = try IDXFile.read(url) }
    }

    @Test func aMissingSystemDatasetSaysWhatToInstall() {
        let url = URL(fileURLWithPath: "/usr/share/datasets/nonexistent-dataset/x-idx1-ubyte.gz")
        expectDatasetError(containing: [url.path, "apt-get install -y dataset-fashion-mnist"]) { _ = try IDXFile.read(url) }
    }
}
