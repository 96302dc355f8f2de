import Foundation

/// `--graph FILE.json`: a model traced by a description program (`compile
/// --model ... --out DIR` writes one as DIR/graph.json), compiled without
/// running any Swift. The graphs hold their batch and variant as constants, so
/// only those can be compiled from it.
public enum GraphFile {
    /// Reads and verifies `path`.
    public static func load(_ path: String) throws -> LoadedModel {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CompileError("--graph \(path): cannot read it (\(error.localizedDescription))")
        }
        return try decode(data, path: path)
    }

    static func restore(_ record: ModelRecord) throws -> LoadedModel {
        try decode(Data(record.text.utf8), path: record.path)
    }

    static func decode(_ data: Data, path: String) throws -> LoadedModel {
        let described = try ModelDescription.decodeDescribed(data, origin: path)
        let fixed = described
        let workload = Workload(name: described.name, defaultBatch: described.batch, baseLR: described.baseLR,
                                weightDecay: described.weightDecay, imageShape: described.imageShape) { variant, batch in
            guard batch == fixed.batch, variant == fixed.variant else {
                throw CompileError("\(path) holds \(fixed.name) traced at batch \(fixed.batch), \(fixed.variant.summary) SimSiam; "
                                   + "batch \(batch), \(variant.summary) needs a new trace: compile its description with --model FILE.swift")
            }
            return fixed.graphs
        }
        let record = ModelRecord(kind: .graph, path: path, text: String(decoding: data, as: UTF8.self),
                                 graphHash: try LoadedModel.graphHash(described.graphs))
        return LoadedModel(workload: workload, record: record)
    }
}
