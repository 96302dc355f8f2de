import SimSiamData

/// A CIFAR-10 batch file as the fuzzer edits it: the format has no header, so
/// what can lie is the labels and the length (records cut short or padded).
struct CIFARSketch {
    static let recordLength = 3_073
    var labels: [UInt8]
    /// Bytes added to (or, negative, cut from) the whole records.
    var lengthDelta = 0

    /// Valid files of one to three records.
    static let seeds: [CIFARSketch] = [[3], [0, 9], [1, 2, 3]].map { CIFARSketch(labels: $0) }

    /// Pixel bytes of one record, counting up; made once for speed.
    private static let pixels: [UInt8] = (0..<recordLength - 1).map { UInt8(truncatingIfNeeded: $0 * 7) }

    /// The file's bytes.
    var bytes: [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(labels.count * Self.recordLength + max(0, lengthDelta))
        for label in labels { output += [label] + Self.pixels }
        if lengthDelta < 0 {
            output.removeLast(min(-lengthDelta, output.count))
        } else {
            output += [UInt8](repeating: 0xAB, count: lengthDelta)
        }
        return output
    }

    enum Mutation: CaseIterable { case label, addRecord, removeRecord, lengthDelta }

    /// Applies one random structural mutation: labels at and past the class
    /// count, records added or removed (down to an empty file), and lengths a
    /// byte, a pixel plane or half a record off.
    mutating func mutate(random: inout SplitMix64) {
        switch random.pick(Mutation.allCases) {
        case .label where !labels.isEmpty:
            labels[random.nextInt(below: labels.count)] = random.pick([10, 11, 255, 128, 9, 0])
        case .addRecord:
            labels.append(UInt8(random.nextInt(below: 10)))
        case .removeRecord where !labels.isEmpty:
            labels.remove(at: random.nextInt(below: labels.count))
        default:
            lengthDelta = random.pick([1, -1, 1_024, -1_024, Self.recordLength / 2, -Self.recordLength / 2, 3_074, -3_072])
        }
    }
}
