import SimSiamIR

/// What fusion did, for the compile summary.
public struct FusionSummary: Hashable, Sendable {
    /// BN ops that absorbed the ReLU after them (forward).
    public var batchNormReLU = 0
    /// BN ops that absorbed a residual add and the ReLU after it (forward).
    public var batchNormAddReLU = 0
    /// Affine BN backward triples (dx, dgamma, dbeta) merged into one op sharing its reductions.
    public var batchNormBackward = 0
    /// Of those, how many also absorbed the ReLU backward before them.
    public var reluMasks = 0
    /// Gradient sums folded into the convolution dx that is one of their terms.
    public var accumulatedGradients = 0
    /// Training BNs whose batch statistics the convolution producing their input sums.
    public var convolutionMoments = 0
    /// Compute nodes before and after.
    public var nodesBefore = 0, nodesAfter = 0
}

/// Fuses the memory-bound chains of a differentiated training graph, which
/// otherwise read and write every activation several times.
///
/// Fusion is a list of rewrite rules (``rules``). Each rule finds its
/// pattern in the unfused graph, claims the nodes it replaces, and registers
/// the fused op to emit at one of them, its anchor. A walk over the graph
/// then copies every node no rule claimed and emits each anchor's fused op.
/// Values keep their meaning: a fused BN's output is the ReLU's output, which
/// is all the backward pass reads of it.
public enum Fusion {
    /// The rules, in the order they match: a later rule may read what an earlier one claimed.
    static let rules: [any FusionRule] = [
        BatchNormReLURule(), BatchNormBackwardRule(), AccumulatedGradientRule(), ConvolutionMomentsRule(),
    ]

    public static func fuse(_ graph: Graph) throws -> (Graph, FusionSummary) {
        var matches = FusionMatches(graph)
        for rule in rules { rule.match(&matches) }

        var rewriter = FusionRewriter(graph)
        for index in graph.nodes.indices where !matches.absorbed.contains(index) {
            if let rewrite = matches.rewrites[index] {
                try rewrite(&rewriter)
            } else {
                try rewriter.copy(index)
            }
        }
        return try rewriter.finish()
    }
}

/// One fusion: finds its pattern and registers the rewrite of each match.
protocol FusionRule: Sendable {
    func match(_ matches: inout FusionMatches)
}
