import Foundation
import SimSiamIR

/// The checks of a check-numerics build (`CodegenOptions.checkNumerics`):
/// after every kernel call, one `check_finite` per tensor the call wrote.
/// Each check has an index into a table naming the kernel, its layer and DSL
/// line, and the tensor, which the library exports as `simsiam_numerics_*`
/// so the runtime can say where the first NaN or infinity appeared.
struct NumericsTable {
    struct Check {
        /// The C function that wrote the tensor (`conv2d_fwd__backbone_conv1`, `sgd_update`).
        var kernel: String
        /// Where the kernel comes from: `layer backbone.conv1, DSL SimSiamDSL/ResNet.swift:40`.
        var origin: String
        /// `%3 y [256,32,28,28]` (value, kernel parameter, shape), or a state
        /// tensor's name (`backbone.bn1.running_var`, `grad backbone.conv1.weight`).
        var tensor: String
    }

    private(set) var checks: [Check] = []

    /// The statement that checks `count` elements at `pointer` and runs
    /// `onFailure` (a `goto` or `return`) at the first non-finite one.
    mutating func check(_ pointer: String, count: Int, kernel: String, origin: String, tensor: String,
                        onFailure: String) -> String {
        checks.append(Check(kernel: kernel, origin: origin, tensor: tensor))
        return "if (!check_finite(\(checks.count - 1), \(pointer), \(count))) \(onFailure);  /* \(tensor) */"
    }

    /// `layer backbone.conv1, DSL SimSiamDSL/ResNet.swift:40`, as the kernel comments say it.
    static func origin(of node: Node) -> String {
        var origin = node.label.isEmpty ? "" : "layer \(node.label)"
        if let location = node.origin { origin += origin.isEmpty ? "DSL \(location)" : ", DSL \(location)" }
        return origin
    }

    /// The check table, the `check_finite` helper and the exported queries.
    func source(scalar t: String) -> String {
        let rows = checks.enumerated().map { index, check in
            "  {\(cString(check.kernel)), \(cString(check.origin)), \(cString(check.tensor))},  /* \(index) */"
        }
        return """
            /* ===== Numeric checks (check-numerics build) =====
               After every kernel call the entry point checks each tensor the call wrote
               and stops at the first NaN or infinity; the training step then skips the
               SGD update and sets *loss to NaN. The failure is recorded per calling
               thread (states driven from different threads keep their own reports);
               simsiam_numerics_failure reads it, simsiam_numerics_check names the check. */
            typedef struct { const char* kernel; const char* origin; const char* tensor; } numerics_check_t;

            static const numerics_check_t numerics_checks[\(max(checks.count, 1))] = {
            \(rows.isEmpty ? "  {0, 0, 0}" : rows.joined(separator: "\n"))
            };

            static _Thread_local int64_t failed_check = -1, failed_element = -1;
            static _Thread_local double failed_value = 0;

            /* 1 when x[0, n) is all finite; otherwise records check k, the first non-finite
               element and its value, and returns 0. Small tensors stay on the calling
               thread: waking the team costs more than the scan. The scan is bound by
               memory bandwidth: about 0.2 s for the 1.2 GB a W1 step writes at batch 256. */
            static int check_finite(int64_t k, const \(t)* x, int64_t n) {
              int64_t first = n;
              #pragma omp parallel for schedule(static) reduction(min: first) if (n > 32768)
              for (int64_t i = 0; i < n; i++)
                if (!isfinite(x[i]) && i < first) first = i;
              if (first == n) return 1;
              failed_check = k; failed_element = first; failed_value = (double)x[first];
              return 0;
            }

            int64_t simsiam_numerics_check_count(void) { return \(checks.count); }
            void simsiam_numerics_check(int64_t i, const char** kernel, const char** origin, const char** tensor) {
              const int ok = i >= 0 && i < \(checks.count);
              *kernel = ok ? numerics_checks[i].kernel : 0;
              *origin = ok ? numerics_checks[i].origin : 0;
              *tensor = ok ? numerics_checks[i].tensor : 0;
            }
            /* The check that failed in this thread's last train step or features call, -1 if none. */
            int64_t simsiam_numerics_failure(int64_t* element, double* value) {
              *element = failed_element; *value = failed_value;
              return failed_check;
            }

            """
    }

    private func cString(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
