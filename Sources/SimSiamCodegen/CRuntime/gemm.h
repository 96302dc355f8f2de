/* gemm.h: the register-tiled GEMM every tuned kernel shares.

   C[M x N] = A[M x K] * B[K x N] on packed panels: A in panels of GEMM_MR rows
   (k-major: a[k * GEMM_MR + i]), B in panels of GEMM_NR columns (k-major:
   b[k * GEMM_NR + j]), both zero-padded. Each layer kernel supplies pack_a,
   pack_b and store; threads own whole column panels (or, for a narrow C summed
   over a long k, private partial sums added in thread order), so results repeat
   exactly for a fixed thread count.

   Needs, defined before it:
     GEMM_REAL   the scalar type of the tensors (single or double precision)
     GEMM_LANES  scalars per vector register (16 or 8 on AVX-512, 8 or 4 on AVX2)
     GEMM_MR     register tile rows: 8 or 4 (GEMM_NR, the columns, is two vectors) */
#ifndef SIMSIAM_GEMM_H
#define SIMSIAM_GEMM_H

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if !defined(GEMM_REAL) || !defined(GEMM_LANES) || !defined(GEMM_MR)
#error "gemm.h needs GEMM_REAL, GEMM_LANES and GEMM_MR"
#endif

typedef GEMM_REAL real_t;
/* One vector register of GEMM_LANES scalars; loads and stores through it may be unaligned. */
typedef real_t vec_t __attribute__((vector_size(GEMM_LANES * sizeof(real_t)), aligned(sizeof(real_t))));
#define GEMM_NR (2 * GEMM_LANES)

/* GEMM_EACH_ROW(X) is X(0) X(1) ... X(GEMM_MR - 1). The micro-kernels name one accumulator per
   tile row and vector (c0_0, c0_1, c1_0, ...), so each lives in its own register. */
#if GEMM_MR == 8
#define GEMM_EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#elif GEMM_MR == 4
#define GEMM_EACH_ROW(X) X(0) X(1) X(2) X(3)
#else
#error "GEMM_MR must be 8 or 4"
#endif

/* Row i of the tile's accumulators, zero. */
#define GEMM_ZERO_ROW(i) vec_t c##i##_0 = {0}, c##i##_1 = {0};
/* Row i of the tile's accumulators stored to tile[i][0 .. GEMM_NR) (row-major, stride GEMM_NR). */
#define GEMM_WRITE_ROW(i) *(vec_t*)(tile + i * GEMM_NR) = c##i##_0; *(vec_t*)(tile + i * GEMM_NR + GEMM_LANES) = c##i##_1;
/* Row i of the tile's accumulators stored to out[i][0 .. GEMM_NR) (one pointer per row). */
#define GEMM_WRITE_ROW_AT(i) *(vec_t*)out[i] = c##i##_0; *(vec_t*)(out[i] + GEMM_LANES) = c##i##_1;

/* Eight double accumulators for per-channel sums (batch norm): the reduction
   vectorises, and the lanes are added in a fixed order, so the result does not
   depend on the thread count. A lanes_t is 64 bytes, so it never passes by value
   through a function: without AVX-512 that changes the calling convention, and
   clang warns (-Wpsabi) on every AVX2 build. load_lanes(p) is the eight values at
   p widened to double; lane_total(&v) their sum. */
typedef double lanes_t __attribute__((vector_size(64)));
typedef real_t lanes_source_t __attribute__((vector_size(8 * sizeof(real_t)), aligned(sizeof(real_t))));
#define load_lanes(p) __builtin_convertvector(*(const lanes_source_t*)(p), lanes_t)
static inline double lane_total(const lanes_t* v) {
  double total = 0;
  for (int l = 0; l < 8; l++) total += (*v)[l];
  return total;
}

typedef struct { const real_t* a; const real_t* b; const real_t* bias; real_t* c; const real_t* addend; } gemm_operands_t;
/* Packs rows [x0, x0 + count) of A (or columns of B) for k in [k0, k0 + kc). */
typedef void (*gemm_pack_fn)(const gemm_operands_t* g, int64_t k0, int64_t kc, int64_t x0, int64_t count, real_t* restrict panel);
/* Writes an MR x NR tile (row-major, stride GEMM_NR) to C rows i0.., columns j0... */
typedef void (*gemm_store_fn)(const gemm_operands_t* g, int64_t i0, int64_t rows, int64_t j0, int64_t cols, const real_t* restrict tile);

static void* gemm_alloc(int64_t elements) {
  const size_t bytes = ((size_t)elements * sizeof(real_t) + 63) / 64 * 64;
  return aligned_alloc(64, bytes > 0 ? bytes : 64);
}

/* Row i of the tile += a[i] * (b0, b1): a broadcast FMA per accumulator. */
#define GEMM_FMA_ROW(i) c##i##_0 += ak[i] * b0; c##i##_1 += ak[i] * b1;

/* tile = a_panel^T b_panel over kc steps: MR x NR accumulators in registers. */
static inline void gemm_micro_tile(int64_t kc, const real_t* restrict a, const real_t* restrict b, real_t* restrict tile) {
  GEMM_EACH_ROW(GEMM_ZERO_ROW)
  for (int64_t k = 0; k < kc; k++) {
    const vec_t b0 = *(const vec_t*)(b + k * GEMM_NR), b1 = *(const vec_t*)(b + k * GEMM_NR + GEMM_LANES);
    const real_t* ak = a + k * GEMM_MR;
    GEMM_EACH_ROW(GEMM_FMA_ROW)
  }
  GEMM_EACH_ROW(GEMM_WRITE_ROW)
}

/* Full-depth GEMM: A packed once, then each thread packs its column panels of B
   and computes every tile of them. */
static inline void gemm_column_panels(int64_t M, int64_t N, int64_t K, const gemm_operands_t* g,
                                      gemm_pack_fn pack_a, gemm_pack_fn pack_b, gemm_store_fn store) {
  const int64_t row_panels = (M + GEMM_MR - 1) / GEMM_MR, col_panels = (N + GEMM_NR - 1) / GEMM_NR;
  real_t* a_packed = gemm_alloc(row_panels * GEMM_MR * K);
  #pragma omp parallel
  {
    #pragma omp for schedule(static)
    for (int64_t r = 0; r < row_panels; r++) {
      const int64_t rows = M - r * GEMM_MR < GEMM_MR ? M - r * GEMM_MR : GEMM_MR;
      pack_a(g, 0, K, r * GEMM_MR, rows, a_packed + r * GEMM_MR * K);
    }
    real_t* b_panel = gemm_alloc(K * GEMM_NR);
    real_t tile[GEMM_MR * GEMM_NR] __attribute__((aligned(64)));
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
                                      gemm_pack_fn pack_a, gemm_pack_fn pack_b, real_t* restrict c) {
  const int64_t row_panels = (M + GEMM_MR - 1) / GEMM_MR, col_panels = (N + GEMM_NR - 1) / GEMM_NR;
  const int64_t per_thread = (K + omp_get_max_threads() - 1) / omp_get_max_threads();
  const int64_t kc = per_thread < max_kc ? (per_thread + 7) / 8 * 8 : max_kc;
  const int64_t k_blocks = (K + kc - 1) / kc;
  real_t** partials = calloc((size_t)omp_get_max_threads(), sizeof(real_t*));
  #pragma omp parallel
  {
    const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
    real_t* partial = gemm_alloc(M * N);
    memset(partial, 0, sizeof(real_t) * (size_t)(M * N));
    partials[thread] = partial;
    real_t* a_block = gemm_alloc(row_panels * GEMM_MR * kc);
    real_t* b_panel = gemm_alloc(kc * GEMM_NR);
    real_t tile[GEMM_MR * GEMM_NR] __attribute__((aligned(64)));
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
      real_t sum = 0;
      for (int t = 0; t < threads; t++) sum += partials[t][e];
      c[e] = sum;
    }
    free(b_panel);
    free(a_block);
    free(partial);
  }
  free(partials);
}

#endif /* SIMSIAM_GEMM_H */
