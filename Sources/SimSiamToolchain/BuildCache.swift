import Foundation

/// Content-addressed builds of one C translation unit into a shared library.
///
/// Layout: `<directory>/<first 16 hex of key>/<libraryName>.so`, with the `.c`,
/// the `.h`, `build.log` and `<libraryName>.so.sha256` beside it. A library file,
/// once published, is never written again, so a process that has it loaded is
/// safe; concurrent builders of the same key each compile to a private name and
/// the first to publish wins.
///
/// A hit is trusted only after the library's bytes match the checksum file,
/// which also names the key: a truncated library, one copied in from another
/// entry, or one left without a checksum is rebuilt and atomically replaced
/// (the old inode stays intact for any process that has it loaded).
public struct BuildCache: Sendable {
    /// Bumped whenever the layout or the key recipe changes, so old entries stop matching.
    public static let formatVersion = "simsiamc-build-cache-v1"
    /// Overrides the cache directory.
    public static let directoryVariable = "SIMSIAMC_CACHE_DIR"
    /// Libraries linked after the source; generated code calls libm (expf, sqrtf, ...).
    public static let linkLibraries = ["-lm"]

    /// Root of the cache.
    public let directory: URL
    /// The compiler every library of this cache is built with.
    public let compiler: CCompiler

    /// A cache rooted at `directory` that builds with `compiler`.
    public init(directory: URL, compiler: CCompiler) {
        self.directory = directory
        self.compiler = compiler
    }

    /// A cache at `defaultDirectory(environment:)` with `CompilerProbe.resolve(environment:)`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.init(directory: Self.defaultDirectory(environment: environment),
                  compiler: try CompilerProbe.resolve(environment: environment))
    }

    /// `SIMSIAMC_CACHE_DIR`, else `$XDG_CACHE_HOME/simsiamc`, else `~/.cache/simsiamc`.
    public static func defaultDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> URL {
        if let explicit = environment[directoryVariable], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit, isDirectory: true)
        }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("simsiamc", isDirectory: true)
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home, isDirectory: true)
            .appendingPathComponent(".cache/simsiamc", isDirectory: true)
    }

    /// The hex SHA-256 that names a build: format version, source, header, file
    /// names, compiler path and version, every flag, and the CPU identity
    /// (`-march=native` ties the code to this CPU).
    public func key(source: String, header: String?, headerName: String?, libraryName: String) -> String {
        var hasher = SHA256()
        // Length-prefixed fields so that no two different inputs serialise alike.
        func field(_ name: String, _ value: String) {
            hasher.update("\(name):\(value.utf8.count):")
            hasher.update(value)
            hasher.update("\n")
        }
        field("format", Self.formatVersion)
        field("library", libraryName)
        field("header-name", headerName ?? "")
        field("header", header.map { "present\n" + $0 } ?? "absent")
        field("source", source)
        field("compiler-path", compiler.path)
        field("compiler-version", compiler.version)
        for flag in compiler.flags { field("flag", flag) }
        for library in Self.linkLibraries { field("link", library) }
        field("cpu", CPUIdentity.current)
        return hasher.hexDigest()
    }

    /// Returns the library for this source, compiling it only if no build with the same key exists.
    ///
    /// - Parameters:
    ///   - source: the full C translation unit.
    ///   - header: text written beside the source as `headerName`, so the source can `#include` it.
    ///   - headerName: defaults to `<libraryName>.h`.
    ///   - libraryName: base name of the `.c`, `.so` (no `lib` prefix added).
    /// - Throws: `ToolchainError.compileFailed` with the log path and error lines,
    ///   `ToolchainError.invalidFileName`, or file-system errors.
    public func build(
        source: String, header: String? = nil, headerName: String? = nil, libraryName: String
    ) throws -> BuiltLibrary {
        let start = ContinuousClock.now
        try Self.validateFileName(libraryName)
        let headerFile = headerName ?? "\(libraryName).h"
        if header != nil { try Self.validateFileName(headerFile) }
        let key = key(source: source, header: header, headerName: headerFile, libraryName: libraryName)
        let entry = directory.appendingPathComponent(String(key.prefix(16)), isDirectory: true)
        let paths = EntryPaths(entry: entry, libraryName: libraryName, headerName: header == nil ? nil : headerFile)

        func result(hit: Bool, repaired: String? = nil) -> BuiltLibrary {
            BuiltLibrary(path: paths.library, key: key, cacheHit: hit, seconds: Self.seconds(since: start),
                         sourcePath: paths.source, headerPath: paths.header, logPath: paths.log,
                         compilerName: compiler.name, repairedProblem: repaired)
        }
        var problem: String?
        if FileManager.default.fileExists(atPath: paths.library) {
            problem = Self.checksumProblem(paths, key: key)
            if problem == nil { return result(hit: true) }
        }

        try FileManager.default.createDirectory(at: entry, withIntermediateDirectories: true)
        try Self.write(source, to: paths.source)
        if let header, let headerPath = paths.header { try Self.write(header, to: headerPath) }
        try compile(paths, key: key, replacing: problem != nil)
        return result(hit: false, repaired: problem)
    }

    /// The exact compiler command line this cache builds a library with:
    /// compiler, flags, `-o output`, the source, the link libraries.
    public func command(source: String, output: String) -> [String] {
        [compiler.path] + compiler.flags + ["-o", output, source] + Self.linkLibraries
    }

    private func compile(_ paths: EntryPaths, key: String, replacing: Bool) throws {
        let temporary = LibraryPublisher.temporaryPath(for: paths.library)
        defer { unlink(temporary) }
        let arguments = Array(command(source: paths.source, output: temporary).dropFirst())
        let command = "$ \(([compiler.path] + arguments).joined(separator: " "))\n"
        let output: ProcessOutput
        do {
            output = try ProcessRunner.run(compiler.path, arguments, in: URL(fileURLWithPath: paths.entry))
        } catch {
            try? Self.write(command + "cannot start the compiler: \(error)\n", to: paths.log)
            throw ToolchainError.compilerUnavailable(compiler: compiler.path, problem: "\(error)", logPath: paths.log)
        }
        try Self.write(command + output.output, to: paths.log)
        guard output.succeeded else {
            throw ToolchainError.compileFailed(
                compiler: compiler.description, sourcePath: paths.source, logPath: paths.log,
                errorLines: Self.errorLines(of: output))
        }
        // The checksum goes first: a library is never visible without one.
        try Self.write(Self.checksumLine(key: key, library: try Self.digest(ofFile: temporary)), to: paths.checksum)
        if replacing {
            try LibraryPublisher.replace(temporary: temporary, final: paths.library)
        } else if try LibraryPublisher.publish(temporary: temporary, final: paths.library) == .alreadyPresent,
                  Self.checksumProblem(paths, key: key) != nil {
            // Another builder published first, and its bytes differ from ours
            // (a nondeterministic compiler): make the checksum describe the file that is there.
            try Self.write(Self.checksumLine(key: key, library: try Self.digest(ofFile: paths.library)), to: paths.checksum)
        }
    }

    /// Why the published library cannot be trusted, or nil if its bytes match its checksum file.
    static func checksumProblem(_ paths: EntryPaths, key: String) -> String? {
        guard let recorded = FileManager.default.contents(atPath: paths.checksum) else {
            return "no checksum file \(URL(fileURLWithPath: paths.checksum).lastPathComponent)"
        }
        let fields = String(decoding: recorded, as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 2, fields[0] == key else { return "checksum file written for another key" }
        guard let actual = try? digest(ofFile: paths.library) else { return "library unreadable" }
        return actual == fields[1] ? nil : "library bytes do not match their checksum (truncated or replaced)"
    }

    static func checksumLine(key: String, library digest: String) -> String { "\(key) \(digest)\n" }

    static func digest(ofFile path: String) throws -> String {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ToolchainError.fileSystem("cannot read \(path)")
        }
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.hexDigest()
    }

    /// Up to 20 log lines with "error:", or the log's first lines if none have it;
    /// then the exit status, and what to do when the disk was full.
    static func errorLines(of output: ProcessOutput) -> [String] {
        let errors = output.lines.filter { $0.localizedCaseInsensitiveContains("error:") }
        let exit = output.signaled ? "(compiler killed by signal \(output.status))" : "(compiler exit status \(output.status))"
        let outOfSpace = ["No space left on device", "File too large", "File size limit exceeded"].contains { output.output.contains($0) }
        return Array((errors.isEmpty ? output.lines : errors).prefix(20)) + [exit]
            + (outOfSpace ? ["(out of disk space or over the file-size limit: free space in the build cache's file system, then run again)"] : [])
    }

    static func validateFileName(_ name: String) throws {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
            throw ToolchainError.invalidFileName(name)
        }
    }

    // Atomic (temp + rename) so a concurrent compiler reading the file sees a whole one.
    private static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}

/// Where the files of one cache entry live.
struct EntryPaths {
    let entry: String
    let library: String
    let checksum: String
    let source: String
    let header: String?
    let log: String

    init(entry: URL, libraryName: String, headerName: String?) {
        self.entry = entry.path
        library = entry.appendingPathComponent("\(libraryName).so").path
        checksum = library + ".sha256"
        source = entry.appendingPathComponent("\(libraryName).c").path
        header = headerName.map { entry.appendingPathComponent($0).path }
        log = entry.appendingPathComponent("build.log").path
    }
}
