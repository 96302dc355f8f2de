import Foundation
import Glibc
import SimSiamABI
import SimSiamToolchain
import Synchronization

/// The processes of a data-parallel run under an MPI launcher (`mpirun -np N`,
/// `srun --mpi=pmix`), reached through the MPI shim `MPI/simsiam_mpi.c`.
///
/// simsiamc links no MPI: when the launcher's environment says there is more
/// than one rank, `join` compiles the shim with `mpicc` (`SIMSIAMC_MPICC`
/// overrides it) into the build cache, loads it with `RTLD_GLOBAL` (Open MPI's
/// own plugins need its symbols global) and initialises MPI. Generated
/// libraries get the shim's collectives table through `install(on:)`.
public final class MPIRanks: @unchecked Sendable {
    /// This process's rank, 0 ... `size` - 1.
    public let rank: Int
    /// The number of ranks.
    public let size: Int
    /// Names the mpicc to build the shim with, instead of the one on PATH.
    public static let compilerVariable = "SIMSIAMC_MPICC"

    private let table: UnsafeRawPointer
    private let barrierCall: @convention(c) () -> Void
    private let broadcastCall: @convention(c) (UnsafeMutableRawPointer?, Int64, Int64) -> Void
    private let sumCall: @convention(c) (UnsafeMutablePointer<Int64>?, Int64) -> Void
    private let differingCall: @convention(c) (UnsafeRawPointer?, Int64, UnsafeMutablePointer<UInt64>?) -> Int64
    private let statisticsCall: @convention(c) (UnsafeMutablePointer<Double>?) -> Void
    private let resetCall: @convention(c) () -> Void
    private let abortCall: @convention(c) (Int32) -> Void
    private let finalizeCall: @convention(c) () -> Void

    private static let joined = Mutex<MPIRanks?>(nil)

    /// The ranks this process joined, or nil in a one-process run.
    public static var current: MPIRanks? { joined.withLock { $0 } }

    /// The number of ranks the launcher started, from its environment: Open MPI's
    /// `OMPI_COMM_WORLD_SIZE`, MPICH's and Slurm PMI's `PMI_SIZE`, or under PMIx
    /// (`PMIX_RANK` set) Slurm's task count. 1 when no launcher started this process.
    public static func launchedSize(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        let candidates = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]
            + (environment["PMIX_RANK"] != nil ? ["SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"] : [])
        for name in candidates {
            if let value = environment[name].flatMap({ Int($0) }), value >= 1 { return value }
        }
        return 1
    }

    /// Joins the MPI job when the launcher started more than one rank (once per
    /// process; later calls return the same ranks); nil for one process.
    /// - Throws: `RuntimeError` when mpicc is missing or fails, or MPI cannot start.
    public static func join(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MPIRanks? {
        guard launchedSize(environment: environment) > 1 else { return nil }
        return try joined.withLock { current in
            if let current { return current }
            let ranks = try MPIRanks(shim: try buildShim(environment: environment))
            current = ranks
            return ranks
        }
    }

    private init(shim path: String) throws {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            throw RuntimeError("cannot load the MPI shim \(path): \(String(cString: dlerror()))")
        }
        func function<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let symbol = dlsym(handle, name) else { throw RuntimeError("the MPI shim \(path) has no symbol '\(name)'") }
            return unsafeBitCast(symbol, to: type)
        }
        let initialize = try function("simsiam_mpi_init", (@convention(c) () -> Int32).self)
        let code = initialize()
        guard code == 0 else { throw RuntimeError("MPI_Init_thread failed with MPI error \(code) (see the launcher's messages above)") }
        let collectives = try function("simsiam_mpi_collectives", (@convention(c) () -> UnsafeRawPointer?).self)
        guard let table = collectives() else { throw RuntimeError("the MPI shim \(path) returned no collectives table") }
        self.table = table
        // simsiam_collectives_t starts with world_size and rank (int64 each).
        size = Int(table.load(as: Int64.self))
        rank = Int(table.load(fromByteOffset: 8, as: Int64.self))
        barrierCall = try function("simsiam_mpi_barrier", (@convention(c) () -> Void).self)
        broadcastCall = try function("simsiam_mpi_broadcast", (@convention(c) (UnsafeMutableRawPointer?, Int64, Int64) -> Void).self)
        sumCall = try function("simsiam_mpi_sum_i64", (@convention(c) (UnsafeMutablePointer<Int64>?, Int64) -> Void).self)
        differingCall = try function("simsiam_mpi_ranks_differing",
                                     (@convention(c) (UnsafeRawPointer?, Int64, UnsafeMutablePointer<UInt64>?) -> Int64).self)
        statisticsCall = try function("simsiam_mpi_statistics", (@convention(c) (UnsafeMutablePointer<Double>?) -> Void).self)
        resetCall = try function("simsiam_mpi_reset_statistics", (@convention(c) () -> Void).self)
        abortCall = try function("simsiam_mpi_abort", (@convention(c) (Int32) -> Void).self)
        finalizeCall = try function("simsiam_mpi_finalize", (@convention(c) () -> Void).self)
    }

    /// Makes `library`'s training step a data-parallel one over these ranks: synchronized
    /// batch norm, the loss's mean over every rank's batch, gradients summed before the update.
    public func install(on library: ModelLibrary) throws {
        try library.setCollectives(table)
    }

    /// Waits until every rank has arrived (sleeping, not spinning).
    public func barrier() { barrierCall() }

    /// Copies `buffer` from rank `root` to every rank.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int = 0) {
        broadcastCall(buffer.baseAddress, Int64(buffer.count), Int64(root))
    }

    /// The element-wise sums of `values` over all ranks.
    public func sum(_ values: [Int64]) -> [Int64] {
        var result = values
        result.withUnsafeMutableBufferPointer { sumCall($0.baseAddress, Int64($0.count)) }
        return result
    }

    /// How many ranks hold other bytes than rank 0 in `buffer` (0: bit-identical
    /// everywhere), by a 64-bit FNV-1a hash, and this rank's hash.
    public func ranksDiffering(in buffer: UnsafeRawBufferPointer) -> (count: Int, hash: UInt64) {
        var hash: UInt64 = 0
        let count = differingCall(buffer.baseAddress, Int64(buffer.count), &hash)
        return (Int(count), hash)
    }

    /// Time in collectives and gradient bytes since the last `resetStatistics`.
    public struct Statistics: Sendable {
        /// Seconds in blocking sums (batch-norm statistics, the loss).
        public var blockingSeconds: Double
        /// Seconds starting, polling and waiting for the gradient sums.
        public var gradientSeconds: Double
        /// Bytes of gradients summed.
        public var gradientBytes: Double
    }

    public func statistics() -> Statistics {
        var values = [Double](repeating: 0, count: 3)
        values.withUnsafeMutableBufferPointer { statisticsCall($0.baseAddress) }
        return Statistics(blockingSeconds: values[0], gradientSeconds: values[1], gradientBytes: values[2])
    }

    public func resetStatistics() { resetCall() }

    /// Ends every rank of the job with `code` (after an error on this rank).
    public func abort(code: Int32) -> Never {
        abortCall(code)
        exit(code)
    }

    /// Leaves MPI at the end of a run.
    public func finalize() { finalizeCall() }

    // MARK: Building the shim

    /// Compiles `MPI/simsiam_mpi.c` with mpicc into the build cache (or finds it there).
    static func buildShim(environment: [String: String]) throws -> String {
        let compiler = try mpiCompiler(environment: environment)
        let cache = BuildCache(directory: BuildCache.defaultDirectory(environment: environment), compiler: compiler)
        guard let url = Bundle.module.url(forResource: "simsiam_mpi", withExtension: "c", subdirectory: "MPI"),
              let source = try? String(contentsOf: url, encoding: .utf8) else {
            throw RuntimeError("the MPI shim's source MPI/simsiam_mpi.c is missing from simsiamc's resources "
                + "(simsiamc_SimSiamRuntime.resources beside the executable); reinstall simsiamc")
        }
        let header = "#ifndef SIMSIAM_COLLECTIVES_H\n#define SIMSIAM_COLLECTIVES_H\n#include <stdint.h>\n\n"
            + LibraryABI.collectivesDeclaration + "\n\n#endif\n"
        do {
            return try cache.build(source: source, header: header, headerName: "simsiam_collectives.h", libraryName: "simsiam_mpi").path
        } catch {
            throw RuntimeError("cannot build the MPI shim with \(compiler.path): \(error)")
        }
    }

    /// `SIMSIAMC_MPICC`, else `mpicc` on PATH; its version line and what it wraps
    /// (`-showme` for Open MPI, `-show` for MPICH) go into the cache key.
    static func mpiCompiler(environment: [String: String]) throws -> CCompiler {
        let size = launchedSize(environment: environment)
        let path: String
        if let explicit = environment[compilerVariable], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw RuntimeError("\(compilerVariable)=\(explicit) is not an executable file; point it at your MPI's mpicc")
            }
            path = explicit
        } else {
            let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
            guard let found = directories.map({ $0 + "/mpicc" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw RuntimeError("simsiamc runs under an MPI launcher with \(size) ranks but finds no mpicc on PATH to build its MPI shim: "
                    + "install Debian's libopenmpi-dev (apt-get install openmpi-bin libopenmpi-dev), or your MPI's development "
                    + "package, or set \(compilerVariable) to its mpicc")
            }
            path = found
        }
        let version = (try? ProcessRunner.run(path, ["--version"]))?.output.split(separator: "\n").first.map(String.init) ?? "unknown"
        let wraps = ["-showme", "-show"].lazy.compactMap { flag in
            (try? ProcessRunner.run(path, [flag])).flatMap { $0.succeeded ? $0.output.trimmingCharacters(in: .whitespacesAndNewlines) : nil }
        }.first ?? ""
        return CCompiler(path: path, version: version + " | " + wraps, openMPVersion: 0,
                         commonFlags: ["-O2", "-fPIC", "-shared", "-std=c11", "-Wall", "-Wextra"])
    }
}
