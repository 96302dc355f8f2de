import Foundation

/// An array read from an IDX file (the MNIST format): its dimensions and
/// its unsigned bytes in row-major order.
public struct IDXArray: Sendable, Equatable {
    /// The dimensions, outermost first.
    public let dims: [Int]
    /// The values, `dims.reduce(1, *)` of them.
    public let bytes: [UInt8]

    /// Creates an array; `bytes.count` must equal the product of `dims`.
    public init(dims: [Int], bytes: [UInt8]) {
        precondition(dims.reduce(1, *) == bytes.count, "IDX dims \(dims) need \(dims.reduce(1, *)) bytes")
        self.dims = dims
        self.bytes = bytes
    }
}

/// Reads IDX files, plain or gzip-compressed. Layout: two zero bytes, a type
/// code (only 0x08, unsigned byte, is supported), the number of dimensions,
/// each dimension as a big-endian UInt32, then the data.
public enum IDXFile {
    /// The type code of unsigned-byte data.
    public static let unsignedByteType: UInt8 = 0x08

    /// Reads the IDX file at `url`, decompressing it first when it starts
    /// with the gzip magic bytes.
    /// - Throws: `DatasetError` naming the file: missing (with the apt
    ///   package to install for files under /usr/share/datasets), bad magic,
    ///   unsupported type code, truncated or oversized data.
    public static func read(_ url: URL) throws -> IDXArray {
        guard FileManager.default.fileExists(atPath: url.path) else {
            var message = "IDX file \(url.path) does not exist"
            if url.standardizedFileURL.path.hasPrefix("/usr/share/datasets/") {
                message += "; install it with `apt-get install -y dataset-fashion-mnist`"
            }
            throw DatasetError(message)
        }
        let raw: Data
        do {
            raw = try Data(contentsOf: url)
        } catch {
            throw DatasetError("cannot read IDX file \(url.path): \(error.localizedDescription)")
        }
        let contents = Gzip.isCompressed(raw) ? try Gzip.decompress(fileAt: url) : raw
        return try parse(contents, source: url.path)
    }

    /// Parses uncompressed IDX bytes; `source` names them in errors.
    public static func parse(_ data: Data, source: String = "<memory>") throws -> IDXArray {
        let maximumHeaderLength = 4 + 4 * 255
        let bytes = [UInt8](data.prefix(maximumHeaderLength))
        func fail(_ problem: String) -> DatasetError { DatasetError("IDX file \(source) \(problem)") }
        guard bytes.count >= 4 else { throw fail("is too short (\(bytes.count) bytes) for the 4-byte magic") }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw fail("has bad magic \(hex(bytes[0..<4])): an IDX file starts with two zero bytes")
        }
        guard bytes[2] == unsignedByteType else {
            throw fail("has unsupported type code 0x\(String(bytes[2], radix: 16)); only 0x08 (unsigned byte) is supported")
        }
        let rank = Int(bytes[3])
        let headerLength = 4 + 4 * rank
        guard bytes.count >= headerLength else {
            throw fail("is truncated: \(rank) dimensions need \(headerLength) header bytes, file has \(bytes.count)")
        }
        let dims = (0..<rank).map { index in
            bytes[4 + 4 * index..<8 + 4 * index].reduce(0) { $0 << 8 | Int($1) }
        }
        let (count, overflow) = dims.reduce((1, false)) { partial, dimension in
            let (product, overflow) = partial.0.multipliedReportingOverflow(by: dimension)
            return (product, partial.1 || overflow)
        }
        guard !overflow else { throw fail("has dimensions \(dims) too large to address") }
        let available = data.count - headerLength
        guard available >= count else {
            throw fail("is truncated: dimensions \(dims) need \(count) data bytes, file has \(available)")
        }
        guard available == count else {
            throw fail("has \(available - count) unexpected bytes after the \(count) data bytes of dimensions \(dims)")
        }
        return IDXArray(dims: dims, bytes: [UInt8](data.dropFirst(headerLength)))
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
    }
}
