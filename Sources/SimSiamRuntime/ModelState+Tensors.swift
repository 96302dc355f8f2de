extension ModelState {
    /// The current value of parameter, buffer or counter `name`
    /// (`nil` for an unknown name or an input). Scalars come back as
    /// float32 or float64 following the library; counters as int64.
    public func tensor(named name: String) -> HostTensor? {
        guard let symbol = library.symbol(named: name), symbol.isState else { return nil }
        return read(symbol, from: symbol.arena)
    }

    /// The gradient of parameter `name` from the GRADS arena, as the last
    /// training step left it (`nil` when `name` is not a parameter).
    public func gradient(named name: String) -> HostTensor? {
        guard let symbol = library.symbol(named: name), symbol.arena == .params else { return nil }
        return read(symbol, from: .grads)
    }

    /// Overwrites parameter, buffer or counter `name` with `tensor`.
    /// Float values convert to the library's scalar type; counters take int64.
    /// - Throws: `RuntimeError` for an unknown name, an input, a shape
    ///   mismatch (naming both shapes) or a non-int64 counter value.
    public func setTensor(named name: String, _ tensor: HostTensor) throws {
        let symbol = try stateSymbol(named: name)
        try checkCompatible(tensor, with: symbol)
        write(tensor, to: symbol, in: symbol.arena)
    }

    /// Overwrites the gradient of parameter `name` in the GRADS arena.
    /// - Throws: `RuntimeError` when `name` is not a parameter or the shape differs.
    public func setGradient(named name: String, _ tensor: HostTensor) throws {
        let symbol = try stateSymbol(named: name)
        guard symbol.arena == .params else { throw RuntimeError("'\(name)' is not a parameter and has no gradient") }
        try checkCompatible(tensor, with: symbol)
        write(tensor, to: symbol, in: .grads)
    }

    /// Every parameter, buffer and counter, in symbol-table order; with
    /// `includeGradients`, followed by `grad.<name>` for each trainable
    /// parameter, and with `includeMomentum` by `momentum.<name>` (the SGD
    /// state a checkpoint needs to resume exactly), also in symbol-table order.
    public func exportTensors(includeGradients: Bool, includeMomentum: Bool = false) -> [(name: String, tensor: HostTensor)] {
        var exported = library.symbols.filter(\.isState).map { (name: $0.name, tensor: read($0, from: $0.arena)) }
        if includeGradients {
            exported += library.symbols.filter { $0.kind == .trainable }
                .map { (name: Self.gradientPrefix + $0.name, tensor: read($0, from: .grads)) }
        }
        if includeMomentum {
            exported += library.symbols.filter { $0.kind == .trainable }
                .map { (name: Self.momentumPrefix + $0.name, tensor: read($0, from: .momentum)) }
        }
        return exported
    }

    /// The prefix naming gradients in exported tensors.
    public static let gradientPrefix = "grad."
    /// The prefix naming SGD momentum buffers in exported tensors.
    public static let momentumPrefix = "momentum."

    // MARK: Helpers

    func stateSymbol(named name: String) throws -> TensorSymbol {
        guard let symbol = library.symbol(named: name) else {
            throw RuntimeError("model \(library.native.path) has no tensor '\(name)'")
        }
        guard symbol.isState else { throw RuntimeError("'\(name)' is an input, not a stored tensor") }
        return symbol
    }

    /// Why `tensor` cannot be stored into `symbol`, or `nil` when it can.
    func incompatibility(of tensor: HostTensor, with symbol: TensorSymbol) -> String? {
        if tensor.shape != symbol.shape {
            return "tensor '\(symbol.name)' has shape \(symbol.shape) in the model but \(tensor.shape) was given"
        }
        if symbol.arena == .counters && tensor.dtype != .int64 {
            return "counter '\(symbol.name)' takes int64 values, got \(tensor.dtype)"
        }
        return nil
    }

    private func checkCompatible(_ tensor: HostTensor, with symbol: TensorSymbol) throws {
        if let problem = incompatibility(of: tensor, with: symbol) { throw RuntimeError(problem) }
    }

    private func dtype(of arena: TensorSymbol.Arena) -> HostTensor.DType {
        if arena == .counters { return .int64 }
        return library.scalarBytes == 4 ? .float32 : .float64
    }

    private func region(of symbol: TensorSymbol, in arena: TensorSymbol.Arena) -> UnsafeMutableRawBufferPointer {
        let elementBytes = Self.elementBytes(of: arena, in: library)
        let start = pointer(to: arena)! + symbol.offset * elementBytes
        return UnsafeMutableRawBufferPointer(start: start, count: symbol.numel * elementBytes)
    }

    func read(_ symbol: TensorSymbol, from arena: TensorSymbol.Arena) -> HostTensor {
        HostTensor(shape: symbol.shape, dtype: dtype(of: arena), copying: UnsafeRawBufferPointer(region(of: symbol, in: arena)))
    }

    func write(_ tensor: HostTensor, to symbol: TensorSymbol, in arena: TensorSymbol.Arena) {
        let destination = region(of: symbol, in: arena)
        tensor.converted(to: dtype(of: arena)).withUnsafeRawBytes { source in
            destination.copyMemory(from: source)
        }
    }
}
