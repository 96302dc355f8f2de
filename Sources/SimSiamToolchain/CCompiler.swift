import Foundation

/// A C compiler that passed the OpenMP probe, with the exact flags simsiamc builds with.
public struct CCompiler: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Flags every generated library is compiled with (before `extraFlags`).
    public static let baseFlags: [String] = [
        "-O3", "-march=native", "-fPIC", "-shared", "-fopenmp", "-std=c11",
        "-Wall", "-Wno-unused-function", "-Wno-unknown-pragmas",
    ]

    /// Absolute path of the compiler executable.
    public let path: String
    /// First line of `<path> --version`; part of the build cache key.
    public let version: String
    /// User flags from `SIMSIAMC_CFLAGS`, already included in `flags`.
    public let extraFlags: [String]
    /// The `_OPENMP` value (yyyymm) the probe library reported.
    public let openMPVersion: Int
    /// The flags before `extraFlags`: `CCompiler.baseFlags` for generated libraries.
    public let commonFlags: [String]

    /// Creates a compiler description; `CompilerProbe` is the normal way to get one.
    /// `commonFlags` replaces `baseFlags` for C that is not a generated library (the MPI shim).
    public init(path: String, version: String, extraFlags: [String] = [], openMPVersion: Int,
                commonFlags: [String] = CCompiler.baseFlags) {
        self.path = path
        self.version = version
        self.extraFlags = extraFlags
        self.openMPVersion = openMPVersion
        self.commonFlags = commonFlags
    }

    /// All compile flags: `commonFlags` (normally `baseFlags`) followed by `extraFlags`.
    public var flags: [String] { commonFlags + extraFlags }

    /// The executable's file name, e.g. `clang-14`, for short messages.
    public var name: String { URL(fileURLWithPath: path).lastPathComponent }

    /// `path (version)`.
    public var description: String { "\(path) (\(version))" }
}
