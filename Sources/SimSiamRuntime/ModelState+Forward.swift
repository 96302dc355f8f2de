import Foundation

extension ModelState {
    /// Outputs `names` of the training graph on `inputs` at the current state,
    /// leaving the state as it was: the library's ABI has no forward-only entry
    /// point, so this runs `simsiam_train_step` with every learning rate, the
    /// weight decay and the momentum at 0 and then restores params, grads,
    /// momentum, BN buffers and counters byte for byte (a zero-lr step alone
    /// would still move the momentum and the BN running statistics). BN uses
    /// the batch's statistics, as in a training step.
    /// - Throws: `RuntimeError` for a wrong input count or an unknown output;
    ///   `NonFiniteValue` from a check-numerics build (the state is restored).
    public func forwardOutputs(inputs: [[Float]], names: [String]) throws -> [[Float]] {
        let kept: [TensorSymbol.Arena] = [.params, .grads, .momentum, .buffers, .counters]
        let saved = kept.map { arena in
            pointer(to: arena).map { Data(bytes: $0, count: byteCount(of: arena)) } ?? Data()
        }
        defer {
            for (arena, bytes) in zip(kept, saved) {
                guard let destination = pointer(to: arena) else { continue }
                bytes.withUnsafeBytes { source in
                    if let base = source.baseAddress { destination.copyMemory(from: base, byteCount: source.count) }
                }
            }
        }
        _ = try trainStep(inputs: inputs, groupLR: Array(repeating: 0, count: library.groupNames.count),
                          weightDecay: 0, momentum: 0)
        return try names.map { try output(named: $0) }
    }
}
