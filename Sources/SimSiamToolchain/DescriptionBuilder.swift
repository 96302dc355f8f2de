import Foundation

/// Builds a model-description file (Swift, `import SimSiamDSL`) into a program,
/// the way SwiftPM builds `Package.swift` against PackageDescription: `swiftc`
/// compiles the one file against the SimSiamDSL and SimSiamIR modules and
/// object files of the build that made this simsiamc, and links them in.
///
/// Programs are cached under `<cache>/descriptions/<key>/`, keyed by the file's
/// text and the DSL objects' bytes, so a description is compiled once per
/// change of either.
public struct DescriptionBuilder: Sendable {
    /// Overrides the directory that holds `Modules/` and `SimSiamDSL.build/`.
    public static let dslDirectoryVariable = "SIMSIAMC_DSL_DIR"
    /// The Swift modules a description may import, in link order.
    static let modules = ["SimSiamDSL", "SimSiamIR"]

    /// The build products directory (`.build/debug` or `.build/release`).
    public let productsDirectory: URL
    public let cacheDirectory: URL

    public init(productsDirectory: URL, cacheDirectory: URL) {
        self.productsDirectory = productsDirectory
        self.cacheDirectory = cacheDirectory
    }

    /// The products directory of the running executable (or `SIMSIAMC_DSL_DIR`),
    /// checked to hold the DSL module; the cache beside the build cache.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [environment[Self.dslDirectoryVariable].map { URL(fileURLWithPath: $0) },
                          Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent(),
                          executable.deletingLastPathComponent()].compactMap { $0 }
        guard let found = candidates.first(where: { Self.holdsDSL($0) }) else {
            throw ToolchainError.fileSystem(
                "cannot find the SimSiamDSL module to build a model description against (looked in "
                + candidates.map(\.path).joined(separator: ", ")
                + "); run simsiamc from its build directory (swift build puts it in .build/debug or .build/release), or set \(Self.dslDirectoryVariable) to that directory")
        }
        self.init(productsDirectory: found,
                  cacheDirectory: BuildCache.defaultDirectory(environment: environment).appendingPathComponent("descriptions", isDirectory: true))
    }

    static func holdsDSL(_ directory: URL) -> Bool {
        let files = FileManager.default
        return files.fileExists(atPath: directory.appendingPathComponent("Modules/SimSiamDSL.swiftmodule").path)
            && files.fileExists(atPath: directory.appendingPathComponent("SimSiamDSL.build/sources").path)
    }

    /// The object files of a module's current sources (stale objects of deleted
    /// files may linger in the build directory; the `sources` list does not).
    func objects(of module: String) throws -> [URL] {
        let build = productsDirectory.appendingPathComponent("\(module).build", isDirectory: true)
        let list = try String(contentsOf: build.appendingPathComponent("sources"), encoding: .utf8)
        return list.split(separator: "\n").map { line in
            let source = URL(fileURLWithPath: line.trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")))
            return build.appendingPathComponent(source.lastPathComponent + ".o")
        }
    }

    /// Compiles `file` (its text is `text`) into a cached program and returns its path.
    /// `moduleName` becomes the description's module, so DSL errors cite `<moduleName>/<file name>`.
    /// - Throws: `DescriptionBuildError` with swiftc's diagnostics, which name the user's file and line.
    public func build(file: URL, text: String, moduleName: String) throws -> URL {
        let objects = try Self.modules.flatMap { try self.objects(of: $0) }
        var hasher = SHA256()
        hasher.update("simsiamc-description-v1\u{0}\(moduleName)\u{0}\(text)\u{0}")
        for object in objects {
            hasher.update(object.lastPathComponent)
            hasher.update((try? Data(contentsOf: object)) ?? Data())
        }
        let entry = cacheDirectory.appendingPathComponent(String(hasher.hexDigest().prefix(16)), isDirectory: true)
        let program = entry.appendingPathComponent("describe")
        if FileManager.default.isExecutableFile(atPath: program.path) { return program }
        try FileManager.default.createDirectory(at: entry, withIntermediateDirectories: true)
        let swiftc = try Self.swiftCompiler()
        let temporary = entry.appendingPathComponent("describe.\(getpid()).\(UUID().uuidString).tmp")
        let arguments = ["-module-name", moduleName, "-I", productsDirectory.appendingPathComponent("Modules").path, file.path]
            + objects.map(\.path) + ["-o", temporary.path]
        let result = try ProcessRunner.run(swiftc, arguments)
        guard result.succeeded else {
            try? FileManager.default.removeItem(at: temporary)
            throw DescriptionBuildError(file: file.path, diagnostics: result.output)
        }
        // rename(2) publishes the program whole; a concurrent builder's rename of the same bytes is harmless.
        guard rename(temporary.path, program.path) == 0 else {
            throw ToolchainError.fileSystem("cannot move \(temporary.path) to \(program.path): \(String(cString: strerror(errno)))")
        }
        return program
    }

    /// `swiftc` on PATH, else beside the running Swift toolchain.
    static func swiftCompiler() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/opt/swift/usr/bin"] {
            let candidate = "\(directory)/swiftc"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ToolchainError.fileSystem("swiftc not found on PATH: a model description is compiled with the Swift toolchain that built simsiamc; put its bin directory on PATH")
    }
}

/// A model-description file that swiftc rejected; the diagnostics cite the file and line.
public struct DescriptionBuildError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let diagnostics: String

    public var description: String {
        let errors = diagnostics.split(separator: "\n", omittingEmptySubsequences: false)
        return "model description \(file) does not compile:\n" + errors.joined(separator: "\n")
    }
}
