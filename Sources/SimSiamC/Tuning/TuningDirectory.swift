import Foundation

/// A directory written by `simsiamc compile --out DIR` for hand-tuning the C:
/// `<stem>.c` (written for editing, with the tuning hooks), `<stem>.h`,
/// `<stem>.so` (the unedited library), `build.sh` (the exact compiler command
/// of the build cache), `manifest.json` (the graph it was compiled from) and `plan.json`
/// (the kernel plan the C follows, for `--plan`).
public struct TuningDirectory: Sendable {
    public let directory: URL
    public let manifest: TuningManifest
    /// The C to build: `DIR/<stem>.c`, or the file given with `--source`.
    public let sourceURL: URL

    public var headerURL: URL { directory.appendingPathComponent(manifest.stem + ".h") }

    /// Opens `DIR` (`--library DIR`).
    /// - Throws: `CompileError` saying what is missing and how to make the directory.
    public static func open(library path: String) throws -> TuningDirectory {
        let directory = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        let manifest = try readManifest(in: directory, for: path)
        return TuningDirectory(directory: directory, manifest: manifest,
                               sourceURL: directory.appendingPathComponent(manifest.stem + ".c"))
    }

    /// Opens the tuning directory holding `file` (`--source FILE.c`): its manifest and
    /// header sit beside it, and `file` replaces `<stem>.c`.
    public static func open(source file: String) throws -> TuningDirectory {
        let url = URL(fileURLWithPath: file).standardizedFileURL
        let directory = url.deletingLastPathComponent()
        return TuningDirectory(directory: directory, manifest: try readManifest(in: directory, for: file), sourceURL: url)
    }

    /// The C as it is on disk now.
    public func readSource() throws -> String {
        guard let data = FileManager.default.contents(atPath: sourceURL.path) else {
            throw CompileError("cannot read \(sourceURL.path); recreate it with `simsiamc compile --workload \(manifest.workload) --batch \(manifest.batch) --out \(directory.path)`")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The header as it is on disk now.
    public func readHeader() throws -> String {
        guard let data = FileManager.default.contents(atPath: headerURL.path) else {
            throw CompileError("cannot read \(headerURL.path); recreate it with `simsiamc compile --workload \(manifest.workload) --batch \(manifest.batch) --out \(directory.path)`")
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func readManifest(in directory: URL, for given: String) throws -> TuningManifest {
        let url = directory.appendingPathComponent(TuningManifest.fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CompileError("\(given): no \(TuningManifest.fileName) in \(directory.path); write a tuning directory with `simsiamc compile --workload W1 --out DIR`")
        }
        let manifest: TuningManifest
        do {
            manifest = try JSONDecoder().decode(TuningManifest.self, from: data)
        } catch {
            throw CompileError("\(url.path) is not a simsiamc manifest (\(error)); rewrite it with `simsiamc compile --out \(directory.path)`")
        }
        guard manifest.format == TuningManifest.currentFormat else {
            throw CompileError("\(url.path) has format \(manifest.format); this simsiamc reads \(TuningManifest.currentFormat): rewrite the directory with `simsiamc compile --out`")
        }
        return manifest
    }

    // MARK: Writing

    /// Writes the tuning directory of `compiled` (lowered with `tuningHooks`) and returns the file names written.
    @discardableResult
    public static func write(_ compiled: CompiledModel, model: LoadedModel, variant: SimSiamVariant, to directory: URL,
                             cache: BuildCache) throws -> [String] {
        let generated = compiled.lowered.generated
        precondition(compiled.lowered.options.tuningHooks, "a tuning directory holds C written with the tuning hooks")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stem = generated.baseName
        var manifest = TuningManifest(workload: model.workload.name, variant: variant, lowered: compiled.lowered,
                                      abiVersion: ModelLibrary.abiVersion)
        manifest.model = model.record
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let graph = try encoder.encode(try DescribedModel(tracing: model.workload, variant: variant, batch: compiled.lowered.batch))
        let files: [(String, Data)] = [
            (stem + ".c", Data(generated.source.utf8)),
            (stem + ".h", Data(generated.header.utf8)),
            // A fresh file renamed into place: a process that loaded an older copy keeps its own.
            (stem + ".so", try Data(contentsOf: URL(fileURLWithPath: compiled.build.path))),
            ("build.sh", Data(buildScript(stem: stem, cache: cache).utf8)),
            // The traced graph, for `--graph DIR/graph.json`: this model at this batch, with no Swift to run.
            ("graph.json", graph),
            // The convolution choices the C follows, to edit and pass back with `--plan`.
            (PlanFile.fileName, try compiled.lowered.plan.encoded()),
            (TuningManifest.fileName, try manifest.encoded()),
        ]
        for (name, data) in files { try AtomicFile.write(data, to: directory.appendingPathComponent(name)) }
        chmod(directory.appendingPathComponent("build.sh").path, 0o755)
        return files.map(\.0)
    }

    /// The cache's exact compiler command, runnable from the directory.
    static func buildScript(stem: String, cache: BuildCache) -> String {
        let command = cache.command(source: stem + ".c", output: stem + ".so.tmp").map(shellQuoted).joined(separator: " ")
        return """
            #!/bin/sh
            # The exact command simsiamc's build cache compiles \(stem).c with (compiler found by
            # simsiamc's probe: \(cache.compiler.description)).
            # Extra arguments are passed on: ./build.sh -DSIMSIAM_PROFILE (per-kernel timing)
            # or ./build.sh -DSIMSIAM_TRACE (verify's hooks).
            # simsiamc does not load the .so this writes: `--library DIR` builds DIR's .c through
            # its content-addressed cache, so an edit always gets a library of its own.
            set -e
            cd "$(dirname "$0")"
            \(command) "$@"
            # Renamed into place: a process that has the old library loaded keeps it intact.
            mv \(stem).so.tmp \(stem).so

            """
    }

    private static func shellQuoted(_ word: String) -> String {
        let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=+,:".contains($0) }
        return safe ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
