import Testing
@testable import SimSiamC

/// Each rank's contiguous part of the global batch (data-parallel runs, docs/mpi.md).
@Suite struct BatchShardTests {
    @Test(arguments: [(256, 1), (256, 2), (256, 3), (16, 3), (10, 4), (7, 2)])
    func shardsCoverTheBatchOnceInRankOrder(batch: Int, ranks: Int) {
        let shards = (0..<ranks).map { BatchShard(rank: $0, ranks: ranks, globalBatch: batch) }
        #expect(shards.first?.range.lowerBound == 0 && shards.last?.range.upperBound == batch)
        for (a, b) in zip(shards, shards.dropFirst()) { #expect(a.range.upperBound == b.range.lowerBound) }
        let sizes = shards.map(\.count)
        #expect(sizes.max()! - sizes.min()! <= 1 && sizes == sizes.sorted(by: >), "\(sizes)")
    }

    @Test func unevenShardsAreTheIssuesExample() {
        #expect((0..<3).map { BatchShard(rank: $0, ranks: 3, globalBatch: 256).count } == [86, 85, 85])
        #expect(BatchShard(rank: 1, ranks: 3, globalBatch: 256).description == "rank 1 of 3: samples 86..<171 of 256")
    }

    @Test func rowsAreTheShardsSamples() {
        let values = Array(0..<(7 * 3))  // 7 samples of 3 values
        #expect(BatchShard(rank: 1, ranks: 2, globalBatch: 7).rows(of: values) == Array(12..<21))
        #expect(BatchShard(rank: 0, ranks: 2, globalBatch: 7).rows(of: values) == Array(0..<12))
    }

    @Test func aRankNeedsTwoSamples() throws {
        try BatchShard(rank: 0, ranks: 4, globalBatch: 8).validate()
        let error = #expect(throws: CompileError.self) { try BatchShard(rank: 0, ranks: 4, globalBatch: 7).validate() }
        #expect(error?.description.contains("raise --batch to at least 8 or start fewer ranks") == true)
    }
}
