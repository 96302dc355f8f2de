/* bf16_test.c: gemm_bf16.h against its specification. CRuntimeTests.swift builds it with the
   emulated micro-kernel (GEMM_BF16_DPBF16=0) on every CPU, and with vdpbf16ps (=1) where the
   CPU lists avx512_bf16, and requires both builds to print the same digest. By hand:

     clang-14 -O3 -march=native -fopenmp -std=c11 -I Sources/SimSiamCodegen/CRuntime \
       -DGEMM_REAL=float -DGEMM_LANES=16 -DGEMM_MR=8 -DCONV_WEIGHT_ROWS=4 -DCONV_WEIGHT_COLS=6 -DGEMM_BF16_DPBF16=1 \
       Tests/SimSiamCodegenTests/CRuntimeTests/bf16_test.c -lm -o /tmp/bf16_test && /tmp/bf16_test

   Checks: the rounding on ties, NaN, infinity and subnormals; both drivers bit for bit against
   a scalar statement of vdpbf16ps (per pair: fmaf of the odd halves, then of the even ones,
   subnormal results flushed), on ordinary values and on values small enough to flush; the
   products against double sums of the rounded operands (float32 accumulation) and of the
   unrounded ones (the rounding happened); conv_cl_gemm_bf16 (the channels-last convolution)
   likewise, bit for bit against the specified order (taps, then channel pairs) and against double
   sums of the rounded operands, on odd channel counts, stride 2, padding, position tails off the
   tile and several images per group. Prints a digest of every result bit; exits 1 on a
   failure. */
#include "gemm.h"
#include "gemm_bf16.h"
#include "conv_gemm.h"
#include "conv_channels_last.h"

#include <math.h>
#include <stdio.h>

static int failures = 0;

static uint64_t random_state = 0x9E3779B97F4A7C15ull;
static double uniform(void) {
  random_state = random_state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(random_state >> 11) / 9007199254740992.0 - 0.5;
}

static float from_bits(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static uint32_t to_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

static void expect_round(uint32_t in, uint32_t want) {
  const uint32_t got = to_bits(bf16_round(from_bits(in)));
  const int ok = got == want || (isnan(from_bits(want)) && isnan(from_bits(got)));
  if (!ok) { printf("FAIL bf16_round(0x%08x) = 0x%08x, expected 0x%08x\n", in, got, want); failures++; }
}

/* bf16_round_lanes (the Winograd transforms' vector rounding) against bf16_round_bits, lane by
   lane, on the patterns above and on random bit patterns (every exponent, NaNs, subnormals). */
static void expect_lanes_round_as_bits(const uint32_t* special, int count) {
  int mismatches = 0;
  uint64_t state = 12345;  /* its own, so the GEMM cases' operands stay as they were */
  for (int64_t round = 0; round < 200000; round++) {
    uint32_t in[GEMM_LANES];
    for (int l = 0; l < GEMM_LANES; l++) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      in[l] = round < count ? special[round] : (uint32_t)(state >> 32);
    }
    vec_t v;
    memcpy(&v, in, sizeof v);
    const bf16_halves_t got = bf16_round_lanes(v);
    for (int l = 0; l < GEMM_LANES; l++) mismatches += got[l] != (uint16_t)(bf16_round_bits(from_bits(in[l])) >> 16);
  }
  printf("%s bf16_round_lanes: %d lanes differ from bf16_round_bits\n", mismatches ? "FAIL" : "ok  ", mismatches);
  failures += mismatches != 0;
}

/* ----- GEMM: row-major A [M x K], B [K x N], C [M x N] ----- */
static int64_t gemm_K, gemm_N;
static void pack_rows_of_a(const gemm_operands_t* g, int64_t k0, int64_t kc, int64_t x0, int64_t count, real_t* restrict panel) {
  for (int64_t k = 0; k < kc; k++)
    for (int64_t i = 0; i < GEMM_MR; i++) panel[k * GEMM_MR + i] = i < count ? g->a[(x0 + i) * gemm_K + k0 + k] : 0;
}
static void pack_columns_of_b(const gemm_operands_t* g, int64_t k0, int64_t kc, int64_t x0, int64_t count, real_t* restrict panel) {
  for (int64_t k = 0; k < kc; k++)
    for (int64_t j = 0; j < GEMM_NR; j++) panel[k * GEMM_NR + j] = j < count ? g->b[(k0 + k) * gemm_N + x0 + j] : 0;
}
static void store_rows(const gemm_operands_t* g, int64_t i0, int64_t rows, int64_t j0, int64_t cols, const real_t* restrict tile) {
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) g->c[(i0 + i) * gemm_N + j0 + j] = tile[i * GEMM_NR + j];
}

static float flush(float x) { return fabsf(x) < 1.17549435e-38f ? copysignf(0.0f, x) : x; }

/* vdpbf16ps's order for C[i][j] summed over k in [k0, k0 + depth): pairs from k0. */
static float specified_dot(const float* a, const float* b, int64_t i, int64_t j, int64_t k0, int64_t depth) {
  float c = 0;
  for (int64_t k = k0; k < k0 + depth; k += 2) {
    const float a_even = bf16_round(a[i * gemm_K + k]), b_even = bf16_round(b[k * gemm_N + j]);
    const float a_odd = k + 1 < k0 + depth ? bf16_round(a[i * gemm_K + k + 1]) : 0;
    const float b_odd = k + 1 < k0 + depth ? bf16_round(b[(k + 1) * gemm_N + j]) : 0;
    c = flush(fmaf(a_odd, b_odd, c));
    c = flush(fmaf(a_even, b_even, c));
  }
  return c;
}

static uint64_t digest = 1469598103934665603ull;
static void add_to_digest(const float* c, int64_t n) {
  for (int64_t e = 0; e < n; e++) { digest ^= to_bits(c[e]); digest *= 1099511628211ull; }
}

static void gemm_case(const char* name, int64_t M, int64_t N, int64_t K, double scale) {
  gemm_K = K; gemm_N = N;
  float* a = gemm_alloc(M * K);
  float* b = gemm_alloc(K * N);
  float* c = gemm_alloc(M * N);
  for (int64_t e = 0; e < M * K; e++) a[e] = (float)(uniform() * scale);
  for (int64_t e = 0; e < K * N; e++) b[e] = (float)(uniform() * scale);
  const gemm_operands_t g = {.a = a, .b = b, .c = c};

  /* column panels: one pass over the whole k, so the specified order is exact */
  gemm_bf16_column_panels(M, N, K, &g, pack_rows_of_a, pack_columns_of_b, store_rows);
  int64_t mismatches = 0;
  double rounded_error = 0, unrounded_error = 0, magnitude = 0;
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      const float want = specified_dot(a, b, i, j, 0, K);
      mismatches += to_bits(want) != to_bits(c[i * N + j]);
      double exact_rounded = 0, exact = 0;
      for (int64_t k = 0; k < K; k++) {
        exact_rounded += (double)bf16_round(a[i * K + k]) * bf16_round(b[k * N + j]);
        exact += (double)a[i * K + k] * b[k * N + j];
      }
      rounded_error = fmax(rounded_error, fabs(c[i * N + j] - exact_rounded));
      unrounded_error = fmax(unrounded_error, fabs(c[i * N + j] - exact));
      magnitude = fmax(magnitude, fabs(exact));
    }
  add_to_digest(c, M * N);
  const int ok = mismatches == 0;
  printf("%s gemm_bf16_column_panels %s (%lldx%lldx%lld): %lld of %lld results differ from the specified order\n", ok ? "ok  " : "FAIL",
         name, (long long)M, (long long)N, (long long)K, (long long)mismatches, (long long)(M * N));
  failures += !ok;
  if (scale >= 1) {
    /* float32 accumulation of exact products: a few ulps of the largest value; the bf16 rounding
       itself moves results by ~2^-9 relative, far more */
    const int accumulates = rounded_error <= 1e-5 * magnitude, rounds = unrounded_error > 1e-4 * magnitude;
    printf("%s %s: max error %.3g against double sums of rounded operands, %.3g against unrounded ones (max |value| %.3g)\n",
           accumulates && rounds ? "ok  " : "FAIL", name, rounded_error, unrounded_error, magnitude);
    failures += !(accumulates && rounds);
  }

  /* over k in blocks: each block in the specified order, the blocks' sums added in thread order;
     checked against double sums of the rounded operands */
  float* reduced = gemm_alloc(M * N);
  gemm_bf16_reduce_over_k(M, N, K, 64, &g, pack_rows_of_a, pack_columns_of_b, reduced);
  double reduce_error = 0;
  for (int64_t e = 0; e < M * N; e++) reduce_error = fmax(reduce_error, fabs(reduced[e] - c[e]));
  add_to_digest(reduced, M * N);
  const int reduce_ok = reduce_error <= 1e-5 * (magnitude > 0 ? magnitude : 1) || scale < 1;
  printf("%s gemm_bf16_reduce_over_k %s: max difference %.3g from the column panels' result\n", reduce_ok ? "ok  " : "FAIL", name, reduce_error);
  failures += !reduce_ok;
  free(reduced); free(a); free(b); free(c);
}


/* ----- the channels-last convolution: x [n][C][H][W], w [m][C][k][k], y [n][m][P][Q] ----- */
typedef struct { int64_t images, channels, height, width, outputs, k, stride, pad, group; } cl_case_t;

static void conv_cl_case(const char* name, const cl_case_t* s, int with_addend) {
  const int64_t C = s->channels, k = s->k, st = s->stride, pad = s->pad;
  const int64_t P = (s->height + 2 * pad - k) / st + 1, Q = (s->width + 2 * pad - k) / st + 1;
  const int64_t rows = (P - 1) * st + k > pad + s->height ? (P - 1) * st + k : pad + s->height;
  const int64_t cols = (Q - 1) * st + k > pad + s->width ? (Q - 1) * st + k : pad + s->width;
  int32_t tap[k * k], shift[k * k];
  for (int64_t t = 0; t < k * k; t++) { tap[t] = (int32_t)t; shift[t] = (int32_t)((t / k * cols + t % k) * C); }
  const conv_cl_phase_t phase = {.taps = k * k, .tap = tap, .shift = shift, .rows = P, .cols = Q,
                                 .row_step = st * cols, .col_step = st, .dest_offset = 0, .dest_row = Q, .dest_col = 1};
  const conv_cl_plan_t plan = {.images = s->images, .m = s->outputs, .weight_row = C * k * k, .weight_channel = k * k,
                               .source = {.channels = C, .height = s->height, .width = s->width, .pad_top = pad,
                                          .pad_left = pad, .rows = rows, .cols = cols},
                               .group = s->group, .image_size = C * s->height * s->width,
                               .out_image = s->outputs * P * Q, .out_channel = P * Q, .phases = 1, .phase = &phase};
  const int64_t xs = s->images * C * s->height * s->width, ws = s->outputs * C * k * k, ys = s->images * s->outputs * P * Q;
  float* x = gemm_alloc(xs);
  float* w = gemm_alloc(ws);
  float* y = gemm_alloc(ys);
  float* addend = with_addend ? gemm_alloc(ys) : 0;
  for (int64_t e = 0; e < xs; e++) x[e] = (float)(uniform() * 4);
  for (int64_t e = 0; e < ws; e++) w[e] = (float)(uniform() * 4);
  for (int64_t e = 0; with_addend && e < ys; e++) addend[e] = (float)uniform();
  conv_cl_gemm_bf16(&plan, w, x, y, addend, 0);
  int64_t mismatches = 0;
  double rounded_error = 0, unrounded_error = 0, magnitude = 0;
  for (int64_t n = 0; n < s->images; n++)
    for (int64_t o = 0; o < s->outputs; o++)
      for (int64_t r = 0; r < P; r++)
        for (int64_t q = 0; q < Q; q++) {
          float specified = 0;  /* vdpbf16ps's order: taps, then channels in pairs (odd, then even) */
          double exact_rounded = 0, exact = 0;
          for (int64_t t = 0; t < k * k; t++) {
            const int64_t h = r * st + t / k - pad, v = q * st + t % k - pad;
            const int inside = h >= 0 && h < s->height && v >= 0 && v < s->width;
            float xv[C + 1], wv[C + 1];
            for (int64_t c = 0; c <= C; c++) {
              xv[c] = c < C && inside ? x[((n * C + c) * s->height + h) * s->width + v] : 0;
              wv[c] = c < C ? w[(o * C + c) * k * k + t] : 0;
              exact_rounded += (double)bf16_round(xv[c]) * bf16_round(wv[c]);
              exact += (double)xv[c] * wv[c];
            }
            for (int64_t c = 0; c < C; c += 2) {
              specified = flush(fmaf(bf16_round(xv[c + 1]), bf16_round(wv[c + 1]), specified));
              specified = flush(fmaf(bf16_round(xv[c]), bf16_round(wv[c]), specified));
            }
          }
          const int64_t at = ((n * s->outputs + o) * P + r) * Q + q;
          const float add = with_addend ? addend[at] : 0;
          mismatches += to_bits(specified + add) != to_bits(y[at]);
          rounded_error = fmax(rounded_error, fabs(y[at] - (exact_rounded + add)));
          unrounded_error = fmax(unrounded_error, fabs(y[at] - (exact + add)));
          magnitude = fmax(magnitude, fabs(exact + add));
        }
  add_to_digest(y, ys);
  /* as in gemm_case: float32 accumulation of exact products against the bf16 rounding itself */
  const int ok = mismatches == 0, accumulates = rounded_error <= 1e-5 * magnitude, rounds = unrounded_error > 1e-4 * magnitude;
  printf("%s conv_cl_gemm_bf16 %s (%lld images of %lldx%lldx%lld, %lld outputs, %lldx%lld stride %lld pad %lld, %lld per group%s): "
         "%lld of %lld results differ from the specified order; max error %.3g against double sums of rounded operands, "
         "%.3g against unrounded ones (max |value| %.3g)\n", ok && accumulates && rounds ? "ok  " : "FAIL", name,
         (long long)s->images, (long long)C, (long long)s->height, (long long)s->width, (long long)s->outputs, (long long)k, (long long)k,
         (long long)st, (long long)pad, (long long)s->group, with_addend ? ", addend" : "", (long long)mismatches, (long long)ys,
         rounded_error, unrounded_error, magnitude);
  failures += !(ok && accumulates && rounds);
  free(addend); free(y); free(w); free(x);
}

int main(void) {
  expect_round(0x3f800000u, 0x3f800000u);  /* 1 */
  expect_round(0x3f808000u, 0x3f800000u);  /* tie, even below */
  expect_round(0x3f818000u, 0x3f820000u);  /* tie, even above */
  expect_round(0x3f808001u, 0x3f810000u);  /* above the tie */
  expect_round(0xbf80ffffu, 0xbf810000u);  /* negative */
  expect_round(0x7f7fffffu, 0x7f800000u);  /* largest float rounds to infinity */
  expect_round(0xff800000u, 0xff800000u);  /* -infinity */
  expect_round(0x7f800001u, 0x7fc00000u);  /* a signalling NaN stays a NaN */
  expect_round(0x00400000u, 0x00000000u);  /* float subnormal: zero */
  expect_round(0x807fffffu, 0x80000000u);  /* subnormal: zero, sign kept, though it would round to a normal */
  expect_round(0x007f8000u, 0x00000000u);  /* likewise (vcvtneps2bf16 reads subnormals as zero) */
  expect_round(0x00800000u, 0x00800000u);  /* the smallest normal stays */
  expect_round(0x00008000u, 0x00000000u);
  printf("%s bf16_round: ties to even, infinity, NaN, subnormals\n", failures ? "FAIL" : "ok  ");
  const uint32_t special[] = {0x3f808000u, 0x3f818000u, 0x7f7fffffu, 0xff800000u, 0x7f800001u, 0xffc00001u,
                               0x00400000u, 0x807fffffu, 0x00008000u, 0x80000000u, 0x007fffffu, 0x007f8000u,
                               0x00800000u, 0x807f7fffu};
  expect_lanes_round_as_bits(special, (int)(sizeof special / sizeof special[0]));

  gemm_case("ragged", 37, 45, 67, 8);
  gemm_case("panels", 64, 96, 256, 2);
  gemm_case("tiny values (flushed sums)", 16, 32, 40, 1e-19);
  /* positions per group off GEMM_MR (5 x 6 per image, last group one image), outputs off GEMM_NR */
  conv_cl_case("odd channels, stride 2", &(cl_case_t){.images = 5, .channels = 7, .height = 9, .width = 11, .outputs = 37,
                                                       .k = 3, .stride = 2, .pad = 1, .group = 2}, 0);
  conv_cl_case("one channel, stride 1", &(cl_case_t){.images = 3, .channels = 1, .height = 7, .width = 5, .outputs = 20,
                                                      .k = 3, .stride = 1, .pad = 1, .group = 2}, 1);
  conv_cl_case("even channels, 1x1 stride 2", &(cl_case_t){.images = 4, .channels = 18, .height = 7, .width = 7, .outputs = 33,
                                                            .k = 1, .stride = 2, .pad = 0, .group = 3}, 1);
  conv_cl_case("even channels, stride 2", &(cl_case_t){.images = 3, .channels = 34, .height = 8, .width = 8, .outputs = 40,
                                                        .k = 3, .stride = 2, .pad = 1, .group = 3}, 0);
  printf("digest %016llx\n", (unsigned long long)digest);
  return failures ? 1 : 0;
}
