import Foundation
import Synchronization

/// One epoch's numbers, as appended to `metrics.jsonl`.
public struct EpochMetrics: Codable, Sendable, Equatable {
    public var epoch: Int
    public var loss: Double
    public var lr: Double
    /// kNN top-1 on the held-out images; nil when the data has no labels or no held-out split.
    public var knnTop1: Double?
    /// Mean over channels of the std of l2-normalised z across the batch.
    public var collapseStd: Double
    /// 1/sqrt(d), what the collapse monitor shows when healthy.
    public var collapseReference: Double
    /// Effective rank of the same batch of z (``CollapseMonitor/effectiveRank(of:count:dim:)``);
    /// nil in metrics written before it was measured.
    public var collapseRank: Double?
    public var epochSeconds: Double
    /// Augmentation time (overlapped with compute) and time the step waited for data.
    public var dataSeconds: Double
    public var dataWaitSeconds: Double
    public var computeSeconds: Double
    public var monitorSeconds: Double
    public var samplesPerSecond: Double
}

/// What the trainer reports while it runs.
public enum TrainEvent {
    case step(epoch: Int, step: Int, steps: Int, loss: Double, lr: Double, samplesPerSecond: Double, etaSeconds: Double)
    case epochEnd(EpochMetrics)
    case checkpoint(URL)
    case interrupted(URL)
    case note(String)
    /// Multi-step alternation computed new targets for `steps` (0-based, within `epoch`) before the first of them.
    case targetsRefreshed(epoch: Int, steps: Range<Int>)
    /// Something the user must look at although the run goes on (e.g. a kNN at chance).
    case warning(String)
}

/// Ctrl-C (SIGINT) or SIGUSR1 asks the trainer to stop at the next step boundary after
/// saving. mpirun ends its ranks on Ctrl-C but passes SIGUSR1 on to every rank, so
/// `kill -USR1 <mpirun>` stops a data-parallel run with a checkpoint (docs/mpi.md).
enum Interrupt {
    static let requested = Atomic<Bool>(false)
    static let signals = [SIGINT, SIGUSR1]

    static func install() {
        requested.store(false, ordering: .relaxed)
        for number in signals { signal(number) { _ in Interrupt.requested.store(true, ordering: .relaxed) } }
    }

    static func uninstall() {
        for number in signals { signal(number, SIG_DFL) }
    }
}

/// The SimSiam training loop over a compiled model: seeded augmentation
/// prepared one batch ahead on another thread, the spec's lr schedule, a kNN
/// and collapse monitor after every epoch, and an atomic checkpoint per epoch.
///
/// Data-parallel (`ranks` set, docs/mpi.md): every rank draws the same global
/// batches and trains on its `shard` of each, with a library compiled at the
/// shard's size; rank 0 alone writes the checkpoint and metrics, runs the kNN
/// monitor (the others wait at a barrier) and reports events.
public final class Trainer {
    public let configuration: TrainConfiguration
    public let runDirectory: URL
    public let compiled: CompiledModel
    public let state: ModelState
    public let data: TrainingData
    let images: LabeledImages
    let augmenter: ViewAugmenter
    let onEvent: (TrainEvent) -> Void
    /// The ranks of a data-parallel run; nil for one process.
    public let ranks: MPIRanks?
    /// This rank's part of every batch (the whole batch for one process).
    public let shard: BatchShard

    public var checkpointURL: URL { runDirectory.appendingPathComponent("checkpoint.safetensors") }
    public var metricsURL: URL { runDirectory.appendingPathComponent("metrics.jsonl") }
    /// Run the kNN monitor after every `monitorEvery`-th epoch and the last
    /// (1: every epoch), so that a long run spends its time training. Not part
    /// of the configuration: a resumed run may monitor at another pace.
    public var monitorEvery = 1

    public init(configuration: TrainConfiguration, runDirectory: URL, compiled: CompiledModel, data: TrainingData,
                ranks: MPIRanks? = nil, onEvent: @escaping (TrainEvent) -> Void) {
        self.ranks = ranks
        self.shard = .of(configuration.batch, on: ranks)
        self.configuration = configuration
        self.runDirectory = runDirectory
        self.compiled = compiled
        self.state = ModelState(library: compiled.library)
        self.data = data
        self.images = data.trainSubset(configuration.subset)
        self.augmenter = ViewAugmenter(configuration: data.augmentation, seed: configuration.seed, threadCount: 1)
        self.onEvent = shard.isLead ? onEvent : { _ in }
    }

    /// Trains from the start, or from the run directory's checkpoint with
    /// `resume`; returns every epoch's metrics of the run.
    @discardableResult
    public func run(resume requestedResume: Bool) throws -> [EpochMetrics] {
        if let mismatch = configuration.alternationMismatch { throw CompileError(mismatch) }
        // Per-image targets (the EM studies) are kept for whole batches by one process.
        if ranks != nil && (configuration.alternation != nil || configuration.variant.targets == .movingAverage) {
            throw CompileError("--alternate-every and --eta-momentum (the EM studies) run on one process; run without mpirun or srun")
        }
        guard compiled.library.inputs.count == configuration.variant.targets.graphInputCount else {
            throw CompileError("the library takes \(compiled.library.inputs.map(\.name).joined(separator: ", ")) but the configuration's "
                + "variant has \(configuration.variant.targets.rawValue) targets; compile it with the configuration's variant")
        }
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        var position = Checkpoint.Position(epoch: 0, step: 0)
        var history: [EpochMetrics] = []
        if shard.isLead { removeStaleTemporaries() }
        // A run killed before its first checkpoint resumes by starting over.
        let resume = requestedResume && FileManager.default.fileExists(atPath: checkpointURL.path)
        if requestedResume && !resume {
            onEvent(.note("--resume: no checkpoint in \(runDirectory.path) yet, starting from the beginning"))
        }
        if resume {
            let (checkpoint, _) = try Checkpoint.read(checkpointURL)
            let differences = checkpoint.configuration.differences(from: configuration)
            let refused = differences.filter { !TrainConfiguration.changeableOnResume.contains($0.flag) }
            guard refused.isEmpty else {
                throw CompileError("--resume: \(checkpointURL.path) was written with other flags: "
                    + refused.map(\.description).joined(separator: "; ")
                    + ". Resume with the checkpoint's values, or start a new run in another --run-dir")
            }
            for change in differences {
                onEvent(.note("resuming with \(change.flag) \(change.requested) (the checkpoint's run used \(change.stored))"))
            }
            try state.loadSafetensors(url: checkpointURL, strict: false)
            try restoreTargetBank(at: checkpoint.position)
            position = checkpoint.position
            let stored = MetricsFile.read(metricsURL)
            if let note = MetricsFile.note(stored.unreadableLines, in: metricsURL) { onEvent(.note(note)) }
            history = stored.metrics.filter { $0.epoch < position.epoch }
            if shard.isLead { try writeMetrics(history) }
            onEvent(.note("resuming at epoch \(position.epoch + 1), step \(position.step + 1)"))
            if let initFile = configuration.initFile {
                onEvent(.note("--init \(initFile) is not applied again: the run goes on from the checkpoint's state"))
            }
        } else {
            state.initialize(seed: configuration.seed)
            // A PyTorch state_dict replaces what it holds; the rest keeps the seeded initialisation.
            if let initFile = configuration.initFile {
                let report = try InitialWeights.load(URL(fileURLWithPath: initFile), into: state)
                onEvent(.note("init:    \(initFile): " + report.summary))
            }
            try startTargetBank()
            if shard.isLead { try writeMetrics([]) }
        }
        // After the resume checks, which name a changed --batch more plainly.
        guard compiled.library.batch == shard.count else {
            throw CompileError("the library is compiled for a batch of \(compiled.library.batch) per view, but \(shard) needs \(shard.count)")
        }
        if let ranks {
            try shard.validate()
            try ranks.install(on: compiled.library)
        }
        try agreeOnStart(position)
        if let reason = data.evaluationUnavailable { onEvent(.note("kNN monitor skipped: \(reason)")) }
        Interrupt.install()
        defer { Interrupt.uninstall() }
        let sampler = BatchSampler(count: images.count, batchSize: configuration.batch, seed: configuration.seed)
        guard sampler.batchesPerEpoch > 0 else {
            throw CompileError("\(images.count) training images make no batch of \(configuration.batch); lower --batch or raise --subset")
        }
        while position.epoch < configuration.epochs {
            let finished: EpochMetrics?
            do {
                finished = try runEpoch(sampler: sampler, position: &position)
            } catch var error as TrainingDiverged {
                error.history = history
                throw error
            }
            guard let metrics = finished else {
                try saveCheckpoint(position)
                onEvent(.interrupted(checkpointURL))
                return history
            }
            history.append(metrics)
            try checkRanksAgree(after: position.epoch)
            position = Checkpoint.Position(epoch: position.epoch + 1, step: 0)
            try saveCheckpoint(position)
            if shard.isLead { try writeMetrics(history) }
            onEvent(.epochEnd(metrics))
            onEvent(.checkpoint(checkpointURL))
        }
        return history
    }

    /// Runs the rest of an epoch; nil when interrupted (position then points at the next step).
    private func runEpoch(sampler: BatchSampler, position: inout Checkpoint.Position) throws -> EpochMetrics? {
        let epoch = position.epoch
        let recovery = recoveryNote(startingAt: position)
        // asymmetric-2x draws the training set twice per epoch, each pass with its own order and views.
        let passes = configuration.variant.passesPerEpoch
        let batches = (0..<passes).flatMap { pass in
            sampler.batches(epoch: epoch * passes + pass).map { (indices: Array($0[shard.range]), viewEpoch: epoch * passes + pass) }
        }
        let groups = state.library.groupNames
        let started = Date()
        var waitSeconds = 0.0
        let prefetch = Prefetch()
        // Multi-step alternation makes its views while filling the cache, so it does not prefetch.
        var cache = configuration.alternation.map { TargetCache(blockLength: $0.steps(batchesPerEpoch: batches.count),
                                                                 stepsPerEpoch: batches.count) }
        if cache == nil {
            let first = batches[position.step]
            prefetch.start { [augmenter, images] in Self.views(augmenter, images, first.indices, first.viewEpoch) }
        }
        var lr = 0.0
        for step in position.step..<batches.count {
            let waitStart = Date()
            let batch: PreparedBatch
            let inputs: [[Float]]
            if cache != nil {
                let (entry, refreshed) = try cache!.entry(for: step) { block in
                    try fillTargets(block.map { batches[$0] })
                }
                if refreshed { onEvent(.targetsRefreshed(epoch: epoch, steps: cache!.block)) }
                batch = entry.batch
                inputs = [batch.x1, batch.x2, entry.eta1, entry.eta2]
            } else {
                batch = prefetch.wait()
                inputs = [batch.x1, batch.x2] + (targetBank.map { [$0.gather(batches[step].indices)] } ?? [])
                if step + 1 < batches.count {
                    let next = batches[step + 1]
                    prefetch.start { [augmenter, images] in Self.views(augmenter, images, next.indices, next.viewEpoch) }
                }
            }
            waitSeconds += Date().timeIntervalSince(waitStart)
            let progress = Double(step) / Double(batches.count)
            lr = configuration.encoderLR(epoch: epoch, progress: progress)
            let rates = groups.map { $0 == "predictor" ? configuration.predictorLR(epoch: epoch, progress: progress) : lr }
            let computeStart = Date()
            let loss: Double
            do {
                loss = try state.trainStep(inputs: inputs, groupLR: rates,
                                           weightDecay: configuration.weightDecay, momentum: configuration.momentum)
            } catch let failure as NonFiniteValue {
                prefetch.drain()
                throw TrainingDiverged(loss: .nan, epoch: epoch, step: step, baseLR: configuration.baseLR, history: [],
                                       nonFinite: failure, checkpointNote: recovery)
            }
            guard loss.isFinite else {
                prefetch.drain()
                throw TrainingDiverged(loss: loss, epoch: epoch, step: step, baseLR: configuration.baseLR, history: [],
                                       checkpointNote: recovery)
            }
            if targetBank != nil {
                targetBank!.update(batches[step].indices, z1: try state.output(named: "z1"), z2: try state.output(named: "z2"))
            }
            position.computeSeconds += Date().timeIntervalSince(computeStart)
            position.dataSeconds += batch.seconds
            position.lossSum += loss
            position.step = step + 1
            let elapsed = position.computeSeconds + waitSeconds
            let samplesPerSecond = Double(configuration.batch) / max(Date().timeIntervalSince(waitStart), 1e-9)
            let remainingSteps = Double(batches.count - step - 1) + Double(configuration.epochs - epoch - 1) * Double(batches.count)
            onEvent(.step(epoch: epoch, step: step, steps: batches.count, loss: loss, lr: lr,
                          samplesPerSecond: samplesPerSecond, etaSeconds: remainingSteps * elapsed / Double(step + 1)))
            // Alternation stops only where a block ends: a resumed run could not recompute the cache from the same network.
            if interruptRequested() && step + 1 < batches.count && (cache?.endsBlock(step) ?? true) {
                prefetch.drain()
                // Ctrl-C saves mid-epoch: the same check as at an epoch's end keeps a diverged state out of it.
                if let oversized = DivergenceCheck.oversized(in: state) {
                    throw TrainingDiverged(loss: position.lossSum / Double(step + 1), epoch: epoch, step: step,
                                           baseLR: configuration.baseLR, history: [], oversized: oversized, checkpointNote: recovery)
                }
                position.wallSeconds += Date().timeIntervalSince(started)
                return nil
            }
        }
        // Before the monitors and the checkpoint: a diverged state must not be saved.
        if let oversized = DivergenceCheck.oversized(in: state) {
            throw TrainingDiverged(loss: position.lossSum / Double(batches.count), epoch: epoch, step: batches.count - 1,
                                   baseLR: configuration.baseLR, history: [], oversized: oversized, checkpointNote: recovery)
        }
        let monitorStart = Date()
        let z = try state.output(named: "z1")
        // Each rank's z is its shard's: rank 0 reports the collapse of its own part of the batch.
        let dim = z.count / shard.count
        // The last epoch always runs the monitor: the final evaluation reuses its features.
        let monitored = (epoch + 1) % monitorEvery == 0 || epoch + 1 == configuration.epochs
        let knn = monitored ? try leadOnly { try knnAccuracy() } ?? nil : nil
        if let knn, DivergenceCheck.isAtChance(knn, classes: data.classes) {
            onEvent(.warning(String(format: "kNN top-1 %.2f%% after epoch %d is at chance (1/%d classes = %.2f%%): the features "
                                        + "carry no class information, so training diverged or collapsed (see the collapse std); "
                                        + "lower --lr (now %g per 256)",
                                    100 * knn, epoch + 1, data.classes, 100 / Double(data.classes), configuration.baseLR)))
        }
        let rank = CollapseMonitor.effectiveRank(of: z, count: shard.count, dim: dim)
        if monitored, DivergenceCheck.isRankCollapsed(rank, dim: dim) {
            onEvent(.warning(String(format: "the effective rank of z is %.1f of %d after epoch %d: z spans only a few directions "
                                        + "(a collapse the std can miss); kNN tends to fall from here. "
                                        + "Lower --lr (now %g per 256) or use a milder crop", rank, dim, epoch + 1, configuration.baseLR)))
        }
        let wall = position.wallSeconds + Date().timeIntervalSince(started)
        return EpochMetrics(
            epoch: epoch, loss: position.lossSum / Double(batches.count), lr: lr, knnTop1: knn,
            collapseStd: CollapseMonitor.std(of: z, count: shard.count, dim: dim),
            collapseReference: CollapseMonitor.healthyReference(dim: dim),
            collapseRank: rank, epochSeconds: wall,
            dataSeconds: position.dataSeconds, dataWaitSeconds: waitSeconds, computeSeconds: position.computeSeconds,
            monitorSeconds: Date().timeIntervalSince(monitorStart),
            samplesPerSecond: Double(batches.count * configuration.batch) / max(position.computeSeconds + waitSeconds, 1e-9))
    }

    /// The views and targets of one alternation block, all computed with the
    /// network as it is now (the paper's eta_x = F_theta_t(T'(x)) for every
    /// batch of the next k steps), without changing the state.
    private func fillTargets(_ block: [(indices: [Int], viewEpoch: Int)]) throws -> [TargetCache.Entry] {
        // The targets' own inputs are irrelevant to z1, z2; ones keep the unused loss finite.
        let placeholder = [Float](repeating: 1, count: state.library.inputs[2].numel)
        return try block.map { batch in
            let views = Self.views(augmenter, images, batch.indices, batch.viewEpoch)
            let z = try state.forwardOutputs(inputs: [views.x1, views.x2, placeholder, placeholder], names: ["z1", "z2"])
            return TargetCache.Entry(batch: views, eta1: z[0], eta2: z[1])
        }
    }

    /// What is left to resume from if the epoch starting at `start` diverges: no
    /// state is saved after a bad step, so the checkpoint this run wrote or
    /// resumed from last is intact.
    private func recoveryNote(startingAt start: Checkpoint.Position) -> String {
        let path = checkpointURL.path
        if start.step > 0 {
            return "the checkpoint \(path) (epoch \(start.epoch + 1), step \(start.step)) is intact; continue from it with --resume and a lower --lr"
        }
        if start.epoch > 0 {
            return "the checkpoint \(path) (end of epoch \(start.epoch)) is intact; continue from it with --resume and a lower --lr"
        }
        return "no epoch finished, so there is no checkpoint to resume from"
    }

    /// The backbone features the last kNN monitor extracted (train bank, test), so
    /// the final evaluation need not extract them again.
    public private(set) var lastMonitorFeatures: (train: FeatureSet, test: FeatureSet)?

    /// The per-image moving-average targets of `.movingAverage` runs; nil otherwise.
    var targetBank: TargetBank?

    /// kNN top-1 on the test set with the full, un-augmented training set as
    /// the bank; nil when the data has no labels or no held-out split.
    public func knnAccuracy() throws -> Double? {
        guard data.evaluationUnavailable == nil else { return nil }
        let features = try FeatureExtraction.backbone(state, data: data)
        lastMonitorFeatures = features
        return KNNMonitor.accuracy(train: features.train, test: features.test, classes: data.classes)
    }

    static func views(_ augmenter: ViewAugmenter, _ images: LabeledImages, _ indices: [Int], _ epoch: Int) -> PreparedBatch {
        let start = Date()
        let (x1, x2) = augmenter.makeViews(images: images, indices: indices, epoch: epoch)
        return PreparedBatch(x1: x1, x2: x2, seconds: Date().timeIntervalSince(start))
    }

    /// Removes the temporary files of writes that a killed run left half done
    /// (`AtomicFile` names them `.<file>.<pid>.<random>.tmp`).
    private func removeStaleTemporaries() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory.path)) ?? []
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(at: runDirectory.appendingPathComponent(name))
        }
    }

    /// Runs `work` on rank 0 while the other ranks wait at a barrier; nil on the others.
    /// (Without ranks: just runs it.)
    private func leadOnly<T>(_ work: () throws -> T) throws -> T? {
        guard let ranks else { return try work() }
        defer { ranks.barrier() }
        return shard.isLead ? try work() : nil
    }

    /// Ctrl-C on any rank stops every rank at the same step (each rank's flag is summed).
    private func interruptRequested() -> Bool {
        let here = Interrupt.requested.load(ordering: .relaxed)
        guard let ranks else { return here }
        return ranks.sum([here ? 1 : 0])[0] > 0
    }

    /// Every rank applies the same summed gradients, so parameters, momentum and BN
    /// statistics must stay bit-identical on all ranks; a difference is a bug, and the
    /// checkpoint (rank 0's) would not describe the others.
    private func checkRanksAgree(after epoch: Int) throws {
        guard let ranks else { return }
        var differing = 0, hashes: [UInt64] = []
        for arena in [TensorSymbol.Arena.params, .momentum, .buffers] {
            guard let pointer = state.pointer(to: arena) else { continue }
            let result = ranks.ranksDiffering(in: UnsafeRawBufferPointer(start: pointer, count: state.byteCount(of: arena)))
            differing = max(differing, result.count)
            hashes.append(result.hash)
        }
        guard differing == 0 else {
            throw CompileError("after epoch \(epoch + 1), \(differing) of \(ranks.size) ranks hold other parameters than rank 0: "
                + "the data-parallel step went wrong; the checkpoint before this epoch is intact")
        }
        onEvent(.note(String(format: "ranks:   parameters, momentum and BN statistics bit-identical on all %d ranks (FNV-1a %016llx)",
                             ranks.size, hashes.reduce(0, ^))))
    }

    /// Every rank must start from the same place: a rank that found another checkpoint
    /// (or none, when the run directory is not shared) would train different steps.
    private func agreeOnStart(_ position: Checkpoint.Position) throws {
        guard let ranks else { return }
        // Equal on every rank exactly when the sums of the values and of their squares are size times this rank's.
        let here = [Int64(position.epoch), Int64(position.step)]
        let mine = here + here.map { $0 * $0 }
        guard ranks.sum(mine) == mine.map({ $0 * Int64(ranks.size) }) else {
            throw CompileError("rank \(ranks.rank) starts at epoch \(position.epoch + 1), step \(position.step + 1), other ranks elsewhere: "
                + "every rank must see the same checkpoint in \(runDirectory.path) (put the run directory on a file system all nodes share)")
        }
    }

    /// Saves the checkpoint (rank 0 only); when the disk is full, says what is kept and how to go on.
    private func saveCheckpoint(_ position: Checkpoint.Position) throws {
        guard shard.isLead else { return }
        do {
            try Checkpoint.save(state, configuration: configuration, position: position, to: checkpointURL)
            try targetBank?.write(to: TargetBank.url(besides: checkpointURL), position: position)
        } catch {
            let kept = (try? Checkpoint.read(checkpointURL).0.position).map {
                "the last checkpoint (epoch \($0.epoch)\($0.step > 0 ? ", step \($0.step)" : "")) is intact; free space and continue with --resume"
            } ?? "no earlier checkpoint exists"
            throw CompileError("\(error); \(kept)")
        }
    }

    func writeMetrics(_ metrics: [EpochMetrics]) throws {
        try MetricsFile.write(metrics, to: metricsURL)
    }
}

/// Training diverged: the loss became NaN or infinite, a check-numerics build
/// met a non-finite value, or (without any NaN) a parameter or BN buffer grew
/// past its bound. `history` holds the epochs finished before; nothing was
/// saved after the bad step, so the last checkpoint is intact.
public struct TrainingDiverged: Error, CustomStringConvertible {
    public var loss: Double
    /// 0-based, as in `Checkpoint.Position`; the message counts from 1.
    public var epoch: Int
    public var step: Int
    public var baseLR: Double
    public var history: [EpochMetrics]
    /// The first NaN or infinity a check-numerics build met, when that stopped the run.
    public var nonFinite: NonFiniteValue? = nil
    /// The tensor past its bound at the end of the epoch, when that stopped the run.
    public var oversized: OversizedTensor? = nil
    /// Where to go on from: "the checkpoint ... is intact; continue from it with --resume and a lower --lr".
    public var checkpointNote: String? = nil

    public var description: String {
        let what: String
        if let nonFinite {
            what = "\(nonFinite), at epoch \(epoch + 1), step \(step + 1)"
        } else if let oversized {
            what = "training diverged without a NaN at the end of epoch \(epoch + 1): \(oversized)"
        } else {
            what = "loss became \(loss) at epoch \(epoch + 1), step \(step + 1)"
        }
        return what + "; lower --lr (now \(baseLR) per 256)" + (checkpointNote.map { "; " + $0 } ?? "")
    }
}

/// Two augmented views of one batch and the time they took.
struct PreparedBatch: Sendable {
    var x1: [Float], x2: [Float]
    var seconds: Double
}

/// One batch prepared ahead on a background queue while the step runs.
final class Prefetch: @unchecked Sendable {
    private let queue = DispatchQueue(label: "simsiamc.prefetch")
    private let group = DispatchGroup()
    private var result: PreparedBatch?

    func start(_ work: @escaping @Sendable () -> PreparedBatch) {
        group.enter()
        queue.async {
            self.result = work()
            self.group.leave()
        }
    }

    func wait() -> PreparedBatch {
        group.wait()
        defer { result = nil }
        return result!
    }

    func drain() { group.wait() }
}
