import Testing
@testable import SimSiamRuntime

/// Expects `body` to throw a `RuntimeError` whose message contains every
/// string in `fragments`.
func expectRuntimeError(
    containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    let error = #expect(throws: RuntimeError.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return }
    for fragment in fragments {
        #expect(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", sourceLocation: sourceLocation)
    }
}
