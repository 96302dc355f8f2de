import Foundation

/// Why one candidate C compiler was rejected by the OpenMP probe.
public struct ProbeFailure: Sendable, Equatable, CustomStringConvertible {
    /// The candidate as the user would recognise it (a path, or `gcc (PATH)`).
    public let candidate: String
    /// One-line reason ("not found", "compile failed", "_OPENMP undefined", ...).
    public let reason: String
    /// The first lines of the compiler log or loader message, if any.
    public let logExcerpt: [String]

    /// Creates a failure record.
    public init(candidate: String, reason: String, logExcerpt: [String] = []) {
        self.candidate = candidate
        self.reason = reason
        self.logExcerpt = logExcerpt
    }

    /// The candidate and reason, followed by the indented log excerpt.
    public var description: String {
        ([" - \(candidate): \(reason)"] + logExcerpt.map { "     | \($0)" }).joined(separator: "\n")
    }
}

/// Errors from compiler resolution and library builds; descriptions say what to do next.
public enum ToolchainError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// The compiler named by an override variable (`SIMSIAMC_CC`) did not pass the probe.
    case overrideCompilerFailed(variable: String, value: String, failure: ProbeFailure)
    /// No candidate compiler passed the OpenMP probe.
    case noOpenMPCompiler(failures: [ProbeFailure])
    /// The C compiler rejected a translation unit.
    case compileFailed(compiler: String, sourcePath: String, logPath: String, errorLines: [String])
    /// A library or header name that cannot be used as a plain file name.
    case invalidFileName(String)
    /// The probed compiler could not be started (removed or broken since the probe).
    case compilerUnavailable(compiler: String, problem: String, logPath: String)
    /// A file-system operation of the build cache failed.
    case fileSystem(String)

    static let installHint =
        "Install an OpenMP-capable C compiler with `apt-get install -y clang libomp-dev`, "
        + "or set \(CompilerProbe.overrideVariable) to one."

    /// A multi-line explanation that ends with what the user can do about it.
    public var description: String {
        switch self {
        case let .overrideCompilerFailed(variable, value, failure):
            return """
                \(variable)=\(value) does not name a working OpenMP C compiler:
                \(failure)
                Fix or unset \(variable); without it simsiamc tries /usr/bin/clang-14, /usr/bin/clang and gcc.
                """
        case let .noOpenMPCompiler(failures):
            return "No C compiler that runs OpenMP code was found. Tried:\n"
                + failures.map(\.description).joined(separator: "\n")
                + "\n" + Self.installHint
        case let .compileFailed(compiler, sourcePath, logPath, errorLines):
            return """
                C compiler \(compiler) failed on \(sourcePath).
                Full log: \(logPath)
                \(errorLines.map { "  \($0)" }.joined(separator: "\n"))
                If the generated C is at fault, report it with the source and log above; \
                if the compiler is, pick another with \(CompilerProbe.overrideVariable) \
                or adjust \(CompilerProbe.extraFlagsVariable).
                """
        case let .compilerUnavailable(compiler, problem, logPath):
            return """
                Cannot run the C compiler \(compiler): \(problem).
                Log: \(logPath)
                Reinstall it (`apt-get install -y clang libomp-dev`) or pick another with \(CompilerProbe.overrideVariable).
                """
        case let .invalidFileName(name):
            return "'\(name)' cannot be used as a file name in the build cache (empty, '/' or leading '.')."
        case let .fileSystem(message):
            return "Build cache file-system error: \(message)"
        }
    }

    /// Same as `description`, so `localizedDescription` is useful too.
    public var errorDescription: String? { description }
}
