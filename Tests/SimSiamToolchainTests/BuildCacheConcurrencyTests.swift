import Dispatch
import Foundation
import Synchronization
import Testing

@testable import SimSiamToolchain

@Suite struct BuildCacheConcurrencyTests {
    @Test func concurrentBuildsOfTheSameNewSourceShareOneValidLibrary() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let cache = BuildCache(directory: directory, compiler: try resolvedCompiler())
        let results = Mutex<[Result<BuiltLibrary, any Error>]>([])

        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let result = Result { try cache.build(source: answerSource(1234), libraryName: "answer") }
            results.withLock { $0.append(result) }
        }

        let built = try results.withLock { try $0.map { try $0.get() } }
        #expect(built.count == 2)
        #expect(Set(built.map(\.path)).count == 1)
        #expect(try callAnswer(in: built[0].path) == 1234)
        let entry = URL(fileURLWithPath: built[0].path).deletingLastPathComponent().path
        #expect(try leftoverTemporaries(in: entry).isEmpty)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: entry)) == ["answer.so", "answer.so.sha256", "answer.c", "build.log"])
    }

    /// Two separate compiler processes finish the same library and publish at once:
    /// exactly one wins, the loser's file is discarded, nothing is left behind.
    @Test func racingExternalCompilersPublishExactlyOnce() throws {
        let compiler = try resolvedCompiler()
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let source = directory.appendingPathComponent("answer.c").path
        try Data(answerSource(99).utf8).write(to: URL(fileURLWithPath: source))
        let final = directory.appendingPathComponent("answer.so").path
        let temporaries = [LibraryPublisher.temporaryPath(for: final), LibraryPublisher.temporaryPath(for: final)]
        #expect(temporaries[0] != temporaries[1])

        let outcomes = Mutex<[Result<LibraryPublisher.Outcome, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let outcome = Result { () throws -> LibraryPublisher.Outcome in
                let output = try ProcessRunner.run(compiler.path, compiler.flags + ["-o", temporaries[index], source])
                guard output.succeeded else { throw ToolchainError.fileSystem(output.output) }
                return try LibraryPublisher.publish(temporary: temporaries[index], final: final)
            }
            outcomes.withLock { $0.append(outcome) }
        }

        let published = try outcomes.withLock { try $0.map { try $0.get() } }
        #expect(published.filter { $0 == .published }.count == 1)
        #expect(published.filter { $0 == .alreadyPresent }.count == 1)
        #expect(try callAnswer(in: final) == 99)
        #expect(try leftoverTemporaries(in: directory.path).isEmpty)
    }

    @Test func publishNeverReplacesAnExistingFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let final = directory.appendingPathComponent("lib.so").path
        let temporary = LibraryPublisher.temporaryPath(for: final)
        try Data("first".utf8).write(to: URL(fileURLWithPath: final))
        try Data("second".utf8).write(to: URL(fileURLWithPath: temporary))

        #expect(try LibraryPublisher.publish(temporary: temporary, final: final) == .alreadyPresent)
        #expect(try String(contentsOfFile: final, encoding: .utf8) == "first")
        #expect(!FileManager.default.fileExists(atPath: temporary))
    }
}
