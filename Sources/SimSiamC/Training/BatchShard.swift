/// One rank's contiguous part of every global batch in a data-parallel run: the
/// global batch and its augmented views do not depend on the number of ranks
/// (views are keyed by seed, epoch, image and view), so N ranks see exactly the
/// data one process sees. The first `globalBatch % ranks` ranks take one sample
/// more: 256 over 3 ranks is 86, 85, 85.
public struct BatchShard: Sendable, Equatable, CustomStringConvertible {
    public let rank: Int
    public let ranks: Int
    public let globalBatch: Int

    /// The whole batch on one process.
    public static func whole(_ globalBatch: Int) -> BatchShard { BatchShard(rank: 0, ranks: 1, globalBatch: globalBatch) }

    /// This process's shard among `ranks` (the whole batch without ranks).
    public static func of(_ globalBatch: Int, on ranks: MPIRanks?) -> BatchShard {
        ranks.map { BatchShard(rank: $0.rank, ranks: $0.size, globalBatch: globalBatch) } ?? .whole(globalBatch)
    }

    /// - Precondition: 0 <= rank < ranks.
    public init(rank: Int, ranks: Int, globalBatch: Int) {
        precondition(ranks >= 1 && (0..<ranks).contains(rank), "rank \(rank) of \(ranks)")
        self.rank = rank
        self.ranks = ranks
        self.globalBatch = globalBatch
    }

    /// Positions of this rank's samples within the global batch.
    public var range: Range<Int> {
        let base = globalBatch / ranks, extra = globalBatch % ranks
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    /// This rank's batch per view (what its library is compiled for).
    public var count: Int { range.count }

    /// Whether this rank writes the run's files and output (rank 0).
    public var isLead: Bool { rank == 0 }

    /// `rank 1 of 3: samples 86..<171 of 256`.
    public var description: String { "rank \(rank) of \(ranks): samples \(range.lowerBound)..<\(range.upperBound) of \(globalBatch)" }

    /// Checks that every rank gets at least two samples (a BN needs more than one value per channel).
    public func validate() throws {
        guard globalBatch / ranks >= 2 else {
            throw CompileError("a global batch of \(globalBatch) over \(ranks) ranks leaves some rank fewer than 2 samples; "
                + "raise --batch to at least \(2 * ranks) or start fewer ranks")
        }
    }

    /// The rows of this shard out of a tensor of `globalBatch` rows.
    public func rows<T>(of values: [T]) -> [T] {
        precondition(values.count % globalBatch == 0, "\(values.count) values are not \(globalBatch) rows")
        let width = values.count / globalBatch
        return Array(values[(range.lowerBound * width)..<(range.upperBound * width)])
    }
}
