import SimSiamIR

/// The DSL's ops on traced tensors. `label` names the layer the op belongs to
/// (generated kernels are named after it); `file`/`line` record the DSL line.
extension Tensor {
    private func apply(_ op: Op, _ others: [Tensor] = [], label: String, file: String, line: Int) -> Tensor {
        builder.apply(op, [self] + others, label: label, origin: SourceLocation(fileID: file, line: line))[0]
    }

    public func conv2d(_ weight: Tensor, stride: Int = 1, padding: Int = 0, label: String = "",
                       file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.conv2d(stride: stride, padding: padding), [weight], label: label, file: file, line: line)
    }

    public func relu(label: String = "", file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.relu, label: label, file: file, line: line)
    }

    public func adding(_ other: Tensor, label: String = "", file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.add, [other], label: label, file: file, line: line)
    }

    public func scaled(by factor: Double, label: String = "", file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.scale(factor), label: label, file: file, line: line)
    }

    public func globalAveragePool(label: String = "", file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.globalAveragePool, label: label, file: file, line: line)
    }

    /// `x @ weight^T (+ bias)`, weight [out, in] as PyTorch stores it.
    public func linear(_ weight: Tensor, bias: Tensor? = nil, label: String = "",
                       file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.linear, [weight] + (bias.map { [$0] } ?? []), label: label, file: file, line: line)
    }

    /// [N, ...] -> [N, product of the rest], sharing memory.
    public func flattened(label: String = "", file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.reshape([shape.dims.first ?? 1, shape.dims.dropFirst().reduce(1, *)]), label: label, file: file, line: line)
    }

    /// The identity forward; no gradient flows back through it (PyTorch's `detach`).
    public func stopGradient(label: String = "", file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.stopGradient, label: label, file: file, line: line)
    }

    /// Per-sample cosine similarity of two [N, D] tensors -> [N] (eps 1e-8 on the norms).
    public func cosineSimilarity(_ other: Tensor, epsilon: Double = 1e-8, label: String = "",
                                 file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.cosineSimilarity(epsilon: epsilon), [other], label: label, file: file, line: line)
    }

    /// The SimSiam paper's cross-entropy similarity of this prediction p [N, D]
    /// and a target z [N, D] -> [N]: `softmax(z) . log_softmax(p)` per row, the
    /// negative of the cross-entropy D(p, z) = -softmax(z) . log softmax(p), so a
    /// loss uses `-mean` of it as with `cosineSimilarity`. Both softmaxes are
    /// max-subtracted, so large logits do not overflow.
    public func crossEntropySimilarity(_ target: Tensor, label: String = "",
                                       file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.crossEntropySimilarity, [target], label: label, file: file, line: line)
    }

    /// PyTorch's `max_pool2d` of [N, C, H, W]: the max of each `kernel` x `kernel` window,
    /// windows `stride` apart (default: `kernel`), padding counting as -inf (at most
    /// kernel / 2), output size rounded down; gradients go to the first maximum of a window.
    public func maxPool2d(kernel: Int, stride: Int? = nil, padding: Int = 0, label: String = "",
                          file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.maxPool2d(kernel: kernel, stride: stride ?? kernel, padding: padding), label: label, file: file, line: line)
    }

    /// x [N, C, H, W] or [N, C] plus `bias` [C] per channel (a convolution's bias).
    public func addingChannelBias(_ bias: Tensor, label: String = "", file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.channelBias, [bias], label: label, file: file, line: line)
    }

    /// Softmax cross-entropy of these logits [N, K] against `labels` [N], class indices
    /// stored as floats: the batch mean of -log softmax(logits)[label], a scalar.
    /// Gradients flow to the logits only.
    public func softmaxCrossEntropy(labels: Tensor, label: String = "", file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.softmaxCrossEntropy, [labels], label: label, file: file, line: line)
    }

    /// The mean of all elements, a scalar.
    public func mean(label: String = "", file: String = #fileID, line: Int = #line) -> Tensor {
        apply(.mean, label: label, file: file, line: line)
    }

    /// Batch normalisation; in training mode also returns nothing more than y
    /// (the saved statistics stay inside the graph for the backward pass).
    func batchNorm(_ attributes: BatchNormAttributes, gamma: Tensor?, beta: Tensor?, label: String,
                   origin: SourceLocation) -> Tensor {
        let affineOperands = [gamma, beta].compactMap { $0 }
        return builder.apply(.batchNorm(attributes), [self] + affineOperands, label: label, origin: origin)[0]
    }
}
