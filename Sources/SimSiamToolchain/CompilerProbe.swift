import Foundation
import Synchronization

/// Finds a C compiler that really builds and runs OpenMP code, judged by what it does.
///
/// Names are unreliable here: `clang` on PATH may be the Swift toolchain's clang,
/// which has no `omp.h`, or may silently ignore every pragma. Each candidate
/// therefore compiles, loads and runs a small OpenMP program.
public enum CompilerProbe {
    /// If set (non-empty), the only candidate tried; a path or a name looked up on PATH.
    public static let overrideVariable = "SIMSIAMC_CC"
    /// Extra compile flags, split on whitespace and appended to `CCompiler.baseFlags`.
    public static let extraFlagsVariable = "SIMSIAMC_CFLAGS"
    /// Candidates tried in order when no override is set.
    public static let defaultCandidates = ["/usr/bin/clang-14", "/usr/bin/clang", "gcc"]

    /// Successful resolutions for this process, keyed by every input that can change the answer.
    private static let resolved = Mutex<[ResolutionKey: CCompiler]>([:])

    private struct ResolutionKey: Hashable {
        let override: String?
        let extraFlags: [String]
        let searchPath: String?
    }

    /// Returns the first candidate that passes the probe, cached for the process.
    ///
    /// - Parameter environment: where `SIMSIAMC_CC`, `SIMSIAMC_CFLAGS` and `PATH`
    ///   are read; tests pass their own instead of mutating the process environment.
    /// - Throws: `ToolchainError.overrideCompilerFailed` if the override fails,
    ///   `ToolchainError.noOpenMPCompiler` if no default candidate passes.
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> CCompiler {
        let override = environment[overrideVariable].flatMap { $0.isEmpty ? nil : $0 }
        let extraFlags = splitFlags(environment[extraFlagsVariable])
        let searchPath = environment["PATH"]
        let key = ResolutionKey(override: override, extraFlags: extraFlags, searchPath: searchPath)
        // Probing under the lock means concurrent callers wait for one probe instead of racing.
        return try resolved.withLock { cache in
            if let compiler = cache[key] { return compiler }
            let compiler = try probeCandidates(override: override, extraFlags: extraFlags, searchPath: searchPath)
            cache[key] = compiler
            return compiler
        }
    }

    /// Probes one compiler executable (no caching).
    ///
    /// - Returns: the compiler, or why it was rejected.
    public static func probe(executable: String, extraFlags: [String] = []) -> Result<CCompiler, ProbeFailure> {
        CompilerProbeRun(executable: executable, label: executable, extraFlags: extraFlags).run()
    }

    private static func probeCandidates(
        override: String?, extraFlags: [String], searchPath: String?
    ) throws -> CCompiler {
        if let override {
            let executable = locate(override, searchPath: searchPath)
            switch CompilerProbeRun(executable: executable, label: override, extraFlags: extraFlags).run() {
            case .success(let compiler): return compiler
            case .failure(let failure):
                throw ToolchainError.overrideCompilerFailed(variable: overrideVariable, value: override, failure: failure)
            }
        }
        var failures: [ProbeFailure] = []
        for candidate in defaultCandidates {
            let executable = locate(candidate, searchPath: searchPath)
            let label = candidate.contains("/") ? candidate : "\(candidate) (PATH)"
            switch CompilerProbeRun(executable: executable, label: label, extraFlags: extraFlags).run() {
            case .success(let compiler): return compiler
            case .failure(let failure): failures.append(failure)
            }
        }
        throw ToolchainError.noOpenMPCompiler(failures: failures)
    }

    static func splitFlags(_ raw: String?) -> [String] {
        (raw ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
    }

    /// A bare name is looked up on `searchPath`; a path (or an unfound name) is returned as is.
    static func locate(_ candidate: String, searchPath: String?) -> String {
        guard !candidate.contains("/") else { return candidate }
        for directory in (searchPath ?? "").split(separator: ":") where !directory.isEmpty {
            let path = "\(directory)/\(candidate)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return candidate
    }
}
