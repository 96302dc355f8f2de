/* winograd.h: the Winograd convolution F(WINO_M x WINO_M, 3x3) (Lavin & Gray, 2016).

   Stride 1, padding 1. Per WINO_N x WINO_N input window d: v = B^T d B (WINO_POINTS points), per
   point a GEMM over input channels with u = G g G^T, and the WINO_M x WINO_M output tile A^T m A.
   Each thread copies a few images into channels-last sources, transforms a block of tiles into
   v[point][tile][c], runs one GEMM per point against u[point][c][o] (conv_cl_micro_tile), and
   transforms the products back. Weight gradients run the transforms backwards:
   G^T [sum over tiles of (A dy A^T) . (B^T x B)] G. Every output value is computed by one
   thread in a fixed order, so results do not depend on the thread count.

   In bf16 builds (GEMM_BF16_DPBF16 defined, gemm_bf16.h pasted before) conv_wino_bf16 runs the
   point GEMMs on bf16 operands: the transforms stay single precision, the transformed kernels and
   inputs are rounded to pairs along c (u_pairs once per call, v_pairs per block of tiles), and
   gemm_bf16_micro_tile sums in single precision.

   Needs gemm.h, conv_gemm.h, conv_channels_last.h and winograd_common.h, and, defined before it (simsiamc
   generates them from the transform's matrices):
     WINO_M, WINO_N, WINO_POINTS  output tile size m, input tile size m + 2, and (m + 2)^2
     WINO_SHARED_DU_VALUES        the dw's threshold for one shared du (conv_wino_weight_shared_run)
     wino_input_1d (B^T), wino_output_1d (A^T), wino_gradient_1d (A) on vectors, and
     wino_kernel_1d (G), wino_kernel_gradient_1d (G^T) on eight doubles (lanes_t) */
#ifndef SIMSIAM_WINOGRAD_H
#define SIMSIAM_WINOGRAD_H

#include "gemm.h"
#include "conv_gemm.h"
#include "conv_channels_last.h"
#include "winograd_common.h"
#ifdef GEMM_BF16_DPBF16
#include "gemm_bf16.h"
#endif

#if !defined(WINO_M) || !defined(WINO_N) || !defined(WINO_POINTS) || !defined(WINO_SHARED_DU_VALUES)
#error "winograd.h needs WINO_M, WINO_N, WINO_POINTS and WINO_SHARED_DU_VALUES"
#endif

typedef struct {
  int64_t images, channels, m;         /* input channels (whole vectors), output channels */
  int64_t height, width;               /* of input and output */
  int64_t weight_row, weight_channel;  /* g[o][c][tap] = w[o * weight_row + c * weight_channel + tap] */
  int64_t flip;                        /* 1: tap 8 - t, the kernel rotated by 180 degrees (dx) */
  int64_t tiles_h, tiles_w;            /* WINO_M x WINO_M output tiles per image */
  int64_t group, block;                /* images per pass; tiles per GEMM block (a multiple of GEMM_MR) */
} conv_wino_plan_t;

#if GEMM_NR % 8
#error "winograd.h transforms kernels eight at a time (lanes_t): GEMM_NR must be a multiple of 8"
#endif
#define WINO_KERNEL_VECTORS (GEMM_NR / 8)  /* lanes_t (eight doubles) per GEMM_NR kernels */

/* u = G g G^T for GEMM_NR 3 x 3 kernels at once, in double, eight to a register: kernel j's tap k
   at g[k * WINO_KERNEL_VECTORS + j / 8][j % 8], its point k at u[k * WINO_KERNEL_VECTORS + ...].
   Each kernel gets the operations of one kernel alone, in the same order, so the results are
   those of scalar double. (Written as loops over scalars, the loop over kernels did not
   vectorise.) The kernels are transformed once per call, and rounded once, at the store. */
static inline void wino_kernels(const lanes_t* restrict g, lanes_t* restrict u) {
  const int64_t x_count = WINO_KERNEL_VECTORS;
  lanes_t t[WINO_N * 3 * WINO_KERNEL_VECTORS];
  for (int j = 0; j < 3; j++)
    for (int64_t x = 0; x < x_count; x++) wino_kernel_1d(g + j * x_count + x, 3 * x_count, t + j * x_count + x, 3 * x_count);
  for (int i = 0; i < WINO_N; i++)
    for (int64_t x = 0; x < x_count; x++) wino_kernel_1d(t + i * 3 * x_count + x, x_count, u + i * WINO_N * x_count + x, x_count);
}

/* The GEMM_NR kernels of panel jb and input channel c, as wino_kernels reads them (zero past m):
   each kernel's nine taps are adjacent in w, so they are read together, and the kernels eight
   channels on are prefetched: the calls walk GEMM_NR rows of w at once, more streams than the
   hardware prefetchers follow (W2's 512-channel kernels from a cold cache, C harness: 1.9-2.7 ms
   without, 1.5-1.7 ms with, against 3.0-4.0 ms for the scalar loops before). */
static inline void wino_gather_kernels(const conv_wino_plan_t* p, const real_t* restrict w, int64_t jb, int64_t c, lanes_t* restrict g) {
  for (int64_t j = 0; j < GEMM_NR; j++) {
    const int64_t o = jb * GEMM_NR + j;
    const real_t* restrict kernel = w + o * p->weight_row + c * p->weight_channel;
    if (o < p->m) __builtin_prefetch(kernel + 8 * p->weight_channel);
    for (int k = 0; k < 9; k++) g[k * WINO_KERNEL_VECTORS + j / 8][j % 8] = o < p->m ? kernel[p->flip ? 8 - k : k] : 0;
  }
}

/* v[point][c0..] = B^T d B for the WINO_N x WINO_N window d at s (channels-last): columns,
   then rows. */
static inline void wino_input_tile(const real_t* restrict s, int64_t cols, int64_t C, int64_t c0, real_t* restrict v, int64_t point_stride) {
  vec_t d[WINO_POINTS], e[WINO_POINTS], o[WINO_N];
  for (int r = 0; r < WINO_N; r++)
    for (int q = 0; q < WINO_N; q++) d[r * WINO_N + q] = *(const vec_t*)(s + (r * cols + q) * C + c0);
  for (int q = 0; q < WINO_N; q++) wino_input_1d(d + q, WINO_N, e + q, WINO_N);
  for (int r = 0; r < WINO_N; r++) {
    wino_input_1d(e + r * WINO_N, 1, o, 1);
    for (int q = 0; q < WINO_N; q++) *(vec_t*)(v + (r * WINO_N + q) * point_stride + c0) = o[q];
  }
}

#ifdef GEMM_BF16_DPBF16
/* wino_input_tile rounded to bf16 as it is stored: v16[point][c0..] (point_stride halves apart),
   the same bits as wino_input_tile then bf16_round_bits of each value, without the single-precision
   pass between (which took ~5% of the bf16 Winograd forward and dx). */
static inline void wino_input_tile_bf16(const real_t* restrict s, int64_t cols, int64_t C, int64_t c0, uint16_t* restrict v16, int64_t point_stride) {
  vec_t d[WINO_POINTS], e[WINO_POINTS], o[WINO_N];
  for (int r = 0; r < WINO_N; r++)
    for (int q = 0; q < WINO_N; q++) d[r * WINO_N + q] = *(const vec_t*)(s + (r * cols + q) * C + c0);
  for (int q = 0; q < WINO_N; q++) wino_input_1d(d + q, WINO_N, e + q, WINO_N);
  for (int r = 0; r < WINO_N; r++) {
    wino_input_1d(e + r * WINO_N, 1, o, 1);
    for (int q = 0; q < WINO_N; q++) *(bf16_halves_t*)(v16 + (r * WINO_N + q) * point_stride + c0) = bf16_round_lanes(o[q]);
  }
}
#endif

/* The WINO_M x WINO_M output tile A^T m A of products m (point_stride apart) into y (channels-last
   rows of y_cols pixels, ld values per pixel). */
static inline void wino_output_tile(const real_t* restrict m, int64_t point_stride, real_t* restrict y, int64_t y_cols, int64_t ld) {
  vec_t p[WINO_POINTS], e[WINO_M * WINO_N], o[WINO_M];
  for (int k = 0; k < WINO_POINTS; k++) p[k] = *(const vec_t*)(m + k * point_stride);
  for (int q = 0; q < WINO_N; q++) wino_output_1d(p + q, WINO_N, e + q, WINO_N);
  for (int r = 0; r < WINO_M; r++) {
    wino_output_1d(e + r * WINO_N, 1, o, 1);
    for (int q = 0; q < WINO_M; q++) *(vec_t*)(y + (r * y_cols + q) * ld) = o[q];
  }
}

/* out = conv(in, w) (+ addend), and out's batch statistics into moments [2][m] when moments is not
   null. Threads take whole groups of images. bf16: the point GEMMs on bf16 operands (bf16
   builds only). */
static inline void conv_wino_run(const conv_wino_plan_t* p, const real_t* restrict w, const real_t* restrict in, real_t* restrict out,
                                 const real_t* restrict addend, real_t* restrict moments, int bf16) {
  const int64_t C = p->channels, panels = (p->m + GEMM_NR - 1) / GEMM_NR, O = panels * GEMM_NR;
  const int64_t T = p->tiles_h * p->tiles_w, TB = p->block, plane = p->height * p->width;
  const conv_cl_source_t src = {.channels = C, .height = p->height, .width = p->width, .pad_top = 1, .pad_left = 1,
                                .rows = p->tiles_h * WINO_M + 2, .cols = p->tiles_w * WINO_M + 2};
  const int64_t source_size = (src.rows * src.cols * C + 15) / 16 * 16;
  const int64_t y_rows = p->tiles_h * WINO_M, y_cols = p->tiles_w * WINO_M, y_size = y_rows * y_cols * O;
  /* u[point][panel][c][j]: the transformed kernels as the GEMMs' B panels, zero past m */
  real_t* restrict u = bf16 ? 0 : gemm_alloc(WINO_POINTS * O * C);
  uint32_t* u_pairs = bf16 ? gemm_alloc(WINO_POINTS * O * C / 2) : 0;  /* [point][panel][c / 2][j] */
  /* point strides of v (v_pairs) and products (winograd_point_stride) */
  const int64_t vs = bf16 ? winograd_point_stride(TB * C / 2, sizeof(uint32_t)) : winograd_point_stride(TB * C, sizeof(real_t));
  const int64_t ps = winograd_point_stride(panels * TB * GEMM_NR, sizeof(real_t));
  double** sums = moments ? calloc((size_t)omp_get_max_threads(), sizeof(double*)) : 0;
  #pragma omp parallel
  {
    double* const thread_sums = conv_moments_begin(sums, p->m);
    /* one panel's GEMM_NR kernels of one input channel at a time; bf16: of a pair of channels,
       rounded to pairs along c as they are stored, and u itself is not written */
    const int64_t per_item = bf16 ? 2 : 1;
    #pragma omp for schedule(static)
    for (int64_t e = 0; e < panels * C / per_item; e++) {
      const int64_t jb = e / (C / per_item), c0 = e % (C / per_item) * per_item;
      lanes_t g[9 * WINO_KERNEL_VECTORS], transformed[2][WINO_POINTS * WINO_KERNEL_VECTORS];
      for (int64_t h = 0; h < per_item; h++) {
        wino_gather_kernels(p, w, jb, c0 + h, g);
        wino_kernels(g, transformed[h]);
      }
      const lanes_t* even = transformed[0];
#ifdef GEMM_BF16_DPBF16
      if (bf16) {  /* as bf16_pack_pairs of the single-precision u */
        const lanes_t* odd = transformed[1];
        for (int k = 0; k < WINO_POINTS; k++) {
          uint32_t* restrict pairs = u_pairs + ((k * panels + jb) * C + c0) / 2 * GEMM_NR;
          for (int64_t x = 0; x < GEMM_NR; x += GEMM_LANES) {
            vec_t a, b;
            for (int64_t l = x; l < x + GEMM_LANES; l++) {
              a[l - x] = (real_t)even[k * WINO_KERNEL_VECTORS + l / 8][l % 8];
              b[l - x] = (real_t)odd[k * WINO_KERNEL_VECTORS + l / 8][l % 8];
            }
            const bf16_words_t words = bf16_pair_lanes(a, b);
            memcpy(pairs + x, &words, sizeof words);
          }
        }
        continue;
      }
#endif
      for (int k = 0; k < WINO_POINTS; k++)
        for (int64_t j = 0; j < GEMM_NR; j++) u[((k * panels + jb) * C + c0) * GEMM_NR + j] = (real_t)even[k * WINO_KERNEL_VECTORS + j / 8][j % 8];
    }
    real_t* restrict source = gemm_alloc(p->group * source_size);
    memset(source, 0, sizeof(real_t) * (size_t)(p->group * source_size));
    real_t* restrict v = bf16 ? 0 : gemm_alloc(WINO_POINTS * vs);     /* v[point][tile][c] */
    real_t* restrict products = gemm_alloc(WINO_POINTS * ps);          /* [point][panel][tile][j] */
    uint32_t* v_pairs = bf16 ? gemm_alloc(WINO_POINTS * vs) : 0;      /* [point][tile][c / 2] */
    real_t* restrict y = gemm_alloc(p->group * y_size + 8 * O);   /* channels-last outputs, 8 pixels of slack */
    const int32_t no_shift = 0;
    const int64_t groups = (p->images + p->group - 1) / p->group;
    #pragma omp for schedule(static)
    for (int64_t gi = 0; gi < groups; gi++) {
      const int64_t n0 = gi * p->group, count = p->images - n0 < p->group ? p->images - n0 : p->group, tiles = count * T;
      for (int64_t g = 0; g < count; g++) conv_cl_fill(&src, in + (n0 + g) * C * plane, source + g * source_size);
      const int64_t next = n0 + count < p->images ? n0 + count : n0, next_count = p->images - next < p->group ? p->images - next : p->group;
      winograd_prefetch_t ahead = winograd_prefetch_plan(in + next * C * plane, next_count * C * plane * (int64_t)sizeof(real_t),
                                                 WINO_POINTS * ((tiles + TB - 1) / TB));
      for (int64_t t0 = 0; t0 < tiles; t0 += TB) {
        const int64_t valid = tiles - t0 < TB ? tiles - t0 : TB, rows = (valid + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
        for (int64_t i = 0; i < rows; i++) {  /* rows past the end repeat the last tile */
          const int64_t tile = t0 + (i < valid ? i : valid - 1), g = tile / T, th = tile % T / p->tiles_w, tw = tile % p->tiles_w;
          const real_t* restrict s = source + g * source_size + (th * WINO_M * src.cols + tw * WINO_M) * C;
#ifdef GEMM_BF16_DPBF16
          if (bf16) {  /* each transformed tile rounded to pairs along c as it is stored */
            for (int64_t c0 = 0; c0 < C; c0 += GEMM_LANES) wino_input_tile_bf16(s, src.cols, C, c0, (uint16_t*)v_pairs + i * C, 2 * vs);
            continue;
          }
#endif
          for (int64_t c0 = 0; c0 < C; c0 += GEMM_LANES) wino_input_tile(s, src.cols, C, c0, v + i * C, vs);
        }
#ifdef GEMM_BF16_DPBF16
        if (bf16) {  /* the point GEMMs on the rounded pairs */
          for (int64_t k = 0; k < WINO_POINTS; k++) {
            winograd_prefetch_step(&ahead);
            for (int64_t jb = 0; jb < panels; jb++)
              for (int64_t i0 = 0; i0 < rows; i0 += GEMM_MR) {
                const uint32_t* pairs[GEMM_MR];
                for (int64_t i = 0; i < GEMM_MR; i++) pairs[i] = v_pairs + k * vs + (i0 + i) * C / 2;
                gemm_bf16_micro_tile(C / 2, pairs, 1, u_pairs + (k * panels + jb) * C / 2 * GEMM_NR, GEMM_NR,
                                     products + k * ps + (jb * TB + i0) * GEMM_NR);
              }
          }
        } else
#endif
        for (int64_t k = 0; k < WINO_POINTS; k++) {
          winograd_prefetch_step(&ahead);
          for (int64_t jb = 0; jb < panels; jb++)
            for (int64_t i0 = 0; i0 < rows; i0 += GEMM_MR) {
              const real_t* position[GEMM_MR];
              for (int64_t i = 0; i < GEMM_MR; i++) position[i] = v + k * vs + (i0 + i) * C;
              conv_cl_micro_tile(1, C, &no_shift, position, u + (k * panels + jb) * C * GEMM_NR,
                                 products + k * ps + (jb * TB + i0) * GEMM_NR);
            }
        }
        for (int64_t i = 0; i < valid; i++) {
          const int64_t tile = t0 + i, g = tile / T, th = tile % T / p->tiles_w, tw = tile % p->tiles_w;
          real_t* restrict yt = y + g * y_size + (th * WINO_M * y_cols + tw * WINO_M) * O;
          for (int64_t j0 = 0; j0 < O; j0 += GEMM_LANES)
            wino_output_tile(products + ((j0 / GEMM_NR) * TB + i) * GEMM_NR + j0 % GEMM_NR, ps, yt + j0, y_cols, O);
        }
      }
      for (int64_t g = 0; g < count; g++) {
        real_t* restrict o = out + (n0 + g) * p->m * plane;
        winograd_store(p->m, p->height, p->width, y + g * y_size, y_cols, O, o, addend ? addend + (n0 + g) * p->m * plane : 0);
        if (thread_sums) conv_moments_add(p->m, plane, o, thread_sums);
      }
    }
    free(y);
    free(v_pairs);
    free(products);
    free(v);
    free(source);
    conv_moments_finish(p->m, (double)(p->images * plane), sums, moments);
  }
  free(sums);
  free(u_pairs);
  free(u);
}

static void conv_wino(const conv_wino_plan_t* p, const real_t* restrict w, const real_t* restrict in, real_t* restrict out,
                      const real_t* restrict addend, real_t* restrict moments) {
  conv_wino_run(p, w, in, out, addend, moments, 0);
}

#ifdef GEMM_BF16_DPBF16
/* conv_wino with the point GEMMs on bf16 operands (transforms in single precision). */
static void conv_wino_bf16(const conv_wino_plan_t* p, const real_t* restrict w, const real_t* restrict in, real_t* restrict out,
                           const real_t* restrict addend, real_t* restrict moments) {
  conv_wino_run(p, w, in, out, addend, moments, 1);
}
#endif

/* z[point][o0..] = A dy A^T for the WINO_M x WINO_M tile of dy at s (channels-last, ld values
   per pixel). */
static inline void wino_gradient_tile(const real_t* restrict s, int64_t cols, int64_t ld, int64_t o0, real_t* restrict z, int64_t point_stride) {
  vec_t d[WINO_M * WINO_M], e[WINO_N * WINO_M], o[WINO_N];
  for (int r = 0; r < WINO_M; r++)
    for (int q = 0; q < WINO_M; q++) d[r * WINO_M + q] = *(const vec_t*)(s + (r * cols + q) * ld + o0);
  for (int q = 0; q < WINO_M; q++) wino_gradient_1d(d + q, WINO_M, e + q, WINO_M);
  for (int r = 0; r < WINO_N; r++) {
    wino_gradient_1d(e + r * WINO_M, 1, o, 1);
    for (int q = 0; q < WINO_N; q++) *(vec_t*)(z + (r * WINO_N + q) * point_stride + o0) = o[q];
  }
}

/* The points of wino_input_tile (x, stride s_c per pixel) and of wino_gradient_tile (dy) of one
   vector of channels, in registers: for the bf16 dw to round in pairs of tiles, and for the shared
   dw to store in GEMM_MR-channel panels. */
static inline void wino_input_points(const real_t* restrict s, int64_t cols, int64_t C, int64_t c0, vec_t* v) {
  vec_t d[WINO_POINTS], e[WINO_POINTS];
  for (int r = 0; r < WINO_N; r++)
    for (int q = 0; q < WINO_N; q++) d[r * WINO_N + q] = *(const vec_t*)(s + (r * cols + q) * C + c0);
  for (int q = 0; q < WINO_N; q++) wino_input_1d(d + q, WINO_N, e + q, WINO_N);
  for (int r = 0; r < WINO_N; r++) wino_input_1d(e + r * WINO_N, 1, v + r * WINO_N, 1);
}
static inline void wino_gradient_points(const real_t* restrict s, int64_t cols, int64_t ld, int64_t o0, vec_t* z) {
  vec_t d[WINO_M * WINO_M], e[WINO_N * WINO_M];
  for (int r = 0; r < WINO_M; r++)
    for (int q = 0; q < WINO_M; q++) d[r * WINO_M + q] = *(const vec_t*)(s + (r * cols + q) * ld + o0);
  for (int q = 0; q < WINO_M; q++) wino_gradient_1d(d + q, WINO_M, e + q, WINO_M);
  for (int r = 0; r < WINO_N; r++) wino_gradient_1d(e + r * WINO_M, 1, z + r * WINO_N, 1);
}

/* Points z of one vector of output channels o0.. stored as GEMM_MR-channel panels:
   out[point * point_stride + (o0 / GEMM_MR + h) * panel_stride + h'] for h' < GEMM_MR, so a GEMM's
   A rows (GEMM_MR channels of every tile) are contiguous. */
static inline void wino_store_point_panels(const vec_t* z, int64_t o0, int64_t point_stride, int64_t panel_stride, real_t* restrict out) {
  for (int k = 0; k < WINO_POINTS; k++)
    for (int h = 0; h < GEMM_LANES / GEMM_MR; h++)
      memcpy(out + k * point_stride + (o0 / GEMM_MR + h) * panel_stride, (const real_t*)&z[k] + h * GEMM_MR, GEMM_MR * sizeof(real_t));
}

#ifdef GEMM_BF16_DPBF16
/* Points of two tiles (b null: none, zero) rounded to pairs (a even, b odd), as bf16_pack_pairs
   rounds two rows: out[point * point_stride] (words). */
static inline void wino_store_tile_pairs(const vec_t* a, const vec_t* b, uint32_t* restrict out, int64_t point_stride) {
  for (int k = 0; k < WINO_POINTS; k++)
    *(bf16_words_t*)(out + k * point_stride) = b ? bf16_pair_lanes(a[k], b[k]) : bf16_round_lane_bits(a[k]) >> 16;
}

/* wino_store_tile_pairs into GEMM_MR-channel panels, as wino_store_point_panels stores. */
static inline void wino_store_pair_panels(const vec_t* a, const vec_t* b, int64_t o0, int64_t point_stride, int64_t panel_stride, uint32_t* restrict out) {
  for (int k = 0; k < WINO_POINTS; k++) {
    const bf16_words_t words = b ? bf16_pair_lanes(a[k], b[k]) : bf16_round_lane_bits(a[k]) >> 16;
    for (int h = 0; h < GEMM_LANES / GEMM_MR; h++)
      memcpy(out + k * point_stride + (o0 / GEMM_MR + h) * panel_stride, (const uint32_t*)&words + h * GEMM_MR, GEMM_MR * sizeof(uint32_t));
  }
}
#endif

/* dw = G^T du G, du the sum of the threads' partials[th][point][o][c] in thread order, inside a
   parallel region (its loop is shared among the threads). GEMM_NR kernels (o, c) at a time (C is
   whole panels), each with the operations it would get alone, eight to a register (lanes_t, as in
   wino_kernels). It reads WINO_POINTS x threads streams at once, more than the hardware prefetchers
   follow, so each is prefetched four steps ahead (this loop took ~20% of W2's layer4 dw with
   private partials, C harness; the prefetch's own gain was not measured apart). */
static void wino_weight_finish(int64_t O, int64_t C, real_t* const* partials, int threads, real_t* restrict dw) {
  #pragma omp for schedule(static)
  for (int64_t e0 = 0; e0 < O * C; e0 += GEMM_NR) {
    const int64_t x_count = WINO_KERNEL_VECTORS;
    lanes_t du[WINO_POINTS * WINO_KERNEL_VECTORS], t[3 * WINO_N * WINO_KERNEL_VECTORS], g[9 * WINO_KERNEL_VECTORS];
    for (int k = 0; k < WINO_POINTS && e0 + 4 * GEMM_NR < O * C; k++)
      for (int th = 0; th < threads; th++)
        for (int64_t line = 0; line < GEMM_NR * (int64_t)sizeof(real_t); line += 64)
          __builtin_prefetch((const char*)(partials[th] + k * O * C + e0 + 4 * GEMM_NR) + line);
    for (int k = 0; k < WINO_POINTS; k++)
      for (int64_t x = 0; x < GEMM_NR; x++) {
        double sum = 0;
        for (int th = 0; th < threads; th++) sum += partials[th][k * O * C + e0 + x];
        du[k * x_count + x / 8][x % 8] = sum;
      }
    for (int r = 0; r < WINO_N; r++)  /* t[kw][r] */
      for (int64_t x = 0; x < x_count; x++) wino_kernel_gradient_1d(du + r * WINO_N * x_count + x, x_count, t + r * x_count + x, WINO_N * x_count);
    for (int a = 0; a < 3; a++)  /* g[kh][kw] */
      for (int64_t x = 0; x < x_count; x++) wino_kernel_gradient_1d(t + a * WINO_N * x_count + x, x_count, g + a * x_count + x, 3 * x_count);
    for (int64_t x = 0; x < GEMM_NR; x++)
      for (int k = 0; k < 9; k++) dw[(e0 + x) * 9 + k] = (real_t)g[k * x_count + x / 8][x % 8];
  }
}

typedef struct {
  int64_t images, channels, m;   /* x channels (whole GEMM panels), dy channels (whole vectors) */
  int64_t height, width;         /* of x and dy */
  int64_t tiles_h, tiles_w, group, block;
} conv_wino_weight_plan_t;

/* dw[o][c] = G^T du G with du[point][o][c] = sum over tiles of (A dy A^T)[point][o] (B^T x B)[point][c]:
   the gradient of the forward's products, summed per point by the channels-last weight tile.
   Threads take contiguous ranges of images into private du, added in thread order, so the
   result repeats exactly for a fixed thread count. bf16: the per-point sums over tiles on bf16
   operands, pairs of tiles rounded per block (bf16 builds only). */
static inline void conv_wino_weight_run(const conv_wino_weight_plan_t* p, const real_t* restrict dy, const real_t* restrict x, real_t* restrict dw,
                                        int bf16) {
  const int64_t C = p->channels, O = p->m, T = p->tiles_h * p->tiles_w, TB = p->block, plane = p->height * p->width;
  const conv_cl_source_t xs = {.channels = C, .height = p->height, .width = p->width, .pad_top = 1, .pad_left = 1,
                               .rows = p->tiles_h * WINO_M + 2, .cols = p->tiles_w * WINO_M + 2};
  const conv_cl_source_t ds = {.channels = O, .height = p->height, .width = p->width, .pad_top = 0, .pad_left = 0,
                               .rows = p->tiles_h * WINO_M, .cols = p->tiles_w * WINO_M};
  const int64_t x_size = (xs.rows * xs.cols * C + 15) / 16 * 16, d_size = (ds.rows * ds.cols * O + 15) / 16 * 16;
  real_t** partials = calloc((size_t)omp_get_max_threads(), sizeof(real_t*));
  #pragma omp parallel
  {
    const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
    real_t* restrict partial = gemm_alloc(WINO_POINTS * O * C);  /* du[point][o][c] */
    memset(partial, 0, sizeof(real_t) * (size_t)(WINO_POINTS * O * C));
    partials[thread] = partial;
    real_t* restrict x_source = gemm_alloc(p->group * x_size);
    real_t* restrict dy_source = gemm_alloc(p->group * d_size);  /* zero past the map: no gradient there */
    memset(x_source, 0, sizeof(real_t) * (size_t)(p->group * x_size));
    memset(dy_source, 0, sizeof(real_t) * (size_t)(p->group * d_size));
    const int64_t TP = (TB + 1) / 2;  /* pairs of tiles per block */
    /* point strides of v and z (v_pairs and z_pairs: words), winograd_point_stride */
    const int64_t vs = bf16 ? winograd_point_stride(TP * C, sizeof(uint32_t)) : winograd_point_stride(TB * C, sizeof(real_t));
    const int64_t zs = bf16 ? winograd_point_stride(TP * O, sizeof(uint32_t)) : winograd_point_stride(TB * O, sizeof(real_t));
    real_t* restrict v = bf16 ? 0 : gemm_alloc(WINO_POINTS * vs);  /* v[point][tile][c] */
    real_t* restrict z = bf16 ? 0 : gemm_alloc(WINO_POINTS * zs);  /* z[point][tile][o] */
    int32_t* offset = malloc(sizeof(int32_t) * (size_t)TB);
    for (int64_t i = 0; i < TB; i++) offset[i] = (int32_t)(i * C);
    uint32_t* v_pairs = bf16 ? gemm_alloc(WINO_POINTS * vs) : 0;  /* [point][tile / 2][c] */
    uint32_t* z_pairs = bf16 ? gemm_alloc(WINO_POINTS * zs) : 0;  /* [point][tile / 2][o] */
    const int64_t first = p->images * thread / threads, last = p->images * (thread + 1) / threads;
    for (int64_t n0 = first; n0 < last; n0 += p->group) {
      const int64_t count = last - n0 < p->group ? last - n0 : p->group, tiles = count * T;
      for (int64_t g = 0; g < count; g++) {
        conv_cl_fill(&xs, x + (n0 + g) * C * plane, x_source + g * x_size);
        conv_cl_fill(&ds, dy + (n0 + g) * O * plane, dy_source + g * d_size);
      }
      const int64_t next = n0 + count < last ? n0 + count : n0, next_count = last - next < p->group ? last - next : p->group;
      const int64_t steps = WINO_POINTS * ((tiles + TB - 1) / TB);
      winograd_prefetch_t x_ahead = winograd_prefetch_plan(x + next * C * plane, next_count * C * plane * (int64_t)sizeof(real_t), steps);
      winograd_prefetch_t dy_ahead = winograd_prefetch_plan(dy + next * O * plane, next_count * O * plane * (int64_t)sizeof(real_t), steps);
      for (int64_t t0 = 0; t0 < tiles; t0 += TB) {
        const int64_t valid = tiles - t0 < TB ? tiles - t0 : TB;
#ifdef GEMM_BF16_DPBF16
        if (bf16) {  /* pairs of tiles transformed together and rounded to pairs as they are stored */
          for (int64_t i = 0; i < valid; i += 2) {
            const real_t* xs_at[2];
            const real_t* dy_at[2];
            for (int h = 0; h < 2 && i + h < valid; h++) {
              const int64_t tile = t0 + i + h, g = tile / T, th = tile % T / p->tiles_w, tw = tile % p->tiles_w;
              xs_at[h] = x_source + g * x_size + (th * WINO_M * xs.cols + tw * WINO_M) * C;
              dy_at[h] = dy_source + g * d_size + (th * WINO_M * ds.cols + tw * WINO_M) * O;
            }
            const int second = i + 1 < valid;
            vec_t a[WINO_POINTS], b[WINO_POINTS];
            for (int64_t c0 = 0; c0 < C; c0 += GEMM_LANES) {
              wino_input_points(xs_at[0], xs.cols, C, c0, a);
              if (second) wino_input_points(xs_at[1], xs.cols, C, c0, b);
              wino_store_tile_pairs(a, second ? b : 0, v_pairs + i / 2 * C + c0, vs);
            }
            for (int64_t o0 = 0; o0 < O; o0 += GEMM_LANES) {
              wino_gradient_points(dy_at[0], ds.cols, O, o0, a);
              if (second) wino_gradient_points(dy_at[1], ds.cols, O, o0, b);
              wino_store_tile_pairs(a, second ? b : 0, z_pairs + i / 2 * O + o0, zs);
            }
          }
        } else
#endif
        for (int64_t i = 0; i < valid; i++) {
          const int64_t tile = t0 + i, g = tile / T, th = tile % T / p->tiles_w, tw = tile % p->tiles_w;
          const real_t* restrict s = x_source + g * x_size + (th * WINO_M * xs.cols + tw * WINO_M) * C;
          for (int64_t c0 = 0; c0 < C; c0 += GEMM_LANES) wino_input_tile(s, xs.cols, C, c0, v + i * C, vs);
          const real_t* restrict sd = dy_source + g * d_size + (th * WINO_M * ds.cols + tw * WINO_M) * O;
          for (int64_t o0 = 0; o0 < O; o0 += GEMM_LANES) wino_gradient_tile(sd, ds.cols, O, o0, z + i * O, zs);
        }
#ifdef GEMM_BF16_DPBF16
        if (bf16) {  /* per point du[o][c] += z^T v over the pairs of tiles */
          const int64_t pairs = (valid + 1) / 2;
          for (int64_t k = 0; k < WINO_POINTS; k++) {
            winograd_prefetch_step(&x_ahead);
            winograd_prefetch_step(&dy_ahead);
            for (int64_t o0 = 0; o0 < O; o0 += GEMM_MR) {
              const uint32_t* rows[GEMM_MR];
              for (int64_t i = 0; i < GEMM_MR; i++) rows[i] = z_pairs + k * zs + o0 + i;
              for (int64_t c0 = 0; c0 < C; c0 += GEMM_NR)  /* summed on into du, no tile to add */
                gemm_bf16_micro_tile_into(pairs, rows, O, v_pairs + k * vs + c0, C, partial + (k * O + o0) * C + c0, C, 1);
            }
          }
        } else
#endif
        for (int64_t k = 0; k < WINO_POINTS; k++) {
          winograd_prefetch_step(&x_ahead);
          winograd_prefetch_step(&dy_ahead);
          for (int64_t o0 = 0; o0 < O; o0 += GEMM_MR)
            for (int64_t c0 = 0; c0 < C; c0 += GEMM_NR)
              conv_cl_weight_tile(valid, offset, v + k * vs + c0, z + k * zs + o0, O, partial + (k * O + o0) * C + c0, C);
        }
      }
    }
    #pragma omp barrier
    wino_weight_finish(O, C, partials, threads, dw);
    free(z_pairs);
    free(v_pairs);
    free(offset);
    free(z);
    free(v);
    free(dy_source);
    free(x_source);
    free(partial);
  }
  free(partials);
}

/* Above WINO_SHARED_DU_VALUES values of one thread's du (WINO_POINTS x O x C; simsiamc defines it,
   ConvWinograd.sharedSumValues) the weight gradient sums into one shared du instead
   (conv_wino_weight_shared_run): a private du past L2 was streamed from memory once per block of
   tiles and thread, and on W2's layer4 (16 MB per thread) the sums ran at ~40% of the FMA peak.
   WINO_SHARED_TILE_BYTES bounds the shared strategy's transformed tiles per chunk. */
#define WINO_SHARED_TILE_BYTES (8 * 1024 * 1024)

static inline int wino_weight_shares_du(const conv_wino_weight_plan_t* p) {
  return WINO_POINTS * p->m * p->channels > WINO_SHARED_DU_VALUES;
}

/* conv_wino_weight_run for many channels. All threads transform a chunk of images together (each
   image by one thread) into v[point][tile][c] and z[point][tile][o], then each thread sums the
   whole chunk into its own rows (point, GEMM_MR output channels) of one shared du: every du value
   has one owner and sees the tiles in order, so the result does not depend on the thread count,
   and du is read once per chunk, not once per block of tiles and thread. bf16: the tiles of an
   image in pairs (an odd last tile paired with zero), rounded as they are stored. */
static inline void conv_wino_weight_shared_run(const conv_wino_weight_plan_t* p, const real_t* restrict dy, const real_t* restrict x,
                                               real_t* restrict dw, int bf16) {
  const int64_t C = p->channels, O = p->m, T = p->tiles_h * p->tiles_w, plane = p->height * p->width;
  const conv_cl_source_t xs = {.channels = C, .height = p->height, .width = p->width, .pad_top = 1, .pad_left = 1,
                               .rows = p->tiles_h * WINO_M + 2, .cols = p->tiles_w * WINO_M + 2};
  const conv_cl_source_t ds = {.channels = O, .height = p->height, .width = p->width, .pad_top = 0, .pad_left = 0,
                               .rows = p->tiles_h * WINO_M, .cols = p->tiles_w * WINO_M};
  const int64_t x_size = (xs.rows * xs.cols * C + 15) / 16 * 16, d_size = (ds.rows * ds.cols * O + 15) / 16 * 16;
  const int64_t TI = bf16 ? (T + 1) / 2 * 2 : T;  /* tile slots per image: bf16 pads to whole pairs */
  const int64_t per_image = WINO_POINTS * TI * (C + O) * (int64_t)sizeof(real_t);
  const int64_t chunk = WINO_SHARED_TILE_BYTES / per_image < 1 ? 1
                      : WINO_SHARED_TILE_BYTES / per_image < p->images ? WINO_SHARED_TILE_BYTES / per_image : p->images;
  const int64_t TC = chunk * TI, TP = TC / 2;  /* tile slots per chunk; bf16: pairs of them */
  real_t* restrict du = gemm_alloc(WINO_POINTS * O * C);
  memset(du, 0, sizeof(real_t) * (size_t)(WINO_POINTS * O * C));
  /* point strides of v and z (v_pairs and z_pairs: words), winograd_point_stride */
  const int64_t vs = bf16 ? winograd_point_stride(TP * C, sizeof(uint32_t)) : winograd_point_stride(TC * C, sizeof(real_t));
  const int64_t zs = bf16 ? winograd_point_stride(TP * O, sizeof(uint32_t)) : winograd_point_stride(TC * O, sizeof(real_t));
  real_t* restrict v = bf16 ? 0 : gemm_alloc(WINO_POINTS * vs);  /* v[point][tile][c] */
  real_t* restrict z = bf16 ? 0 : gemm_alloc(WINO_POINTS * zs);  /* z[point][o / GEMM_MR][tile][o % GEMM_MR] */
  uint32_t* v_pairs = bf16 ? gemm_alloc(WINO_POINTS * vs) : 0;  /* [point][tile / 2][c] */
  uint32_t* z_pairs = bf16 ? gemm_alloc(WINO_POINTS * zs) : 0;  /* [point][o / GEMM_MR][tile / 2][o % GEMM_MR] */
  const int64_t panels = O / GEMM_MR;
  int32_t* offset = malloc(sizeof(int32_t) * (size_t)TC);
  for (int64_t i = 0; i < TC; i++) offset[i] = (int32_t)(i * C);
  #pragma omp parallel
  {
    real_t* restrict x_source = gemm_alloc(x_size);
    real_t* restrict dy_source = gemm_alloc(d_size);  /* zero past the map: no gradient there */
    memset(x_source, 0, sizeof(real_t) * (size_t)x_size);
    memset(dy_source, 0, sizeof(real_t) * (size_t)d_size);
    for (int64_t n0 = 0; n0 < p->images; n0 += chunk) {
      const int64_t count = p->images - n0 < chunk ? p->images - n0 : chunk;
      #pragma omp for schedule(static)
      for (int64_t g = 0; g < count; g++) {
        conv_cl_fill(&xs, x + (n0 + g) * C * plane, x_source);
        conv_cl_fill(&ds, dy + (n0 + g) * O * plane, dy_source);
#ifdef GEMM_BF16_DPBF16
        if (bf16) {
          for (int64_t t = 0; t < T; t += 2) {
            const real_t* xs_at[2];
            const real_t* dy_at[2];
            for (int h = 0; h < 2 && t + h < T; h++) {
              const int64_t th = (t + h) / p->tiles_w, tw = (t + h) % p->tiles_w;
              xs_at[h] = x_source + (th * WINO_M * xs.cols + tw * WINO_M) * C;
              dy_at[h] = dy_source + (th * WINO_M * ds.cols + tw * WINO_M) * O;
            }
            const int second = t + 1 < T;
            const int64_t pair = (g * TI + t) / 2;
            vec_t a[WINO_POINTS], b[WINO_POINTS];
            for (int64_t c0 = 0; c0 < C; c0 += GEMM_LANES) {
              wino_input_points(xs_at[0], xs.cols, C, c0, a);
              if (second) wino_input_points(xs_at[1], xs.cols, C, c0, b);
              wino_store_tile_pairs(a, second ? b : 0, v_pairs + pair * C + c0, vs);
            }
            for (int64_t o0 = 0; o0 < O; o0 += GEMM_LANES) {
              wino_gradient_points(dy_at[0], ds.cols, O, o0, a);
              if (second) wino_gradient_points(dy_at[1], ds.cols, O, o0, b);
              wino_store_pair_panels(a, second ? b : 0, o0, zs, TP * GEMM_MR, z_pairs + pair * GEMM_MR);
            }
          }
          continue;
        }
#endif
        for (int64_t t = 0; t < T; t++) {
          const int64_t th = t / p->tiles_w, tw = t % p->tiles_w, i = g * TI + t;
          const real_t* restrict s = x_source + (th * WINO_M * xs.cols + tw * WINO_M) * C;
          for (int64_t c0 = 0; c0 < C; c0 += GEMM_LANES) wino_input_tile(s, xs.cols, C, c0, v + i * C, vs);
          const real_t* restrict sd = dy_source + (th * WINO_M * ds.cols + tw * WINO_M) * O;
          for (int64_t o0 = 0; o0 < O; o0 += GEMM_LANES) {
            vec_t points[WINO_POINTS];
            wino_gradient_points(sd, ds.cols, O, o0, points);
            wino_store_point_panels(points, o0, zs, TC * GEMM_MR, z + i * GEMM_MR);
          }
        }
      }
      const int64_t slots = count * TI;
      #pragma omp for schedule(static)
      for (int64_t item = 0; item < WINO_POINTS * panels; item++) {
        const int64_t k = item / panels, o0 = item % panels * GEMM_MR;
#ifdef GEMM_BF16_DPBF16
        if (bf16) {
          const uint32_t* rows[GEMM_MR];
          for (int64_t i = 0; i < GEMM_MR; i++) rows[i] = z_pairs + k * zs + o0 / GEMM_MR * TP * GEMM_MR + i;
          for (int64_t c0 = 0; c0 < C; c0 += GEMM_NR)
            gemm_bf16_micro_tile_into(slots / 2, rows, GEMM_MR, v_pairs + k * vs + c0, C, du + (k * O + o0) * C + c0, C, 1);
          continue;
        }
#endif
        for (int64_t c0 = 0; c0 < C; c0 += GEMM_NR)
          conv_cl_weight_tile(slots, offset, v + k * vs + c0, z + k * zs + o0 / GEMM_MR * TC * GEMM_MR, GEMM_MR, du + (k * O + o0) * C + c0, C);
      }
    }
    real_t* const shared[1] = {du};
    wino_weight_finish(O, C, shared, 1, dw);
    free(dy_source);
    free(x_source);
  }
  free(offset);
  free(z_pairs);
  free(v_pairs);
  free(z);
  free(v);
  free(du);
}

static void conv_wino_weight(const conv_wino_weight_plan_t* p, const real_t* restrict dy, const real_t* restrict x, real_t* restrict dw) {
  if (wino_weight_shares_du(p)) conv_wino_weight_shared_run(p, dy, x, dw, 0);
  else conv_wino_weight_run(p, dy, x, dw, 0);
}

#ifdef GEMM_BF16_DPBF16
/* conv_wino_weight with the per-point sums over tiles on bf16 operands (transforms in single precision). */
static void conv_wino_weight_bf16(const conv_wino_weight_plan_t* p, const real_t* restrict dy, const real_t* restrict x, real_t* restrict dw) {
  if (wino_weight_shares_du(p)) conv_wino_weight_shared_run(p, dy, x, dw, 1);
  else conv_wino_weight_run(p, dy, x, dw, 1);
}
#endif

#endif /* SIMSIAM_WINOGRAD_H */
