import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc tune`: measures every convolution algorithm per layer and pass on this CPU and stores
/// the fastest plan, which later compiles of the same graph on this CPU follow.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune", abstract: "Time each convolution algorithm per layer on this CPU and store the fastest kernel plan.",
        discussion: """
            Compiles a profiling library per round of candidates (every pass runs its r-th possible algorithm in round r), times the training step's kernels in a sweep over the rounds and back, keeps each pass's fastest algorithm, times the Winograd passes' blockings (tiles per block, images per pass) the same way, then times the whole step under the cost models' plan and under the tuned one in alternation. The tuned plan is stored only if it is faster; either way the record goes to the plan store (SIMSIAMC_TUNED_PLANS, else plans/ in the build cache), keyed by CPU model and flags, graph, batch, precision, vector width and thread count. compile, step, bench, train, eval and ablate then follow it (their summary says so); --untuned or --plan FILE overrides it. Timing needs a quiet machine.
            """)

    @OptionGroup var options: WorkloadOptions
    @OptionGroup var codegen: CodegenArguments

    @Option(help: "Training steps timed per candidate build and per side of the final comparison (after one warm-up).")
    var steps: Int = 3

    @Option(help: "Seconds after which no new candidate build starts; candidates not timed keep the cost models' choice.")
    var budget: Double?

    @Option(help: "Also write the chosen plan here (a plan file for --plan).")
    var out: String?

    func validate() throws {
        try FlagCheck.atLeast(steps, 1, "--steps")
        if let budget { try FlagCheck.positive(budget, "--budget") }
        if codegen.kernels == .reference { throw ValidationError("--kernels reference has one algorithm per op: nothing to tune") }
        if codegen.plan != nil { throw ValidationError("tune measures its own plan; drop --plan") }
    }

    func run() throws {
        options.applyThreads()
        guard let store = TunedPlanStore.configured() else {
            throw ValidationError("\(TunedPlanStore.directoryVariable)=off: there is no plan store to write to; unset it or name a directory")
        }
        let workload = try options.load().workload
        let batch = options.batch(for: workload)
        var base = try codegen.options()
        base.tunedPlanDirectory = nil
        let threads = TunedPlanStore.threads()
        say("tune:    \(workload.name), batch \(batch) per view, \(base.trainingPrecision.rawValue), tiles for \(base.vectorWidth.rawValue), \(threads) threads, \(steps) steps per candidate")
        let tuner = PlanTuner(workload: workload, batch: batch, options: base, steps: steps, budgetSeconds: budget)
        let record = try tuner.run { say("  " + $0) }
        let forward = try workload.trace(.standard, batch: batch).training
        let file = try store.store(record, forward: forward, options: base, threads: threads)
        say(TuningReport(record: record).text)
        if let out {
            try AtomicFile.write(try record.plan.encoded(), to: URL(fileURLWithPath: out))
            say("plan:    \(out)")
        }
        say("stored:  \(file.path)")
        say(record.tunedPlanKept ? "         later compiles of this graph on this CPU follow it (--untuned to ignore it)"
                                 : "         the cost models' plan stays: the tuned one was not faster as a whole step")
    }
}

/// The per-pass tables `tune` prints: each algorithm's milliseconds per step, the cost models'
/// choice and the measured one, and the gain; then, for the passes that run Winograd, each
/// blocking's milliseconds.
struct TuningReport {
    var record: TunedPlanRecord

    var text: String {
        let algorithms = ConvAlgorithm.allCases
        let header = ["layer", "pass", "convolution"] + algorithms.map(\.rawValue) + ["cost model", "tuned", "gain"]
        let rows = record.layers.map { layer -> [String] in
            let cells = algorithms.map { algorithm in
                layer.seconds[algorithm.rawValue].map(Self.milliseconds) ?? "-"
            }
            let gain = layer.changed ? String(format: "%.3f ms", layer.gainSeconds * 1000) : ""
            let blocking = layer.chosenBlocking != layer.derivedBlocking ? layer.chosenBlocking.map { " (\($0))" } ?? "" : ""
            return [layer.layer, layer.pass.rawValue, layer.shape] + cells + [layer.derived.rawValue, layer.chosen.rawValue + blocking, gain]
        }
        let changed = record.layers.filter(\.changed).count
        let ratio = record.derivedStepSeconds / record.tunedStepSeconds
        return (["per pass, ms per training step (both views):"] + Self.table([header] + rows) + blockingTable + [
            String(format: "step:    cost models' plan %.1f ms, tuned plan %.1f ms (%.3fx; medians of 3 alternating rounds); %d of %d passes changed",
                   record.derivedStepSeconds * 1000, record.tunedStepSeconds * 1000, ratio, changed, record.layers.count),
        ]).joined(separator: "\n")
    }

    /// The Winograd passes' blockings (tiles per block x images per pass), the cost models' first.
    private var blockingTable: [String] {
        let timed = record.layers.filter { ($0.blockingSeconds?.count ?? 0) > 1 }
        guard !timed.isEmpty else { return [] }
        let rows = timed.map { layer -> [String] in
            let cells = layer.blockingSeconds!.sorted { $0.value < $1.value }
                .map { "\($0.key) \(Self.milliseconds($0.value))" + ($0.key == layer.derivedBlocking?.description ? " (cost model)" : "") }
            return [layer.layer, layer.pass.rawValue, layer.chosenBlocking.map(\.description) ?? "-"] + [cells.joined(separator: ", ")]
        }
        return ["Winograd blockings, ms per training step, fastest first:"] + Self.table([["layer", "pass", "tuned", "timed"]] + rows)
    }

    private static func milliseconds(_ seconds: Double) -> String { String(format: "%.3f", seconds * 1000) }

    /// Rows as padded columns, each line indented; the last column unpadded.
    private static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        return rows.map { row in
            "  " + row.enumerated().map { $0 == row.count - 1 ? $1 : $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
    }
}
