import SimSiamData

/// An IDX file as the fuzzer edits it: magic, type code, rank, dimensions and
/// data length are separate, so each can lie on its own (a rank that
/// disagrees with the dimensions listed, dimensions whose product is 2^60
/// over a few bytes of data).
struct IDXSketch {
    var magic: [UInt8] = [0, 0]
    var typeCode: UInt8 = 0x08
    var rank: UInt8
    var dims: [UInt32]
    /// Bytes of data written; nil writes what the dimensions need (capped).
    var dataLength: Int?

    /// The most data bytes written, whatever the dimensions claim.
    static let dataCap = 1 << 13

    /// Data bytes count up (mod 256), so a shifted header shows in them;
    /// made once, as building them per input dominated a debug build's run.
    private static let pattern: [UInt8] = (0..<dataCap).map { UInt8(truncatingIfNeeded: $0) }

    init(dims: [UInt32]) {
        rank = UInt8(dims.count)
        self.dims = dims
    }

    /// Valid files: a vector, a matrix, images, empty arrays, a scalar (rank 0).
    static let seeds: [IDXSketch] = [[3], [2, 3], [2, 2, 3], [0], [], [1, 28, 28], [4, 0, 7]].map(IDXSketch.init)

    /// The data bytes the dimensions need, or nil when the count overflows.
    var neededLength: Int? {
        dims.reduce(Optional(1)) { partial, dimension in
            partial.flatMap { product in
                let (result, overflow) = product.multipliedReportingOverflow(by: Int(dimension))
                return overflow ? nil : result
            }
        }
    }

    /// The file's bytes.
    var bytes: [UInt8] {
        let length = min(dataLength ?? neededLength ?? Self.dataCap, Self.dataCap)
        var output = magic + [typeCode, rank]
        for dimension in dims {
            output += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: dimension >> $0) }
        }
        return output + Self.pattern[..<max(0, length)]
    }

    enum Mutation: CaseIterable {
        case magic, typeCode, rank, dimension, hugeDimensions, addDimension, removeDimension, dataLength
    }

    /// Dimension values at the edges of UInt32 and of Int's square root.
    static let interestingDimensions: [UInt32] = [0, 1, 255, 65_536, 1 << 30, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]

    /// Dimension lists whose product is 2^60, overflows Int, or is zero behind huge factors.
    static let hugeDimensionLists: [[UInt32]] = [
        [1 << 30, 1 << 30], [1 << 20, 1 << 20, 1 << 20], [1 << 15, 1 << 15, 1 << 15, 1 << 15],
        [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], [0, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF],
        [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0], [0xFFFF_FFFF], Array(repeating: 2, count: 64),
    ]

    /// Applies one random structural mutation.
    mutating func mutate(random: inout SplitMix64) {
        switch random.pick(Mutation.allCases) {
        case .magic:
            magic = random.pick([[0x00, 0x01], [0x1F, 0x8B], [0xFF, 0xFF], [0x50, 0x4B], random.bytes(2)])
        case .typeCode:
            typeCode = random.pick([0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF, 0x08])
        case .rank:
            rank = UInt8(clamping: random.pick([0, 1, 3, 4, 255, dims.count - 1, dims.count + 1]))
        case .dimension where !dims.isEmpty:
            dims[random.nextInt(below: dims.count)] = random.pick(Self.interestingDimensions)
        case .hugeDimensions:
            dims = random.pick(Self.hugeDimensionLists)
            rank = UInt8(dims.count)
        case .addDimension:
            dims.insert(random.pick(Self.interestingDimensions), at: random.nextInt(in: 0...dims.count))
            if random.chance(0.5) { rank = UInt8(clamping: dims.count) }
        case .removeDimension where !dims.isEmpty:
            dims.remove(at: random.nextInt(below: dims.count))
            if random.chance(0.5) { rank = UInt8(dims.count) }
        default:
            let needed = min(neededLength ?? Self.dataCap, Self.dataCap)
            dataLength = random.pick([needed - 1, needed + 1, 0, needed / 2, needed + 4, needed])
        }
    }
}
