import Foundation

/// The counts of one reader's campaign and the failures found.
struct FuzzSummary {
    let reader: String
    let seed: UInt64
    var firstInput = 0
    var inputs = 0
    var accepted = 0
    var rejected = 0
    var slowest = Duration.zero
    var slowestIndex = 0
    var total = Duration.zero
    /// Reads repeated because the first took longer than the time limit.
    var retimed = 0
    /// Rejection messages with the source and every number masked, so the
    /// count says how many different checks fired, not how many sizes occurred.
    private(set) var messageShapes: Set<String> = []
    private(set) var failureCount = 0
    private(set) var failures: [String] = []

    init(reader: String, seed: UInt64) {
        self.reader = reader
        self.seed = seed
    }

    mutating func recordTime(_ elapsed: Duration, index: Int) {
        if elapsed > slowest { (slowest, slowestIndex) = (elapsed, index) }
    }

    mutating func recordMessage(_ message: String, source: String) {
        let masked = message.replacingOccurrences(of: source, with: "<file>")
            .replacingOccurrences(of: "[0-9]+", with: "#", options: .regularExpression)
        messageShapes.insert(masked)
    }

    mutating func recordFailure(_ description: String) {
        failureCount += 1
        if failures.count < FuzzCampaign.reportedFailures { failures.append(description) }
    }

    /// The one-line summary each fuzz test prints.
    var line: String {
        "fuzz \(reader): \(inputs) inputs (seed \(seed)\(firstInput > 0 ? ", from input \(firstInput)" : "")), \(accepted) accepted, \(rejected) rejected, "
            + "\(failureCount) failed checks, slowest \(Self.milliseconds(slowest)) ms (input \(slowestIndex)), "
            + "\(messageShapes.count) distinct messages (numbers masked), "
            + "\(String(format: "%.2f", Self.milliseconds(total) / 1000)) s in all, \(retimed) reads re-timed"
    }

    /// `duration` in milliseconds, to 0.01 ms.
    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return ((Double(seconds) * 1e3 + Double(attoseconds) / 1e15) * 100).rounded() / 100
    }
}
