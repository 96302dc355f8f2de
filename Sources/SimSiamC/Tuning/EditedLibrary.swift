import Foundation
import Glibc

/// Which library to build from C written for editing (see `TraceTable` in SimSiamCodegen).
public enum Instrumentation: String, Sendable {
    /// The normal library.
    case plain
    /// `-DSIMSIAM_PROFILE`: every kernel call timed (`simsiam_profile_*`).
    case profile
    /// `-DSIMSIAM_TRACE`: every written tensor handed to a hook (`simsiam_trace_*`).
    case trace

    /// The text put before the C: the macro, if any.
    var defines: String {
        switch self {
        case .plain: ""
        case .profile: "#define SIMSIAM_PROFILE 1\n"
        case .trace: "#define SIMSIAM_TRACE 1\n"
        }
    }

    /// `source` with the macro defined, plus a `#line` that makes the compiler's
    /// messages name `path` (the cache compiles a copy) with its own line numbers.
    func prepare(_ source: String, path: String?) -> String {
        let line = path.map { "#line 1 \"\($0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"\n" } ?? ""
        return defines + line + source
    }
}

/// A tuning directory's C built and loaded, next to the graph it was compiled from.
public struct EditedProgram: @unchecked Sendable {
    public let directory: TuningDirectory
    /// The graph recompiled from the manifest: its own C (as simsiamc emits it today), built plainly.
    public let generated: CompiledModel
    /// The directory's C, built with the requested instrumentation; `lowered` is the graph's.
    public let edited: CompiledModel
    /// Whether the directory's C differs from what simsiamc wrote there.
    public let isEdited: Bool
    /// Things the user should know (e.g. simsiamc now emits different C for this graph).
    public let notes: [String]

    /// One line for the CLI (the edited build's clang line is in `edited.summary`).
    public var summary: String {
        let state = isEdited ? "edited" : "unedited"
        return (["library: \(directory.sourceURL.path) (\(state); ABI and symbols match the graph's)"]
            + notes.map { "  note:    " + $0 }).joined(separator: "\n")
    }
}

extension Compiler {
    /// Builds a tuning directory's C with `instrumentation` through the build cache and
    /// checks it against the graph of its manifest: ABI version, batch, scalar type,
    /// arenas, optimizer groups and symbol table (names, arenas, kinds, groups, offsets, shapes).
    ///
    /// - Parameter expecting: the workload, batch and variant the caller asks for
    ///   (from its flags); each one given must match the manifest.
    /// - Throws: `CompileError` naming the file, the first differing symbol or the
    ///   mismatching flag, and what to do; the compiler's error lines with the user's path.
    public static func loadEdited(_ directory: TuningDirectory, instrumentation: Instrumentation = .plain,
                                  expecting: TuningExpectation = TuningExpectation(), cache: BuildCache? = nil) throws -> EditedProgram {
        let cache = try cache ?? BuildCache()
        let manifest = directory.manifest
        try expecting.check(against: manifest, directory: directory.directory.path)
        let generated = try compile(try manifest.resolvedWorkload(), batch: manifest.batch, options: try manifest.codegenOptions(),
                                    variant: manifest.variant, cache: cache)
        var notes: [String] = []
        let emittedHash = SHA256.hexDigest(of: generated.lowered.generated.source)
        if emittedHash != manifest.graphHash {
            notes.append("this simsiamc emits different C for the graph than the one that wrote \(directory.directory.path) (a newer version?); the check and verify compare with today's C")
        }
        let source = try directory.readSource()
        let build: BuiltLibrary
        do {
            build = try cache.build(source: instrumentation.prepare(source, path: directory.sourceURL.path), header: try directory.readHeader(),
                                    headerName: manifest.stem + ".h", libraryName: manifest.stem + "_edited")
        } catch ToolchainError.compileFailed(let compiler, _, let log, let lines) {
            throw CompileError("""
                \(compiler) rejected \(directory.sourceURL.path)\(instrumentation == .plain ? "" : " (built with -DSIMSIAM_\(instrumentation.rawValue.uppercased()))"):
                \(lines.map { "  " + $0 }.joined(separator: "\n"))
                Line numbers are your file's. Full log: \(log)
                Fix the C and run again; `simsiamc compile --out` writes a fresh copy.
                """)
        }
        let library = try loadChecked(build.path, source: directory.sourceURL.path, against: generated.library)
        let edited = CompiledModel(lowered: generated.lowered, build: build, library: library)
        return EditedProgram(directory: directory, generated: generated, edited: edited,
                             isEdited: SHA256.hexDigest(of: source) != manifest.graphHash, notes: notes)
    }

    /// Loads the library built from `source` and refuses it unless its ABI and symbols match `expected`'s.
    static func loadChecked(_ path: String, source: String, against expected: ModelLibrary) throws -> ModelLibrary {
        let native = try NativeLibrary.load(path: path)
        let version = try native.function("simsiam_abi_version", as: (@convention(c) () -> Int64).self)()
        guard version == ModelLibrary.abiVersion else {
            throw CompileError("\(source): simsiam_abi_version() returns \(version), but the graph's C and this runtime use ABI version \(ModelLibrary.abiVersion); restore SIMSIAM_ABI_VERSION in the header and simsiam_abi_version as generated")
        }
        let library: ModelLibrary
        do {
            library = try ModelLibrary(native: native)
        } catch {
            throw CompileError("\(source): the library it builds is inconsistent: \(error); restore the symbol table and arena sizes as generated")
        }
        if let difference = LibraryContract.firstDifference(library, expected) {
            throw CompileError("\(source): \(difference), so the runtime would read and write the wrong memory. Kernels may change freely; restore the symbol table, arena sizes and entry points as `simsiamc compile --out` wrote them.")
        }
        return library
    }
}

/// What a command's flags ask for, checked against a tuning directory's manifest.
public struct TuningExpectation: Sendable {
    public var workload: String?
    public var batch: Int?
    public var variant: SimSiamVariant?

    public init(workload: String? = nil, batch: Int? = nil, variant: SimSiamVariant? = nil) {
        self.workload = workload
        self.batch = batch
        self.variant = variant
    }

    func check(against manifest: TuningManifest, directory: String) throws {
        var problems: [String] = []
        if let workload, workload != manifest.workload && Workload.named(workload)?.name != manifest.workload {
            problems.append("--workload \(workload) but the C is for \(manifest.workload)")
        }
        if let batch, batch != manifest.batch {
            problems.append("--batch \(batch) but the C is written for batch \(manifest.batch)")
        }
        if let variant, variant != manifest.variant {
            problems.append("variant \(variant.summary) but the C is for \(manifest.variant.summary)")
        }
        guard problems.isEmpty else {
            throw CompileError("\(directory) (manifest.json): " + problems.joined(separator: "; ")
                + ". Drop those flags (the manifest supplies them) or compile a directory for them with `simsiamc compile --out`.")
        }
    }
}
