import Foundation

/// One probe of one candidate: compile, load and run `ProbeProgram`.
struct CompilerProbeRun {
    let executable: String
    let label: String
    let extraFlags: [String]

    /// Enough iterations that every thread of a static schedule gets work.
    private let elementCount = 1024

    func run() -> Result<CCompiler, ProbeFailure> {
        do {
            return .success(try probe())
        } catch let failure as ProbeFailure {
            return .failure(failure)
        } catch {
            return .failure(fail("unexpected error", ["\(error)"]))
        }
    }

    private func probe() throws -> CCompiler {
        guard executable.contains("/"), FileManager.default.isExecutableFile(atPath: executable) else {
            throw fail(executable.contains("/") ? "not found or not executable" : "not found on PATH")
        }
        let version = try versionLine()
        let compiler = CCompiler(path: executable, version: version, extraFlags: extraFlags, openMPVersion: 0)
        let library = try buildAndLoad(compiler)
        let openMPVersion = try checkOpenMP(library)
        try checkParallelLoop(library)
        return CCompiler(path: executable, version: version, extraFlags: extraFlags, openMPVersion: openMPVersion)
    }

    private func versionLine() throws -> String {
        let output: ProcessOutput
        do {
            output = try ProcessRunner.run(executable, ["--version"])
        } catch {
            throw fail("could not run `--version`", ["\(error)"])
        }
        guard output.succeeded else { throw fail("`--version` exited with \(output.status)", excerpt(output)) }
        return output.lines.first ?? ""
    }

    private func buildAndLoad(_ compiler: CCompiler) throws -> LoadedLibrary {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("simsiamc-probe-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // The loaded mapping outlives the files, so the directory can go right after dlopen.
        defer { try? FileManager.default.removeItem(at: directory) }
        let sourcePath = directory.appendingPathComponent("probe.c").path
        let libraryPath = directory.appendingPathComponent("probe.so").path
        try Data(ProbeProgram.source.utf8).write(to: URL(fileURLWithPath: sourcePath))
        // -z defs turns a missing OpenMP runtime into a link error instead of a later dlopen surprise.
        let arguments = compiler.flags + ["-Wl,-z,defs", "-o", libraryPath, sourcePath]
        let output: ProcessOutput
        do {
            output = try ProcessRunner.run(executable, arguments, in: directory)
        } catch {
            throw fail("could not run the compiler", ["\(error)"])
        }
        guard output.succeeded else {
            throw fail("probe compile failed (exit \(output.status))", excerpt(output))
        }
        do {
            return try LoadedLibrary(path: libraryPath)
        } catch {
            throw fail("probe library did not load with dlopen(RTLD_NOW)", ["\(error)"])
        }
    }

    private func checkOpenMP(_ library: LoadedLibrary) throws -> Int {
        let versionFunction = try symbol(library, ProbeProgram.openMPVersionSymbol, ProbeProgram.OpenMPVersionFunction.self)
        let openMPVersion = Int(versionFunction())
        guard openMPVersion > 0 else {
            throw fail("_OPENMP is undefined: the compiler ignores OpenMP pragmas with these flags")
        }
        return openMPVersion
    }

    private func checkParallelLoop(_ library: LoadedLibrary) throws {
        let fill = try symbol(library, ProbeProgram.parallelFillSymbol, ProbeProgram.ParallelFillFunction.self)
        var values = [Int32](repeating: -1, count: elementCount)
        var threadOf = [Int32](repeating: -1, count: elementCount)
        let maxThreads = values.withUnsafeMutableBufferPointer { valuesBuffer in
            threadOf.withUnsafeMutableBufferPointer { threadBuffer in
                fill(Int32(elementCount), valuesBuffer.baseAddress!, threadBuffer.baseAddress!)
            }
        }
        guard maxThreads >= 1 else { throw fail("omp_get_max_threads() returned \(maxThreads)") }
        if let bad = values.indices.first(where: { values[$0] != ProbeProgram.expectedValue(at: $0) }) {
            throw fail("parallel loop wrote \(values[bad]) at index \(bad), expected \(ProbeProgram.expectedValue(at: bad))")
        }
        if let bad = threadOf.first(where: { !(0..<maxThreads).contains($0) }) {
            throw fail("parallel loop reported thread id \(bad) with omp_get_max_threads() = \(maxThreads)")
        }
    }

    private func symbol<Function>(_ library: LoadedLibrary, _ name: String, _ type: Function.Type) throws -> Function {
        do {
            return try library.function(name, as: type)
        } catch {
            throw fail("probe library lacks \(name)", ["\(error)"])
        }
    }

    private func fail(_ reason: String, _ log: [String] = []) -> ProbeFailure {
        ProbeFailure(candidate: label, reason: reason, logExcerpt: log)
    }

    private func excerpt(_ output: ProcessOutput) -> [String] {
        Array(output.lines.prefix(8))
    }
}

extension ProbeFailure: Error {}
