import SimSiamData

/// Format-blind mutations of a byte string, in the style of AFL and libFuzzer:
/// each input gets one to four of them stacked, so single defects and
/// combinations both occur.
struct ByteMutator {
    /// The longest input produced; small inputs keep thousands of runs per second.
    let maximumLength: Int

    /// One kind of mutation.
    enum Kind: CaseIterable {
        case flipBit, setInterestingByte, setRandomByte, setInterestingInteger
        case truncate, extendWithJunk, duplicateChunk, deleteChunk, splice
    }

    /// Bytes at the edges of signed and unsigned ranges, where size checks break.
    static let interestingBytes: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF]

    /// Integers at the edges of 16-, 32- and 64-bit ranges, and sizes so large
    /// that allocating them must never be attempted (2^60 and up).
    static let interestingIntegers: [UInt64] = [
        0, 1, 2, 8, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 32, 1 << 40, 1 << 60, 1 << 62,
        UInt64(Int64.max), 1 << 63, UInt64.max, UInt64(bitPattern: -8),
    ]

    /// `bytes` with one to four random mutations applied; `donor` supplies the
    /// tail of a splice (another seed, so two formats' halves meet).
    func mutate(_ bytes: [UInt8], donor: [UInt8], random: inout SplitMix64) -> [UInt8] {
        var result = bytes
        for _ in 0..<random.nextInt(in: 1...4) {
            apply(random.pick(Kind.allCases), to: &result, donor: donor, random: &random)
        }
        if result.count > maximumLength { result.removeLast(result.count - maximumLength) }
        return result
    }

    private func apply(_ kind: Kind, to bytes: inout [UInt8], donor: [UInt8], random: inout SplitMix64) {
        switch kind {
        case .flipBit:
            guard !bytes.isEmpty else { return }
            bytes[random.nextInt(below: bytes.count)] ^= 1 << UInt8(random.nextInt(below: 8))
        case .setInterestingByte:
            guard !bytes.isEmpty else { return }
            bytes[random.nextInt(below: bytes.count)] = random.pick(Self.interestingBytes)
        case .setRandomByte:
            guard !bytes.isEmpty else { return }
            bytes[random.nextInt(below: bytes.count)] = UInt8(truncatingIfNeeded: random.next())
        case .setInterestingInteger:
            let width = random.pick([2, 4, 8])
            guard bytes.count >= width else { return }
            let value = random.pick(Self.interestingIntegers)
            let offset = random.nextInt(below: bytes.count - width + 1)
            let bigEndian = random.chance(0.5)
            for index in 0..<width {
                let shift = 8 * (bigEndian ? width - 1 - index : index)
                bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt64(shift))
            }
        case .truncate:
            bytes.removeLast(random.nextInt(in: 0...bytes.count))
        case .extendWithJunk:
            let count = random.nextInt(in: 1...64)
            bytes += random.chance(0.5)
                ? random.bytes(count) : [UInt8](repeating: random.pick(Self.interestingBytes + [0x20]), count: count)
        case .duplicateChunk:
            guard !bytes.isEmpty else { return }
            let chunk = randomChunk(of: bytes, random: &random)
            bytes.insert(contentsOf: bytes[chunk], at: random.nextInt(in: 0...bytes.count))
        case .deleteChunk:
            guard !bytes.isEmpty else { return }
            bytes.removeSubrange(randomChunk(of: bytes, random: &random))
        case .splice:
            let cut = random.nextInt(in: 0...bytes.count)
            let donorCut = random.nextInt(in: 0...donor.count)
            bytes = Array(bytes[..<cut] + donor[donorCut...])
        }
    }

    /// A range of 1 to 64 bytes inside non-empty `bytes`.
    private func randomChunk(of bytes: [UInt8], random: inout SplitMix64) -> Range<Int> {
        let length = random.nextInt(in: 1...min(64, bytes.count))
        let start = random.nextInt(in: 0...(bytes.count - length))
        return start..<start + length
    }
}
