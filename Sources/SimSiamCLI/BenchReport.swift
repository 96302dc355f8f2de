import Foundation
import SimSiamC

/// What `simsiamc bench` measured.
struct BenchResult {
    var workload: String
    var batch: Int
    var threads: String?
    var kernels: String
    var medianStepSeconds: Double
    var samplesPerSecond: Double
    var stepSeconds: [Double]
    var peakRSSBytes: Int
    var compileSeconds: Double
    var cacheHit: Bool
    /// Data-parallel runs: the ranks and rank 0's time in collectives per step.
    var collectives: Collectives? = nil

    struct Collectives {
        var ranks: Int
        /// Rank 0's seconds per step in blocking sums (batch-norm statistics, the loss).
        var blockingSeconds: Double
        /// Rank 0's seconds per step starting, polling and waiting for the gradient sums.
        var gradientSeconds: Double
        var gradientBytes: Double
    }

    var text: String {
        String(format: "%@ batch %d: median step %.3f s, %.1f samples/s, peak RSS %.2f GiB (%@ kernels, %@ threads)",
               workload, batch, medianStepSeconds, samplesPerSecond, Double(peakRSSBytes) / 1_073_741_824, kernels,
               threads ?? "all")
            + (collectives.map {
                String(format: "\n%d ranks (global batch %d); rank 0 per step: %.1f ms in batch-norm and loss sums, "
                       + "%.1f ms starting, polling and waiting for gradient sums (%.2f MB)",
                       $0.ranks, batch, 1000 * $0.blockingSeconds, 1000 * $0.gradientSeconds, $0.gradientBytes / 1e6)
            } ?? "")
    }

    func json(kernels profile: [KernelProfile], steps: Int, peakGigaflops: Double?) -> String {
        var object: [String: Any] = [
            "workload": workload, "batch": batch, "kernels": kernels, "samples_per_s": samplesPerSecond,
            "median_step_s": medianStepSeconds, "step_s": stepSeconds, "peak_rss_bytes": peakRSSBytes,
            "compile_s": compileSeconds, "compile_cache_hit": cacheHit, "threads": threads ?? "all",
        ]
        if let collectives {
            object["ranks"] = collectives.ranks
            object["collective_blocking_s_per_step"] = collectives.blockingSeconds
            object["collective_gradient_s_per_step"] = collectives.gradientSeconds
            object["gradient_bytes_per_step"] = collectives.gradientBytes
        }
        if let peakGigaflops {
            object["peak_gflops"] = peakGigaflops
            object["profile"] = profile.map { kernel -> [String: Any] in
                var entry: [String: Any] = ["kernel": kernel.name, "calls_per_step": kernel.calls / steps,
                                            "seconds_per_step": kernel.seconds / Double(steps)]
                if let rate = kernel.gigaflopsPerSecond { entry["gflops"] = rate; entry["fraction_of_peak"] = rate / peakGigaflops }
                return entry
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The per-kernel table of `simsiamc bench --profile`, slowest first.
struct ProfileReport {
    var kernels: [KernelProfile]
    var steps: Int
    var stepSeconds: Double
    var peakGigaflops: Double

    var text: String {
        let total = kernels.reduce(0) { $0 + $1.seconds } / Double(steps)
        var lines = [String(format: "profile: kernels take %.3f s per step (mean) against a median step of %.3f s; FMA peak %.0f GFLOP/s (measured now)",
                            total, stepSeconds, peakGigaflops),
                     "  ms/step  share  GFLOP/s  peak  kernel"]
        // Kernels a training step never calls (e.g. the evaluation graph's) would only pad the table.
        for kernel in kernels.sorted(by: { $0.seconds > $1.seconds }) where kernel.calls > 0 {
            let perStep = kernel.seconds / Double(steps)
            let rate = kernel.gigaflopsPerSecond
            lines.append(String(format: "  %7.2f  %4.1f%%  %7@  %4@  %@", perStep * 1000, 100 * perStep / stepSeconds,
                                rate.map { String(format: "%.1f", $0) } ?? "-",
                                rate.map { String(format: "%.0f%%", 100 * $0 / peakGigaflops) } ?? "-", kernel.name))
        }
        if kernels.contains(where: { $0.calls > 0 && ($0.gigaflopsPerSecond ?? 0) > peakGigaflops }) {
            lines.append("  (GFLOP/s count a direct convolution's multiply-adds: Winograd kernels do fewer, so they can pass 100%)")
        }
        let uncalled = kernels.count { $0.calls == 0 }
        if uncalled > 0 { lines.append("  (\(uncalled) kernels not called by a training step, e.g. the evaluation graph's, are left out)") }
        let flops = kernels.reduce(0) { $0 + $1.flopsPerCall * Double($1.calls) } / Double(steps)
        lines.append(String(format: "  GEMM work %.1f GFLOP per step: %.1f GFLOP/s over the whole step (%.0f%% of peak)",
                            flops / 1e9, flops / stepSeconds / 1e9, 100 * flops / stepSeconds / 1e9 / peakGigaflops))
        return lines.joined(separator: "\n")
    }
}
