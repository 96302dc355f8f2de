import ArgumentParser
import Foundation
import SimSiamC

/// How a command joins a data-parallel run (docs/mpi.md): `train`, `step` and
/// `bench` under `mpirun -np N` (or `srun`) train one model over N ranks; the
/// other commands run on one process and refuse a launcher with several ranks.
enum DataParallelLaunch {
    /// The commands that run data-parallel.
    static func runsOnRanks(_ command: ParsableCommand) -> Bool {
        command is TrainCommand || command is StepCommand || command is BenchCommand
    }
}

extension SimSiamCommand {
    /// `main()` with MPI's start and end: a command that fails on one rank prints its
    /// error (naming the rank) and ends every rank of the job through MPI_Abort, instead
    /// of leaving the others waiting in a collective; a run that succeeds leaves MPI.
    public static func runAsMain() {
        var running = false
        do {
            var command = try parseAsRoot()
            let ranks = MPIRanks.launchedSize()
            if ranks > 1 && !DataParallelLaunch.runsOnRanks(command) {
                throw ValidationError("this command runs on one process, but the launcher started \(ranks) ranks; "
                    + "run it without mpirun or srun (train, step and bench run data-parallel)")
            }
            running = true
            try command.run()
            MPIRanks.current?.finalize()
        } catch {
            if let ranks = MPIRanks.current {
                let code = exitCode(for: error)
                FileHandle.standardError.write(Data("simsiamc (rank \(ranks.rank) of \(ranks.size)): \(fullMessage(for: error))\n".utf8))
                ranks.abort(code: code == .success ? 0 : code.rawValue)
            }
            if running, error is ValidationError {
                // Thrown by a command's run(): exit(withError:) would print the root command's usage
                // under it, as if no subcommand had been given. The message alone, same exit status.
                FileHandle.standardError.write(Data("Error: \(message(for: error))\n".utf8))
                Foundation.exit(exitCode(for: error).rawValue)
            }
            exit(withError: error)
        }
    }
}
