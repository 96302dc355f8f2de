import Foundation
import Testing

@testable import SimSiamToolchain

/// A cache entry that cannot be trusted is rebuilt, not loaded; a compiler
/// that crashes or has gone missing gives an error with the log's path.
@Suite struct BrokenCacheTests {
    /// Builds `answerSource(value)` once, damages the entry with `damage`, builds again.
    func rebuildAfter(_ value: Int, _ damage: (_ cache: BuildCache, _ built: BuiltLibrary, _ directory: URL) throws -> Void)
        throws -> BuiltLibrary
    {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let cache = BuildCache(directory: directory, compiler: try resolvedCompiler())
        let built = try cache.build(source: answerSource(value), libraryName: "answer")
        try damage(cache, built, directory)
        let again = try cache.build(source: answerSource(value), libraryName: "answer")
        #expect(!again.cacheHit, "a damaged entry must not count as a hit")
        #expect(try callAnswer(in: again.path) == value)
        #expect(try cache.build(source: answerSource(value), libraryName: "answer").cacheHit, "the rebuilt entry is trusted again")
        return again
    }

    @Test func truncatedLibraryIsRebuilt() throws {
        let rebuilt = try rebuildAfter(11) { _, built, _ in
            let bytes = try Data(contentsOf: URL(fileURLWithPath: built.path))
            // A new file at the path, as a crashed copy or a full disk leaves one.
            try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: built.path))
        }
        #expect(rebuilt.repairedProblem == "library bytes do not match their checksum (truncated or replaced)")
        #expect(rebuilt.summary.hasPrefix("cache entry broken (library bytes do not match"))
    }

    @Test func foreignLibraryIsRebuilt() throws {
        let rebuilt = try rebuildAfter(12) { cache, built, _ in
            let other = try cache.build(source: answerSource(13), libraryName: "answer")
            try FileManager.default.removeItem(atPath: built.path)
            try FileManager.default.copyItem(atPath: other.path, toPath: built.path)
            try FileManager.default.removeItem(atPath: built.path + ".sha256")
            try FileManager.default.copyItem(atPath: other.path + ".sha256", toPath: built.path + ".sha256")
        }
        #expect(rebuilt.repairedProblem == "checksum file written for another key")
    }

    @Test func libraryWithoutChecksumIsRebuilt() throws {
        let rebuilt = try rebuildAfter(14) { _, built, _ in try FileManager.default.removeItem(atPath: built.path + ".sha256") }
        #expect(rebuilt.repairedProblem == "no checksum file answer.so.sha256")
    }

    @Test func crashingCompilerNamesTheSignalAndTheLog() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let script = directory.appendingPathComponent("crashing-cc").path
        try Data("#!/bin/sh\necho 'about to crash' >&2\nkill -SEGV $$\n".utf8).write(to: URL(fileURLWithPath: script))
        chmod(script, 0o755)
        let cache = BuildCache(directory: directory, compiler: CCompiler(path: script, version: "crashing 1", openMPVersion: 201511))
        let error = try #require(throws: ToolchainError.self) { try cache.build(source: answerSource(1), libraryName: "answer") }
        guard case let .compileFailed(_, _, logPath, _) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(error.description.contains("(compiler killed by signal 11)"), "\(error)")
        #expect(error.description.contains("Full log: \(logPath)"))
        #expect(try String(contentsOfFile: logPath, encoding: .utf8).contains("about to crash"))
        #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: logPath).deletingLastPathComponent().path + "/answer.so"))
    }

    @Test func missingCompilerSaysSoWithTheLog() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let missing = directory.appendingPathComponent("no-such-cc").path
        let cache = BuildCache(directory: directory, compiler: CCompiler(path: missing, version: "gone", openMPVersion: 201511))
        let error = try #require(throws: ToolchainError.self) { try cache.build(source: answerSource(1), libraryName: "answer") }
        guard case let .compilerUnavailable(compiler, _, logPath) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(compiler == missing)
        #expect(error.description.hasPrefix("Cannot run the C compiler \(missing): "))
        #expect(error.description.contains("Log: \(logPath)"))
        #expect(try String(contentsOfFile: logPath, encoding: .utf8).contains("cannot start the compiler"))
    }
}
