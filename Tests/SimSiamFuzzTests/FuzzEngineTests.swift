import SimSiamData
import Testing

/// The engine itself: inputs repeat from a seed, stay within bounds, and the
/// message checks catch each defect they exist for.
@Suite struct FuzzEngineTests {
    static let seed: [UInt8] = Array(0..<64)

    @Test func theSameStreamMutatesTheSameWay() {
        let mutator = ByteMutator(maximumLength: 256)
        let root = SplitMix64(seed: 7)
        for index in 0..<200 {
            var first = root.derived(index)
            var second = root.derived(index)
            #expect(
                mutator.mutate(Self.seed, donor: Self.seed.reversed(), random: &first)
                    == mutator.mutate(Self.seed, donor: Self.seed.reversed(), random: &second))
        }
    }

    @Test func mutationsChangeInputsAndRespectTheLengthCap() {
        let mutator = ByteMutator(maximumLength: 80)
        var random = SplitMix64(seed: 1)
        var changed = 0
        for _ in 0..<1_000 {
            let output = mutator.mutate(Self.seed, donor: Self.seed, random: &random)
            #expect(output.count <= 80)
            if output != Self.seed { changed += 1 }
        }
        // Some stacks cancel out (a chunk deleted from an input it was duplicated into), most do not.
        #expect(changed > 900)
    }

    @Test func checksCatchMultiLineUnnamedAndFieldlessMessages() {
        let words = ["shape"]
        #expect(FuzzCampaign.check("file f has a bad shape", source: "f", fieldWords: words).isEmpty)
        #expect(
            FuzzCampaign.check("file f has a bad\nshape", source: "f", fieldWords: words) == ["message spans several lines"])
        #expect(FuzzCampaign.check("file f has a bad\u{2028}shape", source: "f", fieldWords: words).count == 1)
        #expect(FuzzCampaign.check("a bad shape", source: "f", fieldWords: words) == ["message does not name f"])
        #expect(FuzzCampaign.check("file f is bad", source: "f", fieldWords: words).count == 1)
    }
}
