import Foundation
import Glibc
import Testing
@testable import SimSiamRuntime

/// How simsiamc finds out it runs under an MPI launcher, and builds its MPI shim
/// with mpicc (docs/mpi.md). The ranks themselves are tested under mpirun in
/// SimSiamCTests/DataParallelTests.
@Suite struct MPIRanksTests {
    @Test func theLauncherSaysHowManyRanks() {
        #expect(MPIRanks.launchedSize(environment: [:]) == 1)
        #expect(MPIRanks.launchedSize(environment: ["OMPI_COMM_WORLD_SIZE": "4"]) == 4)
        #expect(MPIRanks.launchedSize(environment: ["PMI_SIZE": "3"]) == 3)
        #expect(MPIRanks.launchedSize(environment: ["PMIX_RANK": "0", "SLURM_STEP_NUM_TASKS": "5", "SLURM_NTASKS": "8"]) == 5)
        // Inside an sbatch script but not started by srun: one process.
        #expect(MPIRanks.launchedSize(environment: ["SLURM_NTASKS": "8"]) == 1)
    }

    @Test func oneProcessJoinsNothing() throws {
        #expect(try MPIRanks.join(environment: ["OMPI_COMM_WORLD_SIZE": "1"]) == nil)
    }

    @Test func aMissingMPICompilerNamesThePackage() {
        let launched = ["OMPI_COMM_WORLD_SIZE": "2", "PATH": "/nonexistent"]
        expectRuntimeError(containing: ["2 ranks", "no mpicc", "libopenmpi-dev", "SIMSIAMC_MPICC"]) {
            _ = try MPIRanks.mpiCompiler(environment: launched)
        }
        expectRuntimeError(containing: ["SIMSIAMC_MPICC=/nonexistent/mpicc", "not an executable"]) {
            _ = try MPIRanks.mpiCompiler(environment: launched.merging(["SIMSIAMC_MPICC": "/nonexistent/mpicc"]) { $1 })
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/mpicc"), "mpicc is not installed"))
    func theShimBuildsIntoTheCacheAndExportsItsCalls() throws {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-shim-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        let environment = ["SIMSIAMC_CACHE_DIR": cache.path, "PATH": "/usr/bin:/bin"]
        let path = try MPIRanks.buildShim(environment: environment)
        #expect(path.hasPrefix(cache.path) && path.hasSuffix("simsiam_mpi.so"))
        #expect(try MPIRanks.buildShim(environment: environment) == path, "a second build is a cache hit")
        // Loading it does not start MPI; every call the runtime binds is there.
        let handle = try #require(dlopen(path, RTLD_NOW | RTLD_LOCAL))
        for name in ["simsiam_mpi_init", "simsiam_mpi_collectives", "simsiam_mpi_barrier", "simsiam_mpi_broadcast",
                     "simsiam_mpi_sum_i64", "simsiam_mpi_ranks_differing", "simsiam_mpi_statistics",
                     "simsiam_mpi_reset_statistics", "simsiam_mpi_abort", "simsiam_mpi_finalize"] {
            #expect(dlsym(handle, name) != nil, "the shim lacks \(name)")
        }
    }
}
