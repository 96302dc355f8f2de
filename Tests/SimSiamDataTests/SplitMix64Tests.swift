import Testing
@testable import SimSiamData

@Suite struct SplitMix64Tests {
    @Test func matchesTheReferenceSequence() {
        // First outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test func derivedStreamsDifferAndRepeat() {
        let root = SplitMix64(seed: 42)
        var a = root.derived(7)
        var b = root.derived(8)
        var again = root.derived(7)
        let first = a.next()
        #expect(first != b.next())
        #expect(first == again.next())
    }

    @Test func integersStayBelowTheBoundAndCoverIt() {
        var generator = SplitMix64(seed: 3)
        var seen = Set<Int>()
        for _ in 0..<2_000 {
            let value = generator.nextInt(below: 7)
            #expect((0..<7).contains(value))
            seen.insert(value)
        }
        #expect(seen.count == 7)
    }

    @Test func unitValuesStayInTheHalfOpenInterval() {
        var generator = SplitMix64(seed: 9)
        let values = (0..<10_000).map { _ in generator.nextUnit() }
        #expect(values.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = values.reduce(0, +) / Double(values.count)
        #expect(abs(mean - 0.5) < 0.02)
    }
}
