import Foundation
import Testing

@testable import SimSiamToolchain

@Suite struct CompilerProbeTests {
    @Test func resolvesACompilerThatRunsOpenMP() throws {
        let compiler = try resolvedCompiler()
        #expect(compiler.openMPVersion > 0, "probe library must report _OPENMP")
        #expect(compiler.path.hasPrefix("/"))
        #expect(!compiler.version.isEmpty)
        #expect(compiler.flags.contains("-fopenmp"))
        #expect(try resolvedCompiler() == compiler, "second resolve comes from the process cache")
    }

    @Test func missingOverrideIsAnErrorNamingTheVariable() throws {
        let environment = ["SIMSIAMC_CC": "/nonexistent/cc", "PATH": "/usr/bin:/bin"]
        let error = try #require(throws: ToolchainError.self) { try CompilerProbe.resolve(environment: environment) }
        guard case let .overrideCompilerFailed(variable, value, failure) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(variable == "SIMSIAMC_CC")
        #expect(value == "/nonexistent/cc")
        #expect(failure.reason.contains("not found"))
        #expect(error.description.contains("SIMSIAMC_CC=/nonexistent/cc"))
    }

    /// /bin/true "compiles" successfully but produces nothing to load.
    @Test func overrideThatBuildsNothingIsRejected() throws {
        let error = try #require(throws: ToolchainError.self) {
            try CompilerProbe.resolve(environment: ["SIMSIAMC_CC": "/bin/true"])
        }
        #expect(error.description.contains("SIMSIAMC_CC"))
        #expect(error.description.contains("dlopen"))
    }

    /// A real compiler that drops -fopenmp compiles and loads fine, so only
    /// running the probe reveals that the pragmas were ignored.
    @Test func compilerThatIgnoresOpenMPIsRejected() throws {
        let real = try resolvedCompiler()
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let wrapper = directory.appendingPathComponent("cc-without-openmp").path
        let script = """
            #!/bin/sh
            for arg in "$@"; do
              shift
              [ "$arg" = "-fopenmp" ] || set -- "$@" "$arg"
            done
            exec \(real.path) "$@"
            """
        try Data(script.utf8).write(to: URL(fileURLWithPath: wrapper))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper)

        let error = try #require(throws: ToolchainError.self) {
            try CompilerProbe.resolve(environment: ["SIMSIAMC_CC": wrapper])
        }
        guard case let .overrideCompilerFailed(_, _, failure) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(failure.reason.contains("_OPENMP is undefined"))
    }

    @Test func extraFlagsAreAppendedAndPartOfTheResolution() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["SIMSIAMC_CFLAGS"] = "  -DSIMSIAMC_PROBE_TEST=1   -fno-math-errno "
        let compiler = try CompilerProbe.resolve(environment: environment)
        #expect(compiler.extraFlags == ["-DSIMSIAMC_PROBE_TEST=1", "-fno-math-errno"])
        #expect(compiler.flags == CCompiler.baseFlags + compiler.extraFlags)
        #expect(try resolvedCompiler().extraFlags != compiler.extraFlags)
    }

    @Test func noCompilerErrorListsCandidatesAndTheFix() {
        let error = ToolchainError.noOpenMPCompiler(failures: [
            ProbeFailure(candidate: "/usr/bin/clang-14", reason: "not found or not executable"),
            ProbeFailure(candidate: "gcc (PATH)", reason: "probe compile failed (exit 1)",
                         logExcerpt: ["fatal error: 'omp.h' file not found"]),
        ])
        let text = error.description
        #expect(text.contains("/usr/bin/clang-14: not found"))
        #expect(text.contains("'omp.h' file not found"))
        #expect(text.contains("apt-get install -y clang libomp-dev"))
        #expect(text.contains("SIMSIAMC_CC"))
    }

    @Test func bareNamesAreLookedUpOnPath() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let fake = directory.appendingPathComponent("fakecc").path
        try Data("#!/bin/sh\n".utf8).write(to: URL(fileURLWithPath: fake))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
        #expect(CompilerProbe.locate("fakecc", searchPath: "/nonexistent:\(directory.path)") == fake)
        #expect(CompilerProbe.locate("fakecc", searchPath: "/usr/bin") == "fakecc")
        #expect(CompilerProbe.locate("/opt/x/cc", searchPath: directory.path) == "/opt/x/cc")
    }
}
