import Foundation

/// A workload ready to compile, with the record of where it came from (nil for built-ins).
public struct LoadedModel: Sendable {
    public let workload: Workload
    public let record: ModelRecord?

    public init(workload: Workload, record: ModelRecord?) {
        self.workload = workload
        self.record = record
    }

    /// A built-in workload by name or spec name.
    public static func builtIn(_ name: String) throws -> LoadedModel {
        guard let workload = Workload.named(name) else {
            throw CompileError("unknown workload \"\(name)\"; choose one of: \(Workload.choices), or give your own with --model FILE.swift")
        }
        return LoadedModel(workload: workload, record: nil)
    }

    /// The model a checkpoint or manifest names: its record when it has one, else the built-in `name`.
    public static func restore(name: String, record: ModelRecord?) throws -> LoadedModel {
        guard let record else { return try builtIn(name) }
        switch record.kind {
        case .description: return try ModelDescription.restore(record)
        case .graph: return try GraphFile.restore(record)
        }
    }

    /// SHA-256 of a training graph as the records store it: the computation only,
    /// so moving lines of the description (a comment added) keeps the hash.
    static func graphHash(_ graphs: TracedGraphs) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return SHA256.hexDigest(of: try encoder.encode(graphs.training.strippingOrigins()))
    }
}
