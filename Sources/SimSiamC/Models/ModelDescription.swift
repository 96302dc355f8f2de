import Foundation

/// `--model PATH.swift`: a model the user describes in a Swift file with the
/// DSL, ending in `describe(workload)`. simsiamc builds the file into a small
/// program (`DescriptionBuilder`), runs it to trace the graphs at the batch
/// and variant a command needs, and reads them back as a `DescribedModel`.
public enum ModelDescription {
    /// Builds the description at `path` and traces it once at its default batch.
    public static func load(_ path: String) throws -> LoadedModel {
        let url = URL(fileURLWithPath: path)
        guard url.pathExtension == "swift" else {
            throw CompileError("--model \(path): a model description is a .swift file (for a serialised graph, use --graph FILE.json)")
        }
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw CompileError("--model \(path): cannot read it (\(error.localizedDescription))")
        }
        return try load(text: text, compiling: url, shownAs: path)
    }

    /// Rebuilds a checkpoint's description from its stored text.
    static func restore(_ record: ModelRecord) throws -> LoadedModel {
        let original = URL(fileURLWithPath: record.path)
        // Compile the user's own file when it is unchanged, so diagnostics cite it; else a copy of the stored text.
        if (try? String(contentsOf: original, encoding: .utf8)) == record.text {
            return try load(text: record.text, compiling: original, shownAs: record.path)
        }
        // Same file name, so the module name and the DSL lines it cites (and so the graph) are the same.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-model-\(getpid())-\(UUID().uuidString)")
        let copy = folder.appendingPathComponent(original.lastPathComponent)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AtomicFile.write(Data(record.text.utf8), to: copy)
        defer { try? FileManager.default.removeItem(at: folder) }
        return try load(text: record.text, compiling: copy, shownAs: record.path + " (as stored in the checkpoint)")
    }

    private static func load(text: String, compiling file: URL, shownAs path: String) throws -> LoadedModel {
        let moduleName = moduleName(for: file)
        let builder = try DescriptionBuilder()
        let program = try builder.build(file: file, text: text, moduleName: moduleName)
        let rename = (from: "\(moduleName)/\(file.lastPathComponent)", to: path)
        let first = try trace(program, variant: .standard, batch: nil, rename: rename)
        let memo = first
        let workload = Workload(name: first.name, defaultBatch: first.defaultBatch, baseLR: first.baseLR,
                                weightDecay: first.weightDecay, imageShape: first.imageShape) { variant, batch in
            if variant == memo.variant && batch == memo.batch { return memo.graphs }
            return try trace(program, variant: variant, batch: batch, rename: rename).graphs
        }
        let record = ModelRecord(kind: .description, path: path, text: text, graphHash: try LoadedModel.graphHash(first.graphs))
        return LoadedModel(workload: workload, record: record)
    }

    /// Runs the description program once and reads its graphs.
    static func trace(_ program: URL, variant: SimSiamVariant, batch: Int?, rename: (from: String, to: String)) throws -> DescribedModel {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-graph-\(getpid())-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: out) }
        let variantJSON = String(decoding: try JSONEncoder().encode(variant), as: UTF8.self)
        let arguments = ["--simsiamc-trace", "--variant", variantJSON, "--out", out.path] + (batch.map { ["--batch", String($0)] } ?? [])
        // A failed precondition in the user's code should read as its one-line message, not a backtrace.
        let result = try ProcessRunner.run(program.path, arguments, environment: ["SWIFT_BACKTRACE": "enable=no"])
        let output = result.output.replacingOccurrences(of: rename.from, with: rename.to).trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.succeeded else {
            let how = result.signaled ? "crashed (signal \(result.status))" : "failed"
            // The message, without the runtime's stack trace of the DSL's internals.
            let message = output.split(separator: "\n", omittingEmptySubsequences: false)
                .prefix { !$0.hasPrefix("Current stack trace:") && !$0.hasPrefix("*** ") }.joined(separator: "\n")
            throw CompileError("model description \(rename.to) \(how) while tracing its graph:\n\(message)")
        }
        let data: Data
        do { data = try Data(contentsOf: out) } catch {
            throw CompileError("model description \(rename.to) wrote no graph: does it end with describe(yourWorkload)?\(output.isEmpty ? "" : "\n" + output)")
        }
        return try decodeDescribed(data, origin: rename.to)
    }

    /// Decodes and verifies a `DescribedModel`; errors name `origin`.
    static func decodeDescribed(_ data: Data, origin: String) throws -> DescribedModel {
        let described: DescribedModel
        do { described = try JSONDecoder().decode(DescribedModel.self, from: data) } catch {
            throw CompileError("\(origin) is not a simsiamc model graph: \(error)")
        }
        guard described.format == DescribedModel.formatName, described.version == DescribedModel.formatVersion else {
            throw CompileError("\(origin): format \(described.format) version \(described.version); this simsiamc reads \(DescribedModel.formatName) version \(DescribedModel.formatVersion)")
        }
        for graph in [described.graphs.training, described.graphs.features] {
            do { try Verifier.verify(graph) } catch {
                throw CompileError("\(origin): \(graph.name): \(error)")
            }
        }
        guard described.graphs.training.outputs["loss"] != nil, described.graphs.features.outputs["features"] != nil else {
            throw CompileError("\(origin): the training graph needs an output \"loss\" and the feature graph one named \"features\"")
        }
        return described
    }

    /// A Swift module name from the file name: `my-model.swift` -> `my_model`.
    static func moduleName(for file: URL) -> String {
        let stem = file.deletingPathExtension().lastPathComponent
        let cleaned = String(stem.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
        return cleaned.first.map { $0.isLetter || $0 == "_" } == true ? cleaned : "model_" + cleaned
    }
}
