import Foundation
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

    /// What the stand-in reader did, by behaviour code.
    final class Tally {
        var counts = [Int](repeating: 0, count: 6)
    }

    /// A stand-in reader whose one-byte inputs pick its behaviour: 0 is slow,
    /// 1 throws a foreign error, 2 a two-line message, 3 a message without the
    /// source; 4 accepts and 5 rejects properly.
    static func misbehavingTarget(tally: Tally) -> FuzzTarget<FuzzSettingsError> {
        func read(_ data: Data, source: String) throws {
            let behaviour = Int(data.first!)
            tally.counts[behaviour] += 1
            switch behaviour {
            case 0: Thread.sleep(forTimeInterval: 0.02)
            case 1: throw CocoaError(.fileReadUnknown)
            case 2: throw FuzzSettingsError(variable: "\(source) field", value: "two\nlines")
            case 3: throw FuzzSettingsError(variable: "field", value: "x")
            case 4: return
            default: throw FuzzSettingsError(variable: "\(source) field", value: "x")
            }
        }
        return FuzzTarget(
            readerName: "misbehaving", fieldWords: ["field"], fileName: "input",
            makeInput: { random in FuzzInput(bytes: [UInt8(random.nextInt(below: 6))]) },
            readData: read, readFile: { url in try read(Data(contentsOf: url), source: url.path) })
    }

    @Test func theCampaignFailsSlowInputsForeignErrorsAndBadMessages() throws {
        let tally = Tally()
        let summary = try FuzzCampaign.run(
            Self.misbehavingTarget(tally: tally), settings: FuzzSettings(inputs: 30, seed: 5),
            timeLimit: .milliseconds(10))
        let slow = tally.counts[0] / FuzzCampaign.timingAttempts
        #expect(slow > 0 && tally.counts[1...3].allSatisfy { $0 > 0 }, "\(tally.counts)")
        #expect(summary.failureCount == slow + tally.counts[1] + tally.counts[2] + tally.counts[3], "\(summary.failures)")
        #expect(summary.retimed == slow * (FuzzCampaign.timingAttempts - 1))
        #expect(summary.accepted == slow + tally.counts[4])
        #expect(summary.rejected == tally.counts[2] + tally.counts[3] + tally.counts[5])
    }
}
