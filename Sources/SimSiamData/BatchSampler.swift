/// Shuffles a dataset's indices afresh every epoch and cuts them into
/// batches of exactly `batchSize`, dropping the last partial batch
/// (PyTorch's `DataLoader(shuffle=True, drop_last=True)`). The order depends
/// only on (seed, epoch).
public struct BatchSampler: Sendable, Equatable {
    /// Number of items to sample from: indices 0..<count.
    public let count: Int
    /// Indices per batch.
    public let batchSize: Int
    /// The seed the shuffles derive from.
    public let seed: UInt64

    /// Keeps the shuffle stream apart from the augmentation streams of the same seed.
    static let streamDomain: UInt64 = 0x5348_5546  // "SHUF"

    /// Creates a sampler over 0..<count.
    public init(count: Int, batchSize: Int, seed: UInt64) {
        precondition(count >= 0 && batchSize > 0, "BatchSampler needs count >= 0 and batchSize > 0")
        self.count = count
        self.batchSize = batchSize
        self.seed = seed
    }

    /// Full batches per epoch.
    public var batchesPerEpoch: Int { count / batchSize }

    /// A Fisher-Yates shuffle of 0..<count for `epoch`.
    public func permutation(epoch: Int) -> [Int] {
        var generator = SplitMix64(seed: seed).derived(Self.streamDomain).derived(epoch)
        var order = Array(0..<count)
        for last in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(last, generator.nextInt(below: last + 1))
        }
        return order
    }

    /// The batches of `epoch`, in order; the leftover `count % batchSize` indices are dropped.
    public func batches(epoch: Int) -> [[Int]] {
        let order = permutation(epoch: epoch)
        return (0..<batchesPerEpoch).map { Array(order[$0 * batchSize..<($0 + 1) * batchSize]) }
    }
}
