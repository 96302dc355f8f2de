import Foundation
import Testing
@testable import SimSiamC

/// Writes that run out of space (simulated with a file-size limit, which
/// fails a write with EFBIG as a full disk fails it with ENOSPC): a clear
/// error, the previous checkpoint still loads, nothing half-published in the
/// build cache (issue 18, item 2).
@Suite(.serialized) struct FullDiskTests {
    let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-full-\(UUID().uuidString)")

    @Test func checkpointThatDoesNotFitKeepsThePreviousOne() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let kill = KillResumeTests()
        try SyntheticFashionMNIST.write(to: kill.dataDirectory, train: 96, test: 30)
        let run = kill.workspace.appendingPathComponent("run")
        defer { try? FileManager.default.removeItem(at: kill.workspace) }

        // Epoch 1 ends with a checkpoint; the kill lands in epoch 2.
        var epochOneDone = false
        let first = try kill.command(run).run { line in
            if let line, line.hasPrefix("epoch 1 done") { epochOneDone = true }
            return epochOneDone
        }
        try #require(first.killed, "the run ended before epoch 2:\n\(first.output)")
        let checkpointURL = run.appendingPathComponent("checkpoint.safetensors")
        let saved = try Data(contentsOf: checkpointURL)

        let limited = try kill.command(run, resume: true, fileSizeLimit: saved.count / 2).run()
        #expect(limited.status != 0)
        let message = limited.output.split(separator: "\n").first { $0.contains("cannot write") }.map(String.init) ?? limited.output
        #expect(message.contains("cannot write \(checkpointURL.path): wrote "), "\(message)")
        #expect(message.contains("File too large; the previous file, if any, is unchanged"), "\(message)")
        #expect(message.contains("the last checkpoint (epoch 1) is intact; free space and continue with --resume"), "\(message)")
        #expect(try Data(contentsOf: checkpointURL) == saved, "the previous checkpoint changed")
        #expect(try Checkpoint.read(checkpointURL).0.position.epoch == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")

        let resumed = try kill.command(run, resume: true).run()
        #expect(resumed.status == 0, "resume after freeing space failed:\n\(resumed.output)")
        #expect(try Checkpoint.read(checkpointURL).0.position.epoch == KillResumeTests.epochs)
    }

    @Test func libraryThatDoesNotFitIsNotPublished() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        func compile(cache: String, limit: Int?) throws -> CommandLineRun.Outcome {
            // Debug info makes the library about twice its source (reference kernels, a loop nest per layer); without
            // it the library was only a few percent larger, a margin the named workspace pointers used up.
            try CommandLineRun(arguments: ["bench", "--workload", "tiny", "--batch", "7", "--steps", "1", "--warmup", "0",
                                           "--kernels", "reference"],
                               environment: ["SIMSIAMC_CACHE_DIR": workspace.appendingPathComponent(cache).path,
                                             "SIMSIAMC_CFLAGS": "-g"],
                               fileSizeLimit: limit).run()
        }
        let free = try compile(cache: "free", limit: nil)
        try #require(free.status == 0, "\(free.output)")
        let entry = try #require(FileManager.default.subpathsOfDirectory(atPath: workspace.appendingPathComponent("free").path)
            .first { $0.hasSuffix(".so") })  // tiny_reference.so
        let base = workspace.appendingPathComponent("free").appendingPathComponent(entry).deletingPathExtension().path
        let sourceSize = try #require(FileManager.default.attributesOfItem(atPath: base + ".c")[.size] as? Int)
        let librarySize = try #require(FileManager.default.attributesOfItem(atPath: base + ".so")[.size] as? Int)
        try #require(librarySize > sourceSize + 1024, "the test needs a library larger than its source")

        // The source fits, the library does not: the linker fails writing it.
        let full = try compile(cache: "full", limit: (sourceSize + librarySize) / 2)
        #expect(full.status != 0)
        #expect(full.output.contains("Full log: "), "\(full.output)")
        #expect(full.output.contains("(out of disk space or over the file-size limit: free space"), "\(full.output)")
        let files = try FileManager.default.subpathsOfDirectory(atPath: workspace.appendingPathComponent("full").path)
        #expect(!files.contains { $0.hasSuffix(".so") || $0.hasSuffix(".sha256") }, "half-published: \(files)")
        #expect(!files.contains { $0.contains(".tmp") }, "temporaries left: \(files)")
        let log = try #require(files.first { $0.hasSuffix("build.log") })
        let logText = try String(contentsOf: workspace.appendingPathComponent("full").appendingPathComponent(log), encoding: .utf8)
        #expect(["File too large", "No space", "File size limit exceeded"].contains { logText.contains($0) }, "\(logText)")

        // With the space back, the same command builds and publishes.
        let again = try compile(cache: "full", limit: nil)
        #expect(again.status == 0, "\(again.output)")
    }
}
