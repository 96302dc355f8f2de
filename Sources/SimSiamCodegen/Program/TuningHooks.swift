import Foundation

/// The instrumentation of C written for editing (`CodegenOptions.tuningHooks`).
///
/// The entry points wrap every kernel call in `TIMED_CALL(slot, call)` and
/// follow it with one `TRACE_TENSOR(point, tensor, numel)` per tensor the call
/// wrote (the same tensors a check-numerics build checks). Both macros expand
/// to the bare call and to nothing unless the file is compiled with
/// `-DSIMSIAM_PROFILE` (per-kernel timing, `simsiam_profile_*`) or
/// `-DSIMSIAM_TRACE` (a hook that receives each written tensor, `simsiam_trace_*`):
/// one edited file gives the plain, the profiling and the tracing library.
struct TraceTable {
    struct Point {
        /// The C function that wrote the tensor (`conv2d_fwd__backbone_conv1`, `sgd_update`).
        var kernel: String
        /// `layer backbone.conv1, DSL SimSiamDSL/ResNet.swift:40`.
        var origin: String
        /// `%3 y [256,32,28,28]`, or a state tensor's name (`grad backbone.conv1.weight`).
        var tensor: String
    }

    private(set) var points: [Point] = []

    /// The statement that hands `count` elements at `pointer` to the trace hook.
    mutating func trace(_ pointer: String, count: Int, kernel: String, origin: String, tensor: String) -> String {
        points.append(Point(kernel: kernel, origin: origin, tensor: tensor))
        return "TRACE_TENSOR(\(points.count - 1), \(pointer), \(count));  /* \(tensor) */"
    }

    /// The macros, the profile table (under `SIMSIAM_PROFILE`) and the trace
    /// table with its exported queries (under `SIMSIAM_TRACE`).
    func source(profile: ProfileTable) -> String {
        let rows = points.enumerated().map { index, point in
            "  {\(cString(point.kernel)), \(cString(point.origin)), \(cString(point.tensor))},  /* \(index) */"
        }
        return """
            /* ===== Tuning hooks =====
               This file was written for editing (simsiamc compile --out). Compiled as it is,
               it is the normal library. Two macros add instrumentation between kernel calls:
                 -DSIMSIAM_PROFILE  times every kernel call (simsiamc bench --library DIR --profile)
                 -DSIMSIAM_TRACE    hands every tensor a kernel call wrote to the runtime, which
                                    compares it with the generated C's (simsiamc verify --library DIR)
               Edit the kernels freely; keep their names, parameters and the entry points'
               TIMED_CALL and TRACE_TENSOR lines, which verify uses to name what an edit broke.
               A memory-bound kernel is a one-line wrapper of a body shared by every layer that
               calls it: edit the body to change them all, or give one wrapper a body of its own. */
            #ifdef SIMSIAM_PROFILE
            \(profile.source)
            #define TIMED_CALL(slot, call) do { const double start_ = omp_get_wtime(); call; \\
                profile_seconds[slot] += omp_get_wtime() - start_; profile_calls[slot]++; } while (0)
            #else
            #define TIMED_CALL(slot, call) call
            #endif

            #ifdef SIMSIAM_TRACE
            typedef struct { const char* kernel; const char* origin; const char* tensor; } trace_point_t;

            static const trace_point_t trace_points[\(max(points.count, 1))] = {
            \(rows.isEmpty ? "  {0, 0, 0}" : rows.joined(separator: "\n"))
            };

            /* Called on the thread that runs the entry point, between kernel calls. The
               hook may read the tensor and overwrite it (verify replays the generated C's
               values, so every kernel of an edited file starts from the same inputs). */
            typedef void (*simsiam_trace_hook_t)(void* context, int64_t point, void* tensor, int64_t numel);
            static simsiam_trace_hook_t trace_hook;
            static void* trace_context;

            int64_t simsiam_trace_count(void) { return \(points.count); }
            void simsiam_trace_point(int64_t i, const char** kernel, const char** origin, const char** tensor) {
              const int ok = i >= 0 && i < \(points.count);
              *kernel = ok ? trace_points[i].kernel : 0;
              *origin = ok ? trace_points[i].origin : 0;
              *tensor = ok ? trace_points[i].tensor : 0;
            }
            void simsiam_set_trace(simsiam_trace_hook_t hook, void* context) { trace_hook = hook; trace_context = context; }
            #define TRACE_TENSOR(point, tensor, numel) do { if (trace_hook) trace_hook(trace_context, point, (void*)(tensor), numel); } while (0)
            #else
            #define TRACE_TENSOR(point, tensor, numel) ((void)0)
            #endif

            """
    }

    private func cString(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
