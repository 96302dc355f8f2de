import Testing

/// Runs `target` over the CI share (or the environment's count), prints the
/// summary line, and expects no failed check and both outcomes: a generator
/// whose inputs all pass, or all fail, would be testing little.
func expectSurvivesFuzzing<ReaderError>(
    _ target: FuzzTarget<ReaderError>, ciInputs: Int, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let settings = try FuzzSettings.fromEnvironment(defaultInputs: ciInputs)
    let summary = try FuzzCampaign.run(target, settings: settings)
    print(summary.line)
    #expect(
        summary.failureCount == 0, "\(summary.failureCount) failed checks:\n\(summary.failures.joined(separator: "\n"))",
        sourceLocation: sourceLocation)
    #expect(summary.accepted > 0, "no input was accepted", sourceLocation: sourceLocation)
    #expect(summary.rejected > 0, "no input was rejected", sourceLocation: sourceLocation)
}

/// Expects `body` to throw `ReaderError` with a one-line message that names
/// `source` and contains every fragment; the checks are the fuzzer's own.
func expectOneLineRejection<ReaderError: Error & CustomStringConvertible>(
    _: ReaderError.Type, source: String, containing fragments: [String],
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    let error = #expect(throws: ReaderError.self, sourceLocation: sourceLocation) { try body() }
    guard let message = error?.description else { return }
    let problems = FuzzCampaign.check(message, source: source, fieldWords: fragments)
    #expect(problems.isEmpty, "\(problems): \(String(reflecting: message))", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(message.contains(fragment), "'\(message)' lacks '\(fragment)'", sourceLocation: sourceLocation)
    }
}
