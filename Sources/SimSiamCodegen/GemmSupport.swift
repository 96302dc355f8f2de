/// The C that every tuned GEMM kernel shares: a register-tiled micro-kernel
/// and two drivers. Layer kernels only say how to read their operands
/// (`pack_a`, `pack_b`) and where results go (`store`); convolutions read
/// their input in place (implicit im2col), so no im2col buffer exists. The
/// tuned BN kernels use its small helpers too (lane sums, `transpose_rows`).
///
/// The micro-kernel keeps an MR x NR tile of C in 2*MR vector registers
/// (NR = two vectors; `RegisterTile` sizes both for the CPU's registers) and
/// does one broadcast-FMA per register and k. Written with clang/gcc vector
/// extensions.
enum GemmSupport {
    static func source(_ tile: RegisterTile) -> String {
        let precision = tile.precision, t = precision.cType, mr = tile.rows, nr = tile.columns, lanes = tile.lanes
        let accumulators = (0..<mr).map { "c\($0)_0 = {0}, c\($0)_1 = {0}" }.joined(separator: ", ")
        let fmas = (0..<mr).map { "    c\($0)_0 += ak[\($0)] * b0; c\($0)_1 += ak[\($0)] * b1;" }.joined(separator: "\n")
        let writes = (0..<mr).map { "    *(vec_t*)(tile + \($0 * nr)) = c\($0)_0; *(vec_t*)(tile + \($0 * nr + lanes)) = c\($0)_1;" }.joined(separator: "\n")
        return """
            /* ===== GEMM support =====
               C[M x N] = A[M x K] * B[K x N] on packed panels: A in panels of GEMM_MR rows
               (k-major: a[k * GEMM_MR + i]), B in panels of GEMM_NR columns (k-major:
               b[k * GEMM_NR + j]), both zero-padded. Each layer kernel supplies pack_a,
               pack_b and store; threads own whole column panels (or, for a narrow C summed
               over a long k, private partial sums added in thread order), so results repeat
               exactly for a fixed thread count. */
            typedef \(t) vec_t __attribute__((vector_size(\(tile.width.bytes)), aligned(\(precision.bytes))));
            enum { GEMM_MR = \(mr), GEMM_NR = \(nr) };

            /* Eight double accumulators for per-channel sums (batch norm): the reduction
               vectorises, and the lanes are added in a fixed order, so the result does not
               depend on the thread count. */
            typedef double lanes_t __attribute__((vector_size(64)));
            typedef \(t) lanes_source_t __attribute__((vector_size(\(8 * precision.bytes)), aligned(\(precision.bytes))));
            static inline lanes_t load_lanes(const \(t)* p) { return __builtin_convertvector(*(const lanes_source_t*)p, lanes_t); }
            static inline double lane_total(lanes_t v) {
              double total = 0;
              for (int l = 0; l < 8; l++) total += v[l];
              return total;
            }

            typedef struct { const \(t)* a; const \(t)* b; const \(t)* bias; \(t)* c; const \(t)* addend; } gemm_operands_t;
            /* Packs rows [x0, x0 + count) of A (or columns of B) for k in [k0, k0 + kc). */
            typedef void (*gemm_pack_fn)(const gemm_operands_t* g, int64_t k0, int64_t kc, int64_t x0, int64_t count, \(t)* restrict panel);
            /* Writes an MR x NR tile (row-major, stride GEMM_NR) to C rows i0.., columns j0... */
            typedef void (*gemm_store_fn)(const gemm_operands_t* g, int64_t i0, int64_t rows, int64_t j0, int64_t cols, const \(t)* restrict tile);

            static void* gemm_alloc(int64_t elements) {
              const size_t bytes = ((size_t)elements * sizeof(\(t)) + 63) / 64 * 64;
              return aligned_alloc(64, bytes > 0 ? bytes : 64);
            }

            /* out[c][r] = in[r][c] for an R x C matrix, in 16 x 16 blocks; threads own column blocks. */
            static void transpose_rows(int64_t R, int64_t C, const \(t)* restrict in, \(t)* restrict out) {
              #pragma omp parallel for schedule(static)
              for (int64_t c0 = 0; c0 < C; c0 += 16)
                for (int64_t r0 = 0; r0 < R; r0 += 16)
                  for (int64_t c = c0; c < c0 + 16 && c < C; c++)
                    for (int64_t r = r0; r < r0 + 16 && r < R; r++) out[c * R + r] = in[r * C + c];
            }

            /* tile = a_panel^T b_panel over kc steps: MR x NR accumulators in registers. */
            static inline void gemm_micro_tile(int64_t kc, const \(t)* restrict a, const \(t)* restrict b, \(t)* restrict tile) {
              vec_t \(accumulators);
              for (int64_t k = 0; k < kc; k++) {
                const vec_t b0 = *(const vec_t*)(b + k * GEMM_NR), b1 = *(const vec_t*)(b + k * GEMM_NR + \(lanes));
                const \(t)* ak = a + k * GEMM_MR;
            \(fmas)
              }
            \(writes)
            }

            /* Full-depth GEMM: A packed once, then each thread packs its column panels of B
               and computes every tile of them. */
            static inline void gemm_column_panels(int64_t M, int64_t N, int64_t K, const gemm_operands_t* g,
                                                  gemm_pack_fn pack_a, gemm_pack_fn pack_b, gemm_store_fn store) {
              const int64_t row_panels = (M + GEMM_MR - 1) / GEMM_MR, col_panels = (N + GEMM_NR - 1) / GEMM_NR;
              \(t)* a_packed = gemm_alloc(row_panels * GEMM_MR * K);
              #pragma omp parallel
              {
                #pragma omp for schedule(static)
                for (int64_t r = 0; r < row_panels; r++) {
                  const int64_t rows = M - r * GEMM_MR < GEMM_MR ? M - r * GEMM_MR : GEMM_MR;
                  pack_a(g, 0, K, r * GEMM_MR, rows, a_packed + r * GEMM_MR * K);
                }
                \(t)* b_panel = gemm_alloc(K * GEMM_NR);
                \(t) tile[GEMM_MR * GEMM_NR] __attribute__((aligned(64)));
                #pragma omp for schedule(static)
                for (int64_t p = 0; p < col_panels; p++) {
                  const int64_t j0 = p * GEMM_NR, cols = N - j0 < GEMM_NR ? N - j0 : GEMM_NR;
                  pack_b(g, 0, K, j0, cols, b_panel);
                  for (int64_t r = 0; r < row_panels; r++) {
                    const int64_t rows = M - r * GEMM_MR < GEMM_MR ? M - r * GEMM_MR : GEMM_MR;
                    gemm_micro_tile(K, a_packed + r * GEMM_MR * K, b_panel, tile);
                    store(g, r * GEMM_MR, rows, j0, cols, tile);
                  }
                }
                free(b_panel);
              }
              free(a_packed);
            }

            /* GEMM with a long k (a weight gradient summed over batch and pixels): threads
               take contiguous blocks of k and sum into private M x N partials, which are then
               added in thread order into c (row-major, overwritten). Blocks are as long as
               possible up to max_kc, but every thread gets one: each block adds its partial
               sums into M x N once. */
            static inline void gemm_reduce_over_k(int64_t M, int64_t N, int64_t K, int64_t max_kc, const gemm_operands_t* g,
                                                  gemm_pack_fn pack_a, gemm_pack_fn pack_b, \(t)* restrict c) {
              const int64_t row_panels = (M + GEMM_MR - 1) / GEMM_MR, col_panels = (N + GEMM_NR - 1) / GEMM_NR;
              const int64_t per_thread = (K + omp_get_max_threads() - 1) / omp_get_max_threads();
              const int64_t kc = per_thread < max_kc ? (per_thread + 7) / 8 * 8 : max_kc;
              const int64_t k_blocks = (K + kc - 1) / kc;
              \(t)** partials = calloc((size_t)omp_get_max_threads(), sizeof(\(t)*));
              #pragma omp parallel
              {
                const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
                \(t)* partial = gemm_alloc(M * N);
                memset(partial, 0, sizeof(\(t)) * (size_t)(M * N));
                partials[thread] = partial;
                \(t)* a_block = gemm_alloc(row_panels * GEMM_MR * kc);
                \(t)* b_panel = gemm_alloc(kc * GEMM_NR);
                \(t) tile[GEMM_MR * GEMM_NR] __attribute__((aligned(64)));
                #pragma omp for schedule(static)
                for (int64_t block = 0; block < k_blocks; block++) {
                  const int64_t k0 = block * kc, depth = K - k0 < kc ? K - k0 : kc;
                  for (int64_t r = 0; r < row_panels; r++) {
                    const int64_t rows = M - r * GEMM_MR < GEMM_MR ? M - r * GEMM_MR : GEMM_MR;
                    pack_a(g, k0, depth, r * GEMM_MR, rows, a_block + r * GEMM_MR * depth);
                  }
                  for (int64_t p = 0; p < col_panels; p++) {
                    const int64_t j0 = p * GEMM_NR, cols = N - j0 < GEMM_NR ? N - j0 : GEMM_NR;
                    pack_b(g, k0, depth, j0, cols, b_panel);
                    for (int64_t r = 0; r < row_panels; r++) {
                      const int64_t i0 = r * GEMM_MR, rows = M - i0 < GEMM_MR ? M - i0 : GEMM_MR;
                      gemm_micro_tile(depth, a_block + r * GEMM_MR * depth, b_panel, tile);
                      for (int64_t i = 0; i < rows; i++)
                        for (int64_t j = 0; j < cols; j++) partial[(i0 + i) * N + j0 + j] += tile[i * GEMM_NR + j];
                    }
                  }
                }
                #pragma omp for schedule(static)
                for (int64_t e = 0; e < M * N; e++) {
                  \(t) sum = 0;
                  for (int t = 0; t < threads; t++) sum += partials[t][e];
                  c[e] = sum;
                }
                free(b_panel);
                free(a_block);
                free(partial);
              }
              free(partials);
            }

            """ + ConvGemm.source(tile) + ConvChannelsLast.source(tile) + ConvWinograd.source(tile)
    }
}
