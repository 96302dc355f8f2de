/// One variant's run in an ablation study: what `simsiamc ablate` measured while training it.
///
/// The per-epoch arrays are parallel: entry `i` was measured after epoch `i + 1`.
public struct AblationRun: Codable, Sendable, Equatable {
    /// The variant's name, e.g. "stop-gradient off"; it labels the table row and the plot legend.
    public var name: String
    /// The CLI flags that select the variant, e.g. "--no-stop-gradient"; empty for the defaults.
    public var flags: String
    /// Mean training loss per epoch.
    public var losses: [Double]
    /// kNN top-1 accuracy (a fraction in 0...1) after each epoch.
    public var knnTop1: [Double]
    /// The collapse monitor (``CollapseMonitor/std(of:count:dim:)``) after each epoch.
    public var collapseStd: [Double]
    /// The collapse monitor's healthy value `1/sqrt(d)` for this run's output width `d`.
    public var collapseReference: Double
    /// The effective rank of z (``CollapseMonitor/effectiveRank(of:count:dim:)``) after each
    /// epoch. Absent from JSON written before it was measured.
    public var collapseRank: [Double]?
    /// Final linear-probe top-1 accuracy (a fraction), or nil if the probe was not run.
    public var linearTop1: Double?
    /// Wall-clock time of the run, in seconds.
    public var wallSeconds: Double
    /// Why the run stopped early (e.g. the loss diverged), or nil if it finished. Its arrays then
    /// hold the epochs completed before the failure. Absent from JSON written before it existed.
    public var failure: String?

    public init(name: String, flags: String, losses: [Double], knnTop1: [Double], collapseStd: [Double],
                collapseReference: Double, collapseRank: [Double]? = nil, linearTop1: Double?, wallSeconds: Double,
                failure: String? = nil) {
        self.name = name
        self.flags = flags
        self.losses = losses
        self.knnTop1 = knnTop1
        self.collapseStd = collapseStd
        self.collapseReference = collapseReference
        self.collapseRank = collapseRank
        self.linearTop1 = linearTop1
        self.wallSeconds = wallSeconds
        self.failure = failure
    }
}

/// The paper's figure for one variant, shown beside ours for reference,
/// e.g. `PaperFigure(variant: "w/o stop-grad", result: "0.1% (collapse)")`.
public struct PaperFigure: Codable, Sendable, Equatable {
    /// The variant as the paper names it.
    public var variant: String
    /// The paper's result, as text: usually ImageNet linear top-1, sometimes a failure mode.
    public var result: String

    public init(variant: String, result: String) {
        self.variant = variant
        self.result = result
    }
}
