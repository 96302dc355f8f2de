import SimSiamData
import SimSiamTestSupport

/// A PNG file as the fuzzer edits it: the signature and a list of chunks
/// whose CRCs are recomputed (unless a mutation breaks one on purpose), so
/// that edits to IHDR fields, chunk order and image data reach libpng's
/// decoding instead of stopping at its first checksum.
struct PNGSketch {
    struct Chunk {
        var type: [UInt8]
        var data: [UInt8]
        /// Added to the length field (a chunk that lies about its size).
        var lengthDelta = 0
        var brokenCRC = false
    }

    var signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    var chunks: [Chunk]

    /// The chunks of a valid PNG.
    init(parsing bytes: [UInt8]) {
        var chunks: [Chunk] = []
        var position = 8
        while position + 12 <= bytes.count {
            let length = bytes[position..<position + 4].reduce(0) { $0 << 8 | Int($1) }
            chunks.append(Chunk(type: Array(bytes[position + 4..<position + 8]),
                                data: Array(bytes[position + 8..<position + 8 + length])))
            position += 12 + length
        }
        self.chunks = chunks
    }

    /// Valid files covering every colour type the reader converts: grey, RGB,
    /// palette, alpha, 16-bit, interlaced, and a 1x1 image.
    static let seeds: [PNGSketch] = [
        (5, 3, 1, TestImages.PNGKind.plain, false), (4, 4, 3, .plain, true), (6, 2, 3, .palette, false),
        (3, 3, 1, .alpha, false), (2, 2, 3, .sixteenBit, true), (1, 1, 1, .plain, false), (9, 4, 3, .alpha, true),
    ].map { width, height, channels, kind, interlaced in
        PNGSketch(parsing: TestImages.png(TestImages.pattern(width: width, height: height, channels: channels),
                                          width: width, height: height, channels: channels, kind: kind, interlaced: interlaced))
    }

    /// The file's bytes, CRCs recomputed.
    var bytes: [UInt8] {
        var output = signature
        for chunk in chunks {
            output += Self.bigEndian32(UInt32(truncatingIfNeeded: chunk.data.count + chunk.lengthDelta)) + chunk.type + chunk.data
            output += Self.bigEndian32(TestImages.crc32(chunk.type + chunk.data) ^ (chunk.brokenCRC ? 0x0100_0000 : 0))
        }
        return output
    }

    static func bigEndian32(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }

    enum Mutation: CaseIterable {
        case ihdrDimension, ihdrByte, removeChunk, duplicateChunk, swapChunks, imageDataByte, truncateImageData
        case lengthLie, brokenCRC, insertChunk, splitImageData, signature
    }

    /// Widths and heights at the edges: zero, one, the 2^26-pixel limit (8192^2) and libpng's own limits.
    static let dimensions: [UInt32] = [0, 1, 2, 7, 255, 8_192, 8_193, 65_535, 1_000_000, 1 << 24, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]

    /// Chunks a PNG may carry, valid or not, including an unknown critical one.
    static let insertedChunks: [Chunk] = [
        Chunk(type: Array("PLTE".utf8), data: [1, 2, 3]), Chunk(type: Array("PLTE".utf8), data: [UInt8](repeating: 9, count: 770)),
        Chunk(type: Array("tRNS".utf8), data: [0, 0]), Chunk(type: Array("gAMA".utf8), data: [0, 0, 0xB1, 0x8F]),
        Chunk(type: Array("iCCP".utf8), data: Array("icc".utf8) + [0, 0] + TestImages.deflate([UInt8](repeating: 0, count: 600))),
        Chunk(type: Array("zTXt".utf8), data: Array("k".utf8) + [0, 0] + TestImages.deflate([UInt8](repeating: 65, count: 300))),
        Chunk(type: Array("abCd".utf8), data: [1]), Chunk(type: Array("ABCD".utf8), data: []),
        Chunk(type: Array("IEND".utf8), data: []), Chunk(type: Array("IHDR".utf8), data: [0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]),
    ]

    /// Applies one random structural mutation.
    mutating func mutate(random: inout SplitMix64) {
        let header = chunks.firstIndex { $0.type == Array("IHDR".utf8) }
        let data = chunks.indices.filter { chunks[$0].type == Array("IDAT".utf8) }
        switch random.pick(Mutation.allCases) {
        case .ihdrDimension where header != nil && chunks[header!].data.count >= 8:
            let offset = random.pick([0, 4])
            chunks[header!].data.replaceSubrange(offset..<offset + 4, with: Self.bigEndian32(random.pick(Self.dimensions)))
        case .ihdrByte where header != nil && chunks[header!].data.count >= 13:
            // Bit depth, colour type, compression, filter, interlace.
            let field = random.nextInt(in: 8...12)
            chunks[header!].data[field] = random.pick(field == 8 ? [0, 1, 2, 3, 4, 8, 16, 255] : [0, 1, 2, 3, 4, 5, 6, 7, 255])
        case .removeChunk where !chunks.isEmpty:
            chunks.remove(at: random.nextInt(below: chunks.count))
        case .duplicateChunk where !chunks.isEmpty:
            let index = random.nextInt(below: chunks.count)
            chunks.insert(chunks[index], at: random.nextInt(in: 0...chunks.count))
        case .swapChunks where chunks.count >= 2:
            chunks.swapAt(random.nextInt(below: chunks.count), random.nextInt(below: chunks.count))
        case .imageDataByte where !data.isEmpty:
            let index = random.pick(data)
            guard !chunks[index].data.isEmpty else { return }
            chunks[index].data[random.nextInt(below: chunks[index].data.count)] = UInt8(truncatingIfNeeded: random.next())
        case .truncateImageData where !data.isEmpty:
            let index = random.pick(data)
            chunks[index].data.removeLast(random.nextInt(in: 0...chunks[index].data.count))
        case .lengthLie where !chunks.isEmpty:
            chunks[random.nextInt(below: chunks.count)].lengthDelta = random.pick([1, -1, 4, -4, 1 << 20, Int(Int32.max), -(1 << 20)])
        case .brokenCRC where !chunks.isEmpty:
            chunks[random.nextInt(below: chunks.count)].brokenCRC = true
        case .splitImageData where !data.isEmpty && chunks[data[0]].data.count >= 2:
            // Valid: image data may span several IDAT chunks.
            let index = data[0]
            let cut = random.nextInt(in: 1...(chunks[index].data.count - 1))
            let tail = Chunk(type: chunks[index].type, data: Array(chunks[index].data[cut...]))
            chunks[index].data.removeSubrange(cut...)
            chunks.insert(tail, at: index + 1)
        case .signature:
            signature[random.nextInt(below: signature.count)] ^= 1 << UInt8(random.nextInt(below: 8))
        default:
            chunks.insert(random.pick(Self.insertedChunks), at: random.nextInt(in: 0...chunks.count))
        }
    }
}
