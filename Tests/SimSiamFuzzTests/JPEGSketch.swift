import SimSiamData
import SimSiamTestSupport

/// A JPEG file as the fuzzer edits it: its marker segments (each scan with
/// its entropy-coded data), so that frame sizes, tables, scan parameters and
/// the scans themselves change one at a time.
struct JPEGSketch {
    struct Segment {
        var marker: UInt8
        var payload: [UInt8]
        /// The entropy-coded data after a start-of-scan header.
        var entropy: [UInt8] = []
        /// Added to the length field.
        var lengthDelta = 0

        /// Markers that stand alone, without a length (EOI, RSTn).
        var standsAlone: Bool { marker == 0xD9 || (0xD0...0xD7).contains(marker) }
    }

    var segments: [Segment]

    /// The segments of a valid JPEG (after SOI).
    init(parsing bytes: [UInt8]) {
        var segments: [Segment] = []
        var position = 2
        while position + 1 < bytes.count, bytes[position] == 0xFF {
            let marker = bytes[position + 1]
            if marker == 0xD9 {
                segments.append(Segment(marker: marker, payload: []))
                break
            }
            let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            var segment = Segment(marker: marker, payload: Array(bytes[position + 4..<position + 2 + length]))
            position += 2 + length
            if marker == 0xDA {
                // Entropy data runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
                let start = position
                while position + 1 < bytes.count
                    && !(bytes[position] == 0xFF && bytes[position + 1] != 0 && !(0xD0...0xD7).contains(bytes[position + 1]))
                {
                    position += 1
                }
                segment.entropy = Array(bytes[start..<position])
            }
            segments.append(segment)
        }
        self.segments = segments
    }

    /// Baseline and progressive, grey and colour, with odd sizes and a 1x1.
    static let seeds: [JPEGSketch] = [
        (8, 8, 1, 90, false), (16, 8, 3, 50, false), (12, 12, 3, 90, true), (9, 7, 1, 75, true), (17, 5, 3, 95, false),
        (1, 1, 3, 90, false),
    ].map { width, height, channels, quality, progressive in
        JPEGSketch(parsing: TestImages.jpeg(TestImages.pattern(width: width, height: height, channels: channels), width: width,
                                            height: height, channels: channels, quality: quality, progressive: progressive))
    }

    var bytes: [UInt8] {
        var output: [UInt8] = [0xFF, 0xD8]
        for segment in segments {
            output += [0xFF, segment.marker]
            guard !segment.standsAlone else { continue }
            let length = UInt16(truncatingIfNeeded: segment.payload.count + 2 + segment.lengthDelta)
            output += [UInt8(length >> 8), UInt8(truncatingIfNeeded: length)] + segment.payload + segment.entropy
        }
        return output
    }

    enum Mutation: CaseIterable {
        case frameDimension, frameByte, tableByte, scanByte, entropyByte, truncateEntropy, removeSegment, duplicateSegment
        case repeatScan, swapSegments, lengthLie, marker, insertSegment
    }

    static let dimensions: [UInt16] = [0, 1, 2, 8, 255, 8_192, 8_193, 40_000, 65_500, 65_535]

    /// Applies one random structural mutation.
    mutating func mutate(random: inout SplitMix64) {
        let frame = segments.firstIndex { (0xC0...0xCF).contains($0.marker) && ![0xC4, 0xC8, 0xCC].contains($0.marker) }
        let scans = segments.indices.filter { segments[$0].marker == 0xDA }
        let tables = segments.indices.filter { [0xC4, 0xDB].contains(segments[$0].marker) }
        switch random.pick(Mutation.allCases) {
        case .frameDimension where frame != nil && segments[frame!].payload.count >= 5:
            let offset = random.pick([1, 3])  // height, width
            let value = random.pick(Self.dimensions)
            segments[frame!].payload.replaceSubrange(offset..<offset + 2, with: [UInt8(value >> 8), UInt8(truncatingIfNeeded: value)])
        case .frameByte where frame != nil && !segments[frame!].payload.isEmpty:
            // Precision, component count, ids, sampling factors, table selectors.
            let payload = segments[frame!].payload
            segments[frame!].payload[random.pick([0, 5] + Array(6..<payload.count))] =
                random.pick([0, 1, 2, 3, 4, 8, 12, 16, 0x11, 0x22, 0x44, 0x41, 0xFF])
        case .tableByte where !tables.isEmpty:
            let index = random.pick(tables)
            guard !segments[index].payload.isEmpty else { return }
            segments[index].payload[random.nextInt(below: segments[index].payload.count)] = UInt8(truncatingIfNeeded: random.next())
        case .scanByte where !scans.isEmpty:
            // Component count and selectors, then Ss, Se and Ah/Al of progressive scans.
            let index = random.pick(scans)
            guard !segments[index].payload.isEmpty else { return }
            segments[index].payload[random.nextInt(below: segments[index].payload.count)] =
                random.pick([0, 1, 2, 3, 4, 5, 63, 64, 0x10, 0x11, 0x21, 0xFF])
        case .entropyByte where !scans.isEmpty:
            let index = random.pick(scans)
            guard !segments[index].entropy.isEmpty else { return }
            segments[index].entropy[random.nextInt(below: segments[index].entropy.count)] = UInt8(truncatingIfNeeded: random.next())
        case .truncateEntropy where !scans.isEmpty:
            let index = random.pick(scans)
            segments[index].entropy.removeLast(random.nextInt(in: 0...segments[index].entropy.count))
        case .removeSegment where !segments.isEmpty:
            segments.remove(at: random.nextInt(below: segments.count))
        case .duplicateSegment where !segments.isEmpty:
            let index = random.nextInt(below: segments.count)
            segments.insert(segments[index], at: random.nextInt(in: 0...segments.count))
        case .repeatScan where !scans.isEmpty:
            // Many scans: the progressive decoder's cost grows with each.
            let index = random.pick(scans)
            segments.insert(contentsOf: Array(repeating: segments[index], count: random.pick([2, 10, 100])), at: index)
        case .swapSegments where segments.count >= 2:
            segments.swapAt(random.nextInt(below: segments.count), random.nextInt(below: segments.count))
        case .lengthLie where !segments.isEmpty:
            segments[random.nextInt(below: segments.count)].lengthDelta = random.pick([1, -1, -2, 2, 100, -100, 60_000])
        case .marker where frame != nil:
            // Lossless, arithmetic, hierarchical and extended frames.
            segments[frame!].marker = random.pick([0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC9, 0xCA, 0xCB, 0xCF])
        default:
            let inserted = random.pick([
                Segment(marker: 0xFE, payload: Array("comment".utf8)), Segment(marker: 0xE0, payload: Array("JFIF\u{0}".utf8) + [1, 2]),
                Segment(marker: 0xEE, payload: Array("Adobe".utf8) + [0, 100, 0, 0, 0, 0, 2]), Segment(marker: 0xDD, payload: [0, 1]),
                Segment(marker: 0xD9, payload: []), Segment(marker: 0xD0, payload: []),
                Segment(marker: 0xDB, payload: [0x10] + [UInt8](repeating: 0, count: 128)),
            ])
            segments.insert(inserted, at: random.nextInt(in: 0...segments.count))
        }
    }
}
