/* runtime_test.c: the C runtime's GEMM and convolution drivers against naive loops on
   random data, for the register tile the macros describe. CRuntimeTests.swift builds and
   runs it for every tile simsiamc emits; by hand, from the package root:

     clang-14 -O3 -march=native -fopenmp -std=c11 -I Sources/SimSiamCodegen/CRuntime \
       -DGEMM_REAL=float -DGEMM_LANES=16 -DGEMM_MR=8 -DCONV_WEIGHT_ROWS=4 -DCONV_WEIGHT_COLS=6 -DCONV_CL_WEIGHT_MR=8 \
       Tests/SimSiamCodegenTests/CRuntimeTests/runtime_test.c -lm -o /tmp/runtime_test && /tmp/runtime_test

   Prints one line per check and exits with 1 if any result differs from the naive sum (in
   double) by more than `tolerance` times the largest magnitude of the expected values. */
#include "gemm.h"
#include "conv_gemm.h"
#include "conv_channels_last.h"

#include <math.h>
#include <stdio.h>

/* float: a few hundred products summed in another order; double: the same, 2^29 times finer. */
static const double tolerance = sizeof(real_t) == 4 ? 1e-5 : 1e-12;
static int failures = 0;

static uint64_t random_state = 0x9E3779B97F4A7C15ull;
static double uniform(void) {
  random_state = random_state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(random_state >> 11) / 9007199254740992.0 - 0.5;
}

static real_t* random_values(int64_t n) {
  real_t* values = gemm_alloc(n);
  for (int64_t i = 0; i < n; i++) values[i] = (real_t)uniform();
  return values;
}

static double* zeros(int64_t n) { return calloc((size_t)n, sizeof(double)); }

/* Records a failure if got differs from want by more than tolerance * max |want| anywhere. */
static void check(const char* name, const real_t* got, const double* want, int64_t n) {
  double scale = 0, error = 0;
  int64_t worst = 0;
  for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
  for (int64_t i = 0; i < n; i++) {
    double e = fabs((double)got[i] - want[i]);
    if (isnan(e)) e = INFINITY;
    if (e > error) { error = e; worst = i; }
  }
  const int ok = scale > 0 && error <= tolerance * scale;
  printf("%s %s: max error %.3g of max |value| %.3g (element %lld: %.9g, expected %.9g)\n", ok ? "ok  " : "FAIL", name,
         error, scale, (long long)worst, (double)got[worst], want[worst]);
  failures += !ok;
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

static void store_tile(const gemm_operands_t* g, int64_t i0, int64_t rows, int64_t j0, int64_t cols, const real_t* restrict tile) {
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) g->c[(i0 + i) * gemm_N + j0 + j] = tile[i * GEMM_NR + j];
}

static double* naive_gemm(int64_t M, int64_t N, int64_t K, const real_t* a, const real_t* b) {
  double* c = zeros(M * N);
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++)
      for (int64_t k = 0; k < K; k++) c[i * N + j] += (double)a[i * K + k] * b[k * N + j];
  return c;
}

/* tile[i][j] = sum over k of a[k][i] * b[k][j], on panels as the drivers pack them. */
static void test_micro_tile(void) {
  const int64_t kc = 37;
  real_t* a = random_values(kc * GEMM_MR);
  real_t* b = random_values(kc * GEMM_NR);
  real_t tile[GEMM_MR * GEMM_NR] __attribute__((aligned(64)));
  gemm_micro_tile(kc, a, b, tile);
  double* want = zeros(GEMM_MR * GEMM_NR);
  for (int64_t i = 0; i < GEMM_MR; i++)
    for (int64_t j = 0; j < GEMM_NR; j++)
      for (int64_t k = 0; k < kc; k++) want[i * GEMM_NR + j] += (double)a[k * GEMM_MR + i] * b[k * GEMM_NR + j];
  check("gemm_micro_tile", tile, want, GEMM_MR * GEMM_NR);
  free(a); free(b); free(want);
}

/* Sizes that are not multiples of the tile, so edge panels are partial. */
static void test_gemm_drivers(void) {
  const int64_t M = 2 * GEMM_MR + 3, N = 2 * GEMM_NR + 5, K = 29;
  gemm_K = K; gemm_N = N;
  real_t* a = random_values(M * K);
  real_t* b = random_values(K * N);
  real_t* c = random_values(M * N);
  const gemm_operands_t g = {.a = a, .b = b, .c = c};
  gemm_column_panels(M, N, K, &g, pack_rows_of_a, pack_columns_of_b, store_tile);
  double* want = naive_gemm(M, N, K, a, b);
  check("gemm_column_panels", c, want, M * N);
  free(a); free(b); free(c); free(want);

  /* a long k split into blocks and private partials */
  const int64_t M2 = GEMM_MR + 1, N2 = GEMM_NR + 3, K2 = 1000;
  gemm_K = K2; gemm_N = N2;
  a = random_values(M2 * K2);
  b = random_values(K2 * N2);
  c = random_values(M2 * N2);
  const gemm_operands_t g2 = {.a = a, .b = b, .c = c};
  gemm_reduce_over_k(M2, N2, K2, 256, &g2, pack_rows_of_a, pack_columns_of_b, c);
  want = naive_gemm(M2, N2, K2, a, b);
  check("gemm_reduce_over_k", c, want, M2 * N2);
  free(a); free(b); free(c); free(want);
}

/* ----- Convolution: x [n][c][h][w], w [o][c][kh][kw], y [n][o][p][q] ----- */

typedef struct { int64_t images, channels, height, width, outputs, k, stride, pad, p, q; } conv_shape_t;

static conv_shape_t conv_shape(int64_t images, int64_t channels, int64_t size, int64_t outputs, int64_t k, int64_t stride, int64_t pad) {
  const int64_t out = (size + 2 * pad - k) / stride + 1;
  return (conv_shape_t){images, channels, size, size, outputs, k, stride, pad, out, out};
}

/* y = conv(x, w) + addend (when not null); moments [2][o]: mean and biased variance of y per channel. */
static double* naive_conv(const conv_shape_t* s, const real_t* x, const real_t* w, const real_t* addend, double* moments) {
  const int64_t out_image = s->outputs * s->p * s->q;
  double* y = zeros(s->images * out_image);
  for (int64_t n = 0; n < s->images; n++)
    for (int64_t o = 0; o < s->outputs; o++)
      for (int64_t r = 0; r < s->p; r++)
        for (int64_t c = 0; c < s->q; c++) {
          double sum = 0;
          for (int64_t ci = 0; ci < s->channels; ci++)
            for (int64_t kh = 0; kh < s->k; kh++)
              for (int64_t kw = 0; kw < s->k; kw++) {
                const int64_t h = r * s->stride - s->pad + kh, v = c * s->stride - s->pad + kw;
                if (h < 0 || h >= s->height || v < 0 || v >= s->width) continue;
                sum += (double)w[((o * s->channels + ci) * s->k + kh) * s->k + kw] * x[((n * s->channels + ci) * s->height + h) * s->width + v];
              }
          const int64_t at = n * out_image + (o * s->p + r) * s->q + c;
          y[at] = sum + (addend ? addend[at] : 0);
        }
  if (moments) {
    const double count = (double)(s->images * s->p * s->q);
    for (int64_t o = 0; o < s->outputs; o++) {
      double sum = 0, squares = 0;
      for (int64_t n = 0; n < s->images; n++)
        for (int64_t e = 0; e < s->p * s->q; e++) sum += y[n * out_image + o * s->p * s->q + e];
      const double mean = sum / count;
      for (int64_t n = 0; n < s->images; n++)
        for (int64_t e = 0; e < s->p * s->q; e++) {
          const double d = y[n * out_image + o * s->p * s->q + e] - mean;
          squares += d * d;
        }
      moments[o] = mean;
      moments[s->outputs + o] = squares / count;
    }
  }
  return y;
}

/* Runs one convolution driver on random x, w (and addend) and checks y and the moments. */
typedef void (*conv_driver_fn)(const conv_shape_t* s, const real_t* w, const real_t* x, real_t* y, const real_t* addend, real_t* moments);

static void test_conv(const char* name, conv_driver_fn driver, const conv_shape_t* s, int with_addend, int with_moments) {
  const int64_t out = s->images * s->outputs * s->p * s->q;
  real_t* x = random_values(s->images * s->channels * s->height * s->width);
  real_t* w = random_values(s->outputs * s->channels * s->k * s->k);
  real_t* addend = with_addend ? random_values(out) : 0;
  real_t* y = random_values(out);
  real_t* moments = with_moments ? random_values(2 * s->outputs) : 0;
  double* want_moments = with_moments ? zeros(2 * s->outputs) : 0;
  driver(s, w, x, y, addend, moments);
  double* want = naive_conv(s, x, w, addend, want_moments);
  char label[160];
  snprintf(label, sizeof label, "%s %lldx%lld stride %lld, pad %lld%s", name, (long long)s->k, (long long)s->k,
           (long long)s->stride, (long long)s->pad, with_addend ? ", + addend" : "");
  check(label, y, want, out);
  if (with_moments) {
    snprintf(label, sizeof label, "%s %lldx%lld stride %lld moments", name, (long long)s->k, (long long)s->k, (long long)s->stride);
    check(label, moments, want_moments, 2 * s->outputs);
  }
  free(x); free(w); free(addend); free(y); free(moments); free(want_moments); free(want);
}

/* conv_gemm forward, planned as simsiamc plans it, with planes wide enough that no row's
   reads run into the next (the widest plane simsiamc may pick). */
static void run_conv_gemm(const conv_shape_t* s, const real_t* w, const real_t* x, real_t* y, const real_t* addend, real_t* moments) {
  const int64_t k = s->k, st = s->stride, phases = st < k ? st : k;
  int64_t cols = 0;  /* one past the last source column any tap of phase pw reads */
  for (int64_t kw = 0; kw < k; kw++) cols = cols > s->q + kw / st ? cols : s->q + kw / st;
  const int64_t rows = s->p + (k - 1) / st + 1, plane = rows * cols, per_channel = phases * phases * plane;
  int32_t tap[k * k], shift[k * k];
  int64_t reach = 0;
  for (int64_t t = 0; t < k * k; t++) {
    const int64_t kh = t / k, kw = t % k;
    tap[t] = (int32_t)t;
    shift[t] = (int32_t)(((kh % st) * phases + kw % st) * plane + (kh / st) * cols + kw / st);
    reach = reach > shift[t] ? reach : shift[t];
  }
  const int64_t grid = (s->p - 1) * cols + s->q;
  reach += (s->channels - 1) * per_channel + (grid + GEMM_NR - 1) / GEMM_NR * GEMM_NR;
  if (reach < s->channels * per_channel) reach = s->channels * per_channel;
  const conv_phase_t phase = {.taps = k * k, .tap = tap, .shift = shift, .rows = s->p, .cols = s->q,
                              .dest_offset = 0, .dest_row = s->q, .dest_col = 1};
  const conv_plan_t plan = {.images = s->images, .m = s->outputs, .channels = s->channels,
                            .weight_row = s->channels * k * k, .weight_channel = k * k,
                            .source = {.channels = s->channels, .height = s->height, .width = s->width, .stride = st, .pad = s->pad,
                                       .phase_rows = phases, .phase_cols = phases, .rows = rows, .cols = cols},
                            .source_size = reach, .image_size = s->channels * s->height * s->width,
                            .out_image = s->outputs * s->p * s->q, .out_channel = s->p * s->q, .phases = 1, .phase = &phase};
  conv_gemm(&plan, w, x, y, addend, moments);
}

/* conv_cl_gemm forward, planned as simsiamc plans it. */
static void run_conv_cl_gemm(const conv_shape_t* s, const real_t* w, const real_t* x, real_t* y, const real_t* addend, real_t* moments) {
  const int64_t k = s->k, st = s->stride, C = s->channels;
  const int64_t rows = (s->p - 1) * st + k > s->pad + s->height ? (s->p - 1) * st + k : s->pad + s->height;
  const int64_t cols = (s->q - 1) * st + k > s->pad + s->width ? (s->q - 1) * st + k : s->pad + s->width;
  int32_t tap[k * k], shift[k * k];
  for (int64_t t = 0; t < k * k; t++) {
    tap[t] = (int32_t)t;
    shift[t] = (int32_t)((t / k * cols + t % k) * C);
  }
  const conv_cl_phase_t phase = {.taps = k * k, .tap = tap, .shift = shift, .rows = s->p, .cols = s->q,
                                 .row_step = st * cols, .col_step = st, .dest_offset = 0, .dest_row = s->q, .dest_col = 1};
  const int64_t group = s->images / 2 < 4 ? (s->images / 2 > 1 ? s->images / 2 : 1) : 4;
  const conv_cl_plan_t plan = {.images = s->images, .m = s->outputs, .weight_row = C * k * k, .weight_channel = k * k,
                               .source = {.channels = C, .height = s->height, .width = s->width, .pad_top = s->pad,
                                          .pad_left = s->pad, .rows = rows, .cols = cols},
                               .group = group, .image_size = C * s->height * s->width,
                               .out_image = s->outputs * s->p * s->q, .out_channel = s->p * s->q, .phases = 1, .phase = &phase};
  conv_cl_gemm(&plan, w, x, y, addend, moments);
}

/* dw[o][c][kh][kw] = sum over images and output positions of dy[n][o][r][q] * x at that tap. */
static double* naive_conv_weight(const conv_shape_t* s, const real_t* x, const real_t* dy) {
  double* dw = zeros(s->outputs * s->channels * s->k * s->k);
  for (int64_t n = 0; n < s->images; n++)
    for (int64_t o = 0; o < s->outputs; o++)
      for (int64_t ci = 0; ci < s->channels; ci++)
        for (int64_t kh = 0; kh < s->k; kh++)
          for (int64_t kw = 0; kw < s->k; kw++)
            for (int64_t r = 0; r < s->p; r++)
              for (int64_t c = 0; c < s->q; c++) {
                const int64_t h = r * s->stride - s->pad + kh, v = c * s->stride - s->pad + kw;
                if (h < 0 || h >= s->height || v < 0 || v >= s->width) continue;
                dw[((o * s->channels + ci) * s->k + kh) * s->k + kw] +=
                  (double)dy[((n * s->outputs + o) * s->p + r) * s->q + c] * x[((n * s->channels + ci) * s->height + h) * s->width + v];
              }
  return dw;
}

/* conv_cl_weight_gemm, planned as simsiamc plans it (channels a multiple of GEMM_NR), on random
   x and dy: output channels off every tile height (CONV_CL_WEIGHT_MR rows), images off the group. */
static void test_conv_cl_weight(const conv_shape_t* s, int64_t group) {
  const int64_t k = s->k, st = s->stride, C = s->channels;
  const int64_t rows = (s->p - 1) * st + k > s->pad + s->height ? (s->p - 1) * st + k : s->pad + s->height;
  const int64_t cols = (s->q - 1) * st + k > s->pad + s->width ? (s->q - 1) * st + k : s->pad + s->width;
  int32_t shift[k * k];
  for (int64_t t = 0; t < k * k; t++) shift[t] = (int32_t)((t / k * cols + t % k) * C);
  const conv_cl_weight_plan_t plan = {.images = s->images, .m = s->outputs, .taps = k * k, .shift = shift,
                                      .source = {.channels = C, .height = s->height, .width = s->width, .pad_top = s->pad,
                                                 .pad_left = s->pad, .rows = rows, .cols = cols},
                                      .out_rows = s->p, .out_cols = s->q, .stride = st, .group = group,
                                      .image_size = C * s->height * s->width, .dy_image = s->outputs * s->p * s->q};
  real_t* x = random_values(s->images * plan.image_size);
  real_t* dy = random_values(s->images * plan.dy_image);
  real_t* dw = random_values(s->outputs * C * k * k);
  conv_cl_weight_gemm(&plan, dy, x, dw);
  double* want = naive_conv_weight(s, x, dy);
  char label[160];
  snprintf(label, sizeof label, "conv_cl_weight_gemm %lldx%lld stride %lld, %lld outputs, %d-row tile", (long long)k, (long long)k,
           (long long)st, (long long)s->outputs, CONV_CL_WEIGHT_MR);
  check(label, dw, want, s->outputs * C * k * k);
  free(x); free(dy); free(dw); free(want);
}

int main(void) {
  printf("tile %d x %d of %s, %d-lane vectors\n", GEMM_MR, GEMM_NR, sizeof(real_t) == 4 ? "float" : "double", GEMM_LANES);
  test_micro_tile();
  test_gemm_drivers();
  /* 3 images (threads get unequal shares), channel and pixel counts off the tile and the 8 x 8 transposes */
  const conv_shape_t same = conv_shape(3, 12, 9, GEMM_MR + 3, 3, 1, 1), strided = conv_shape(3, 12, 9, GEMM_MR + 3, 3, 2, 1);
  test_conv("conv_gemm", run_conv_gemm, &same, 1, 0);
  test_conv("conv_gemm", run_conv_gemm, &strided, 0, 1);
  test_conv("conv_cl_gemm", run_conv_cl_gemm, &same, 0, 1);
  test_conv("conv_cl_gemm", run_conv_cl_gemm, &strided, 1, 0);
  /* 1x1 without padding, as the downsamples run in the cost models' plans: the grid is the output, row for row */
  const conv_shape_t pointwise = conv_shape(3, 12, 9, GEMM_MR + 3, 1, 1, 0), pointwise_strided = conv_shape(3, 12, 9, GEMM_MR + 3, 1, 2, 0);
  test_conv("conv_gemm", run_conv_gemm, &pointwise, 1, 1);
  test_conv("conv_gemm", run_conv_gemm, &pointwise_strided, 0, 1);
  /* 2 * 8 + 3 outputs: a partial row panel for tiles of 8, 6 and 4 rows; odd positions per image */
  const conv_shape_t weight_strided = conv_shape(5, GEMM_NR, 9, 19, 3, 2, 1), weight_pointwise = conv_shape(3, 2 * GEMM_NR, 7, 19, 1, 2, 0);
  test_conv_cl_weight(&weight_strided, 2);
  test_conv_cl_weight(&weight_pointwise, 1);
  printf("%d failed\n", failures);
  return failures > 0;
}
