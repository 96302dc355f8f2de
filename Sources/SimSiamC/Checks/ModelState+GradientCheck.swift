extension ModelState {
    /// Gives every one-dimensional trainable tensor (BN gammas and betas,
    /// biases) random values: gammas (names ending in `.weight`) in [0.5, 1.5),
    /// the others in [-0.3, 0.3). A zero-initialised residual gamma would
    /// otherwise zero its branch's gradients, and a check of zeros against
    /// zeros passes whatever the backward kernels compute.
    public func randomizeBatchNormAffine(_ random: inout XorShiftRandom) throws {
        for symbol in library.symbols where symbol.kind == .trainable && symbol.shape.count == 1 {
            let values = symbol.name.hasSuffix(".weight") ? random.array(symbol.numel, 0.5, 1.5) : random.array(symbol.numel, -0.3, 0.3)
            try setTensor(named: symbol.name, HostTensor(shape: symbol.shape, doubles: values))
        }
    }

    /// Runs a training step that changes no parameter (learning rate, weight
    /// decay and momentum 0) and returns the loss; the gradients land in GRADS.
    /// BN running statistics move, but training-mode batch norm never reads them.
    public func lossAndGradients(_ inputs: [[Float]]) throws -> Double {
        try trainStep(inputs: inputs, groupLR: Array(repeating: 0, count: library.groupNames.count), weightDecay: 0, momentum: 0)
    }
}
