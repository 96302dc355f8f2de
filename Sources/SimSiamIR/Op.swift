/// Batch normalisation settings of one BN application.
public struct BatchNormAttributes: Hashable, Sendable, Codable {
    /// Training mode normalises with the batch's own statistics (biased
    /// variance) and updates the running estimates; eval mode uses them.
    public var training: Bool
    public var epsilon: Double
    /// Running-estimate momentum (PyTorch convention: new = (1-m) old + m batch).
    public var momentum: Double
    /// Index into `StateDecls.buffers`.
    public var runningMean: Int
    public var runningVar: Int
    /// Index into `StateDecls.counters` (`num_batches_tracked`).
    public var counter: Int
    /// Whether gamma and beta are operands 1 and 2.
    public var affine: Bool
    /// Set by fusion: the op also applies the ReLU that followed it (y = max(bn(x), 0)).
    public var fusedReLU: Bool = false
    /// Set by fusion together with `fusedReLU`: the op also adds its last operand,
    /// the residual branch, before the ReLU (y = max(bn(x) + residual, 0)).
    public var fusedResidual: Bool = false
    /// Set by fusion in training mode: the batch statistics come from the convolution that
    /// produced x, as the last operand [2,C] = (batch mean, biased variance), so the op
    /// reads x once instead of twice.
    public var momentsOperand: Bool = false

    public init(
        training: Bool, epsilon: Double = 1e-5, momentum: Double = 0.1,
        runningMean: Int, runningVar: Int, counter: Int, affine: Bool
    ) {
        self.training = training
        self.epsilon = epsilon
        self.momentum = momentum
        self.runningMean = runningMean
        self.runningVar = runningVar
        self.counter = counter
        self.affine = affine
    }
}

/// Every operation the IR knows. Forward ops come from the DSL; the
/// backward ops are only ever created by autodiff from the VJP rules.
///
/// Operand and result conventions are listed per case; `ShapeInference`
/// enforces them.
public enum Op: Hashable, Sendable, Codable {
    // MARK: Sources
    /// Graph input `index` (into `Graph.inputs`). No operands.
    case input(Int)
    /// Parameter `index` (into `StateDecls.parameters`). No operands.
    case parameter(Int)
    /// A tensor of the given shape filled with a value (the loss seed 1.0).
    case fill(Double, Shape)

    // MARK: Forward
    /// (x [N,C,H,W], w [O,C,k,k]) -> y [N,O,Ho,Wo]; no bias. Fusion sets `moments` when a
    /// training BN normalises y: a second result [2,O] = (mean, biased variance) of y per
    /// output channel, summed while y is still in cache.
    case conv2d(stride: Int, padding: Int, moments: Bool = false)
    /// Training: (x, gamma?, beta?) -> (y, saved [2,C] = batch mean, 1/sqrt(var+eps)).
    /// Eval: (x, gamma?, beta?) -> y. x is [N,C] or [N,C,H,W].
    case batchNorm(BatchNormAttributes)
    /// x -> max(x, 0)
    case relu
    /// (a, b) -> a + b, same shapes.
    case add
    /// x -> factor * x
    case scale(Double)
    /// [N,C,H,W] -> [N,C]
    case globalAveragePool
    /// (x [N,I], w [O,I], b [O]?) -> [N,O]
    case linear
    /// x -> the same elements viewed with another shape (row-major, no copy).
    case reshape(Shape)
    /// x -> x; gradients do not flow back through it (detach).
    case stopGradient
    /// (a [N,D], b [N,D]) -> [N]: a.b / (max(|a|,eps) * max(|b|,eps)).
    case cosineSimilarity(epsilon: Double)
    /// (p [N,D], z [N,D]) -> [N]: softmax(z) . log_softmax(p), the negative of
    /// the cross-entropy of target distribution softmax(z) under prediction p.
    case crossEntropySimilarity
    /// x -> scalar mean of all elements.
    case mean
    /// x [N,C,H,W] -> y [N,C,Ho,Wo], the max of each kernel x kernel window (PyTorch's
    /// MaxPool2d: padding counts as -inf, Ho = floor((H + 2 padding - kernel) / stride) + 1,
    /// ties go to the first maximum in row-major window order).
    case maxPool2d(kernel: Int, stride: Int, padding: Int)
    /// (x [N,C,H,W], b [C]) -> x + b per channel (also for x [N,C]): a convolution's bias.
    case channelBias
    /// (logits [N,K], labels [N]) -> scalar: the batch mean of -log softmax(logits_n)[label_n],
    /// computed max-subtracted (log-sum-exp). Labels are class indices stored as floats
    /// (0, 1, ..., K-1), so they travel through the same float input arenas as images; a
    /// label outside [0, K) makes the loss NaN rather than read out of bounds.
    /// Not differentiable in the labels.
    case softmaxCrossEntropy

    // MARK: Backward (created by autodiff only)
    /// (dy [N,O,Ho,Wo], w [O,C,k,k]) -> dx [N,C,H,W]; H and W are given because
    /// a strided convolution maps several input sizes to one output size. Fusion
    /// sets `accumulates`: a third operand [N,C,H,W] (the input's gradient from its
    /// other consumers) is added to dx as it is stored.
    case conv2dBackwardData(stride: Int, padding: Int, inputHeight: Int, inputWidth: Int, accumulates: Bool = false)
    /// (dy [N,O,Ho,Wo], x [N,C,H,W]) -> dw [O,C,k,k]
    case conv2dBackwardWeight(stride: Int, padding: Int, kernel: Int)
    /// Training-mode BN: (dy, x, saved, gamma?) -> dx (through the batch statistics).
    case batchNormBackwardData(affine: Bool)
    /// (dy, x, saved) -> dgamma [C] = sum(dy * xhat)
    case batchNormBackwardGamma
    /// dy -> dbeta [C] = sum(dy)
    case batchNormBackwardBeta
    /// Fusion of the three above for an affine BN, sharing their two reductions:
    /// (dy, x, saved, gamma[, y]) -> (dx, dgamma, dbeta). With `reluMask`, dy is the
    /// gradient of a fused ReLU's output y (the last operand), masked by y > 0 on the fly.
    case batchNormBackward(reluMask: Bool)
    /// (dy, y) -> dy where y > 0, else 0
    case reluBackward
    /// The fused BN + ReLU backward (`batchNormBackward(reluMask: true)`) of a training BN whose
    /// output was not kept: (dy, x, saved, gamma, beta) -> (dx, dgamma, dbeta, y), where y is the
    /// forward's output computed again from x, bit for bit, masking dy (y > 0) and written for the
    /// other backward readers of y. Rematerialization makes it; it reads x and dy as the plain
    /// fused op does and writes y instead of reading it twice.
    case batchNormBackwardRecomputing
    /// dy [N,C] -> dx [N,C,H,W] = dy / (H*W)
    case globalAveragePoolBackward(height: Int, width: Int)
    /// (dy [N,O], w [O,I]) -> dx [N,I]
    case linearBackwardData
    /// (dy [N,O], x [N,I]) -> dw [O,I]
    case linearBackwardWeight
    /// dy [N,O] -> db [O]
    case linearBackwardBias
    /// (dc [N], a [N,D], b [N,D]) -> gradient for operand `wrt` (0: a, 1: b) of the cosine.
    case cosineSimilarityBackward(epsilon: Double, wrt: Int)
    /// (ds [N], p [N,D], z [N,D]) -> gradient for operand `wrt` (0: p, 1: z) of the
    /// cross-entropy similarity: ds (softmax(z) - softmax(p)) for p,
    /// ds softmax(z) (log_softmax(p) - s) for z.
    case crossEntropySimilarityBackward(wrt: Int)
    /// (dscalar, ) -> [shape] filled with dscalar / count
    case meanBackward(Shape)
    /// (dy [N,C,Ho,Wo], x [N,C,H,W]) -> dx: each dy goes to its window's argmax, found
    /// again from x with the forward's scan order (no saved indices).
    case maxPool2dBackward(kernel: Int, stride: Int, padding: Int)
    /// dy [N,C,...] -> db [C] = the sum of dy over everything but the channel.
    case channelBiasBackward
    /// (dloss [], logits [N,K], labels [N]) -> dlogits [N,K] = dloss (softmax(logits) - onehot(labels)) / N.
    case softmaxCrossEntropyBackward
    /// (g) -> nothing: adds g into the gradient of parameter `index`.
    case accumulateGradient(parameter: Int)

    /// The op's IR spelling, also the stem of generated kernel names.
    public var mnemonic: String {
        switch self {
        case .input: "input"
        case .parameter: "parameter"
        case .fill: "fill"
        case .conv2d: "conv2d"
        case .batchNorm(let a): (a.training ? "batch_norm_train" : "batch_norm_eval") + (a.fusedResidual ? "_add" : "") + (a.fusedReLU ? "_relu" : "")
        case .relu: "relu"
        case .add: "add"
        case .scale: "scale"
        case .globalAveragePool: "global_avg_pool"
        case .linear: "linear"
        case .reshape: "reshape"
        case .stopGradient: "stop_gradient"
        case .cosineSimilarity: "cosine_similarity"
        case .crossEntropySimilarity: "cross_entropy_similarity"
        case .mean: "mean"
        case .maxPool2d: "max_pool2d"
        case .channelBias: "bias_add"
        case .softmaxCrossEntropy: "softmax_cross_entropy"
        case .conv2dBackwardData(_, _, _, _, let accumulates): accumulates ? "conv2d_bwd_data_add" : "conv2d_bwd_data"
        case .conv2dBackwardWeight: "conv2d_bwd_weight"
        case .batchNormBackwardData: "batch_norm_bwd_data"
        case .batchNormBackwardGamma: "batch_norm_bwd_gamma"
        case .batchNormBackwardBeta: "batch_norm_bwd_beta"
        case .batchNormBackward(let mask): mask ? "batch_norm_relu_bwd" : "batch_norm_bwd"
        case .reluBackward: "relu_bwd"
        case .batchNormBackwardRecomputing: "batch_norm_relu_bwd_recompute"
        case .globalAveragePoolBackward: "global_avg_pool_bwd"
        case .linearBackwardData: "linear_bwd_data"
        case .linearBackwardWeight: "linear_bwd_weight"
        case .linearBackwardBias: "linear_bwd_bias"
        case .cosineSimilarityBackward(_, let wrt): wrt == 0 ? "cosine_similarity_bwd_a" : "cosine_similarity_bwd_b"
        case .crossEntropySimilarityBackward(let wrt): wrt == 0 ? "cross_entropy_similarity_bwd_p" : "cross_entropy_similarity_bwd_z"
        case .meanBackward: "mean_bwd"
        case .maxPool2dBackward: "max_pool2d_bwd"
        case .channelBiasBackward: "bias_add_bwd"
        case .softmaxCrossEntropyBackward: "softmax_cross_entropy_bwd"
        case .accumulateGradient: "accumulate_grad"
        }
    }

    /// Sources produce values without computing anything.
    public var isSource: Bool {
        switch self {
        case .input, .parameter: true
        default: false
        }
    }
}
