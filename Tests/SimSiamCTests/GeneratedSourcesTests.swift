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
                #expect(committed == text, """
                    Generated/\(name) is stale or missing. Regenerate with:
                        swift run simsiamc generate --out Generated
                    """)
            }
        }
    }
}
