import Foundation
import SimSiamData

/// Runs a reader over many fuzzed inputs and checks every outcome: success,
/// or a rejection of the reader's own error type whose message is one line,
/// quotes the file (path or source name) and names a field. An input that
/// takes longer than `timeLimit` fails too (a hang in the small). A trap is
/// not caught: it kills the test process, which fails the run.
///
/// Input `i` depends only on (seed, reader, i), so a failure or crash
/// reproduces from its index alone.
enum FuzzCampaign {
    /// The longest any single input may take to read.
    static let timeLimit = Duration.seconds(1)
    /// Failures described in full; the rest are only counted.
    static let reportedFailures = 10

    static func run<ReaderError>(_ target: FuzzTarget<ReaderError>, settings: FuzzSettings) throws -> FuzzSummary {
        let directory = try ScratchDirectory.make()
        let fileURL = directory.appendingPathComponent(target.fileName)
        let root = SplitMix64(seed: settings.seed).derived(streamKey(target.readerName))
        var summary = FuzzSummary(reader: target.readerName, seed: settings.seed)
        summary.firstInput = settings.firstInput
        let clock = ContinuousClock()
        let campaignStart = clock.now
        for index in settings.firstInput..<settings.firstInput + settings.inputs {
            var random = root.derived(index)
            let input = target.makeInput(&random)
            let source: String
            let read: () throws -> Void
            if input.needsFile || random.nextInt(below: 8) == 0 {
                try Data(input.bytes).write(to: fileURL)
                source = fileURL.path
                read = { try target.readFile(fileURL) }
            } else {
                source = "fuzz-input-\(index)"
                // A quarter of in-memory inputs are slices that do not start at
                // index 0, which catches readers that index `Data` from zero.
                let data = random.chance(0.25) ? dataSlice(input.bytes, random: &random) : Data(input.bytes)
                read = { try target.readData(data, source) }
            }
            let start = clock.now
            let outcome = Result { try read() }
            let elapsed = clock.now - start
            summary.recordTime(elapsed, index: index)
            var problems: [String] = []
            if elapsed > timeLimit { problems.append("took \(FuzzSummary.milliseconds(elapsed)) ms") }
            var outcomeText = "accepted"
            switch outcome {
            case .success:
                summary.accepted += 1
            case .failure(let error as ReaderError):
                summary.rejected += 1
                outcomeText = error.description
                summary.recordMessage(outcomeText, source: source)
                problems += check(outcomeText, source: source, fieldWords: target.fieldWords)
            case .failure(let error):
                outcomeText = "\(error)"
                problems.append("threw \(type(of: error)), not \(ReaderError.self)")
            }
            if !problems.isEmpty {
                let saved = save(input.bytes, reader: target.readerName, seed: settings.seed, index: index)
                summary.recordFailure(
                    "input \(index) (\(saved)): \(problems.joined(separator: "; ")): \(String(reflecting: outcomeText))")
            }
        }
        summary.inputs = settings.inputs
        summary.total = clock.now - campaignStart
        return summary
    }

    /// What is wrong with rejection `message` of input `source` (nothing when it is fine).
    static func check(_ message: String, source: String, fieldWords: [String]) -> [String] {
        var problems: [String] = []
        if message.contains(where: \.isNewline) { problems.append("message spans several lines") }
        if !message.contains(source) { problems.append("message does not name \(source)") }
        if !fieldWords.contains(where: message.contains) {
            problems.append("message names no field (expected one of \(fieldWords))")
        }
        return problems
    }

    /// `bytes` as a `Data` slice whose `startIndex` is not zero.
    private static func dataSlice(_ bytes: [UInt8], random: inout SplitMix64) -> Data {
        let offset = random.nextInt(in: 1...16)
        return Data(random.bytes(offset) + bytes).dropFirst(offset)
    }

    /// Keeps a failing input; returns where it went, or why it could not be kept.
    private static func save(_ bytes: [UInt8], reader: String, seed: UInt64, index: Int) -> String {
        let url = ScratchDirectory.failures.appendingPathComponent("\(reader)-seed\(seed)-input\(index).bin")
        do {
            try FileManager.default.createDirectory(at: ScratchDirectory.failures, withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
            return url.path
        } catch {
            return "not saved: \(error)"
        }
    }

    /// A stable key per reader (FNV-1a of its name), so readers draw different inputs from one seed.
    private static func streamKey(_ name: String) -> UInt64 {
        name.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}
