import SimSiamIR

/// A model traced at one batch size and variant, as it crosses from a
/// model-description program to simsiamc, and as `--graph FILE.json` reads it:
/// the recipe defaults, the image shape and the two graphs.
public struct DescribedModel: Codable, Sendable {
    /// What the `format` field holds, so that another JSON file is refused by name.
    public static let formatName = "simsiamc-model"
    /// Bumped when the graph encoding changes incompatibly.
    public static let formatVersion = 1

    public var format: String
    public var version: Int
    public var name: String
    public var defaultBatch: Int
    public var baseLR: Double
    public var weightDecay: Double
    /// [C, H, W] of one image.
    public var imageShape: Shape
    /// The batch per view and the variant the graphs were traced at.
    public var batch: Int
    public var variant: SimSiamVariant
    public var graphs: TracedGraphs

    /// Traces `workload` at `batch` per view.
    public init(tracing workload: Workload, variant: SimSiamVariant, batch: Int) throws {
        format = Self.formatName
        version = Self.formatVersion
        name = workload.name
        defaultBatch = workload.defaultBatch
        baseLR = workload.baseLR
        weightDecay = workload.weightDecay
        imageShape = workload.imageShape
        self.batch = batch
        self.variant = variant
        graphs = try workload.trace(variant, batch: batch)
    }
}
