import Foundation

/// The model a run was trained with when it is not built in: kept in the
/// checkpoint so that `eval --checkpoint` rebuilds it with no other flag and
/// `train --resume` can refuse a changed one.
public struct ModelRecord: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable {
        /// A Swift model-description file (`--model PATH.swift`).
        case description
        /// A serialised graph (`--graph FILE.json`).
        case graph
    }

    public var kind: Kind
    /// The path as the user gave it.
    public var path: String
    /// The file's text when the run started.
    public var text: String
    /// Hex SHA-256 of the standard training graph at the default batch (ops,
    /// shapes, state, layer names; not the DSL lines): equal hashes mean the same computation.
    public var graphHash: String

    public var description: String { "\(path) (graph \(graphHash.prefix(12)))" }

    /// The flag that selects such a model.
    public var flag: String { kind == .description ? "--model" : "--graph" }
}
