/// The arenas of one `ModelLibrary` (params, grads, momentum, buffers,
/// counters, workspace), owned by Swift and driven through the library's
/// entry points. Not thread-safe: use one state from one thread at a time.
public final class ModelState {
    /// The library whose layout the arenas follow.
    public let library: ModelLibrary

    private let arenas: [TensorSymbol.Arena: AlignedBuffer]
    /// The `simsiam_arenas_t` handed to every call.
    private let arenaTable: AlignedBuffer
    /// One staging buffer per input, in input index order.
    private let inputStaging: [AlignedBuffer]

    /// Allocates zeroed, 64-byte aligned arenas sized for `library`.
    public init(library: ModelLibrary) {
        self.library = library
        let stored: [TensorSymbol.Arena] = [.params, .grads, .momentum, .buffers, .counters, .workspace]
        var arenas: [TensorSymbol.Arena: AlignedBuffer] = [:]
        for arena in stored {
            arenas[arena] = AlignedBuffer(
                byteCount: library.elementCount(of: arena) * Self.elementBytes(of: arena, in: library))
        }
        self.arenas = arenas
        // simsiam_arenas_t: six pointers in this order, 8 bytes each.
        arenaTable = AlignedBuffer(byteCount: stored.count * MemoryLayout<UnsafeMutableRawPointer>.stride)
        for (slot, arena) in stored.enumerated() {
            arenaTable.pointer.storeBytes(
                of: arenas[arena]!.pointer, toByteOffset: slot * MemoryLayout<UnsafeMutableRawPointer>.stride,
                as: UnsafeMutableRawPointer.self)
        }
        inputStaging = library.inputs.map { AlignedBuffer(byteCount: $0.numel * library.scalarBytes) }
    }

    // MARK: Raw access

    /// The start of `arena`'s memory (`nil` for `.inputs`, which the state
    /// does not own). Counters hold `Int64`; the others hold scalars.
    public func pointer(to arena: TensorSymbol.Arena) -> UnsafeMutableRawPointer? {
        arenas[arena]?.pointer
    }

    /// The byte size of `arena` as the library declared it.
    public func byteCount(of arena: TensorSymbol.Arena) -> Int {
        arenas[arena]?.byteCount ?? 0
    }

    /// The `simsiam_arenas_t` pointing at this state's arenas, for callers
    /// that invoke library entry points themselves.
    public var arenaTablePointer: UnsafeRawPointer {
        UnsafeRawPointer(arenaTable.pointer)
    }

    /// Bytes per element of `arena`: 8 for counters, the scalar size otherwise.
    static func elementBytes(of arena: TensorSymbol.Arena, in library: ModelLibrary) -> Int {
        arena == .counters ? MemoryLayout<Int64>.size : library.scalarBytes
    }

    // MARK: Entry points

    /// Seeded initialisation of params, buffers and counters (`simsiam_init`);
    /// zeroes momentum.
    public func initialize(seed: UInt64) {
        library.initialize(arenaTablePointer, seed)
    }

    /// Runs one training step (`simsiam_train_step`) and returns the loss
    /// computed before the update. Gradients stay in the GRADS arena.
    /// - Parameters:
    ///   - inputs: one array per input, in input index order, each with the
    ///     input's element count (converted to Double for double builds).
    ///   - groupLR: one learning rate per optimizer group.
    /// - Throws: `RuntimeError` naming the input or group count at fault;
    ///   `NonFiniteValue` when a check-numerics build met a NaN or infinity
    ///   (the step then stopped there, before the SGD update).
    public func trainStep(
        inputs: [[Float]], groupLR: [Double], weightDecay: Double, momentum: Double
    ) throws -> Double {
        guard inputs.count == library.inputCount else {
            throw RuntimeError(
                "train step takes \(library.inputCount) inputs (\(library.inputs.map(\.name).joined(separator: ", "))), "
                    + "got \(inputs.count)")
        }
        for (symbol, values) in zip(library.inputs, inputs) {
            try stage(values, into: symbol)
        }
        guard groupLR.count == library.groupNames.count else {
            throw RuntimeError(
                "train step takes \(library.groupNames.count) learning rates (groups "
                    + "\(library.groupNames.joined(separator: ", "))), got \(groupLR.count)")
        }
        let inputPointers: [UnsafeRawPointer?] = inputStaging.map { UnsafeRawPointer($0.pointer) }
        var loss = 0.0
        inputPointers.withUnsafeBufferPointer { pointers in
            groupLR.withUnsafeBufferPointer { rates in
                library.trainStep(
                    arenaTablePointer, pointers.baseAddress, rates.baseAddress, weightDecay, momentum, &loss)
            }
        }
        if let failure = library.numerics?.lastFailure() { throw failure }
        return loss
    }

    /// Eval-mode features (`simsiam_features`) of one batch shaped like the
    /// first input; returns `batch * featureDim` values.
    /// - Throws: `RuntimeError` when the graph has no feature head or the
    ///   batch has the wrong element count; `NonFiniteValue` when a
    ///   check-numerics build met a NaN or infinity.
    public func features(batch: [Float]) throws -> [Float] {
        guard library.featureDim > 0, let input = library.inputs.first else {
            throw RuntimeError("library \(library.native.path) has no feature head (feature_dim is 0)")
        }
        try stage(batch, into: input)
        let outputCount = library.batch * library.featureDim
        let output = AlignedBuffer(byteCount: outputCount * library.scalarBytes)
        library.features(arenaTablePointer, inputStaging[input.offset].pointer, output.pointer)
        if let failure = library.numerics?.lastFailure() { throw failure }
        let features = output.pointer
        if library.scalarBytes == 4 {
            return (0..<outputCount).map { features.load(fromByteOffset: 4 * $0, as: Float.self) }
        }
        return (0..<outputCount).map { Float(features.load(fromByteOffset: 8 * $0, as: Double.self)) }
    }

    /// Copies `values` into the staging buffer of input `symbol`, converting
    /// to the library's scalar type.
    private func stage(_ values: [Float], into symbol: TensorSymbol) throws {
        guard values.count == symbol.numel else {
            throw RuntimeError(
                "input '\(symbol.name)' expects \(symbol.numel) values (shape \(symbol.shape)), got \(values.count)")
        }
        let destination = inputStaging[symbol.offset].pointer
        if library.scalarBytes == 4 {
            values.withUnsafeBytes { bytes in
                if let source = bytes.baseAddress { destination.copyMemory(from: source, byteCount: bytes.count) }
            }
        } else {
            for (index, value) in values.enumerated() {
                destination.storeBytes(of: Double(value), toByteOffset: 8 * index, as: Double.self)
            }
        }
    }
}
