import Foundation
import Testing
@testable import SimSiamC

/// `train` follows the plan `simsiamc tune` stored for this CPU, graph, batch and thread count
/// (the store is SIMSIAMC_TUNED_PLANS), and `--untuned` ignores it: training is what a tuned
/// plan is for, so the store must not stop at `bench` and `compile`.
@Suite struct TrainTunedPlanTests {
    @Test func trainFollowsTheStoredPlanUnlessUntuned() throws {
        let workspace = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let data = workspace.appendingPathComponent("data")
        try SyntheticFashionMNIST.write(to: data, train: 32, test: 16)
        let plans = workspace.appendingPathComponent("plans")

        // The record `tune` would write for train's graph and options (float32, this CPU's width, 1 thread).
        let batch = 16
        let graphs = try Workload.tiny.trace(.standard, batch: batch)
        let options = CodegenOptions(tunedPlanDirectory: plans.path)
        let derived = try Lowering.lower(Workload.tiny, batch: batch, options: CodegenOptions()).plan
        let record = TunedPlanRecord(format: TunedPlanRecord.currentFormat, plan: derived, graph: "tiny", batch: batch,
                                     precision: "float32", vectorWidth: options.vectorWidth.rawValue, threads: 1, cpu: "test",
                                     measured: "2026-12-04T00:00:00Z", layers: [], derivedStepSeconds: 2, tunedStepSeconds: 1,
                                     tunedPlanKept: true)
        let stored = try TunedPlanStore(directory: plans).store(record, forward: graphs.training, options: options, threads: 1)

        func train(_ run: String, _ extra: [String] = []) throws -> String {
            let outcome = try CommandLineRun(
                arguments: ["train", "--workload", "tiny", "--data", data.path, "--subset", "16", "--batch", "\(batch)", "--epochs", "1",
                            "--threads", "1", "--no-eval", "--run-dir", workspace.appendingPathComponent(run).path] + extra,
                environment: ["SIMSIAMC_CACHE_DIR": testCacheDirectory.path, "SIMSIAMC_CFLAGS": "-O1", "SIMSIAMC_TUNED_PLANS": plans.path]).run()
            try #require(outcome.status == 0, "train failed:\n\(outcome.output)")
            return outcome.output
        }
        let followed = try train("tuned")
        #expect(followed.contains("plan:") && followed.contains(stored.path), "train did not follow the stored plan:\n\(followed)")
        let untuned = try train("untuned", ["--untuned"])
        #expect(!untuned.contains(stored.path), "train --untuned still followed the stored plan:\n\(untuned)")
    }
}
