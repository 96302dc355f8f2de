import Testing
@testable import SimSiamData

@Suite struct BatchSamplerTests {
    @Test func batchesAreFullAndUseEachIndexAtMostOnce() {
        let sampler = BatchSampler(count: 103, batchSize: 10, seed: 4)
        let batches = sampler.batches(epoch: 0)
        #expect(batches.count == 10 && sampler.batchesPerEpoch == 10)
        #expect(batches.allSatisfy { $0.count == 10 })
        let used = batches.flatMap { $0 }
        #expect(Set(used).count == 100)
        #expect(used.allSatisfy { (0..<103).contains($0) })
    }

    @Test func thePermutationIsAPermutation() {
        let order = BatchSampler(count: 1_000, batchSize: 7, seed: 1).permutation(epoch: 3)
        #expect(order.sorted() == Array(0..<1_000))
        #expect(order != Array(0..<1_000))
    }

    @Test func epochsDifferAndRepeat() {
        let sampler = BatchSampler(count: 500, batchSize: 50, seed: 9)
        #expect(sampler.batches(epoch: 0) != sampler.batches(epoch: 1))
        #expect(sampler.batches(epoch: 1) == BatchSampler(count: 500, batchSize: 50, seed: 9).batches(epoch: 1))
        #expect(sampler.batches(epoch: 1) != BatchSampler(count: 500, batchSize: 50, seed: 10).batches(epoch: 1))
    }

    @Test func tooFewItemsGiveNoBatch() {
        #expect(BatchSampler(count: 5, batchSize: 8, seed: 0).batches(epoch: 0).isEmpty)
    }
}
