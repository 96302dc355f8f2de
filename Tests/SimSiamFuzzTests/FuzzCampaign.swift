import Foundation
import SimSiamData

/// Runs a reader over many fuzzed inputs and checks every outcome: success,
/// or a rejection of the reader's own error type whose message is one line,
/// quotes the file (path or source name) and names a field. An input that
/// takes longer than the time limit on each of `timingAttempts` reads fails too
/// (a hang in the small). A trap is not caught: it kills the test process,
/// which fails the run.
///
/// Input `i` depends only on (seed, reader, i), so a failure or crash
/// reproduces from its index alone.
enum FuzzCampaign {
    /// The longest any single input may take to read, unless a run says otherwise.
    static let defaultTimeLimit = Duration.seconds(1)
    /// Reads of an input before it counts as slow. Inputs are deterministic, so
    /// a slow reader is slow every time; on a busy host a `/bin/gzip` spawn
    /// stalled for 1.5 s once in 6,000 and replayed in 2 ms.
    static let timingAttempts = 3
    /// Failures described in full; the rest are only counted.
    static let reportedFailures = 10

    static func run<ReaderError>(
        _ target: FuzzTarget<ReaderError>, settings: FuzzSettings, timeLimit: Duration = defaultTimeLimit
    ) throws -> FuzzSummary {
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
            let (source, read) = try route(input, index: index, to: target, file: fileURL, random: &random)
            let (outcome, firstElapsed) = timed(read, clock: clock)
            var elapsed = firstElapsed
            for _ in 1..<timingAttempts where elapsed > timeLimit {
                summary.retimed += 1
                elapsed = min(elapsed, timed(read, clock: clock).elapsed)
            }
            summary.recordTime(elapsed, index: index)
            var problems: [String] = []
            if elapsed > timeLimit {
                problems.append("took at least \(FuzzSummary.milliseconds(elapsed)) ms in each of \(timingAttempts) reads")
            }
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

    /// How input `index` reaches the reader: one in eight (and every input
    /// that needs a file) through `file`, the rest in memory. Returns the
    /// source name the rejection must quote and the read to time.
    private static func route<ReaderError>(
        _ input: FuzzInput, index: Int, to target: FuzzTarget<ReaderError>, file: URL, random: inout SplitMix64
    ) throws -> (source: String, read: () throws -> Void) {
        if input.needsFile || random.nextInt(below: 8) == 0 {
            try Data(input.bytes).write(to: file)
            return (file.path, { try target.readFile(file) })
        }
        let source = "fuzz-input-\(index)"
        // A quarter of in-memory inputs are slices that do not start at
        // index 0, which catches readers that index `Data` from zero.
        let data = random.chance(0.25) ? dataSlice(input.bytes, random: &random) : Data(input.bytes)
        return (source, { try target.readData(data, source) })
    }

    /// The outcome of `read` and how long it took.
    private static func timed(
        _ read: () throws -> Void, clock: ContinuousClock
    ) -> (outcome: Result<Void, any Error>, elapsed: Duration) {
        let start = clock.now
        let outcome = Result { try read() }
        return (outcome, clock.now - start)
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
