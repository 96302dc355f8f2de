import Foundation
import Testing
@testable import SimSiamRuntime

@Suite struct SafeTensorsTests {
    static let sample: [(name: String, tensor: HostTensor)] = [
        ("weights", HostTensor(shape: [2, 3], floats: [1, -2, 3.5, 4, 5, 6.25])),
        ("bias", HostTensor(shape: [4], doubles: [0.1, 0.2, -0.3, 1e-300])),
        ("steps", HostTensor(shape: [], int64s: [Int64.max])),
        ("empty", HostTensor(shape: [0, 5], floats: [])),
    ]

    @Test func roundTripsThroughAFile() throws {
        let directory = try ToyLibraryFixture.temporaryDirectory()
        let url = directory.appendingPathComponent("sample.safetensors")
        try SafeTensors.write(Self.sample, metadata: ["format": "pt", "epoch": "3"], to: url)
        let file = try SafeTensors.read(url: url)
        #expect(file.names == Self.sample.map(\.name))
        for (name, tensor) in Self.sample {
            #expect(file.tensor(named: name) == tensor, "\(name)")
        }
        #expect(file.metadata == ["format": "pt", "epoch": "3"])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(leftovers == ["sample.safetensors"])
    }

    @Test func overwritesAnExistingFile() throws {
        let url = try ToyLibraryFixture.temporaryDirectory().appendingPathComponent("t.safetensors")
        try SafeTensors.write([("a", HostTensor(shape: [1], floats: [1]))], to: url)
        try SafeTensors.write([("b", HostTensor(shape: [1], floats: [2]))], to: url)
        #expect(try SafeTensors.read(url: url).names == ["b"])
    }

    @Test func encodingIsDeterministicWithSortedPaddedHeader() throws {
        let first = try SafeTensors.encode(Self.sample, metadata: ["b": "2", "a": "1"])
        let second = try SafeTensors.encode(Self.sample, metadata: ["a": "1", "b": "2"])
        #expect(first == second)
        let headerLength = Int(first.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        #expect(headerLength % 8 == 0)
    }

    /// The bytes of a two-tensor file, built by hand following the format.
    static func handMadeFile() -> (bytes: [UInt8], header: String) {
        let header = #"{"__metadata__":{"k":"v"},"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]},"#
            + #""n":{"data_offsets":[8,16],"dtype":"I64","shape":[]}}"#
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var bytes: [UInt8] = []
        var length = UInt64(headerBytes.count)
        for _ in 0..<8 {
            bytes.append(UInt8(length & 0xff))
            length >>= 8
        }
        bytes += headerBytes
        bytes += [0x00, 0x00, 0x80, 0x3f]  // 1.0f
        bytes += [0x00, 0x00, 0x20, 0xc0]  // -2.5f
        bytes += [42, 0, 0, 0, 0, 0, 0, 0]  // Int64 42
        return (bytes, header)
    }

    @Test func readsHandMadeBytes() throws {
        let file = try SafeTensors.decode(Data(Self.handMadeFile().bytes), source: "hand.safetensors")
        #expect(file.names == ["a", "n"])
        #expect(file.tensor(named: "a") == HostTensor(shape: [2], floats: [1, -2.5]))
        #expect(file.tensor(named: "n") == HostTensor(shape: [], int64s: [42]))
        #expect(file.metadata == ["k": "v"])
    }

    @Test func writesTheSameBytesAsTheHandMadeFile() throws {
        let tensors: [(name: String, tensor: HostTensor)] = [
            ("a", HostTensor(shape: [2], floats: [1, -2.5])), ("n", HostTensor(shape: [], int64s: [42])),
        ]
        let encoded = try SafeTensors.encode(tensors, metadata: ["k": "v"])
        #expect([UInt8](encoded) == Self.handMadeFile().bytes)
    }

    @Test func rejectsDuplicateAndReservedNames() {
        let tensor = HostTensor(shape: [1], floats: [0])
        expectRuntimeError(containing: ["'a'", "twice"]) { _ = try SafeTensors.encode([("a", tensor), ("a", tensor)]) }
        expectRuntimeError(containing: ["__metadata__"]) { _ = try SafeTensors.encode([("__metadata__", tensor)]) }
    }

    // MARK: Corrupt files

    private func write(_ bytes: [UInt8], name: String) throws -> URL {
        let url = try ToyLibraryFixture.temporaryDirectory().appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// A hand-made file whose header is `header` and whose data is `dataBytes` zeros.
    private func file(header: String, dataBytes: Int) -> [UInt8] {
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        return withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian, Array.init) + headerBytes
            + [UInt8](repeating: 0, count: dataBytes)
    }

    @Test func rejectsAFileTooShortForTheHeaderLength() throws {
        let url = try write([1, 2, 3, 4], name: "short.safetensors")
        expectRuntimeError(containing: [url.path, "too short"]) { _ = try SafeTensors.read(url: url) }
    }

    @Test func rejectsAHeaderLengthBeyondTheFile() throws {
        var bytes = Self.handMadeFile().bytes
        bytes[0...7] = [0xff, 0xff, 0, 0, 0, 0, 0, 0]
        let url = try write(bytes, name: "long-header.safetensors")
        expectRuntimeError(containing: [url.path, "header"]) { _ = try SafeTensors.read(url: url) }
    }

    @Test func rejectsATruncatedFile() throws {
        let url = try write(Array(Self.handMadeFile().bytes.dropLast(4)), name: "truncated.safetensors")
        expectRuntimeError(containing: [url.path, "'n'", "data_offsets"]) { _ = try SafeTensors.read(url: url) }
    }

    @Test func rejectsInvalidJSON() throws {
        let url = try write(file(header: "{not json", dataBytes: 0), name: "json.safetensors")
        expectRuntimeError(containing: [url.path, "JSON"]) { _ = try SafeTensors.read(url: url) }
    }

    @Test func rejectsAnUnknownDType() throws {
        let header = #"{"half":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#
        let url = try write(file(header: header, dataBytes: 4), name: "dtype.safetensors")
        expectRuntimeError(containing: [url.path, "'half'", "BF16"]) { _ = try SafeTensors.read(url: url) }
    }

    @Test func rejectsOffsetsInconsistentWithTheShape() throws {
        let header = #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        let url = try write(file(header: header, dataBytes: 8), name: "shape.safetensors")
        expectRuntimeError(containing: [url.path, "'w'", "[3]", "needs 12"]) { _ = try SafeTensors.read(url: url) }
    }

    @Test func rejectsAMalformedShape() throws {
        let header = #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#
        let url = try write(file(header: header, dataBytes: 4), name: "badshape.safetensors")
        expectRuntimeError(containing: [url.path, "'w'", "shape"]) { _ = try SafeTensors.read(url: url) }
    }

    @Test func reportsAMissingFile() {
        expectRuntimeError(containing: ["/nonexistent/x.safetensors"]) {
            _ = try SafeTensors.read(url: URL(fileURLWithPath: "/nonexistent/x.safetensors"))
        }
    }
}
