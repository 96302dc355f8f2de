import SimSiamABI

/// One row of a generated library's symbol table: where a named tensor lives.
public struct TensorSymbol: Sendable, Equatable {
    /// The arena a symbol lives in (`SIMSIAM_ARENA_*`).
    public typealias Arena = LibraryABI.Arena

    /// What a symbol is (`SIMSIAM_KIND_*`).
    public typealias Kind = LibraryABI.Kind

    /// PyTorch state_dict name, or the input's name.
    public let name: String
    /// The arena holding the tensor (inputs: `.inputs`).
    public let arena: Arena
    /// What the tensor is.
    public let kind: Kind
    /// Optimizer group of a trainable parameter; `nil` otherwise.
    public let group: Int?
    /// Element offset into the arena; for inputs, the input's index.
    public let offset: Int
    /// The tensor's dimensions (empty for a scalar).
    public let shape: [Int]
    /// Element count (the product of `shape`).
    public let numel: Int

    /// Creates a symbol; `numel` is the product of `shape`.
    public init(name: String, arena: Arena, kind: Kind, group: Int?, offset: Int, shape: [Int]) {
        self.name = name
        self.arena = arena
        self.kind = kind
        self.group = group
        self.offset = offset
        self.shape = shape
        self.numel = shape.reduce(1, *)
    }

    /// Whether the tensor is state that checkpoints carry
    /// (a parameter, buffer or counter, as opposed to an input).
    public var isState: Bool {
        arena == .params || arena == .buffers || arena == .counters
    }
}
