import Foundation

/// A shared library produced (or found) by `BuildCache`.
public struct BuiltLibrary: Sendable, Equatable, CustomStringConvertible {
    /// Absolute path of the `.so`; never rewritten once it exists.
    public let path: String
    /// Full hex SHA-256 cache key.
    public let key: String
    /// True if the library already existed and nothing was compiled.
    public let cacheHit: Bool
    /// Wall time of the `build` call (lookup, or write + compile + publish).
    public let seconds: Double
    /// The `.c` file beside the library.
    public let sourcePath: String
    /// The header beside the library, if one was given.
    public let headerPath: String?
    /// The compiler log beside the library (`build.log`, written on a miss).
    public let logPath: String
    /// File name of the compiler, e.g. `clang-14`.
    public let compilerName: String
    /// Why an existing entry was rebuilt (truncated, foreign, no checksum), if it was.
    public var repairedProblem: String? = nil

    /// One line for the CLI, e.g. `cache hit (key 3fa2...): /path/lib.so in 0.01 s`.
    public var summary: String {
        let shortKey = "\(key.prefix(12))..."
        let time = String(format: "%.2f s", seconds)
        if cacheHit { return "cache hit (key \(shortKey)): \(path) in \(time)" }
        let cause = repairedProblem.map { "cache entry broken (\($0)), rebuilt" } ?? "cache miss"
        return "\(cause) (key \(shortKey)): compiled with \(compilerName) in \(time): \(path)"
    }

    /// Same as `summary`.
    public var description: String { summary }
}
