import Foundation

/// Temporary directories for fuzzed files. Scratch space goes away when the
/// test process exits; inputs that failed a check are kept for inspection.
enum ScratchDirectory {
    private static let root: URL = {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("simsiamc-fuzz-\(ProcessInfo.processInfo.processIdentifier)")
        atexit { try? FileManager.default.removeItem(at: ScratchDirectory.root) }
        return root
    }()

    /// Where failing inputs are saved; not removed, so a CI log's paths can be followed.
    static let failures = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-fuzz-failures")

    /// A fresh, empty directory.
    static func make() throws -> URL {
        let directory = root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}
