/// The contract between a generated library and the runtime that loads it
/// (docs/library-abi.md): the version, the numbering of arenas and symbol
/// kinds, and the names of the entry points. The code generator spells the C
/// from these and the runtime reads the library with them, so the two cannot
/// drift apart.
public enum LibraryABI {
    /// `SIMSIAM_ABI_VERSION`; bumped on any change a loaded library would misread.
    public static let version: Int64 = 1

    /// The arenas, by index (`SIMSIAM_ARENA_*`). Params, grads and momentum share one layout.
    public enum Arena: Int64, Sendable, CaseIterable {
        case params = 0
        case grads = 1
        case momentum = 2
        case buffers = 3
        case counters = 4
        case workspace = 5
        case inputs = 6

        /// The C constant, e.g. `SIMSIAM_ARENA_PARAMS`.
        public var cName: String { "SIMSIAM_ARENA_" + upperSnakeCase("\(self)") }
    }

    /// What a symbol-table row is (`SIMSIAM_KIND_*`).
    public enum Kind: Int64, Sendable, CaseIterable {
        case trainable = 0
        case frozen = 1
        case runningMean = 2
        case runningVar = 3
        case numBatchesTracked = 4
        case input = 5

        /// The C constant, e.g. `SIMSIAM_KIND_RUNNING_MEAN`.
        public var cName: String { "SIMSIAM_KIND_" + upperSnakeCase("\(self)") }
    }

    /// The functions every library exports, by their C names.
    public enum EntryPoint: String, Sendable, CaseIterable {
        case abiVersion = "simsiam_abi_version"
        case scalarBytes = "simsiam_scalar_bytes"
        case batch = "simsiam_batch"
        case arenaNumel = "simsiam_arena_numel"
        case groupCount = "simsiam_group_count"
        case groupName = "simsiam_group_name"
        case symbolCount = "simsiam_symbol_count"
        case symbols = "simsiam_symbols"
        case featureDim = "simsiam_feature_dim"
        case initialize = "simsiam_init"
        case trainStep = "simsiam_train_step"
        case features = "simsiam_features"
    }

    /// "runningMean" -> "RUNNING_MEAN".
    static func upperSnakeCase(_ name: String) -> String {
        name.reduce(into: "") { result, character in
            if character.isUppercase { result += "_" }
            result += character.uppercased()
        }
    }
}
