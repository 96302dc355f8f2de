/// The contract between a generated library and the runtime that loads it
/// (docs/library-abi.md): the version, the numbering of arenas and symbol
/// kinds, and the names of the entry points. The code generator spells the C
/// from these and the runtime reads the library with them, so the two cannot
/// drift apart.
public enum LibraryABI {
    /// `SIMSIAM_ABI_VERSION`; bumped on any change a loaded library would misread.
    public static let version: Int64 = 2

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
        case setCollectives = "simsiam_set_collectives"
    }

    /// The C header text of `simsiam_collectives_t`, the table of collective operations a
    /// library calls when several processes train one model (docs/mpi.md). The generated
    /// header and the runtime's MPI shim both include this text, so their layouts agree.
    /// Every field is 8 bytes wide. A library starts with a one-process table (world_size 1),
    /// under which it calls none of the functions and computes what a library without the
    /// table would.
    public static let collectivesDeclaration = """
        /* Collective operations over the ranks that train one model together (MPI in the
           runtime; the library links no MPI). All ranks call them in the same order. */
        typedef struct {
          int64_t world_size;   /* ranks; 1 = one process, no function below is called */
          int64_t rank;         /* this process, 0 ... world_size - 1 */
          void* context;        /* passed back to every function */
          /* Blocking in-place sum of n doubles over all ranks (batch-norm sums, the loss). */
          void (*sum_f64)(void* context, double* values, int64_t n);
          /* Starts an in-place sum of n scalars of scalar_bytes (4 or 8) over all ranks and
             returns at once; the values must not be touched until finish_sums returns. */
          void (*start_sum)(void* context, void* values, int64_t n, int64_t scalar_bytes);
          /* Lets started sums progress (MPI progresses only inside MPI calls); cheap. */
          void (*progress)(void* context);
          /* Waits until every started sum has finished. */
          void (*finish_sums)(void* context);
        } simsiam_collectives_t;
        """

    /// "runningMean" -> "RUNNING_MEAN".
    static func upperSnakeCase(_ name: String) -> String {
        name.reduce(into: "") { result, character in
            if character.isUppercase { result += "_" }
            result += character.uppercased()
        }
    }
}
