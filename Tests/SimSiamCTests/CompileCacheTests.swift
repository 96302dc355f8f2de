import Foundation
import Testing
@testable import SimSiamC

@Suite struct CompileCacheTests {
    @Test func changedGraphLoadsNewCode() throws {
        let small = try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache)
        let larger = try Compiler.compile(Workload.tiny, batch: 6, cache: quickTestCache)
        #expect(small.build.path != larger.build.path)
        #expect(small.library.batch == 4)
        #expect(larger.library.batch == 6)
        let again = try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache)
        #expect(again.build.cacheHit)
        #expect(again.build.path == small.build.path)
    }

    /// Two `simsiamc compile` processes racing on one empty cache both finish
    /// with a working library, and the cache holds exactly one.
    @Test func concurrentProcessesShareOneValidLibrary() throws {
        let executable = productsDirectory.appendingPathComponent("simsiamc")
        try #require(FileManager.default.isExecutableFile(atPath: executable.path), "build simsiamc first: \(executable.path)")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-race-\(UUID().uuidString)")
        let outputs = (0..<2).map { FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-race-out-\($0)-\(UUID().uuidString)") }
        defer { for directory in [cache] + outputs { try? FileManager.default.removeItem(at: directory) } }
        let processes = outputs.map { out -> (Process, Pipe) in
            let process = Process()
            process.executableURL = executable
            process.arguments = ["compile", "--workload", "tiny", "--batch", "3", "--out", out.path]
            var environment = ProcessInfo.processInfo.environment
            environment["SIMSIAMC_CACHE_DIR"] = cache.path
            process.environment = environment
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            return (process, pipe)
        }
        for (process, _) in processes { try process.run() }
        for (process, pipe) in processes {
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "simsiamc compile failed: \(output)")
        }
        let libraries = try FileManager.default.subpathsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".so") }
        #expect(libraries.count == 1, "cache holds \(libraries)")
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: cache.path).filter { $0.contains("tmp") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        let library = try ModelLibrary.load(path: cache.appendingPathComponent(try #require(libraries.first)).path)
        let state = ModelState(library: library)
        state.initialize(seed: 1)
        var random = TestRandom(seed: 2)
        let loss = try state.trainStep(inputs: library.inputs.map { random.array($0.numel).map(Float.init) },
                                       groupLR: [0.01, 0.01], weightDecay: 5e-4, momentum: 0.9)
        #expect(loss.isFinite && loss >= -1 && loss <= 1)
    }
}
