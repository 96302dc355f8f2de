/* conv_gemm.h: convolutions as GEMMs whose im2col operand is never packed.

   A convolution is a GEMM whose im2col operand is read in place from a zero-padded,
   phase-split copy of one image (the source, planes of rows x cols): output grid
   position (r, c) is column m = r * cols + c, and tap k reads source[offset[k] + m].
   Grid columns c >= the output width compute values that the store drops.

   conv_gemm: forward, and backward data as a forward convolution of dy (a strided
   one split into sub-pixel phases, each a dense GEMM over the taps that reach it).
   conv_weight_gemm: dw[o][j] = sum over images and grid positions of
   dy[o][m] * source[offset[j] + m], both operands contiguous along m.
   conv_moments_*: the batch statistics of a convolution's output, for the BN after it.

   Needs gemm.h, and, defined before it:
     CONV_WEIGHT_ROWS, CONV_WEIGHT_COLS  conv_weight_gemm's tile of vector accumulators
                                         (4 x 6 on AVX-512, 2 x 6 on AVX2) */
#ifndef SIMSIAM_CONV_GEMM_H
#define SIMSIAM_CONV_GEMM_H

#include "gemm.h"

#include <math.h>

#if !defined(CONV_WEIGHT_ROWS) || !defined(CONV_WEIGHT_COLS)
#error "conv_gemm.h needs CONV_WEIGHT_ROWS and CONV_WEIGHT_COLS"
#endif

typedef struct {
  int64_t channels, height, width;  /* the image read */
  int64_t stride, pad;              /* source plane (ci, ph, pw) [r][s] = image[ci][stride*r + ph - pad][stride*s + pw - pad] */
  int64_t phase_rows, phase_cols;   /* phases ph < phase_rows, pw < phase_cols kept per channel */
  int64_t rows, cols;               /* plane size */
} conv_source_t;

/* Copies the pixels of image into source, one image row at a time (a stride-S row feeds
   S column phases). Only pixels are written: the zero padding around them is set when the
   source is allocated, and every image writes the same positions. */
static void conv_fill_source(const conv_source_t* s, const real_t* restrict image, real_t* restrict source) {
  const int64_t plane = s->rows * s->cols;
  int64_t lo[s->phase_cols], hi[s->phase_cols];  /* source columns [lo, hi) of phase pw hold pixels */
  for (int64_t pw = 0; pw < s->phase_cols; pw++) {
    const int64_t left = s->pad - pw;  /* source column c reads image column stride*c - left */
    lo[pw] = left > 0 ? (left + s->stride - 1) / s->stride : 0;
    hi[pw] = s->width - 1 + left >= 0 ? (s->width - 1 + left) / s->stride + 1 : 0;
    if (hi[pw] > s->cols) hi[pw] = s->cols;
    if (lo[pw] > hi[pw]) lo[pw] = hi[pw];
  }
  for (int64_t ci = 0; ci < s->channels; ci++)
    for (int64_t h = 0; h < s->height; h++) {
      const int64_t ph = (h + s->pad) % s->stride, r = (h + s->pad) / s->stride;
      if (ph >= s->phase_rows || r >= s->rows) continue;
      const real_t* restrict in = image + (ci * s->height + h) * s->width;
      real_t* restrict row = source + (ci * s->phase_rows + ph) * s->phase_cols * plane + r * s->cols;
      for (int64_t pw = 0; pw < s->phase_cols; pw++) {
        real_t* restrict out = row + pw * plane;
        const real_t* restrict at = in - (s->pad - pw);
        /* constant strides let the compiler vectorise the copy */
        if (s->stride == 1)
          for (int64_t c = lo[pw]; c < hi[pw]; c++) out[c] = at[c];
        else if (s->stride == 2)
          for (int64_t c = lo[pw]; c < hi[pw]; c++) out[c] = at[2 * c];
        else
          for (int64_t c = lo[pw]; c < hi[pw]; c++) out[c] = at[s->stride * c];
      }
    }
}

/* tile = a_panel^T (source windows at offset[k] + m0): like gemm_micro_tile, B read in place. */
static inline void conv_micro_tile(int64_t kc, const real_t* restrict a, const real_t* restrict b, const int32_t* restrict offset, real_t* restrict tile) {
  GEMM_EACH_ROW(GEMM_ZERO_ROW)
  for (int64_t k = 0; k < kc; k++) {
    const real_t* bk = b + offset[k];
    const vec_t b0 = *(const vec_t*)bk, b1 = *(const vec_t*)(bk + GEMM_LANES);
    const real_t* ak = a + k * GEMM_MR;
    GEMM_EACH_ROW(GEMM_FMA_ROW)
  }
  GEMM_EACH_ROW(GEMM_WRITE_ROW)
}

/* One phase of a convolution GEMM: the taps that reach it and where its grid lands. */
typedef struct {
  int64_t taps;
  const int32_t* tap;    /* per tap: kh * K + kw in the weights */
  const int32_t* shift;  /* per tap: source offset within one input channel's planes */
  int64_t rows, cols;    /* output grid of the phase */
  int64_t dest_offset, dest_row, dest_col;  /* output pixel of (r, c): offset + r * dest_row + c * dest_col */
} conv_phase_t;

typedef struct {
  int64_t images, m, channels;          /* GEMM rows (output channels), input channels ci */
  int64_t weight_row, weight_channel;   /* A[i][(ci, t)] = w[i * weight_row + ci * weight_channel + tap[t]] */
  conv_source_t source;
  int64_t source_size;                  /* per image, with the slack read by dropped columns */
  int64_t image_size, out_image, out_channel;  /* input and output strides */
  int64_t phases;
  const conv_phase_t* phase;
} conv_plan_t;

/* Unaligned runs of 8, 4, 2 and 1 values, for the tails of conv_copy_run. */
typedef real_t conv_run8_t __attribute__((vector_size(8 * sizeof(real_t)), aligned(sizeof(real_t))));
typedef real_t conv_run4_t __attribute__((vector_size(4 * sizeof(real_t)), aligned(sizeof(real_t))));
typedef real_t conv_run2_t __attribute__((vector_size(2 * sizeof(real_t)), aligned(sizeof(real_t))));
#define CONV_COPY_PART(type, size)                                      \
  if (n - u >= size) {                                                  \
    if (add) *(type*)(dst + u) += *(const type*)(src + u);              \
    else *(type*)(dst + u) = *(const type*)(src + u);                   \
    u += size;                                                          \
  }

/* dst[0 .. n) (+)= src[0 .. n): whole vectors, then a tail of at most one run of each smaller
   size. No loop over single values: clang turns one into a memmove call, which measured slower
   than the copy itself for the runs of 7 to 28 values here. */
static inline void conv_copy_run(real_t* restrict dst, const real_t* restrict src, int64_t n, int add) {
  int64_t u = 0;
  for (; u + GEMM_LANES <= n; u += GEMM_LANES) {
    if (add) *(vec_t*)(dst + u) += *(const vec_t*)(src + u);
    else *(vec_t*)(dst + u) = *(const vec_t*)(src + u);
  }
#if GEMM_LANES > 8
  CONV_COPY_PART(conv_run8_t, 8)
#endif
#if GEMM_LANES > 4
  CONV_COPY_PART(conv_run4_t, 4)
#endif
  CONV_COPY_PART(conv_run2_t, 2)
  CONV_COPY_PART(real_t, 1)
}

/* Stores (or, with add, adds) an MR x NR tile of grid columns [m0, m0 + cols) of one phase,
   dropping c >= phase cols. */
static inline void conv_store(const conv_plan_t* p, const conv_phase_t* ph, real_t* restrict out,
                              int64_t rows, int64_t m0, int64_t cols, const real_t* restrict tile, int add) {
  const int64_t width = p->source.cols, step = ph->dest_col;
  int64_t r = m0 / width, c = m0 % width;
  for (int64_t j = 0; j < cols;) {
    if (c >= ph->cols) { j += width - c; r++; c = 0; continue; }
    const int64_t run = ph->cols - c < cols - j ? ph->cols - c : cols - j;
    const int64_t at = ph->dest_offset + r * ph->dest_row + c * step;
    real_t* restrict dst = out + at;
    const real_t* restrict src = tile + j;
    if (step == 1) {
      for (int64_t i = 0; i < rows; i++) conv_copy_run(dst + i * p->out_channel, src + i * GEMM_NR, run, add);
    } else if (add) {
      for (int64_t i = 0; i < rows; i++)
        for (int64_t u = 0; u < run; u++) dst[i * p->out_channel + u * step] += src[i * GEMM_NR + u];
    } else {
      for (int64_t i = 0; i < rows; i++)
        for (int64_t u = 0; u < run; u++) dst[i * p->out_channel + u * step] = src[i * GEMM_NR + u];
    }
    j += run; c += run;
  }
}

/* Batch statistics of a convolution's output for the BN after it, summed per image while the
   image's output is still in cache: sums[o] += sum of y[o][.], sums[m + o] += sum of squares. */
static void conv_moments_add(int64_t m, int64_t plane, const real_t* restrict y, double* restrict sums) {
  for (int64_t o = 0; o < m; o++) {
    const real_t* restrict row = y + o * plane;
    lanes_t sum8 = {0}, squares8 = {0};
    double sum = 0, squares = 0;
    int64_t i = 0;
    for (; i + 8 <= plane; i += 8) { const lanes_t v = load_lanes(row + i); sum8 += v; squares8 += v * v; }
    for (; i < plane; i++) { sum += row[i]; squares += (double)row[i] * row[i]; }
    sums[o] += sum + lane_total(&sum8);
    sums[m + o] += squares + lane_total(&squares8);
  }
}

/* This thread's zeroed sums (2 x m) for conv_moments_add, kept in sums[thread]; null when sums is. */
static double* conv_moments_begin(double** sums, int64_t m) {
  return sums ? (sums[omp_get_thread_num()] = calloc((size_t)(2 * m), sizeof(double))) : 0;
}

/* Called by every thread of the region after its last conv_moments_add: moments[o] = mean,
   moments[m + o] = biased variance, from the threads' sums added in thread order (so they repeat
   exactly for a fixed thread count). Double sums keep sum(y^2) - n mean^2 exact enough. */
static void conv_moments_finish(int64_t m, double count, double** sums, real_t* restrict moments) {
  if (!moments) return;
  #pragma omp barrier
  #pragma omp single
  for (int64_t o = 0; o < m; o++) {
    double sum = 0, squares = 0;
    for (int t = 0; t < omp_get_num_threads(); t++) { sum += sums[t][o]; squares += sums[t][m + o]; }
    const double mean = sum / count;
    moments[o] = (real_t)mean;
    moments[m + o] = (real_t)fmax(squares / count - mean * mean, 0.0);
  }
  free(sums[omp_get_thread_num()]);
}

/* out[n][i][pixel] = sum over (ci, t) of w * source_n[ci * source_channel + shift[t] + m], per phase,
   plus addend[n][i][pixel] if addend is not null, and the output's batch statistics into moments [2][m]
   if moments is not null. Weights are packed once; threads take whole images. */
static void conv_gemm(const conv_plan_t* p, const real_t* restrict w, const real_t* restrict in, real_t* restrict out,
                      const real_t* restrict addend, real_t* restrict moments) {
  const int64_t row_panels = (p->m + GEMM_MR - 1) / GEMM_MR;
  const int64_t source_channel = p->source.phase_rows * p->source.phase_cols * p->source.rows * p->source.cols;
  real_t* a[p->phases];
  int32_t* offset[p->phases];
  for (int64_t f = 0; f < p->phases; f++) {
    const int64_t K = p->channels * p->phase[f].taps;
    a[f] = gemm_alloc(row_panels * GEMM_MR * K);
    offset[f] = malloc(sizeof(int32_t) * (size_t)(K > 0 ? K : 1));
  }
  double** sums = moments ? calloc((size_t)omp_get_max_threads(), sizeof(double*)) : 0;
  #pragma omp parallel
  {
    double* const thread_sums = conv_moments_begin(sums, p->m);
    for (int64_t f = 0; f < p->phases; f++) {
      const conv_phase_t* ph = &p->phase[f];
      const int64_t K = p->channels * ph->taps;
      #pragma omp for schedule(static) nowait
      for (int64_t r = 0; r < row_panels; r++) {
        real_t* restrict panel = a[f] + r * GEMM_MR * K;
        const int64_t rows = p->m - r * GEMM_MR < GEMM_MR ? p->m - r * GEMM_MR : GEMM_MR;
        for (int64_t ci = 0; ci < p->channels; ci++)
          for (int64_t t = 0; t < ph->taps; t++)
            for (int64_t i = 0; i < GEMM_MR; i++)
              panel[(ci * ph->taps + t) * GEMM_MR + i] =
                  i < rows ? w[(r * GEMM_MR + i) * p->weight_row + ci * p->weight_channel + ph->tap[t]] : 0;
        if (r == 0)
          for (int64_t ci = 0; ci < p->channels; ci++)
            for (int64_t t = 0; t < ph->taps; t++) offset[f][ci * ph->taps + t] = (int32_t)(ci * source_channel + ph->shift[t]);
      }
    }
    #pragma omp barrier
    real_t* restrict source = gemm_alloc(p->source_size);
    memset(source, 0, sizeof(real_t) * (size_t)p->source_size);
    real_t tile[GEMM_MR * GEMM_NR] __attribute__((aligned(64)));
    int zero_phases = 0;
    for (int64_t f = 0; f < p->phases; f++) zero_phases |= p->phase[f].taps == 0;
    /* While it computes one image, a thread prefetches the next, a few lines per tile:
       the fill then reads it from cache instead of memory. */
    int64_t tiles = 0;
    for (int64_t f = 0; f < p->phases; f++)
      if (p->phase[f].taps > 0)
        tiles += row_panels * (((p->phase[f].rows - 1) * p->source.cols + p->phase[f].cols + GEMM_NR - 1) / GEMM_NR);
    /* So are its output lines, for writing, when there is no addend (which the image copies
       first; prefetching both measured slower). */
    const int64_t lines = (p->image_size * (int64_t)sizeof(real_t) + 63) / 64, per_tile = tiles > 0 ? (lines + tiles - 1) / tiles : 0;
    const int64_t out_lines = (p->out_image * (int64_t)sizeof(real_t) + 63) / 64, out_per_tile = tiles > 0 ? (out_lines + tiles - 1) / tiles : 0;
    #pragma omp for schedule(static)
    for (int64_t n = 0; n < p->images; n++) {
      const int64_t after = n + 1 < p->images ? n + 1 : n;
      const char* next = (const char*)(in + after * p->image_size);
      const char* next_out = (const char*)(out + after * p->out_image);
      int64_t prefetched = 0, out_prefetched = addend ? out_lines : 0;
      conv_fill_source(&p->source, in + n * p->image_size, source);
      /* With an addend, the image starts as the addend and the tiles are added to it (each pixel
         is in one phase): one pass over the image less than adding it afterwards. */
      if (addend) memcpy(out + n * p->out_image, addend + n * p->out_image, sizeof(real_t) * (size_t)p->out_image);
      else if (zero_phases) memset(out + n * p->out_image, 0, sizeof(real_t) * (size_t)p->out_image);
      for (int64_t f = 0; f < p->phases; f++) {
        const conv_phase_t* ph = &p->phase[f];
        if (ph->taps == 0) continue;  /* no tap reaches it: zero, or the addend */
        const int64_t K = p->channels * ph->taps, grid = (ph->rows - 1) * p->source.cols + ph->cols;
        /* a row panel of weights stays in L1 while the grid streams past it */
        for (int64_t r = 0; r < row_panels; r++) {
          const int64_t rows = p->m - r * GEMM_MR < GEMM_MR ? p->m - r * GEMM_MR : GEMM_MR;
          for (int64_t m0 = 0; m0 < grid; m0 += GEMM_NR) {
            const int64_t cols = grid - m0 < GEMM_NR ? grid - m0 : GEMM_NR;
            for (int64_t l = 0; l < per_tile && prefetched < lines; l++, prefetched++) __builtin_prefetch(next + prefetched * 64);
            for (int64_t l = 0; l < out_per_tile && out_prefetched < out_lines; l++, out_prefetched++) __builtin_prefetch(next_out + out_prefetched * 64, 1);
            conv_micro_tile(K, a[f] + r * GEMM_MR * K, source + m0, offset[f], tile);
            const int64_t at = n * p->out_image + r * GEMM_MR * p->out_channel;
            conv_store(p, ph, out + at, rows, m0, cols, tile, addend != 0);
          }
        }
      }
      if (thread_sums) conv_moments_add(p->m, p->out_channel, out + n * p->out_image, thread_sums);
    }
    free(source);
    conv_moments_finish(p->m, (double)(p->images * p->out_channel), sums, moments);
  }
  free(sums);
  for (int64_t f = 0; f < p->phases; f++) { free(a[f]); free(offset[f]); }
}

/* Sum of the lanes of v, by halves: lanes l and l + n/2 first, down to two. */
typedef real_t conv_vec2_t __attribute__((vector_size(2 * sizeof(real_t))));
typedef real_t conv_vec4_t __attribute__((vector_size(4 * sizeof(real_t))));
typedef real_t conv_vec8_t __attribute__((vector_size(8 * sizeof(real_t))));
typedef real_t conv_vec16_t __attribute__((vector_size(16 * sizeof(real_t))));
static inline real_t conv_sum2(conv_vec2_t v) { return v[0] + v[1]; }
static inline real_t conv_sum4(conv_vec4_t v) {
  return conv_sum2(__builtin_shufflevector(v, v, 0, 1) + __builtin_shufflevector(v, v, 2, 3));
}
static inline real_t conv_sum8(conv_vec8_t v) {
  return conv_sum4(__builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7));
}
static inline real_t conv_sum16(conv_vec16_t v) {
  return conv_sum8(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15));
}
#if GEMM_LANES == 16
static inline real_t conv_lane_sum(vec_t v) { return conv_sum16(v); }
#elif GEMM_LANES == 8
static inline real_t conv_lane_sum(vec_t v) { return conv_sum8(v); }
#elif GEMM_LANES == 4
static inline real_t conv_lane_sum(vec_t v) { return conv_sum4(v); }
#else
#error "GEMM_LANES must be 16, 8 or 4"
#endif

/* conv_weight_gemm's tile: CONV_WEIGHT_EACH_ROW(X, j) is X(0, j) ... X(CONV_WEIGHT_ROWS - 1, j)
   and CONV_WEIGHT_EACH_COL(X, i) is X(i, 0) ... X(i, CONV_WEIGHT_COLS - 1). Accumulator sij
   holds output channel i0 + i against column j0 + j, each in its own register. */
#if CONV_WEIGHT_ROWS == 4
#define CONV_WEIGHT_EACH_ROW(X, j) X(0, j) X(1, j) X(2, j) X(3, j)
#elif CONV_WEIGHT_ROWS == 2
#define CONV_WEIGHT_EACH_ROW(X, j) X(0, j) X(1, j)
#else
#error "CONV_WEIGHT_ROWS must be 4 or 2"
#endif
#if CONV_WEIGHT_COLS == 6
#define CONV_WEIGHT_EACH_COL(X, i) X(i, 0) X(i, 1) X(i, 2) X(i, 3) X(i, 4) X(i, 5)
#else
#error "CONV_WEIGHT_COLS must be 6"
#endif
/* Column j's source offset (the last column's when j0 + j is past J). */
#define CONV_WEIGHT_OFFSET(_, j) const int64_t o##j = p->offset[j0 + j < J ? j0 + j : J - 1];
/* Row i's dy grid row of image g (the last row's when i0 + i is past m). */
#define CONV_WEIGHT_ROW(i, _) const real_t* restrict r##i = rows + (g * p->m + (i0 + i < p->m ? i0 + i : p->m - 1)) * p->length;
#define CONV_WEIGHT_ZERO(i, j) vec_t s##i##j = {0};
#define CONV_WEIGHT_ZERO_ROW(i, _) CONV_WEIGHT_EACH_COL(CONV_WEIGHT_ZERO, i)
#define CONV_WEIGHT_LOAD(i, _) const vec_t d##i = *(const vec_t*)(r##i + m);
#define CONV_WEIGHT_FMA(i, j) s##i##j += d##i * v;
/* Column j: one source vector against every row's dy vector. */
#define CONV_WEIGHT_COLUMN(_, j) { const vec_t v = *(const vec_t*)(s + o##j + m); CONV_WEIGHT_EACH_ROW(CONV_WEIGHT_FMA, j) }
#define CONV_WEIGHT_SUM(i, j) if (i < ri && j < rj) partial[(i0 + i) * J + j0 + j] += conv_lane_sum(s##i##j);
#define CONV_WEIGHT_SUM_ROW(i, _) CONV_WEIGHT_EACH_COL(CONV_WEIGHT_SUM, i)

/* dw[i][j] = sum over images n and grid positions m of dy_n[i][m] * source_n[offset[j] + m], where
   dy_n is dy on the grid (zeros at dropped columns, length a multiple of the vector). Threads take
   contiguous ranges of images into private partials, added in thread order. */
typedef struct {
  int64_t images, m, J;       /* dw is m x J */
  const int32_t* offset;      /* per column j */
  conv_source_t source;
  int64_t source_size, length, group;  /* elements per image source and dy grid row; images per pass */
  int64_t image_size;         /* x elements per image */
  int64_t dy_image, dy_rows, dy_cols;  /* dy per image is m x dy_rows x dy_cols */
} conv_weight_plan_t;

static void conv_weight_gemm(const conv_weight_plan_t* p, const real_t* restrict dy, const real_t* restrict x, real_t* restrict dw) {
  const int64_t J = p->J, width = p->source.cols;
  real_t** partials = calloc((size_t)omp_get_max_threads(), sizeof(real_t*));
  #pragma omp parallel
  {
    const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
    real_t* restrict partial = gemm_alloc(p->m * J);
    memset(partial, 0, sizeof(real_t) * (size_t)(p->m * J));
    partials[thread] = partial;
    real_t* restrict source = gemm_alloc(p->group * p->source_size);
    real_t* restrict rows = gemm_alloc(p->group * p->m * p->length);
    memset(source, 0, sizeof(real_t) * (size_t)(p->group * p->source_size));
    memset(rows, 0, sizeof(real_t) * (size_t)(p->group * p->m * p->length));
    const int64_t first = p->images * thread / threads, last = p->images * (thread + 1) / threads;
    for (int64_t n0 = first; n0 < last; n0 += p->group) {
      const int64_t count = last - n0 < p->group ? last - n0 : p->group;
      for (int64_t g = 0; g < count; g++) {
        conv_fill_source(&p->source, x + (n0 + g) * p->image_size, source + g * p->source_size);
        for (int64_t i = 0; i < p->m; i++)
          if (p->dy_cols == width)  /* no dropped columns: the channel's rows are one run */
            conv_copy_run(rows + (g * p->m + i) * p->length, dy + (n0 + g) * p->dy_image + i * p->dy_rows * p->dy_cols, p->dy_rows * p->dy_cols, 0);
          else
            for (int64_t r = 0; r < p->dy_rows; r++) {
              const real_t* restrict in = dy + (n0 + g) * p->dy_image + (i * p->dy_rows + r) * p->dy_cols;
              real_t* restrict o = rows + (g * p->m + i) * p->length + r * width;
              for (int64_t c = 0; c < p->dy_cols; c++) o[c] = in[c];
            }
      }
      for (int64_t j0 = 0; j0 < J; j0 += CONV_WEIGHT_COLS) {
        const int64_t rj = J - j0 < CONV_WEIGHT_COLS ? J - j0 : CONV_WEIGHT_COLS;
        CONV_WEIGHT_EACH_COL(CONV_WEIGHT_OFFSET, ~)
        for (int64_t i0 = 0; i0 < p->m; i0 += CONV_WEIGHT_ROWS) {
          const int64_t ri = p->m - i0 < CONV_WEIGHT_ROWS ? p->m - i0 : CONV_WEIGHT_ROWS;
          CONV_WEIGHT_EACH_ROW(CONV_WEIGHT_ZERO_ROW, ~)
          for (int64_t g = 0; g < count; g++) {
            const real_t* restrict s = source + g * p->source_size;
            CONV_WEIGHT_EACH_ROW(CONV_WEIGHT_ROW, ~)
            for (int64_t m = 0; m < p->length; m += GEMM_LANES) {
              CONV_WEIGHT_EACH_ROW(CONV_WEIGHT_LOAD, ~)
              CONV_WEIGHT_EACH_COL(CONV_WEIGHT_COLUMN, ~)
            }
          }
          CONV_WEIGHT_EACH_ROW(CONV_WEIGHT_SUM_ROW, ~)
        }
      }
    }
    #pragma omp barrier
    #pragma omp for schedule(static)
    for (int64_t e = 0; e < p->m * J; e++) {
      real_t sum = 0;
      for (int t = 0; t < threads; t++) sum += partials[t][e];
      dw[e] = sum;
    }
    free(rows);
    free(source);
    free(partial);
  }
  free(partials);
}

#endif /* SIMSIAM_CONV_GEMM_H */
