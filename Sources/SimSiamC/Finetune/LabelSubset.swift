import SimSiamData

/// How many labelled training images fine-tuning may use.
public enum LabelBudget: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Exactly `n` images of every class (`--labels-per-class`).
    case perClass(Int)
    /// round(`f` x the class's count) images of every class, at least one (`--label-fraction`):
    /// stratified, so the subset's class balance is the training set's.
    case fraction(Double)

    public var description: String {
        switch self {
        case .perClass(let n): "\(n) labels per class"
        case .fraction(let f): "\(f * 100)% of the labels (per class)"
        }
    }
}

/// The labelled subset fine-tuning trains on, drawn from the training split.
public enum LabelSubset {
    /// Indices into `labels` (ascending) chosen by `budget`: each class's images are
    /// shuffled with a generator derived from `seed` and the class, and the first ones kept,
    /// so the same seed gives the same subset and a larger per-class budget a superset.
    /// - Throws: `CompileError` naming the flag when the budget cannot be met.
    public static func select(labels: [UInt8], classes: Int, budget: LabelBudget, seed: UInt64) throws -> [Int] {
        var byClass = [[Int]](repeating: [], count: classes)
        for (index, label) in labels.enumerated() where Int(label) < classes { byClass[Int(label)].append(index) }
        var chosen: [Int] = []
        for (label, members) in byClass.enumerated() {
            let wanted: Int
            switch budget {
            case .perClass(let n):
                guard n >= 1 else { throw CompileError("--labels-per-class \(n): give at least 1") }
                guard members.count >= n else {
                    throw CompileError("--labels-per-class \(n): class \(label) has only \(members.count) training images; "
                                       + "lower it to at most \(byClass.map(\.count).min() ?? 0) or use --label-fraction")
                }
                wanted = n
            case .fraction(let f):
                guard f > 0, f <= 1 else { throw CompileError("--label-fraction \(f) is outside (0, 1]; 0.01 keeps 1% of the labels") }
                guard !members.isEmpty else { continue }
                wanted = min(members.count, max(1, Int((f * Double(members.count)).rounded())))
            }
            var generator = SplitMix64(seed: seed).derived(streamDomain).derived(label)
            var order = members
            // Fisher-Yates, only as far as needed.
            for position in 0..<wanted {
                order.swapAt(position, position + generator.nextInt(below: order.count - position))
            }
            chosen += order[0..<wanted]
        }
        return chosen.sorted()
    }

    /// The images at `indices`, in that order.
    public static func gather(_ images: LabeledImages, _ indices: [Int]) -> LabeledImages {
        let size = images.pixelsPerImage
        var pixels: [UInt8] = []
        pixels.reserveCapacity(indices.count * size)
        for index in indices { pixels += images.pixels[(index * size)..<((index + 1) * size)] }
        return LabeledImages(count: indices.count, channels: images.channels, height: images.height, width: images.width,
                             pixels: pixels, labels: indices.map { images.labels[$0] })
    }

    static let streamDomain: UInt64 = 0x4C41_4245  // "LABE"
}
