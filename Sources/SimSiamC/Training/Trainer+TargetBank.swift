import Foundation

extension SimSiamVariant.Targets {
    /// How many inputs the training graph of these targets takes: x1, x2, and the targets' own.
    var graphInputCount: Int {
        switch self {
        case .online: 2
        case .cached: 4
        case .movingAverage: 3
        }
    }
}

extension Trainer {
    /// The image indices of the training subset, `batch` at a time, the last batch topped up from the start.
    private func allImagesInBatches() -> [[Int]] {
        let batch = configuration.batch
        return stride(from: 0, to: images.count, by: batch).map { start in
            (start..<start + batch).map { $0 % images.count }
        }
    }

    /// A fresh run with moving-average targets starts every image's eta from the randomly
    /// initialised network, as the paper's discussion of section 5 has it ("the initialized eta,
    /// which is the output of a randomly initialized network"): eta_x^0 = (z1 + z2) / 2 of one
    /// pair of views per image, drawn with a view seed no training epoch uses. This costs one
    /// pass of the step entry point over the training images, without changing the state.
    func startTargetBank() throws {
        guard configuration.variant.targets == .movingAverage else { return }
        let dim = state.library.inputs[2].numel / configuration.batch
        var bank = TargetBank(count: images.count, dim: dim, momentum: configuration.variant.etaMomentum)
        let placeholder = [Float](repeating: 0, count: configuration.batch * dim)
        // Training epochs use view epochs 0..<epochs * passes; this one is past them all.
        let viewEpoch = configuration.epochs * configuration.variant.passesPerEpoch
        for indices in allImagesInBatches() {
            let views = Self.views(augmenter, images, indices, viewEpoch)
            let z = try state.forwardOutputs(inputs: [views.x1, views.x2, placeholder], names: ["z1", "z2"])
            // A topped-up last batch fills only its own images: the first ones have their eta already.
            let own = indices.count - max(0, indices[0] + indices.count - images.count)
            bank.assign(Array(indices.prefix(own)), z1: z[0], z2: z[1])
        }
        targetBank = bank
        onEvent(.note("eta:     moving-average targets (m \(configuration.variant.etaMomentum)) of \(images.count) images "
            + "started from the initial network"))
    }

    /// A resumed moving-average run reads the bank saved beside its checkpoint at `position`.
    func restoreTargetBank(at position: Checkpoint.Position) throws {
        guard configuration.variant.targets == .movingAverage else { return }
        var bank = TargetBank(count: images.count, dim: state.library.inputs[2].numel / configuration.batch,
                              momentum: configuration.variant.etaMomentum)
        try bank.read(from: TargetBank.url(besides: checkpointURL), position: position)
        targetBank = bank
    }
}
