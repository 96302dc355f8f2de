import Foundation
import Testing

@testable import SimSiamToolchain

@Suite struct BuildCacheTests {
    @Test func secondBuildOfTheSameSourceIsAHit() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let cache = BuildCache(directory: directory, compiler: try resolvedCompiler())

        let first = try cache.build(source: answerSource(7), libraryName: "answer")
        let inode = try FileManager.default.attributesOfItem(atPath: first.path)[.systemFileNumber] as? UInt64
        let second = try cache.build(source: answerSource(7), libraryName: "answer")

        #expect(!first.cacheHit)
        #expect(second.cacheHit)
        #expect(second.path == first.path)
        #expect(second.key == first.key)
        #expect(try FileManager.default.attributesOfItem(atPath: second.path)[.systemFileNumber] as? UInt64 == inode,
                "a hit must not replace the library file")
        #expect(first.path == directory.path + "/\(first.key.prefix(16))/answer.so")
        #expect(FileManager.default.fileExists(atPath: first.sourcePath))
        #expect(FileManager.default.fileExists(atPath: first.logPath))
        #expect(try callAnswer(in: second.path) == 7)
        #expect(second.summary.hasPrefix("cache hit (key \(first.key.prefix(12))...): \(first.path) in "))
        #expect(first.summary.contains("cache miss") && first.summary.contains("compiled with \(cache.compiler.name)"))
    }

    @Test func changedSourceGivesANewLibraryWithTheNewBehaviour() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let cache = BuildCache(directory: directory, compiler: try resolvedCompiler())

        let old = try cache.build(source: answerSource(41), libraryName: "answer")
        let new = try cache.build(source: answerSource(42), libraryName: "answer")

        #expect(!new.cacheHit)
        #expect(new.key != old.key)
        #expect(new.path != old.path)
        #expect(try callAnswer(in: old.path) == 41)
        #expect(try callAnswer(in: new.path) == 42)
    }

    @Test func headerIsWrittenBesideTheSourceAndKeysTheBuild() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let cache = BuildCache(directory: directory, compiler: try resolvedCompiler())
        let source = "#include \"values.h\"\nint answer(void) { return ANSWER; }\n"

        let a = try cache.build(source: source, header: "#define ANSWER 5\n", headerName: "values.h", libraryName: "answer")
        let b = try cache.build(source: source, header: "#define ANSWER 6\n", headerName: "values.h", libraryName: "answer")

        #expect(a.key != b.key)
        #expect(a.headerPath == URL(fileURLWithPath: a.path).deletingLastPathComponent().appendingPathComponent("values.h").path)
        #expect(try callAnswer(in: a.path) == 5)
        #expect(try callAnswer(in: b.path) == 6)
    }

    @Test func compileErrorReportsCompilerLogPathAndErrorLine() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let cache = BuildCache(directory: directory, compiler: try resolvedCompiler())
        let source = "int answer(void) { return missing_identifier_xyz; }\n"

        let error = try #require(throws: ToolchainError.self) { try cache.build(source: source, libraryName: "broken") }
        guard case let .compileFailed(compiler, _, logPath, errorLines) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        let text = error.description
        #expect(compiler.contains(cache.compiler.path))
        #expect(text.contains(logPath))
        #expect(text.contains(cache.compiler.path))
        #expect(errorLines.contains { $0.contains("error") && $0.contains("missing_identifier_xyz") })
        #expect(text.contains("missing_identifier_xyz"))
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(log.contains("missing_identifier_xyz"))
        let entry = URL(fileURLWithPath: logPath).deletingLastPathComponent().path
        #expect(!FileManager.default.fileExists(atPath: entry + "/broken.so"))
        #expect(try leftoverTemporaries(in: entry).isEmpty)
    }

    @Test func keyCoversFlagsCompilerAndNames() {
        let plain = CCompiler(path: "/usr/bin/cc", version: "cc 1.0", openMPVersion: 201511)
        let cache = BuildCache(directory: URL(fileURLWithPath: "/unused"), compiler: plain)
        let base = cache.key(source: "int x;", header: nil, headerName: nil, libraryName: "lib")
        func keyWith(_ compiler: CCompiler) -> String {
            BuildCache(directory: cache.directory, compiler: compiler)
                .key(source: "int x;", header: nil, headerName: nil, libraryName: "lib")
        }

        #expect(base.count == 64)
        #expect(base == cache.key(source: "int x;", header: nil, headerName: nil, libraryName: "lib"))
        #expect(base != keyWith(CCompiler(path: "/usr/bin/cc", version: "cc 1.0", extraFlags: ["-g"], openMPVersion: 201511)))
        #expect(base != keyWith(CCompiler(path: "/usr/bin/cc", version: "cc 1.1", openMPVersion: 201511)))
        #expect(base != keyWith(CCompiler(path: "/usr/bin/gcc", version: "cc 1.0", openMPVersion: 201511)))
        #expect(base != cache.key(source: "int x;", header: "", headerName: nil, libraryName: "lib"))
        #expect(base != cache.key(source: "int x;", header: nil, headerName: nil, libraryName: "lib2"))
        #expect(base != cache.key(source: "int y;", header: nil, headerName: nil, libraryName: "lib"))
    }

    @Test func cpuIdentityHasModelAndFeatureFlags() throws {
        let identity = CPUIdentity.current
        #expect(identity.contains("arch: "))
        if FileManager.default.fileExists(atPath: "/proc/cpuinfo") {
            #expect(identity.contains("flags: ") || identity.contains("Features: "))
        }
        let parsed = CPUIdentity.read(cpuinfo: "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx512f\nprocessor\t: 1\nflags\t\t: other\n")
        #expect(parsed.hasSuffix("flags: fpu avx512f\nmodel name: Test CPU"))
    }

    @Test func cacheDirectoryFollowsTheEnvironment() {
        #expect(BuildCache.defaultDirectory(environment: ["SIMSIAMC_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"]).path == "/c")
        #expect(BuildCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]).path == "/x/simsiamc")
        #expect(BuildCache.defaultDirectory(environment: ["HOME": "/h"]).path == "/h/.cache/simsiamc")
    }

    @Test func unsafeLibraryNamesAreRejected() throws {
        let cache = BuildCache(directory: URL(fileURLWithPath: "/unused"), compiler: try resolvedCompiler())
        for name in ["", "../escape", ".hidden"] {
            #expect(throws: ToolchainError.self) { try cache.build(source: "int x;", libraryName: name) }
        }
    }
}
