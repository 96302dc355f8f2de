import Foundation
import Testing
@testable import SimSiamC

/// `mpirun -np N simsiamc train` (docs/mpi.md, issue 17) on the tiny model and
/// synthetic Fashion-MNIST: N ranks with shards of the global batch train what
/// one process trains on the whole batch (the same loss at every step,
/// parameters within 1e-5), with bit-identical state on every rank; a killed
/// rank ends the job, and one process resumes from the ranks' checkpoint.
///
/// `--subset 16 --batch 16` makes every epoch one step, so metrics.jsonl holds
/// the loss of every step. Skipped, with the reason, where mpirun is missing
/// (scripts/install-system-packages.sh installs it, so CI has it).
@Suite(.serialized, .enabled(if: MPILaunch.mpirun != nil, "mpirun is not installed: apt-get install openmpi-bin libopenmpi-dev"))
struct DataParallelTests {
    let workspace = temporaryDirectory()
    var data: URL { workspace.appendingPathComponent("data") }

    init() throws {
        try SyntheticFashionMNIST.write(to: workspace.appendingPathComponent("data"), train: 192, test: 60)
    }

    func trainArguments(_ run: String, subset: Int, epochs: Int) -> [String] {
        ["train", "--workload", "tiny", "--data", data.path, "--subset", "\(subset)", "--batch", "16", "--epochs", "\(epochs)",
         "--seed", "3", "--threads", "1", "--monitor-every", "1000", "--no-eval", "--run-dir", workspace.appendingPathComponent(run).path]
    }

    func losses(_ run: String) -> [Double] {
        MetricsFile.read(workspace.appendingPathComponent(run).appendingPathComponent("metrics.jsonl")).metrics.map(\.loss)
    }

    func checkpoint(_ run: String) throws -> SafeTensorsFile {
        try SafeTensors.read(url: workspace.appendingPathComponent(run).appendingPathComponent("checkpoint.safetensors"))
    }

    /// The largest difference between two checkpoints' tensors, relative to each tensor's
    /// largest value (at least 0.01: BN means that are ~1e-9 compare absolutely).
    func largestDifference(_ a: SafeTensorsFile, _ b: SafeTensorsFile) -> (difference: Double, tensor: String) {
        #expect(Set(a.names) == Set(b.names))
        var worst = (difference: 0.0, tensor: "")
        for name in b.names {
            guard let x = a.tensor(named: name)?.doubles, let y = b.tensor(named: name)?.doubles, x.count == y.count else {
                Issue.record("\(name) differs in presence or size")
                continue
            }
            let scale = max(y.map(abs).max() ?? 0, 0.01)
            let difference = zip(x, y).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
            if difference > worst.difference { worst = (difference, name) }
        }
        return worst
    }

    func expectSameLosses(_ ranks: [Double], _ single: [Double], _ label: String) {
        #expect(ranks.count == single.count && !single.isEmpty, "\(label): \(ranks.count) vs \(single.count) steps")
        for (step, (a, b)) in zip(ranks, single).enumerated() {
            #expect(abs(a - b) <= 1e-5 * max(abs(b), 0.01), "\(label), step \(step + 1): loss \(a) vs \(b) on one process")
        }
    }

    @Test(arguments: [2, 3])
    func ranksTrainWhatOneProcessTrains(ranks: Int) throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let steps = 20
        let single = try MPILaunch.simsiamc(trainArguments("single", subset: 16, epochs: steps)).run()
        try #require(single.status == 0, "one process failed:\n\(single.output)")
        let parallel = try MPILaunch.mpirun(ranks: ranks, trainArguments("ranks", subset: 16, epochs: steps)).run()
        try #require(parallel.status == 0, "\(ranks) ranks failed:\n\(parallel.output)")

        // 16 over 3 ranks is 6, 5, 5: uneven shards weigh each rank's samples as the global batch's.
        #expect(parallel.output.contains("ranks:   \(ranks) processes, global batch 16 per view, \(ranks == 2 ? 8 : 6) on rank 0"))
        let identical = parallel.output.components(separatedBy: "bit-identical on all \(ranks) ranks").count - 1
        #expect(identical == steps, "every epoch checks that the ranks agree bit for bit:\n\(parallel.output)")
        expectSameLosses(losses("ranks"), losses("single"), "\(ranks) ranks")
        let (difference, tensor) = largestDifference(try checkpoint("ranks"), try checkpoint("single"))
        #expect(difference < 1e-5, "after \(steps) steps on \(ranks) ranks, \(tensor) departs by \(difference) (relative) from one process")
        print("\(ranks) ranks vs one process after \(steps) steps: largest relative difference \(difference) (\(tensor))")
    }

    /// In float64 the rounding that float32's SGD amplifies over 20 steps (1e-6 and more) falls to
    /// ~1e-15, so what remains between ranks and one process would be a semantic difference:
    /// a shard weighed wrongly, a BN sum left local, a gradient summed twice.
    @Test func inFloat64RanksTrainWhatOneProcessTrainsToRounding() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let steps = 20
        let float64 = ["--precision", "float64"]
        let single = try MPILaunch.simsiamc(trainArguments("single", subset: 16, epochs: steps) + float64).run()
        try #require(single.status == 0, "one process failed:\n\(single.output)")
        let parallel = try MPILaunch.mpirun(ranks: 3, trainArguments("ranks", subset: 16, epochs: steps) + float64).run()
        try #require(parallel.status == 0, "3 ranks failed:\n\(parallel.output)")
        #expect(parallel.output.contains("float64"))
        for (step, (a, b)) in zip(losses("ranks"), losses("single")).enumerated() {
            #expect(abs(a - b) <= 1e-12 * max(abs(b), 0.01), "step \(step + 1): loss \(a) on 3 ranks vs \(b) on one process")
        }
        #expect(losses("ranks").count == steps)
        let (difference, tensor) = largestDifference(try checkpoint("ranks"), try checkpoint("single"))
        #expect(difference < 1e-11, "after \(steps) float64 steps on 3 ranks, \(tensor) departs by \(difference) (relative) from one process")
        print("float64, 3 ranks vs one process after \(steps) steps: largest relative difference \(difference) (\(tensor))")
    }

    /// `step` on 3 ranks (6, 5, 5 of 16 images) writes one process's loss, gradients and updated state.
    @Test func aStepOnRanksMatchesOneProcess() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        var random = TestRandom(seed: 9)
        let views = workspace.appendingPathComponent("views.safetensors")
        try SafeTensors.write(["x1", "x2"].map { name in
            (name: name, tensor: HostTensor(shape: [16, 1, 8, 8], floats: (0..<(16 * 64)).map { _ in Float(random.uniform(-1, 1)) }))
        }, metadata: [:], to: views)
        func step(_ out: String) -> [String] {
            ["step", "--workload", "tiny", "--batch", "16", "--threads", "1", "--views", views.path, "--out", workspace.appendingPathComponent(out).path]
        }
        let single = try MPILaunch.simsiamc(step("single.safetensors")).run()
        try #require(single.status == 0, "one process failed:\n\(single.output)")
        let parallel = try MPILaunch.mpirun(ranks: 3, step("ranks.safetensors")).run()
        try #require(parallel.status == 0, "3 ranks failed:\n\(parallel.output)")
        let a = try SafeTensors.read(url: workspace.appendingPathComponent("ranks.safetensors"))
        let b = try SafeTensors.read(url: workspace.appendingPathComponent("single.safetensors"))
        #expect(b.names.contains("loss") && b.names.contains("grad.backbone.conv1.weight"))
        let (difference, tensor) = largestDifference(a, b)
        #expect(difference < 1e-5, "\(tensor) departs by \(difference) (relative) from one process's step")
    }

    @Test func aKilledRankEndsTheJobAndOneProcessResumes() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        // 4 steps an epoch: the kill comes after epoch 2's checkpoint, with 40 steps to go, so that
        // even on a quiet machine the run is still going when the kill lands.
        let epochs = 12
        let reference = try MPILaunch.simsiamc(trainArguments("reference", subset: 64, epochs: epochs)).run()
        try #require(reference.status == 0, "reference run failed:\n\(reference.output)")

        var killedAt: Date?
        var sawCheckpoint = false
        let started = Date()
        let killed = try MPILaunch.mpirun(ranks: 2, trainArguments("ranks", subset: 64, epochs: epochs)).run { line in
            if let line, line.contains("epoch 2 done") { sawCheckpoint = true }
            guard sawCheckpoint, killedAt == nil, let pid = MPILaunch.rankProcess(1) else { return false }
            kill(pid, SIGKILL)
            killedAt = Date()
            return false
        }
        let ended = Date()
        let killTime = try #require(killedAt, "no rank was killed; the run ended first:\n\(killed.output)")
        #expect(killed.status != 0, "the job went on as if nothing happened:\n\(killed.output)")
        #expect(ended.timeIntervalSince(killTime) < 60, "the job took \(ended.timeIntervalSince(killTime)) s to end after the kill")
        #expect(killed.output.contains("signal 9"), "mpirun does not say that a rank was killed:\n\(killed.output)")
        print("killed rank 1 \(String(format: "%.1f", killTime.timeIntervalSince(started))) s into the run; "
              + "the job ended \(String(format: "%.1f", ended.timeIntervalSince(killTime))) s later")

        let kept = try checkpoint("ranks")
        let (stored, _) = try Checkpoint.read(workspace.appendingPathComponent("ranks/checkpoint.safetensors"))
        #expect(stored.position.epoch >= 2 && stored.position.epoch < epochs, "the checkpoint is at \(stored.position)")
        #expect(kept.names.contains("backbone.conv1.weight"))

        let resumed = try MPILaunch.simsiamc(trainArguments("ranks", subset: 64, epochs: epochs) + ["--resume"]).run()
        try #require(resumed.status == 0, "one process could not resume the ranks' checkpoint:\n\(resumed.output)")
        let (difference, tensor) = largestDifference(try checkpoint("ranks"), try checkpoint("reference"))
        #expect(difference < 1e-4, "resumed on one process, \(tensor) departs by \(difference) from an uninterrupted run")
        expectSameLosses(losses("ranks"), losses("reference"), "resumed")
    }
}

/// Starting simsiamc on one process or under mpirun, with what containers and root need.
enum MPILaunch {
    static let mpirun: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// The cache at -O1 (tiny compiles in ~1 s instead of ~10), for every rank count's batch.
    static let environment = [
        "SIMSIAMC_CACHE_DIR": testCacheDirectory.path, "SIMSIAMC_CFLAGS": "-O1",
        "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_btl_vader_single_copy_mechanism": "none", "OMPI_MCA_pml": "ob1", "OMPI_MCA_btl": "self,vader",
        "HWLOC_HIDE_ERRORS": "2",
    ]

    static func simsiamc(_ arguments: [String]) -> CommandLineRun {
        CommandLineRun(arguments: arguments, environment: environment)
    }

    static func mpirun(ranks: Int, _ arguments: [String]) -> CommandLineRun {
        let executable = productsDirectory.appendingPathComponent("simsiamc").path
        return CommandLineRun(arguments: ["-np", "\(ranks)", "--oversubscribe", "--bind-to", "none", executable] + arguments,
                              environment: environment, executable: mpirun)
    }

    /// The process id of `rank` among this machine's simsiamc processes started by mpirun.
    static func rankProcess(_ rank: Int) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry),
                  let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
                  let command = FileManager.default.contents(atPath: "/proc/\(pid)/comm"),
                  String(decoding: command, as: UTF8.self).hasPrefix("simsiamc") else { continue }
            let variables = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") && variables.contains("SIMSIAMC_CACHE_DIR=\(testCacheDirectory.path)") {
                return pid
            }
        }
        return nil
    }
}
