import Foundation
import SimSiamIR
import SimSiamPasses

/// `simsiam_init`: the spec's initialisers from a seeded generator. Each
/// parameter draws from its own stream (seed, parameter index), so values do
/// not depend on the order or number of other parameters.
struct InitializerEmitter {
    let state: StateDecls
    let layout: ArenaLayout
    let precision: Precision

    var source: String {
        let t = precision.cType
        var c = CLines()
        // Bound only when used: an unused local warns, and a model may have no BN (no buffers).
        if !state.parameters.isEmpty { c.line("\(t)* params = a->params;") }
        if !state.buffers.isEmpty { c.line("\(t)* buffers = a->buffers;") }
        c.line("memset(a->grads, 0, sizeof(\(t)) * \(layout.parameterElements));")
        c.line("memset(a->momentum, 0, sizeof(\(t)) * \(layout.parameterElements));")
        for (index, p) in state.parameters.enumerated() {
            let target = "params + \(layout.parameterOffsets[index]), \(p.shape.elementCount)"
            switch p.initializer {
            case .kaimingNormalFanOut:
                let fanOut = p.shape[0] * p.shape.dims.dropFirst(2).reduce(1, *)
                c.line("init_normal(\(target), \(sqrt(2.0 / Double(fanOut))), seed, \(index));  /* \(p.name): kaiming_normal, fan_out \(fanOut) */")
            case .uniformFanIn(let fanIn):
                c.line("init_uniform(\(target), \(1 / sqrt(Double(fanIn))), seed, \(index));  /* \(p.name): uniform(+-1/sqrt(\(fanIn))) */")
            case .constant(let value):
                c.line("init_constant(\(target), \(value));  /* \(p.name) */")
            case .normal(let std):
                c.line("init_normal(\(target), \(std), seed, \(index));  /* \(p.name): normal(std \(std)) */")
            }
        }
        for (index, b) in state.buffers.enumerated() {
            let value = b.role == .runningMean ? 0.0 : 1.0
            c.line("init_constant(buffers + \(layout.bufferOffsets[index]), \(b.shape.elementCount), \(value));  /* \(b.name) */")
        }
        if !state.counters.isEmpty {
            c.line("memset(a->counters, 0, sizeof(int64_t) * \(state.counters.count));")
        }
        return """
            /* ===== Initialisation ===== */

            /* splitmix64: small, fast, and good enough to draw initial weights. */
            static uint64_t next_random(uint64_t* state) {
              uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
              z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
              z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
              return z ^ (z >> 31);
            }

            /* A uniform double in (0, 1]. */
            static double next_unit(uint64_t* state) { return ((next_random(state) >> 11) + 1) * 0x1.0p-53; }

            static uint64_t stream_state(uint64_t seed, uint64_t stream) {
              uint64_t state = seed ^ (0xD1B54A32D192ED03ull * (stream + 1));
              next_random(&state);
              return state;
            }

            /* Normal(0, std) by Box-Muller. */
            static void init_normal(\(t)* p, int64_t n, double std, uint64_t seed, uint64_t stream) {
              uint64_t state = stream_state(seed, stream);
              for (int64_t i = 0; i < n; i += 2) {
                const double r = sqrt(-2.0 * log(next_unit(&state))), angle = 6.283185307179586 * next_unit(&state);
                p[i] = (\(t))(std * r * cos(angle));
                if (i + 1 < n) p[i + 1] = (\(t))(std * r * sin(angle));
              }
            }

            /* Uniform(-bound, bound). */
            static void init_uniform(\(t)* p, int64_t n, double bound, uint64_t seed, uint64_t stream) {
              uint64_t state = stream_state(seed, stream);
              for (int64_t i = 0; i < n; i++) p[i] = (\(t))(bound * (2.0 * next_unit(&state) - 1.0));
            }

            static void init_constant(\(t)* p, int64_t n, double value) {
              for (int64_t i = 0; i < n; i++) p[i] = (\(t))value;
            }

            void simsiam_init(const simsiam_arenas_t* a, uint64_t seed) {
            \(c.text)}

            """
    }
}
