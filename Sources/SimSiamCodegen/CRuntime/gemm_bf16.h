/* gemm_bf16.h: the GEMM of gemm.h with bfloat16 operands and float32 accumulation.

   The layer kernels' pack_a and pack_b callbacks fill float32 panels as for gemm.h; the drivers
   here round each panel to bfloat16 once, as they pack it, into the layout vdpbf16ps reads: k in
   pairs, each pair one 32-bit word (low half k even, high half k odd), k zero-padded to even.
     A: row i's pair kp at rows[i][kp * step]   (packed panels: rows[i] = a + i, step GEMM_MR;
                                                 Winograd: one row of pairs per tile, step 1)
     B: b[kp * b_step + j]                      the pair of column j (packed panels: b_step GEMM_NR;
                                                 Winograd dw: one row of pairs per tile pair)
   The micro-kernel then adds, per pair and in this order, a_odd * b_odd and a_even * b_even to a
   float32 accumulator, each a fused multiply-add rounded to nearest even, subnormal results
   flushed to zero: what vdpbf16ps does per lane (Intel SDM pseudo-code, and measured on an AMD
   EPYC Zen 5 over 64 M lanes, subnormals included; docs/bf16.md).

   GEMM_BF16_DPBF16 1: the micro-kernel is _mm512_dpbf16_ps (AVX512_BF16, 16-lane tiles only);
   0: the emulation, the same operations in float32 vector code, for any CPU. Both give the same
   bits. The rounding makes subnormal bfloat16 values zero (vdpbf16ps reads them as zero anyway),
   so the emulation never sees one.

   Needs gemm.h with GEMM_REAL float, and GEMM_BF16_DPBF16 defined before it. */
#ifndef SIMSIAM_GEMM_BF16_H
#define SIMSIAM_GEMM_BF16_H

#include "gemm.h"

#if !defined(GEMM_BF16_DPBF16)
#error "gemm_bf16.h needs GEMM_BF16_DPBF16 (1: vdpbf16ps, 0: its emulation)"
#endif
#if GEMM_BF16_DPBF16 && GEMM_LANES != 16
#error "the vdpbf16ps micro-kernel is written for 16-lane (AVX-512 float) tiles"
#endif
#if GEMM_BF16_DPBF16
#include <immintrin.h>
#endif

/* Bit patterns of GEMM_LANES float32 values, or of GEMM_LANES bfloat16 pairs. */
typedef uint32_t bf16_words_t __attribute__((vector_size(GEMM_LANES * 4), aligned(4)));

/* The bfloat16 nearest to x (ties to even) as the high half of a float32 pattern, as
   vcvtneps2bf16 computes it (Intel SDM, convert_fp32_to_bfloat16; equal on all 2^32 patterns on
   an AMD EPYC Zen 4): NaN stays a (quiet) NaN, a subnormal x becomes zero of the same sign (DAZ),
   and a normal x rounds to nearest even (past the largest bfloat16: infinity). Branch-free, so
   packing loops vectorise. */
static inline uint32_t bf16_round_bits(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  const uint32_t rounded = b + 0x7fffu + ((b >> 16) & 1u);
  uint32_t r = (b & 0x7fffffffu) > 0x7f800000u ? (b | 0x00400000u) : rounded;
  r = (b & 0x7f800000u) == 0 ? (b & 0x80000000u) : r;
  return r & 0xffff0000u;
}

/* bf16_round_bits of each lane of v, for the transforms and packings that round whole registers:
   bf16_round_lanes gives the GEMM_LANES bfloat16 patterns (in memory, a row of pairs along the
   lanes: low half the even lane, high half the odd one), bf16_round_lane_bits the same patterns
   as high halves. With AVX512_BF16 one vcvtneps2bf16 (the software rounding below took ~40% of
   W1's layer1 Winograd input transform in bf16, C harness); otherwise its statement in vector
   code. bf16_test.c checks both against bf16_round_bits lane by lane. */
typedef uint16_t bf16_halves_t __attribute__((vector_size(GEMM_LANES * 2), aligned(2), may_alias));  /* stored into pair rows */
#if GEMM_BF16_DPBF16
__attribute__((target("avx512f,avx512bf16")))
static inline bf16_halves_t bf16_round_lanes(vec_t v) {
  return (bf16_halves_t)_mm512_cvtneps_pbh((__m512)v);
}
static inline bf16_words_t bf16_round_lane_bits(vec_t v) {
  return __builtin_convertvector(bf16_round_lanes(v), bf16_words_t) << 16;
}
#else
static inline bf16_words_t bf16_round_lane_bits(vec_t v) {
  const bf16_words_t b = (bf16_words_t)v;
  const bf16_words_t rounded = b + 0x7fffu + ((b >> 16) & 1u);
  const bf16_words_t nan = (bf16_words_t)((b & 0x7fffffffu) > 0x7f800000u);
  bf16_words_t r = (nan & (b | 0x00400000u)) | (~nan & rounded);
  const bf16_words_t subnormal = (bf16_words_t)((b & 0x7f800000u) == 0);
  r = (subnormal & (b & 0x80000000u)) | (~subnormal & r);
  return r & 0xffff0000u;
}
static inline bf16_halves_t bf16_round_lanes(vec_t v) {
  return __builtin_convertvector(bf16_round_lane_bits(v) >> 16, bf16_halves_t);
}
#endif

/* bf16_round_bits of count consecutive values, as halves into out (any memory: every store is a
   memcpy): the vector rounding on whole registers, scalar on the tail. */
static inline void bf16_round_run(int64_t count, const float* restrict in, void* restrict out_bytes) {
  uint16_t* out = out_bytes;
  int64_t e = 0;
  for (; e + GEMM_LANES <= count; e += GEMM_LANES) {
    vec_t v;
    memcpy(&v, in + e, sizeof v);
    const bf16_halves_t h = bf16_round_lanes(v);
    memcpy(out + e, &h, sizeof h);
  }
  for (; e < count; e++) {
    const uint16_t h = (uint16_t)(bf16_round_bits(in[e]) >> 16);
    memcpy(out + e, &h, sizeof h);  /* out may be a row of pairs (words): memcpy, not a uint16_t store */
  }
}

/* One pair word of two values rounded: the low half even's bfloat16, the high half odd's (the
   layout vdpbf16ps reads); bf16_pair_lanes makes GEMM_LANES such words from two registers. */
static inline uint32_t bf16_pair(float even, float odd) {
  return bf16_round_bits(even) >> 16 | bf16_round_bits(odd);
}
static inline bf16_words_t bf16_pair_lanes(vec_t even, vec_t odd) {
  return bf16_round_lane_bits(even) >> 16 | bf16_round_lane_bits(odd);
}

/* x rounded to bfloat16, as a float32. */
static inline float bf16_round(float x) {
  const uint32_t r = bf16_round_bits(x);
  float f;
  memcpy(&f, &r, sizeof f);
  return f;
}

/* Pairs (k even, k odd) of a float32 panel of `width` columns per k (k-major: panel[k * width + x])
   over kc steps, rounded: out[kp * width + x], kc padded with zero to even. */
static void bf16_pack_pairs(int64_t kc, int64_t width, const float* restrict panel, uint32_t* restrict out) {
  for (int64_t k = 0; k < kc; k += 2) {
    const float* restrict even = panel + k * width;
    const float* restrict odd = panel + (k + 1) * width;
    uint32_t* restrict o = out + k / 2 * width;
    if (k + 1 < kc) {
      int64_t x = 0;
      for (; x + GEMM_LANES <= width; x += GEMM_LANES) {  /* whole registers */
        vec_t e, d;
        memcpy(&e, even + x, sizeof e);
        memcpy(&d, odd + x, sizeof d);
        const bf16_words_t words = bf16_pair_lanes(e, d);
        memcpy(o + x, &words, sizeof words);
      }
      for (; x < width; x++) o[x] = bf16_pair(even[x], odd[x]);
    } else
      for (int64_t x = 0; x < width; x++) o[x] = bf16_round_bits(even[x]) >> 16;
  }
}

/* Row i of the accumulators: zero, or (add) c's row i, whose values earlier calls wrote (so never
   subnormal: vdpbf16ps and its emulation see the same operands). */
#define GEMM_BF16_START_ROW(i) vec_t c##i##_0 = {0}, c##i##_1 = {0}; \
  if (add) { c##i##_0 = *(const vec_t*)(c + i * ldc); c##i##_1 = *(const vec_t*)(c + i * ldc + GEMM_LANES); }
/* Row i of the accumulators stored to c's row i. */
#define GEMM_BF16_STORE_ROW(i) *(vec_t*)(c + i * ldc) = c##i##_0; *(vec_t*)(c + i * ldc + GEMM_LANES) = c##i##_1;

/* Row i's A pair at step k. */
#define GEMM_BF16_ROW_POINTER(i) const uint32_t* restrict a##i = rows[i];
#define GEMM_BF16_A(i) a##i[k * step]

#if GEMM_BF16_DPBF16
/* Row i of the tile: vdpbf16ps of the broadcast pair of row i against the two B vectors. */
#define GEMM_BF16_ROW(i) { const __m512i ai = _mm512_set1_epi32((int)GEMM_BF16_A(i)); \
  c##i##_0 = (vec_t)_mm512_dpbf16_ps((__m512)c##i##_0, (__m512bh)ai, (__m512bh)b0); \
  c##i##_1 = (vec_t)_mm512_dpbf16_ps((__m512)c##i##_1, (__m512bh)ai, (__m512bh)b1); }
/* The two B vectors of pairs at p (the pairs of columns 0..GEMM_NR). */
#define GEMM_BF16_LOAD_B(p) const __m512i b0 = _mm512_loadu_si512(p), b1 = _mm512_loadu_si512((p) + GEMM_LANES);
/* A target attribute, not a build flag: the C compiles on any x86-64 CPU, and simsiamc emits
   GEMM_BF16_DPBF16 1 only for CPUs that list avx512_bf16. */
#define GEMM_BF16_TARGET __attribute__((target("avx512f,avx512bf16")))
#else
/* Subnormal lanes of v made zero of the same sign: vdpbf16ps's flush of its results. */
static inline vec_t bf16_flush(vec_t v) {
  const bf16_words_t bits = (bf16_words_t)v;
  const bf16_words_t subnormal = (bf16_words_t)((bits & 0x7f800000u) == 0);
  return (vec_t)(bits & (~subnormal | 0x80000000u));
}
/* Row i of the tile, as vdpbf16ps does it: the odd products first, then the even ones, each a
   multiply-add (exact products: two 8-bit significands) flushed to zero below the normals. */
#define GEMM_BF16_ROW(i) { uint32_t odd_bits = GEMM_BF16_A(i) & 0xffff0000u, even_bits = GEMM_BF16_A(i) << 16; float odd, even; \
  memcpy(&odd, &odd_bits, 4); memcpy(&even, &even_bits, 4); \
  c##i##_0 = bf16_flush(c##i##_0 + odd * b0_odd); c##i##_0 = bf16_flush(c##i##_0 + even * b0_even); \
  c##i##_1 = bf16_flush(c##i##_1 + odd * b1_odd); c##i##_1 = bf16_flush(c##i##_1 + even * b1_even); }
/* The two B vectors of pairs at p, split into their odd and even halves as float32. */
#define GEMM_BF16_LOAD_B(p) const bf16_words_t w0 = *(const bf16_words_t*)(p), w1 = *(const bf16_words_t*)((p) + GEMM_LANES); \
  const vec_t b0_odd = (vec_t)(w0 & 0xffff0000u), b0_even = (vec_t)(w0 << 16); \
  const vec_t b1_odd = (vec_t)(w1 & 0xffff0000u), b1_even = (vec_t)(w1 << 16);
#define GEMM_BF16_TARGET
#endif

/* c (rows ldc apart) = A^T B over kp pairs, plus c's own values when add: one step per pair,
   vdpbf16ps or its emulation (GEMM_BF16_ROW). */
GEMM_BF16_TARGET
static void gemm_bf16_micro_tile_into(int64_t kp, const uint32_t* const* rows, int64_t step, const uint32_t* restrict b, int64_t b_step,
                                      float* restrict c, int64_t ldc, int add) {
  GEMM_EACH_ROW(GEMM_BF16_START_ROW)
  GEMM_EACH_ROW(GEMM_BF16_ROW_POINTER)
  for (int64_t k = 0; k < kp; k++) {
    GEMM_BF16_LOAD_B(b + k * b_step)
    GEMM_EACH_ROW(GEMM_BF16_ROW)
  }
  GEMM_EACH_ROW(GEMM_BF16_STORE_ROW)
}

/* Row i's pairs at tap t: rows[i] moved by the tap's shift (in pairs). */
#define GEMM_BF16_TAP_POINTER(i) const uint32_t* restrict a##i = rows[i] + shift[t];

/* out[i][0 .. GEMM_NR) = sum over taps t and pairs k < kp of rows[i][shift[t] + k] . b[(t, k)][j]
   (b: [taps][kp][GEMM_NR] pairs): the channels-last convolution's tile (conv_channels_last.h),
   the taps looped inside so the accumulators stay in registers until the one store. */
GEMM_BF16_TARGET
static void gemm_bf16_tap_rows(int64_t taps, int64_t kp, const int32_t* restrict shift, const uint32_t* const* rows,
                               const uint32_t* restrict b, float* const* out) {
  const int64_t step = 1;  /* GEMM_BF16_A: a row's pairs are consecutive */
  GEMM_EACH_ROW(GEMM_ZERO_ROW)
  for (int64_t t = 0; t < taps; t++) {
    GEMM_EACH_ROW(GEMM_BF16_TAP_POINTER)
    for (int64_t k = 0; k < kp; k++, b += GEMM_NR) {
      GEMM_BF16_LOAD_B(b)
      GEMM_EACH_ROW(GEMM_BF16_ROW)
    }
  }
  GEMM_EACH_ROW(GEMM_WRITE_ROW_AT)
}

/* out[x * cp + c] = the bfloat16 of in[x * channels + c] (ties to even, as 16-bit halves) for
   pixels x and channels c < channels; out's channels from `channels` to cp are left as they are
   (zero): a channels-last copy rounded, each pixel's channels in pairs. */
static void bf16_round_pixels(int64_t pixels, int64_t channels, int64_t cp, const float* restrict in, uint16_t* restrict out) {
  if (cp == channels) {
    bf16_round_run(pixels * channels, in, out);
    return;
  }
  for (int64_t x = 0; x < pixels; x++) bf16_round_run(channels, in + x * channels, out + x * cp);
}

/* tile = A^T B over kp pairs (row-major, stride GEMM_NR). */
static inline void gemm_bf16_micro_tile(int64_t kp, const uint32_t* const* rows, int64_t step, const uint32_t* restrict b, int64_t b_step,
                                        float* restrict tile) {
  gemm_bf16_micro_tile_into(kp, rows, step, b, b_step, tile, GEMM_NR, 0);
}

/* gemm_bf16_micro_tile on a packed A panel (pairs k-major, GEMM_MR per step). */
static inline void gemm_bf16_panel_tile(int64_t kp, const uint32_t* a, const uint32_t* restrict b, float* restrict tile) {
  const uint32_t* rows[GEMM_MR];
  for (int i = 0; i < GEMM_MR; i++) rows[i] = a + i;
  gemm_bf16_micro_tile(kp, rows, GEMM_MR, b, GEMM_NR, tile);
}

/* gemm_column_panels with bfloat16 operands: A packed and rounded once, then each thread packs
   and rounds its column panels of B. */
static inline void gemm_bf16_column_panels(int64_t M, int64_t N, int64_t K, const gemm_operands_t* g,
                                           gemm_pack_fn pack_a, gemm_pack_fn pack_b, gemm_store_fn store) {
  const int64_t row_panels = (M + GEMM_MR - 1) / GEMM_MR, col_panels = (N + GEMM_NR - 1) / GEMM_NR, KP = (K + 1) / 2;
  uint32_t* a_packed = gemm_alloc(row_panels * GEMM_MR * KP);
  #pragma omp parallel
  {
    real_t* scratch = gemm_alloc((K > 0 ? K : 1) * GEMM_NR);
    #pragma omp for schedule(static)
    for (int64_t r = 0; r < row_panels; r++) {
      const int64_t rows = M - r * GEMM_MR < GEMM_MR ? M - r * GEMM_MR : GEMM_MR;
      pack_a(g, 0, K, r * GEMM_MR, rows, scratch);
      bf16_pack_pairs(K, GEMM_MR, scratch, a_packed + r * GEMM_MR * KP);
    }
    uint32_t* b_panel = gemm_alloc(KP * GEMM_NR);
    real_t tile[GEMM_MR * GEMM_NR] __attribute__((aligned(64)));
    #pragma omp for schedule(static)
    for (int64_t p = 0; p < col_panels; p++) {
      const int64_t j0 = p * GEMM_NR, cols = N - j0 < GEMM_NR ? N - j0 : GEMM_NR;
      pack_b(g, 0, K, j0, cols, scratch);
      bf16_pack_pairs(K, GEMM_NR, scratch, b_panel);
      for (int64_t r = 0; r < row_panels; r++) {
        const int64_t rows = M - r * GEMM_MR < GEMM_MR ? M - r * GEMM_MR : GEMM_MR;
        gemm_bf16_panel_tile(KP, a_packed + r * GEMM_MR * KP, b_panel, tile);
        store(g, r * GEMM_MR, rows, j0, cols, tile);
      }
    }
    free(b_panel);
    free(scratch);
  }
  free(a_packed);
}

/* gemm_reduce_over_k with bfloat16 operands: blocks of k are even, so pairs never straddle two. */
static inline void gemm_bf16_reduce_over_k(int64_t M, int64_t N, int64_t K, int64_t max_kc, const gemm_operands_t* g,
                                           gemm_pack_fn pack_a, gemm_pack_fn pack_b, real_t* restrict c) {
  const int64_t row_panels = (M + GEMM_MR - 1) / GEMM_MR, col_panels = (N + GEMM_NR - 1) / GEMM_NR;
  const int64_t per_thread = (K + omp_get_max_threads() - 1) / omp_get_max_threads();
  const int64_t kc = per_thread < max_kc ? (per_thread + 7) / 8 * 8 : (max_kc + 1) / 2 * 2;
  const int64_t k_blocks = (K + kc - 1) / kc, KP = kc / 2;
  real_t** partials = calloc((size_t)omp_get_max_threads(), sizeof(real_t*));
  #pragma omp parallel
  {
    const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
    real_t* partial = gemm_alloc(M * N);
    memset(partial, 0, sizeof(real_t) * (size_t)(M * N));
    partials[thread] = partial;
    real_t* scratch = gemm_alloc(kc * (GEMM_MR > GEMM_NR ? GEMM_MR : GEMM_NR));
    uint32_t* a_block = gemm_alloc(row_panels * GEMM_MR * KP);
    uint32_t* b_panel = gemm_alloc(KP * GEMM_NR);
    real_t tile[GEMM_MR * GEMM_NR] __attribute__((aligned(64)));
    #pragma omp for schedule(static)
    for (int64_t block = 0; block < k_blocks; block++) {
      const int64_t k0 = block * kc, depth = K - k0 < kc ? K - k0 : kc, pairs = (depth + 1) / 2;
      for (int64_t r = 0; r < row_panels; r++) {
        const int64_t rows = M - r * GEMM_MR < GEMM_MR ? M - r * GEMM_MR : GEMM_MR;
        pack_a(g, k0, depth, r * GEMM_MR, rows, scratch);
        bf16_pack_pairs(depth, GEMM_MR, scratch, a_block + r * GEMM_MR * pairs);
      }
      for (int64_t p = 0; p < col_panels; p++) {
        const int64_t j0 = p * GEMM_NR, cols = N - j0 < GEMM_NR ? N - j0 : GEMM_NR;
        pack_b(g, k0, depth, j0, cols, scratch);
        bf16_pack_pairs(depth, GEMM_NR, scratch, b_panel);
        for (int64_t r = 0; r < row_panels; r++) {
          const int64_t i0 = r * GEMM_MR, rows = M - i0 < GEMM_MR ? M - i0 : GEMM_MR;
          gemm_bf16_panel_tile(pairs, a_block + r * GEMM_MR * pairs, b_panel, tile);
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
    free(scratch);
    free(partial);
  }
  free(partials);
}

#endif /* SIMSIAM_GEMM_BF16_H */
