import CDecoders
import Foundation

/// The entries of a zip archive (an .npz file is one), read from its central
/// directory, zip64 included. Entries are stored or deflated; deflated ones
/// are inflated by zlib and checked against their CRC-32.
struct ZipArchive {
    /// One file in the archive, as the central directory describes it.
    struct Entry {
        var name: String
        var flags: UInt16
        var method: UInt16
        var crc32: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    /// deflate cannot expand its input by more than 1032:1 (258-byte matches
    /// in ~2 bits), so a larger claimed size is a lie, refused before allocating.
    static let maximumDeflateRatio = 1_032

    let data: Data
    let source: String
    let entries: [Entry]

    /// Reads the central directory of the archive in `data`; `source` names it in errors.
    /// - Throws: `DatasetError` naming the source and the zip record at fault.
    init(_ data: Data, source: String) throws {
        self.data = data
        self.source = source
        let reader = ByteReader(data: data, source: "zip archive \(source)")
        // The end-of-central-directory record: 22 bytes plus a comment of up to 65,535.
        let searchStart = max(0, data.count - 22 - 65_535)
        guard let end = stride(from: data.count - 22, through: searchStart, by: -1)
            .first(where: { reader.uint32(at: $0) == 0x0605_4B50 })
        else {
            throw DatasetError("zip archive \(source) has no end of central directory record: it is not a zip (.npz) file, or is truncated")
        }
        var entryCount = Int(try reader.uint16(end + 10, "end of central directory"))
        var directorySize = Int(try reader.uint32(end + 12, "end of central directory"))
        var directoryOffset = Int(try reader.uint32(end + 16, "end of central directory"))
        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // zip64: a locator just before the record points at the 64-bit record.
            guard end >= 20, reader.uint32(at: end - 20) == 0x0706_4B50 else {
                throw DatasetError("zip archive \(source) has a zip64-sized end of central directory record but no zip64 locator")
            }
            let record = try reader.offset(try reader.uint64(end - 12, "zip64 locator"), "zip64 locator")
            guard reader.uint32(at: record) == 0x0606_4B50 else {
                throw DatasetError("zip archive \(source) has a zip64 locator pointing at byte \(record), where no zip64 end of central directory record is")
            }
            entryCount = try reader.offset(try reader.uint64(record + 32, "zip64 end of central directory"), "zip64 entry count")
            directorySize = try reader.offset(try reader.uint64(record + 40, "zip64 end of central directory"), "zip64 directory size")
            directoryOffset = try reader.offset(try reader.uint64(record + 48, "zip64 end of central directory"), "zip64 directory offset")
        }
        guard directoryOffset <= data.count, directorySize <= data.count - directoryOffset else {
            throw DatasetError("zip archive \(source) has a central directory (\(directorySize) bytes at \(directoryOffset)) "
                + "beyond its \(data.count) bytes: truncated?")
        }
        // Each entry takes at least 46 bytes, which bounds a claimed count before any allocation.
        guard entryCount <= directorySize / 46 else {
            throw DatasetError("zip archive \(source) claims \(entryCount) entries in a \(directorySize)-byte central directory")
        }
        var entries: [Entry] = []
        var position = directoryOffset
        for index in 0..<entryCount {
            let what = "central directory entry \(index)"
            guard reader.uint32(at: position) == 0x0201_4B50 else {
                throw DatasetError("zip archive \(source) has no \(what) signature at byte \(position)")
            }
            var entry = Entry(
                name: "", flags: try reader.uint16(position + 8, what), method: try reader.uint16(position + 10, what),
                crc32: try reader.uint32(position + 16, what), compressedSize: Int(try reader.uint32(position + 20, what)),
                uncompressedSize: Int(try reader.uint32(position + 24, what)),
                localHeaderOffset: Int(try reader.uint32(position + 42, what)))
            let nameLength = Int(try reader.uint16(position + 28, what))
            let extraLength = Int(try reader.uint16(position + 30, what))
            let commentLength = Int(try reader.uint16(position + 32, what))
            entry.name = String(decoding: try reader.bytes(position + 46, nameLength, what), as: UTF8.self)
            try Self.applyZip64(try reader.bytes(position + 46 + nameLength, extraLength, what), to: &entry, source: source,
                                data: data)
            entries.append(entry)
            position += 46 + nameLength + extraLength + commentLength
        }
        self.entries = entries
    }

    /// Replaces the 32-bit fields set to 0xFFFFFFFF with the zip64 extra field's 64-bit values.
    private static func applyZip64(_ extra: [UInt8], to entry: inout Entry, source: String, data: Data) throws {
        var position = 0
        while position + 4 <= extra.count {
            let id = Int(extra[position]) | Int(extra[position + 1]) << 8
            let size = Int(extra[position + 2]) | Int(extra[position + 3]) << 8
            let body = Array(extra[min(extra.count, position + 4)..<min(extra.count, position + 4 + size)])
            position += 4 + size
            guard id == 0x0001 else { continue }
            var values = stride(from: 0, to: body.count - 7, by: 8).map { offset in
                body[offset..<offset + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            }[...]
            let what = "zip64 field of entry '\(entry.name.prefix(80))'"
            // Only the uncompressed size may exceed the archive; the deflate ratio bounds it later.
            func next(withinArchive: Bool) throws -> Int {
                guard let value = values.popFirst() else {
                    throw DatasetError("zip archive \(source) has a \(what) missing a 64-bit size or offset")
                }
                guard value <= (withinArchive ? UInt64(data.count) : UInt64(Int.max)) else {
                    throw DatasetError("zip archive \(source) has a \(what) of \(value), beyond its \(data.count) bytes")
                }
                return Int(value)
            }
            if entry.uncompressedSize == 0xFFFF_FFFF { entry.uncompressedSize = try next(withinArchive: false) }
            if entry.compressedSize == 0xFFFF_FFFF { entry.compressedSize = try next(withinArchive: true) }
            if entry.localHeaderOffset == 0xFFFF_FFFF { entry.localHeaderOffset = try next(withinArchive: true) }
        }
    }

    /// The uncompressed bytes of `entry`.
    /// - Throws: `DatasetError` naming the archive and the entry: encrypted, an
    ///   unsupported method, sizes beyond the archive, a corrupt deflate
    ///   stream, or a CRC-32 that does not match.
    func contents(of entry: Entry) throws -> Data {
        let what = "entry '\(entry.name.prefix(80))'"
        func fail(_ problem: String) -> DatasetError { DatasetError("zip archive \(source) \(what) \(problem)") }
        guard entry.flags & 1 == 0 else { throw fail("is encrypted; save the arrays with numpy.savez, without a password") }
        let reader = ByteReader(data: data, source: "zip archive \(source)")
        guard reader.uint32(at: entry.localHeaderOffset) == 0x0403_4B50 else {
            throw fail("has no local header signature at byte \(entry.localHeaderOffset)")
        }
        let nameLength = Int(try reader.uint16(entry.localHeaderOffset + 26, "local header of \(what)"))
        let extraLength = Int(try reader.uint16(entry.localHeaderOffset + 28, "local header of \(what)"))
        let start = entry.localHeaderOffset + 30 + nameLength + extraLength
        guard start <= data.count, entry.compressedSize <= data.count - start else {
            throw fail("has \(entry.compressedSize) compressed bytes at byte \(start), beyond the archive's \(data.count): truncated?")
        }
        let compressed = data.dropFirst(start).prefix(entry.compressedSize)
        let contents: Data
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw fail("is stored (method 0) with compressed size \(entry.compressedSize) but uncompressed size \(entry.uncompressedSize)")
            }
            contents = compressed
        case 8:
            let (limit, overflow) = entry.compressedSize.multipliedReportingOverflow(by: Self.maximumDeflateRatio)
            guard overflow || entry.uncompressedSize <= limit + 1_024 else {
                throw fail("claims \(entry.uncompressedSize) uncompressed bytes from \(entry.compressedSize) deflated ones, "
                    + "more than deflate can produce")
            }
            contents = try Self.inflate(compressed, size: entry.uncompressedSize, fail: fail)
        default:
            throw fail("uses compression method \(entry.method); only stored (0) and deflated (8) entries are read, as numpy writes them")
        }
        let crc = contents.withUnsafeBytes { cdec_crc32($0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
        guard crc == entry.crc32 else {
            throw fail(String(format: "has CRC-32 %08x but the central directory says %08x: the archive is corrupt", crc, entry.crc32))
        }
        return contents
    }

    private static func inflate(_ compressed: Data, size: Int, fail: (String) -> DatasetError) throws -> Data {
        var output = Data(count: size)
        var message = [CChar](repeating: 0, count: 256)
        let status = compressed.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                cdec_inflate_raw(input.bindMemory(to: UInt8.self).baseAddress, input.count,
                                 out.bindMemory(to: UInt8.self).baseAddress, size, &message, message.count)
            }
        }
        guard status == CDEC_OK else {
            throw fail("has a bad deflate stream: " + String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return output
    }
}

/// Bounds-checked little-endian reads from an archive.
private struct ByteReader {
    let data: Data
    let source: String

    /// The 32-bit value at `offset`, or nil past the end (for signature probes).
    func uint32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset <= data.count - 4 else { return nil }
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[data.startIndex + offset + $1]) << (8 * $1) }
    }

    func uint16(_ offset: Int, _ what: String) throws -> UInt16 {
        UInt16(truncatingIfNeeded: try value(offset, 2, what))
    }

    func uint32(_ offset: Int, _ what: String) throws -> UInt32 {
        UInt32(truncatingIfNeeded: try value(offset, 4, what))
    }

    func uint64(_ offset: Int, _ what: String) throws -> UInt64 {
        try value(offset, 8, what)
    }

    func bytes(_ offset: Int, _ count: Int, _ what: String) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= data.count, count <= data.count - offset else {
            throw DatasetError("\(source) is truncated inside its \(what) (byte \(offset) of \(data.count))")
        }
        return [UInt8](data[data.startIndex + offset..<data.startIndex + offset + count])
    }

    /// A 64-bit size or offset as an Int that fits in the archive.
    func offset(_ value: UInt64, _ what: String) throws -> Int {
        guard value <= UInt64(data.count) else {
            throw DatasetError("\(source) has a \(what) of \(value), beyond its \(data.count) bytes")
        }
        return Int(value)
    }

    private func value(_ offset: Int, _ width: Int, _ what: String) throws -> UInt64 {
        try bytes(offset, width, what).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }
}
