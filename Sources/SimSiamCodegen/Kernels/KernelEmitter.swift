import SimSiamIR

/// Extra state a kernel touches besides its operands and results.
enum KernelState: Hashable {
    /// BN running mean and variance (written in training mode) and `num_batches_tracked`.
    case batchNormRunning(mean: Int, variance: Int, counter: Int?)
    /// The gradient slot of a parameter.
    case gradient(parameter: Int)
}

/// Emits the kernel of one node. One method per op family lives in the
/// `*Kernels.swift` files; this type holds what they share.
struct KernelEmitter {
    let node: Node
    let graph: Graph
    let precision: Precision
    var strategy: KernelStrategy = .tuned
    var vectorWidth: VectorWidth = .avx512
    /// Convolution choices that replace the cost models' (`Plan/ConvPlanner.swift`); tuned kernels only.
    var plan: KernelPlan? = nil
    /// The arithmetic of convolution and linear operands: bfloat16 builds round them in the GEMM
    /// kernels that have a bfloat16 form (`runsBF16`).
    var operands: MatmulOperands = .native
    /// The tuned kernels' register tile.
    var tile: RegisterTile { RegisterTile(precision: precision, width: vectorWidth) }
    /// The scalar type.
    var t: String { precision.cType }

    /// Whether this node's GEMM runs on bfloat16 operands (`gemm_bf16.h`): every linear layer of a
    /// bfloat16 build, and the convolution passes its kernel plan gives bfloat16 (`convRunsBF16`).
    var runsBF16: Bool {
        guard operands.isBF16, strategy == .tuned else { return false }
        switch node.op {
        case .linear, .linearBackwardData, .linearBackwardWeight: return true
        case .conv2d, .conv2dBackwardData, .conv2dBackwardWeight: return convRunsBF16()
        default: return false
        }
    }

    func shape(operand index: Int) -> Shape { graph.shape(of: node.operands[index]) }
    func shape(result index: Int) -> Shape { graph.shape(of: node.results[index]) }

    /// The state pointers the kernel of this node takes after operands and results.
    var state: KernelState? {
        switch node.op {
        case .batchNorm(let a): .batchNormRunning(mean: a.runningMean, variance: a.runningVar, counter: a.training ? a.counter : nil)
        case .accumulateGradient(let p): .gradient(parameter: p)
        default: nil
        }
    }

    /// `conv2d_fwd__backbone_layer1_0_conv1`: forward ops get `_fwd`, backward
    /// mnemonics already say `_bwd`; gradient accumulation is named after the parameter.
    var name: String {
        switch node.op {
        case .accumulateGradient(let p): return stem + "__" + cIdentifier(graph.state.parameters[p].name)
        default: return node.label.isEmpty ? stem : stem + "__" + cIdentifier(node.label)
        }
    }

    /// The op part of the name: `conv2d_fwd`, `batch_norm_relu_bwd`, `accumulate_grad`.
    var stem: String {
        switch node.op {
        case .accumulateGradient: "accumulate_grad"
        default: node.phase == .forward ? node.op.mnemonic + "_fwd" : node.op.mnemonic
        }
    }

    func kernel(_ summary: String, _ inputs: [String], _ outputs: [String], body: CLines) -> Kernel {
        var parameters = inputs.map { "const \(t)* restrict \($0)" } + outputs.map { "\(t)* restrict \($0)" }
        switch state {
        case .batchNormRunning(_, _, let counter?):
            _ = counter
            parameters += ["\(t)* restrict running_mean", "\(t)* restrict running_var", "int64_t* restrict num_batches_tracked"]
        case .batchNormRunning(_, _, nil):
            parameters += ["const \(t)* restrict running_mean", "const \(t)* restrict running_var"]
        case .gradient:
            parameters += ["\(t)* restrict grad"]
        case nil:
            break
        }
        let phase = node.phase == .forward ? "forward" : "backward"
        var origin = node.label.isEmpty ? "" : "layer \(node.label)"
        if let location = node.origin { origin += origin.isEmpty ? "DSL \(location)" : ", DSL \(location)" }
        return Kernel(name: name, comment: "\(node.op.mnemonic) (\(phase)): \(origin)\n\(summary)",
                      parameters: parameters, body: body.text)
    }

    /// The kernel of a memory-bound op whose `body` is written in terms of
    /// `sizes`: a wrapper of the shared body `stem + variant` (or `name + variant`), whose comment is
    /// `math`. An unlabeled node (the loss seed) keeps a self-contained kernel,
    /// its sizes declared as constants, since its name is the bare stem.
    func sharedKernel(_ summary: String, _ inputs: [String], _ outputs: [String], body: CLines,
                      math: String, sizes: [SharedBody.Size], variant: String = "", shared name: String? = nil) -> Kernel {
        guard !node.label.isEmpty else {
            var constants = CLines()
            constants.line("const int64_t \(sizes.map { "\($0.name) = \($0.value)" }.joined(separator: ", "));")
            constants.append(body)
            return kernel(summary, inputs, outputs, body: constants)
        }
        var shared = kernel(summary, inputs, outputs, body: body)
        shared.shared = SharedBody(name: (name ?? stem) + variant, comment: math, sizes: sizes)
        return shared
    }

    private var tuned: Bool { strategy == .tuned }

    /// Useful floating-point operations of one call, for GFLOP/s in profiles:
    /// 2 x multiply-adds of convolutions and linear layers, 0 for memory-bound ops.
    var flops: Double {
        switch node.op {
        case .conv2d:
            let w = shape(operand: 1)
            return 2 * Double(shape(result: 0).elementCount * w[1] * w[2] * w[3])
        case .conv2dBackwardData:
            let w = shape(operand: 1)
            return 2 * Double(shape(operand: 0).elementCount * w[1] * w[2] * w[3])
        case .conv2dBackwardWeight:
            return 2 * Double(shape(operand: 0).elementCount * shape(result: 0).elementCount / shape(result: 0)[0])
        case .linear:
            return 2 * Double(shape(result: 0).elementCount * shape(operand: 0)[1])
        case .linearBackwardData:
            return 2 * Double(shape(result: 0).elementCount * shape(operand: 0)[1])
        case .linearBackwardWeight:
            return 2 * Double(shape(result: 0).elementCount * shape(operand: 0)[0])
        default:
            return 0
        }
    }

    /// The kernel for the node, or nil for nodes that compute nothing
    /// (sources, stop-gradient, reshape).
    func emit() -> Kernel? {
        switch node.op {
        case .input, .parameter, .stopGradient, .reshape: nil
        case .fill(let value, let shape): fill(value, shape)
        case .conv2d(let stride, let padding, let moments):
            tuned ? conv2dForwardGemm(stride: stride, padding: padding, moments: moments)
                : conv2dForward(stride: stride, padding: padding, moments: moments)
        case .conv2dBackwardData(let stride, let padding, _, _, let accumulates):
            tuned ? conv2dBackwardDataGemm(stride: stride, padding: padding, accumulates: accumulates)
                : conv2dBackwardData(stride: stride, padding: padding, accumulates: accumulates)
        case .conv2dBackwardWeight(let stride, let padding, _):
            tuned ? conv2dBackwardWeightGemm(stride: stride, padding: padding) : conv2dBackwardWeight(stride: stride, padding: padding)
        case .batchNorm(let a): a.training ? batchNormTrainForward(a) : batchNormEvalForward(a)
        case .batchNormBackwardData(let affine): batchNormBackwardData(affine: affine)
        case .batchNormBackwardGamma: batchNormBackwardGamma()
        case .batchNormBackwardBeta: batchNormBackwardBeta()
        case .batchNormBackward(let reluMask): batchNormBackwardFused(mask: reluMask ? .keptOutput : nil)
        case .batchNormBackwardRecomputing: batchNormBackwardFused(mask: .recomputedOutput)
        case .relu: relu()
        case .reluBackward: reluBackward()
        case .add: add()
        case .scale(let factor): scale(factor)
        case .accumulateGradient: accumulateGradient()
        case .globalAveragePool: globalAveragePool()
        case .globalAveragePoolBackward: globalAveragePoolBackward()
        case .linear: tuned ? linearForwardGemm(hasBias: node.operands.count == 3) : linearForward(hasBias: node.operands.count == 3)
        case .linearBackwardData: tuned ? linearBackwardDataGemm() : linearBackwardData()
        case .linearBackwardWeight: tuned ? linearBackwardWeightGemm() : linearBackwardWeight()
        case .linearBackwardBias: linearBackwardBias()
        case .cosineSimilarity(let eps): cosineSimilarity(eps)
        case .cosineSimilarityBackward(let eps, let wrt): cosineSimilarityBackward(eps, wrt: wrt)
        case .crossEntropySimilarity: crossEntropySimilarity()
        case .crossEntropySimilarityBackward(let wrt): crossEntropySimilarityBackward(wrt: wrt)
        case .mean: mean()
        case .meanBackward: meanBackward()
        case .maxPool2d(let kernel, let stride, let padding): maxPool2d(kernel: kernel, stride: stride, padding: padding)
        case .maxPool2dBackward(let kernel, let stride, let padding): maxPool2dBackward(kernel: kernel, stride: stride, padding: padding)
        case .channelBias: channelBias()
        case .channelBiasBackward: channelBiasBackward()
        case .softmaxCrossEntropy: softmaxCrossEntropy()
        case .softmaxCrossEntropyBackward: softmaxCrossEntropyBackward()
        }
    }
}
