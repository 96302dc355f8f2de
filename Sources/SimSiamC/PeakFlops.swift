import Foundation

/// Measures this machine's FP32 FMA peak with all OpenMP threads:
/// independent vector FMA chains per thread (three quarters of the vector
/// registers), long enough to dominate the parallel-region overhead. Built with
/// the same compiler and flags as the models, so "fraction of peak" compares
/// like with like. The chains fit the registers of `width`: 24 chains of 64
/// bytes spill on a 16-register AVX2 CPU and read 47 instead of ~80 GFLOP/s.
public enum PeakFlops {
    static func source(_ width: VectorWidth) -> String {
        let lanes = width.bytes / 4, chains = width == .avx512 ? 24 : 12
        return """
        /* simsiamc peak: \(chains) independent \(lanes)-lane FMA chains per thread. */
        #include <omp.h>
        #include <stdint.h>

        typedef float vec_t __attribute__((vector_size(\(width.bytes))));

        static float fma_chains(int64_t iterations, float seed) {
          const vec_t m = (vec_t){0} + 0.9999999f, c = (vec_t){0} + 1e-7f;
          vec_t a[\(chains)];
          for (int i = 0; i < \(chains); i++) a[i] = (vec_t){0} + seed + (float)i;
          for (int64_t it = 0; it < iterations; it++) {
            #pragma clang loop unroll(full)
            for (int i = 0; i < \(chains); i++) a[i] = a[i] * m + c;
          }
          vec_t sum = {0};
          for (int i = 0; i < \(chains); i++) sum += a[i];
          float total = 0;
          for (int l = 0; l < \(lanes); l++) total += sum[l];
          return total;
        }

        /* GFLOP/s of all threads together; *sink defeats dead-code elimination. */
        double simsiam_peak_gflops(int64_t iterations, float* sink) {
          int threads = 1;
          const double start = omp_get_wtime();
          #pragma omp parallel
          {
            const float value = fma_chains(iterations, (float)omp_get_thread_num());
            #pragma omp critical
            { *sink += value; threads = omp_get_num_threads(); }
          }
          const double seconds = omp_get_wtime() - start;
          return (double)threads * (double)iterations * \(chains).0 * \(lanes).0 * 2.0 / seconds / 1e9;
        }

        """
    }

    private typealias Measure = @convention(c) (Int64, UnsafeMutablePointer<Float>?) -> Double

    /// The best of `repeats` measurements, in GFLOP/s (the clock of a virtual CPU moves).
    public static func measure(repeats: Int = 3, iterations: Int64 = 40_000_000, width: VectorWidth = .host,
                               cache: BuildCache? = nil) throws -> Double {
        let cache = try cache ?? BuildCache()
        let built = try cache.build(source: source(width), libraryName: "peak")
        let measureFunction = try NativeLibrary.load(path: built.path).function("simsiam_peak_gflops", as: Measure.self)
        var sink: Float = 0
        return (0..<max(repeats, 1)).map { _ in measureFunction(iterations, &sink) }.max() ?? 0
    }
}
