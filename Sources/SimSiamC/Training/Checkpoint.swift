import Foundation

/// A training checkpoint: parameters, BN buffers and counters under their
/// PyTorch names (loadable with `load_state_dict`), the SGD momentum as
/// `momentum.<name>`, and in the metadata the configuration and the position
/// in the run, so that a resumed run equals an uninterrupted one.
public struct Checkpoint {
    static let format = "simsiamc-checkpoint-1"

    /// Where the run stands: the next epoch and step to run, and the
    /// running sums of the interrupted epoch.
    public struct Position: Codable, Sendable, Equatable {
        public var epoch: Int
        public var step: Int
        public var lossSum: Double = 0
        public var dataSeconds: Double = 0
        public var computeSeconds: Double = 0
        public var wallSeconds: Double = 0
    }

    public var configuration: TrainConfiguration
    public var position: Position

    /// Writes the checkpoint atomically (temporary file, then rename).
    public static func save(_ state: ModelState, configuration: TrainConfiguration, position: Position, to url: URL) throws {
        let positionJSON = String(decoding: try JSONEncoder().encode(position), as: UTF8.self)
        try SafeTensors.write(state.exportTensors(includeGradients: false, includeMomentum: true),
                              metadata: ["format": format, "config": configuration.json, "position": positionJSON], to: url)
    }

    /// Reads the configuration and position of a checkpoint file.
    public static func read(_ url: URL) throws -> (Checkpoint, SafeTensorsFile) {
        let file = try SafeTensors.read(url: url)
        guard file.metadata["format"] == format, let config = file.metadata["config"], let position = file.metadata["position"] else {
            throw CompileError("\(url.path) is not a simsiamc training checkpoint (no \(format) metadata); "
                               + "to evaluate PyTorch weights, convert them with a run of `simsiamc train` first")
        }
        return (Checkpoint(configuration: try TrainConfiguration.decode(config),
                           position: try JSONDecoder().decode(Position.self, from: Data(position.utf8))), file)
    }
}
