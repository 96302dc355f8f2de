import Foundation
import Testing
@testable import SimSiamC

/// `Generated/` must be what the compiler emits today (a golden diff, as
/// tinygrad's process replay): a change to the generated code shows in review.
@Suite struct GeneratedSourcesTests {
    @Test func generatedDirectoryIsCurrent() throws {
        let directory = packageRoot.appendingPathComponent("Generated")
        for generated in try ReferenceSources.all() {
            for (name, text) in generated.files {
                let committed = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
                guard committed != text else { continue }
                let old = committed?.split(separator: "\n", omittingEmptySubsequences: false) ?? []
                let new = text.split(separator: "\n", omittingEmptySubsequences: false)
                let line = zip(old, new).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(old.count, new.count)
                Issue.record("""
                    Generated/\(name) is \(committed == nil ? "missing" : "stale (first difference at line \(line + 1))"). Regenerate with:
                        swift run simsiamc generate --out Generated
                    """)
            }
        }
    }
}
