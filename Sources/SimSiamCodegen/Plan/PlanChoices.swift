import SimSiamIR

/// One layer and pass of a plan with everything that could run it: what `simsiamc tune` times.
public struct PlanChoice: Sendable, Equatable {
    /// The cost models' entry (algorithm and images per pass).
    public var derived: ConvPlanEntry
    /// The algorithms that can run this pass, the cost models' choice first.
    public var algorithms: [ConvAlgorithm]
    /// The C functions of the training step that run this pass (a profiling build reports time
    /// under these names). Empty when only the feature graph has the pass.
    public var kernelNames: [String]
    /// "32x14x14 -> 64, 3x3/2": the convolution in words.
    public var shape: String
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
            }
            var names: [String] = []
            for emitter in nodes where emitter.graph.name == training.name && !names.contains(emitter.name) {
                names.append(emitter.name)
            }
            return PlanChoice(derived: entry, algorithms: [entry.algorithm] + possible, kernelNames: names,
                              shape: describe(nodes[0]))
        }
    }
}
