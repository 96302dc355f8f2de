import SimSiamIR

/// One layer and pass of a plan with everything that could run it: what `simsiamc tune` times.
public struct PlanChoice: Sendable, Equatable {
    /// The cost models' entry (algorithm and images per pass).
    public var derived: ConvPlanEntry
    /// The algorithms that can run this pass, the cost models' choice first (F(4x4, 3x3) only
    /// where the cost models could choose it: `KernelEmitter.tunesWinograd4x4`).
    public var algorithms: [ConvAlgorithm]
    /// The C functions of the training step that run this pass (a profiling build reports time
    /// under these names). Empty when only the feature graph has the pass.
    public var kernelNames: [String]
    /// "32x14x14 -> 64, 3x3/2": the convolution in words.
    public var shape: String
    /// Where Winograd can run this pass: the tiles per block and images per pass to time
    /// `winogradBlockingAlgorithm` with, the cost models' first. Empty otherwise.
    public var winogradBlockings: [WinogradBlocking] = []

    /// The Winograd algorithm whose blockings `winogradBlockings` lists: the cost models' choice
    /// where that is Winograd, else F(2x2, 3x3).
    public var winogradBlockingAlgorithm: ConvAlgorithm { derived.algorithm.isWinograd ? derived.algorithm : .winograd }
}

/// A Winograd pass's blocking: the `tilesPerBlock` and `imagesPerPass` of its plan entry.
public struct WinogradBlocking: Codable, Hashable, Sendable, CustomStringConvertible {
    public var tilesPerBlock: Int
    public var imagesPerPass: Int

    public init(tilesPerBlock: Int, imagesPerPass: Int) {
        self.tilesPerBlock = tilesPerBlock
        self.imagesPerPass = imagesPerPass
    }

    /// "48 tiles x3": as the plan table writes a Winograd entry's blocking.
    public var description: String { "\(tilesPerBlock) tiles x\(imagesPerPass)" }

    /// The plan entry that runs `layer`'s `pass` with `algorithm` (`winograd` or `winograd-4x4`) at
    /// this blocking.
    public func entry(layer: String, pass: ConvPass, algorithm: ConvAlgorithm) -> ConvPlanEntry {
        ConvPlanEntry(layer: layer, pass: pass, algorithm: algorithm, imagesPerPass: imagesPerPass, tilesPerBlock: tilesPerBlock)
    }
}

extension KernelPlanner {
    /// Every labelled convolution layer and pass of these graphs with the algorithms that can run it,
    /// in plan order. An algorithm is listed when it can run every node of that layer and pass
    /// (both views, the feature graph), which is what `validate` accepts.
    public static func choices(training: Graph, features: Graph?, options: CodegenOptions) -> [PlanChoice] {
        var options = options
        options.plan = nil
        let emitters = convolutions(training: training, features: features, options: options)
        return plan(training: training, features: features, options: options).convolutions.map { entry in
            let nodes = emitters.filter { $0.node.label == entry.layer && $0.convPass == entry.pass }
            let possible = ConvAlgorithm.allCases.filter { algorithm in
                algorithm != entry.algorithm && nodes.allSatisfy { $0.convAlgorithmProblem(algorithm) == nil }
                    && (algorithm != .winograd4x4 || nodes.allSatisfy(\.tunesWinograd4x4))
            }
            var names: [String] = []
            for emitter in nodes where emitter.graph.name == training.name && !names.contains(emitter.name) {
                names.append(emitter.name)
            }
            var choice = PlanChoice(derived: entry, algorithms: [entry.algorithm] + possible, kernelNames: names, shape: describe(nodes[0]))
            if entry.algorithm.isWinograd || possible.contains(.winograd) {
                choice.winogradBlockings = nodes[0].winogradBlockingCandidates(choice.winogradBlockingAlgorithm)
            }
            return choice
        }
    }
}
