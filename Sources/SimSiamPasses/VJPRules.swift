import SimSiamIR

/// The local derivative rules, one per differentiable op: given the cotangent
/// of a node's first result, the cotangent of one operand, expressed with
/// backward ops. Autodiff never sees a model, only these rules.
enum VJPRules {
    /// Whether the op has a derivative with respect to operand `index`.
    ///
    /// Every op is listed, with no `default:`: a new op must say here whether
    /// gradients flow through it, or the package does not compile. A silent
    /// `false` would act as a hidden stop-gradient.
    static func isDifferentiable(_ op: Op, operand index: Int) -> Bool {
        switch op {
        case .conv2d, .relu, .add, .scale, .reshape, .globalAveragePool, .linear, .cosineSimilarity, .crossEntropySimilarity, .mean,
             .maxPool2d, .channelBias:
            true
        // The labels are data (class indices), not a function of any parameter.
        case .softmaxCrossEntropy:
            index == 0
        case .batchNorm(let attributes):
            attributes.training
        // Stop-gradient has no derivative: that is the whole cut.
        case .stopGradient:
            false
        // Graph sources: nothing flows further back.
        case .input, .parameter, .fill:
            false
        // Ops that autodiff itself emits; the compiler takes first derivatives only.
        case .conv2dBackwardData, .conv2dBackwardWeight, .batchNormBackwardData, .batchNormBackwardGamma, .batchNormBackwardBeta,
             .batchNormBackward, .reluBackward, .globalAveragePoolBackward, .linearBackwardData, .linearBackwardWeight,
             .linearBackwardBias, .batchNormBackwardRecomputing, .cosineSimilarityBackward, .crossEntropySimilarityBackward, .meanBackward, .accumulateGradient,
             .maxPool2dBackward, .channelBiasBackward, .softmaxCrossEntropyBackward:
            false
        }
    }

    /// The cotangent of operand `index` of `node`, given `dy`, the cotangent of
    /// the node's first result. `emit` appends a backward op and returns its result.
    static func operandCotangent(
        of node: Node, operand index: Int, dy: ValueID, graph: Graph, emit: (Op, [ValueID]) -> ValueID
    ) -> ValueID {
        let operands = node.operands
        switch node.op {
        case .conv2d(let stride, let padding, _):
            let x = graph.shape(of: operands[0]), w = graph.shape(of: operands[1])
            return index == 0
                ? emit(.conv2dBackwardData(stride: stride, padding: padding, inputHeight: x[2], inputWidth: x[3]), [dy, operands[1]])
                : emit(.conv2dBackwardWeight(stride: stride, padding: padding, kernel: w[2]), [dy, operands[0]])
        case .batchNorm(let attributes):
            let saved = node.results[1]
            switch index {
            case 0:
                let gamma = attributes.affine ? [operands[1]] : []
                return emit(.batchNormBackwardData(affine: attributes.affine), [dy, operands[0], saved] + gamma)
            case 1: return emit(.batchNormBackwardGamma, [dy, operands[0], saved])
            default: return emit(.batchNormBackwardBeta, [dy])
            }
        case .relu:
            return emit(.reluBackward, [dy, node.results[0]])
        case .add:
            return dy
        case .scale(let factor):
            return emit(.scale(factor), [dy])
        case .reshape:
            return emit(.reshape(graph.shape(of: operands[0])), [dy])
        case .globalAveragePool:
            let x = graph.shape(of: operands[0])
            return emit(.globalAveragePoolBackward(height: x[2], width: x[3]), [dy])
        case .linear:
            switch index {
            case 0: return emit(.linearBackwardData, [dy, operands[1]])
            case 1: return emit(.linearBackwardWeight, [dy, operands[0]])
            default: return emit(.linearBackwardBias, [dy])
            }
        case .cosineSimilarity(let epsilon):
            return emit(.cosineSimilarityBackward(epsilon: epsilon, wrt: index), [dy, operands[0], operands[1]])
        case .crossEntropySimilarity:
            return emit(.crossEntropySimilarityBackward(wrt: index), [dy, operands[0], operands[1]])
        case .mean:
            return emit(.meanBackward(graph.shape(of: operands[0])), [dy])
        case .maxPool2d(let kernel, let stride, let padding):
            // Reads x, not y: the backward kernel finds each window's argmax again.
            return emit(.maxPool2dBackward(kernel: kernel, stride: stride, padding: padding), [dy, operands[0]])
        case .channelBias:
            return index == 0 ? dy : emit(.channelBiasBackward, [dy])
        case .softmaxCrossEntropy:
            return emit(.softmaxCrossEntropyBackward, [dy, operands[0], operands[1]])
        case .stopGradient:
            // Only reached when stop-gradient is treated as the identity (to count what it prunes).
            return dy
        case .input, .parameter, .fill, .conv2dBackwardData, .conv2dBackwardWeight, .batchNormBackwardData, .batchNormBackwardGamma,
             .batchNormBackwardBeta, .batchNormBackward, .reluBackward, .globalAveragePoolBackward, .linearBackwardData,
             .linearBackwardWeight, .linearBackwardBias, .cosineSimilarityBackward, .crossEntropySimilarityBackward, .meanBackward,
             .accumulateGradient, .maxPool2dBackward, .channelBiasBackward, .softmaxCrossEntropyBackward, .batchNormBackwardRecomputing:
            preconditionFailure("\(node.op.mnemonic) has no VJP rule; isDifferentiable excludes it")
        }
    }
}
