import Foundation

/// .npy and .npz files for tests, with every field settable, so that a test
/// or the fuzzer can make one lie.
public enum NumPyWriter {
    /// The header dict numpy writes for an array.
    public static func header(descr: String, shape: [Int], fortranOrder: Bool = false) -> String {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        return "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': (\(dims)), }"
    }

    /// A .npy file: magic, version, header length, `header` padded with
    /// spaces and a newline to a multiple of 64 bytes (as numpy pads), then `data`.
    public static func npy(header: String, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
        let lengthBytes = version == 1 ? 2 : 4
        let unpadded = 8 + lengthBytes + header.utf8.count + 1
        let text = header + String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = text.utf8.count
        let lengthField = (0..<lengthBytes).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
        return [0x93] + Array("NUMPY".utf8) + [version, 0] + lengthField + Array(text.utf8) + data
    }

    /// A .npy of `values` as uint8 with `shape`.
    public static func npy(uint8 values: [UInt8], shape: [Int]) -> [UInt8] {
        npy(header: header(descr: "|u1", shape: shape), data: values)
    }

    /// A .npy of `values` as little-endian float32 with `shape`.
    public static func npy(float32 values: [Float], shape: [Int]) -> [UInt8] {
        npy(header: header(descr: "<f4", shape: shape), data: values.flatMap { bytes(of: $0.bitPattern.littleEndian) })
    }

    /// A .npy of `values` as little-endian int64 (numpy's default integer) with `shape`.
    public static func npy(int64 values: [Int64], shape: [Int]) -> [UInt8] {
        npy(header: header(descr: "<i8", shape: shape), data: values.flatMap { bytes(of: $0.littleEndian) })
    }

    /// One file of an archive.
    public struct Entry: Sendable {
        public var name: String
        public var contents: [UInt8]
        public var deflated: Bool
        /// Fields written other than they should be, for tests of defects.
        public var lies = Lies()

        public init(name: String, contents: [UInt8], deflated: Bool = false) {
            self.name = name
            self.contents = contents
            self.deflated = deflated
        }
    }

    /// How an entry's central directory record lies (all zero: it does not).
    public struct Lies: Sendable {
        /// Written as the method instead of 0 or 8.
        public var method: UInt16?
        public var flags: UInt16 = 0
        public var crcXor: UInt32 = 0
        public var compressedSizeDelta = 0
        public var uncompressedSizeDelta = 0
        public var offsetDelta = 0

        public init() {}
    }

    /// How the end of central directory record lies.
    public struct ArchiveLies: Sendable {
        public var countDelta = 0
        public var directorySizeDelta = 0
        public var directoryOffsetDelta = 0
        /// Bytes appended as the archive comment (its length field is right).
        public var comment: [UInt8] = []

        public init() {}
    }

    /// A zip archive of `entries` (what numpy.savez writes), with 64-bit
    /// sizes and offsets in zip64 records when `zip64` is set.
    public static func zip(_ entries: [Entry], zip64: Bool = false, lies: ArchiveLies = ArchiveLies()) -> [UInt8] {
        var output: [UInt8] = [], directory: [UInt8] = []
        for entry in entries {
            let stored = entry.deflated ? TestImages.deflate(entry.contents) : entry.contents
            let name = Array(entry.name.utf8)
            let crc = TestImages.crc32(entry.contents)
            let method = entry.deflated ? UInt16(8) : 0
            let offset = output.count
            output += le32(0x0403_4B50) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0) + le32(crc)
                + le32(UInt32(stored.count)) + le32(UInt32(entry.contents.count)) + le16(UInt16(name.count)) + le16(0) + name
                + stored
            let lie = entry.lies
            let compressed = UInt64(truncatingIfNeeded: stored.count + lie.compressedSizeDelta)
            let uncompressed = UInt64(truncatingIfNeeded: entry.contents.count + lie.uncompressedSizeDelta)
            let localOffset = UInt64(truncatingIfNeeded: offset + lie.offsetDelta)
            let extra = zip64 ? le16(1) + le16(24) + le64(uncompressed) + le64(compressed) + le64(localOffset) : []
            let sizes = zip64 ? le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF)
                : le32(UInt32(truncatingIfNeeded: compressed)) + le32(UInt32(truncatingIfNeeded: uncompressed))
            directory += le32(0x0201_4B50) + le16(45) + le16(20) + le16(lie.flags) + le16(lie.method ?? method) + le16(0) + le16(0)
                + le32(crc ^ lie.crcXor) + sizes + le16(UInt16(name.count)) + le16(UInt16(extra.count)) + le16(0) + le16(0)
                + le16(0) + le32(0) + le32(zip64 ? 0xFFFF_FFFF : UInt32(truncatingIfNeeded: localOffset)) + name + extra
        }
        let count = UInt64(truncatingIfNeeded: entries.count + lies.countDelta)
        let directorySize = UInt64(truncatingIfNeeded: directory.count + lies.directorySizeDelta)
        let directoryOffset = UInt64(truncatingIfNeeded: output.count + lies.directoryOffsetDelta)
        output += directory
        let comment = le16(UInt16(truncatingIfNeeded: lies.comment.count)) + lies.comment
        if zip64 {
            let record = output.count
            output += le32(0x0606_4B50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0) + le64(count) + le64(count)
                + le64(directorySize) + le64(directoryOffset)
            output += le32(0x0706_4B50) + le32(0) + le64(UInt64(record)) + le32(1)
            return output + le32(0x0605_4B50) + le16(0) + le16(0) + le16(0xFFFF) + le16(0xFFFF) + le32(0xFFFF_FFFF)
                + le32(0xFFFF_FFFF) + comment
        }
        return output + le32(0x0605_4B50) + le16(0) + le16(0) + le16(UInt16(truncatingIfNeeded: count))
            + le16(UInt16(truncatingIfNeeded: count)) + le32(UInt32(truncatingIfNeeded: directorySize))
            + le32(UInt32(truncatingIfNeeded: directoryOffset)) + comment
    }

    public static func le16(_ value: UInt16) -> [UInt8] { bytes(of: value.littleEndian) }
    public static func le32(_ value: UInt32) -> [UInt8] { bytes(of: value.littleEndian) }
    public static func le64(_ value: UInt64) -> [UInt8] { bytes(of: value.littleEndian) }

    static func bytes<T>(of value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
}
