import SimSiamData
import SimSiamTestSupport

/// An .npz archive as the fuzzer edits it: entries holding `NpySketch`es,
/// stored or deflated, whose central directory records and end record can
/// each lie (method, flags, CRC, sizes, offsets, counts), with or without zip64.
struct NpzSketch {
    struct Entry {
        var name: String
        var array: NpySketch
        var deflated: Bool
        var lies = NumPyWriter.Lies()
    }

    var entries: [Entry]
    var zip64 = false
    var lies = NumPyWriter.ArchiveLies()

    /// What numpy.savez and savez_compressed write: images with labels,
    /// Keras-style splits, a single unnamed array, and a zip64 directory.
    static let seeds: [NpzSketch] = [
        NpzSketch(entries: [Entry(name: "images.npy", array: NpySketch.seeds[0], deflated: false),
                            Entry(name: "labels.npy", array: NpySketch(descr: "<i8", shape: [2]), deflated: false)]),
        NpzSketch(entries: [Entry(name: "x.npy", array: NpySketch.seeds[1], deflated: true),
                            Entry(name: "y.npy", array: NpySketch(descr: "|u1", shape: [1]), deflated: true)]),
        NpzSketch(entries: [Entry(name: "x_train.npy", array: NpySketch.seeds[3], deflated: true),
                            Entry(name: "y_train.npy", array: NpySketch(descr: "<i4", shape: [1]), deflated: true),
                            Entry(name: "x_test.npy", array: NpySketch.seeds[6], deflated: true),
                            Entry(name: "y_test.npy", array: NpySketch(descr: "<u8", shape: [2]), deflated: false)]),
        NpzSketch(entries: [Entry(name: "arr_0.npy", array: NpySketch.seeds[2], deflated: false)]),
        NpzSketch(entries: [Entry(name: "x.npy", array: NpySketch.seeds[0], deflated: true),
                            Entry(name: "y.npy", array: NpySketch(descr: "<i8", shape: [2]), deflated: false)], zip64: true),
    ]

    var bytes: [UInt8] {
        NumPyWriter.zip(entries.map { entry in
            var written = NumPyWriter.Entry(name: entry.name, contents: entry.array.bytes, deflated: entry.deflated)
            written.lies = entry.lies
            return written
        }, zip64: zip64, lies: lies)
    }

    enum Mutation: CaseIterable {
        case array, name, method, flags, crc, compressedSize, uncompressedSize, offset, deflated, removeEntry, duplicateEntry
        case zip64, count, directorySize, directoryOffset, comment
    }

    static let names = ["images.npy", "labels.npy", "x.npy", "y.npy", "x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy",
                        "arr_0.npy", "x", "", "dir/x.npy", "x.npy\n", String(repeating: "n", count: 300) + ".npy"]
    static let sizeLies = [1, -1, 2, -2, 1_000, -1_000, 1 << 32, -(1 << 32), 1 << 40, Int(UInt32.max)]

    /// Applies one random structural mutation.
    mutating func mutate(random: inout SplitMix64) {
        let index = entries.isEmpty ? nil : random.nextInt(below: entries.count)
        switch random.pick(Mutation.allCases) {
        case .array where index != nil:
            for _ in 0..<random.nextInt(in: 1...2) { entries[index!].array.mutate(random: &random) }
        case .name where index != nil:
            entries[index!].name = random.pick(Self.names)
        case .method where index != nil:
            entries[index!].lies.method = random.pick([0, 1, 8, 9, 12, 14, 93, 99, 0xFFFF])
        case .flags where index != nil:
            entries[index!].lies.flags = random.pick([1, 8, 0x41, 0x800, 0xFFFF])
        case .crc where index != nil:
            entries[index!].lies.crcXor = random.pick([1, 0x8000_0000, 0xFFFF_FFFF])
        case .compressedSize where index != nil:
            entries[index!].lies.compressedSizeDelta = random.pick(Self.sizeLies)
        case .uncompressedSize where index != nil:
            entries[index!].lies.uncompressedSizeDelta = random.pick(Self.sizeLies)
        case .offset where index != nil:
            entries[index!].lies.offsetDelta = random.pick(Self.sizeLies + [-30, 30])
        case .deflated where index != nil:
            entries[index!].deflated.toggle()
        case .removeEntry where index != nil:
            entries.remove(at: index!)
        case .duplicateEntry where index != nil:
            entries.insert(entries[index!], at: random.nextInt(in: 0...entries.count))
        case .zip64:
            zip64.toggle()
        case .count:
            lies.countDelta = random.pick([1, -1, 100, 0xFFFF, -0x10000, 1 << 40])
        case .directorySize:
            lies.directorySizeDelta = random.pick(Self.sizeLies)
        case .directoryOffset:
            lies.directoryOffsetDelta = random.pick(Self.sizeLies)
        default:
            lies.comment = random.pick([Array("PK\u{5}\u{6}".utf8) + [UInt8](repeating: 0, count: 18), [UInt8](repeating: 0x41, count: 40), []])
        }
    }
}
