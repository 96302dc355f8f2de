import Foundation
import Synchronization

/// A hand-written C library implementing docs/library-abi.md for a toy model,
/// compiled with clang-14 into a temporary directory (once per variant).
///
/// Model: params "w" [2,3] (trainable, group 0) and "b" [2] (frozen);
/// buffer "bn.running_mean" [2]; counter "bn.num_batches_tracked"; input
/// "x" [4,3]; batch 4. Forward y[n] = w x[n] + b; loss = mean over n of
/// sum(y[n]). Train step: grad w = mean over n of x[n] (broadcast over rows),
/// grad b = 0 (frozen), SGD with momentum and weight decay on w,
/// running_mean = 0.9 rm + 0.1 mean_n y[n], counter += 1. Features: w x[n].
/// Init: w[i] = 0.1 (i + 1) + seed, b = [0.5, -0.5].
enum ToyLibraryFixture {
    enum Variant: String, Sendable {
        case float32, float64, missingFeatures, previousABIVersion
        var defines: [String] {
            switch self {
            case .float32: []
            case .float64: ["-DSCALAR=double"]
            case .missingFeatures: ["-DOMIT_FEATURES"]
            case .previousABIVersion: ["-DABI_VERSION=1"]
            }
        }
    }

    private static let builtLibraries = Mutex<[Variant: String]>([:])

    /// Path of the compiled library for `variant`.
    static func libraryPath(_ variant: Variant) throws -> String {
        try builtLibraries.withLock { built in
            if let path = built[variant] { return path }
            let path = try compile(source, defines: variant.defines, name: "toy-\(variant.rawValue)")
            built[variant] = path
            return path
        }
    }

    /// One directory per test process, removed when the process exits (the toy libraries
    /// stay loaded until then).
    private static let root: URL = {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("simsiam-runtime-tests-\(ProcessInfo.processInfo.processIdentifier)")
        atexit { try? FileManager.default.removeItem(at: ToyLibraryFixture.root) }
        return root
    }()

    static func temporaryDirectory() throws -> URL {
        let directory = root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Compiles `source` into a shared library and returns its path.
    static func compile(_ source: String, defines: [String] = [], name: String) throws -> String {
        let directory = try temporaryDirectory()
        let sourceURL = directory.appendingPathComponent("\(name).c")
        let libraryURL = directory.appendingPathComponent("lib\(name).so")
        try source.write(to: sourceURL, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/clang-14")
        process.arguments = ["-O1", "-fPIC", "-shared", "-fopenmp", "-Wall", "-Werror"] + defines
            + [sourceURL.path, "-o", libraryURL.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let log = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CompileFailure(log: String(decoding: log, as: UTF8.self))
        }
        return libraryURL.path
    }

    struct CompileFailure: Error, CustomStringConvertible {
        let log: String
        var description: String { "clang-14 failed:\n\(log)" }
    }

    static let source = #"""
        #include <stdint.h>
        #include <string.h>
        #ifndef SCALAR
        #define SCALAR float
        #endif
        #ifndef ABI_VERSION
        #define ABI_VERSION 2
        #endif
        typedef SCALAR scalar;

        typedef struct {
          const char* name; int64_t arena; int64_t kind; int64_t group;
          int64_t offset; int64_t numel; int64_t rank; int64_t shape[4];
        } simsiam_symbol_t;
        typedef struct {
          void* params; void* grads; void* momentum; void* buffers; int64_t* counters; void* workspace;
        } simsiam_arenas_t;

        enum { BATCH = 4, IN = 3, OUT = 2 };
        static const simsiam_symbol_t symbols[] = {
          {"w", 0, 0, 0, 0, 6, 2, {2, 3, 0, 0}},
          {"b", 0, 1, -1, 6, 2, 1, {2, 0, 0, 0}},
          {"bn.running_mean", 3, 2, -1, 0, 2, 1, {2, 0, 0, 0}},
          {"bn.num_batches_tracked", 4, 4, -1, 0, 1, 0, {0, 0, 0, 0}},
          {"x", 6, 5, -1, 0, 12, 2, {4, 3, 0, 0}},
        };

        int64_t simsiam_abi_version(void) { return ABI_VERSION; }
        int64_t simsiam_scalar_bytes(void) { return sizeof(scalar); }
        int64_t simsiam_batch(void) { return BATCH; }
        int64_t simsiam_arena_numel(int64_t arena) {
          switch (arena) {
            case 0: case 1: case 2: return 8;
            case 3: return 2;
            case 4: return 1;
            case 5: return BATCH * OUT;
            case 6: return 1;
            default: return 0;
          }
        }
        int64_t simsiam_symbol_count(void) { return sizeof(symbols) / sizeof(symbols[0]); }
        const simsiam_symbol_t* simsiam_symbols(void) { return symbols; }
        int64_t simsiam_group_count(void) { return 1; }
        const char* simsiam_group_name(int64_t group) { return group == 0 ? "encoder" : 0; }
        int64_t simsiam_feature_dim(void) { return OUT; }

        void simsiam_init(const simsiam_arenas_t* a, uint64_t seed) {
          scalar* p = a->params; scalar* m = a->momentum; scalar* rm = a->buffers;
          for (int i = 0; i < 6; i++) p[i] = (scalar)(0.1 * (i + 1) + (double)seed);
          p[6] = 0.5; p[7] = -0.5;
          memset(m, 0, 8 * sizeof(scalar));
          rm[0] = rm[1] = 0;
          a->counters[0] = 0;
        }

        void simsiam_train_step(const simsiam_arenas_t* a, const void* const* inputs,
                                const double* group_lr, double weight_decay, double momentum,
                                double* loss) {
          scalar* w = a->params; scalar* b = w + 6; scalar* g = a->grads; scalar* m = a->momentum;
          scalar* rm = a->buffers; scalar* y = a->workspace; const scalar* x = inputs[0];
          memset(g, 0, 8 * sizeof(scalar));
          double total = 0;
          for (int n = 0; n < BATCH; n++)
            for (int o = 0; o < OUT; o++) {
              double acc = b[o];
              for (int k = 0; k < IN; k++) acc += (double)w[o * IN + k] * x[n * IN + k];
              y[n * OUT + o] = (scalar)acc;
              total += acc;
            }
          *loss = total / BATCH;
          for (int o = 0; o < OUT; o++)
            for (int k = 0; k < IN; k++) {
              double s = 0;
              for (int n = 0; n < BATCH; n++) s += x[n * IN + k];
              g[o * IN + k] = (scalar)(s / BATCH);
            }
          for (int i = 0; i < 6; i++) {
            double d = g[i] + weight_decay * w[i];
            m[i] = (scalar)(momentum * m[i] + d);
            w[i] = (scalar)(w[i] - group_lr[0] * m[i]);
          }
          for (int o = 0; o < OUT; o++) {
            double mean = 0;
            for (int n = 0; n < BATCH; n++) mean += y[n * OUT + o];
            rm[o] = (scalar)(0.9 * rm[o] + 0.1 * mean / BATCH);
          }
          a->counters[0] += 1;
        }

        #ifndef OMIT_FEATURES
        void simsiam_features(const simsiam_arenas_t* a, const void* xv, void* fv) {
          const scalar* w = a->params; const scalar* x = xv; scalar* f = fv;
          #pragma omp parallel for schedule(static)
          for (int n = 0; n < BATCH; n++)
            for (int o = 0; o < OUT; o++) {
              double acc = 0;
              for (int k = 0; k < IN; k++) acc += (double)w[o * IN + k] * x[n * IN + k];
              f[n * OUT + o] = (scalar)acc;
            }
        }
        #endif
        """#
}
