import SimSiamABI

/// A generated library bound through the C ABI of docs/library-abi.md:
/// its scalar type, batch, arena sizes, optimizer groups and symbol table,
/// plus the entry points `ModelState` calls.
public final class ModelLibrary: @unchecked Sendable {
    /// The underlying shared library.
    public let native: NativeLibrary
    /// Bytes per scalar: 4 (`float`) or 8 (`double`).
    public let scalarBytes: Int
    /// Batch per view the graph was compiled for.
    public let batch: Int
    /// Elements in PARAMS (= GRADS = MOMENTUM).
    public let paramsCount: Int
    /// Elements in BUFFERS.
    public let buffersCount: Int
    /// Elements (int64) in COUNTERS.
    public let countersCount: Int
    /// Elements in WORKSPACE.
    public let workspaceCount: Int
    /// Number of inputs a training step takes.
    public let inputCount: Int
    /// Optimizer group names, by group index.
    public let groupNames: [String]
    /// The symbol table, in the library's order.
    public let symbols: [TensorSymbol]
    /// The input symbols, ordered by input index.
    public let inputs: [TensorSymbol]
    /// Width of the feature head's output (0 when the graph has none).
    public let featureDim: Int

    let initialize: LibraryEntryPoints.Initialize
    let trainStep: LibraryEntryPoints.TrainStep
    let features: LibraryEntryPoints.Features
    /// The checks of a check-numerics build; nil for other builds.
    let numerics: NumericsChecks?
    private let symbolIndex: [String: Int]

    /// Loads (or reuses) the library at `path` and binds its ABI.
    public static func load(path: String) throws -> ModelLibrary {
        try ModelLibrary(native: NativeLibrary.load(path: path))
    }

    /// Binds the ABI of an already loaded library.
    /// - Throws: `RuntimeError` for a missing entry point, a different ABI
    ///   version, or an inconsistent symbol table.
    public init(native: NativeLibrary) throws {
        typealias E = LibraryEntryPoints
        let path = native.path
        self.native = native
        let abiVersion = try native.function(LibraryABI.EntryPoint.abiVersion.rawValue, as: E.Int64Getter.self)()
        guard abiVersion == LibraryABI.version else {
            throw RuntimeError(
                "library \(path) has ABI version \(abiVersion) but this runtime drives version "
                    + "\(LibraryABI.version); recompile the library with this simsiamc")
        }
        scalarBytes = Int(try native.function(LibraryABI.EntryPoint.scalarBytes.rawValue, as: E.Int64Getter.self)())
        guard scalarBytes == 4 || scalarBytes == 8 else {
            throw RuntimeError("library \(path) reports scalar size \(scalarBytes) bytes, expected 4 or 8")
        }
        batch = Int(try native.function(LibraryABI.EntryPoint.batch.rawValue, as: E.Int64Getter.self)())
        let arenaNumel = try native.function(LibraryABI.EntryPoint.arenaNumel.rawValue, as: E.ArenaNumel.self)
        paramsCount = Int(arenaNumel(TensorSymbol.Arena.params.rawValue))
        buffersCount = Int(arenaNumel(TensorSymbol.Arena.buffers.rawValue))
        countersCount = Int(arenaNumel(TensorSymbol.Arena.counters.rawValue))
        workspaceCount = Int(arenaNumel(TensorSymbol.Arena.workspace.rawValue))
        inputCount = Int(arenaNumel(TensorSymbol.Arena.inputs.rawValue))
        let counts = [paramsCount, buffersCount, countersCount, workspaceCount, inputCount]
        guard counts.allSatisfy({ $0 >= 0 }) else {
            throw RuntimeError("library \(path) reports a negative arena size: \(counts)")
        }

        let groupCount = Int(try native.function(LibraryABI.EntryPoint.groupCount.rawValue, as: E.Int64Getter.self)())
        let groupName = try native.function(LibraryABI.EntryPoint.groupName.rawValue, as: E.GroupName.self)
        groupNames = (0..<max(groupCount, 0)).map { group in
            groupName(Int64(group)).map { String(cString: $0) } ?? "group\(group)"
        }

        let symbolCount = Int(try native.function(LibraryABI.EntryPoint.symbolCount.rawValue, as: E.Int64Getter.self)())
        let table = try native.function(LibraryABI.EntryPoint.symbols.rawValue, as: E.Symbols.self)()
        if symbolCount > 0, let table {
            symbols = try SymbolTableReader.read(table, count: symbolCount, libraryPath: path)
        } else if symbolCount > 0 {
            throw RuntimeError("library \(path) reports \(symbolCount) symbols but a null symbol table")
        } else {
            symbols = []
        }
        inputs = symbols.filter { $0.kind == .input }.sorted { $0.offset < $1.offset }
        featureDim = Int(try native.function(LibraryABI.EntryPoint.featureDim.rawValue, as: E.Int64Getter.self)())
        initialize = try native.function(LibraryABI.EntryPoint.initialize.rawValue, as: E.Initialize.self)
        trainStep = try native.function(LibraryABI.EntryPoint.trainStep.rawValue, as: E.TrainStep.self)
        features = try native.function(LibraryABI.EntryPoint.features.rawValue, as: E.Features.self)
        numerics = try NumericsChecks(native: native)

        var index: [String: Int] = [:]
        for (position, symbol) in symbols.enumerated() {
            guard index.updateValue(position, forKey: symbol.name) == nil else {
                throw RuntimeError("library \(path) lists symbol '\(symbol.name)' twice")
            }
        }
        symbolIndex = index
        try validateSymbols()
    }

    /// The symbol called `name`, if the table has one.
    public func symbol(named name: String) -> TensorSymbol? {
        symbolIndex[name].map { symbols[$0] }
    }

    /// Element count of `arena` (inputs: the number of inputs).
    public func elementCount(of arena: TensorSymbol.Arena) -> Int {
        switch arena {
        case .params, .grads, .momentum: paramsCount
        case .buffers: buffersCount
        case .counters: countersCount
        case .workspace: workspaceCount
        case .inputs: inputCount
        }
    }

    /// Checks that every symbol fits its arena, so reads and writes through
    /// the table can never leave the allocations.
    private func validateSymbols() throws {
        let path = native.path
        for symbol in symbols {
            func fail(_ problem: String) -> RuntimeError {
                RuntimeError("library \(path): symbol '\(symbol.name)' \(problem)")
            }
            let isInput = symbol.kind == .input
            guard isInput == (symbol.arena == .inputs) else {
                throw fail("has kind \(symbol.kind) but arena \(symbol.arena)")
            }
            if isInput {
                guard symbol.offset < inputCount else {
                    throw fail("has input index \(symbol.offset) but the library has \(inputCount) inputs")
                }
            } else {
                let capacity = elementCount(of: symbol.arena)
                guard symbol.offset + symbol.numel <= capacity else {
                    throw fail(
                        "spans elements \(symbol.offset)..<\(symbol.offset + symbol.numel) "
                            + "of arena \(symbol.arena) holding \(capacity)")
                }
            }
            if symbol.kind == .trainable {
                guard let group = symbol.group, group < groupNames.count else {
                    throw fail("is trainable with group \(symbol.group.map(String.init) ?? "-1") "
                        + "but the library has \(groupNames.count) groups")
                }
            }
        }
        let inputIndices = inputs.map(\.offset)
        guard inputIndices == Array(0..<inputCount) else {
            throw RuntimeError("library \(path): input symbols have indices \(inputIndices), "
                + "expected 0..<\(inputCount)")
        }
    }
}

extension ModelLibrary {
    /// Hands the library a collectives table (`simsiam_set_collectives`, a
    /// `simsiam_collectives_t*`; nil restores the one-process table).
    /// - Throws: `RuntimeError` when the library does not export the setter.
    public func setCollectives(_ table: UnsafeRawPointer?) throws {
        typealias Setter = @convention(c) (UnsafeRawPointer?) -> Void
        let name = LibraryABI.EntryPoint.setCollectives.rawValue
        guard native.hasSymbol(name) else {
            throw RuntimeError("library \(native.path) does not export \(name), so it cannot train data-parallel; recompile it with this simsiamc")
        }
        try native.function(name, as: Setter.self)(table)
    }
}
