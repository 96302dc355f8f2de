/// The C program that tells whether a compiler really builds and runs OpenMP code.
enum ProbeProgram {
    static let openMPVersionSymbol = "simsiamc_probe_openmp_version"
    static let parallelFillSymbol = "simsiamc_probe_parallel_fill"

    typealias OpenMPVersionFunction = @convention(c) () -> Int32
    typealias ParallelFillFunction = @convention(c) (
        Int32, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>
    ) -> Int32

    /// Values the parallel loop must write; anything else means the loop misbehaved.
    static func expectedValue(at index: Int) -> Int32 { Int32(3 * index + 1) }

    // Some compilers accept -fopenmp yet ignore every pragma (Swift's clang with
    // -fopenmp=libgomp), so the program reports _OPENMP and the thread ids it saw.
    static let source = """
        #ifdef _OPENMP
        #include <omp.h>
        #endif

        int simsiamc_probe_openmp_version(void) {
        #ifdef _OPENMP
          return _OPENMP;
        #else
          return 0;
        #endif
        }

        /* Fills values[i] = 3*i+1 and thread_of[i] with the writer's thread id.
           Returns omp_get_max_threads(), or -1 without OpenMP. */
        int simsiamc_probe_parallel_fill(int n, int *values, int *thread_of) {
        #ifdef _OPENMP
          #pragma omp parallel for schedule(static)
          for (int i = 0; i < n; i++) {
            values[i] = 3 * i + 1;
            thread_of[i] = omp_get_thread_num();
          }
          return omp_get_max_threads();
        #else
          (void)n; (void)values; (void)thread_of;
          return -1;
        #endif
        }
        """
}
