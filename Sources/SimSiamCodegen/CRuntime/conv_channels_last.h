/* conv_channels_last.h: the channels-last convolution.

   GEMM rows are output positions, columns output channels: position u of a phase reads
   source[base(u) + shift[t] + c] for tap t and input channel c, from a zero-padded
   channels-last copy of its image. Positions need not be neighbours, so no FMA falls on
   padding; tiles are written channels-last and each image is then transposed into the NCHW
   output. Every output value is computed by one tile of one thread, in a fixed order, so
   results do not depend on the thread count.

   conv_cl_gemm: forward and backward data; conv_cl_gemm_bf16 (bf16 builds, GEMM_BF16_DPBF16
   defined): the same on bf16 operands; conv_cl_weight_gemm: weight gradient, and
   conv_cl_weight_gemm_bf16 on bf16 operands.
   Needs gemm.h and conv_gemm.h (the moments), and gemm_bf16.h in bf16 builds. Its one macro,
   CONV_CL_WEIGHT_MR (the rows of conv_cl_weight_gemm's single-precision tile: 8, 6 or 4), is
   GEMM_MR unless defined before it. */
#ifndef SIMSIAM_CONV_CHANNELS_LAST_H
#define SIMSIAM_CONV_CHANNELS_LAST_H

#include "gemm.h"
#include "conv_gemm.h"
#ifdef GEMM_BF16_DPBF16
#include "gemm_bf16.h"
#endif

typedef struct {
  int64_t taps;
  const int32_t* tap;        /* per tap: kh * K + kw in the weights */
  const int32_t* shift;      /* per tap: source offset, in values */
  int64_t rows, cols;        /* output positions (r, c) of the phase, per image */
  int64_t row_step, col_step;  /* base(r, c) = (r * row_step + c * col_step) * channels */
  int64_t dest_offset, dest_row, dest_col;  /* output pixel of (r, c): offset + r * dest_row + c * dest_col */
} conv_cl_phase_t;

typedef struct {
  int64_t channels, height, width;  /* the image read */
  int64_t pad_top, pad_left;        /* where it sits in the source */
  int64_t rows, cols;               /* source: rows x cols pixels of `channels` values */
} conv_cl_source_t;

typedef struct {
  int64_t images, m;                   /* output channels: GEMM columns */
  int64_t weight_row, weight_channel;  /* B[(t, c)][j] = w[j * weight_row + c * weight_channel + tap[t]] */
  conv_cl_source_t source;
  int64_t group;                       /* images per pass */
  int64_t image_size, out_image, out_channel;  /* out_image = m * out_channel: NCHW, out_channel pixels a channel */
  int64_t phases;
  const conv_cl_phase_t* phase;
} conv_cl_plan_t;

/* out[j] = column j of the 8 x 8 block r[0..7] (r[i] = row i), by three rounds of pairing. */
static inline void conv_cl_transpose8(const lanes_source_t* r, lanes_source_t* out) {
  lanes_source_t t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4)
    for (int k = 0; k < 2; k++) {
      u[i + 2 * k] = __builtin_shufflevector(t[i + k], t[i + k + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[i + 2 * k + 1] = __builtin_shufflevector(t[i + k], t[i + k + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  for (int j = 0; j < 4; j++) {
    out[j] = __builtin_shufflevector(u[j], u[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    out[j + 4] = __builtin_shufflevector(u[j], u[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

/* source[((h + pad_top) * cols + w + pad_left) * channels + c] = image[c][h][w], eight channels by
   eight pixels at a time through registers; the padding stays as zeroed at allocation. The eight
   channels are copied whole before the next eight: the reads then follow eight planes, not all C at
   the same row, which the hardware prefetchers cannot track (4x slower on 64-channel 32x32 maps). */
static void conv_cl_fill(const conv_cl_source_t* s, const real_t* restrict image, real_t* restrict source) {
  const int64_t C = s->channels, H = s->height, W = s->width, plane = H * W;
  int64_t c0 = 0;
  for (; c0 + 8 <= C; c0 += 8)
    for (int64_t h = 0; h < H; h++) {
      real_t* restrict row = source + ((h + s->pad_top) * s->cols + s->pad_left) * C;
      const real_t* restrict in = image + c0 * plane + h * W;
      for (int64_t w0 = 0; w0 < W; w0 += 8) {
        const int64_t pixels = W - w0 < 8 ? W - w0 : 8;
        if (pixels < 8 && (c0 + 7) * plane + h * W + w0 + 8 > C * plane) {  /* 8 would read past the image */
          for (int64_t w = w0; w < W; w++)
            for (int64_t i = 0; i < 8; i++) row[w * C + c0 + i] = in[i * plane + w];
          break;
        }
        lanes_source_t r[8], out[8];
        for (int i = 0; i < 8; i++) r[i] = *(const lanes_source_t*)(in + i * plane + w0);
        conv_cl_transpose8(r, out);
        for (int64_t j = 0; j < pixels; j++) *(lanes_source_t*)(row + (w0 + j) * C + c0) = out[j];
      }
    }
  for (; c0 < C; c0++)
    for (int64_t h = 0; h < H; h++) {
      real_t* restrict row = source + ((h + s->pad_top) * s->cols + s->pad_left) * C;
      const real_t* restrict in = image + c0 * plane + h * W;
      for (int64_t w = 0; w < W; w++) row[w * C + c0] = in[w];
    }
}

#ifdef GEMM_BF16_DPBF16
/* conv_cl_fill rounded to bf16 halves: the image filled into one image's single-precision scratch
   (its padding zeroed once by the caller), then rounded into out, each pixel's channels padded to
   cp (bf16_round_pixels). */
static void conv_cl_fill_bf16(const conv_cl_source_t* s, const real_t* restrict image, real_t* restrict filled, int64_t cp,
                              uint16_t* restrict out) {
  conv_cl_fill(s, image, filled);
  bf16_round_pixels(s->rows * s->cols, s->channels, cp, filled, out);
}
#endif

/* Tile row i's window: position i at tap t. */
#define CONV_CL_WINDOW(i) const real_t* restrict a##i = position[i] + shift[t];
/* Row i of the tile += a_i[c] * (b0, b1). */
#define CONV_CL_FMA_ROW(i) c##i##_0 += a##i[c] * b0; c##i##_1 += a##i[c] * b1;

/* tile[i][j] = sum over taps t and channels c of position[i][shift[t] + c] * b[(t, c)][j]. */
static inline void conv_cl_micro_tile(int64_t taps, int64_t C, const int32_t* restrict shift, const real_t* const* position,
                                      const real_t* restrict b, real_t* restrict tile) {
  GEMM_EACH_ROW(GEMM_ZERO_ROW)
  for (int64_t t = 0; t < taps; t++) {
    GEMM_EACH_ROW(CONV_CL_WINDOW)
    for (int64_t c = 0; c < C; c++, b += GEMM_NR) {
      const vec_t b0 = *(const vec_t*)b, b1 = *(const vec_t*)(b + GEMM_LANES);
      GEMM_EACH_ROW(CONV_CL_FMA_ROW)
    }
  }
  GEMM_EACH_ROW(GEMM_WRITE_ROW)
}

/* out[i][j] = sum over taps t and channels c of position[i][shift[t] + c] * b[(t, c)][j]. */
static inline void conv_cl_micro_rows(int64_t taps, int64_t C, const int32_t* restrict shift, const real_t* const* position,
                                      const real_t* restrict b, real_t* const* out) {
  GEMM_EACH_ROW(GEMM_ZERO_ROW)
  for (int64_t t = 0; t < taps; t++) {
    GEMM_EACH_ROW(CONV_CL_WINDOW)
    for (int64_t c = 0; c < C; c++, b += GEMM_NR) {
      const vec_t b0 = *(const vec_t*)b, b1 = *(const vec_t*)(b + GEMM_LANES);
      GEMM_EACH_ROW(CONV_CL_FMA_ROW)
    }
  }
  GEMM_EACH_ROW(GEMM_WRITE_ROW_AT)
}

/* out[o][q] = staged[q][o] (+ addend[o][q]) for o < m, q < pixels: an image's output from its
   channels-last staging (rows of ld values), in 8 x 8 blocks through registers. */
static void conv_cl_unstage(int64_t m, int64_t pixels, int64_t ld, const real_t* restrict staged,
                            real_t* restrict out, const real_t* restrict addend) {
  int64_t o0 = 0;
  for (; o0 + 8 <= m; o0 += 8) {
    int64_t q0 = 0;
    for (; q0 + 8 <= pixels; q0 += 8) {
      lanes_source_t r[8], t[8];
      for (int i = 0; i < 8; i++) r[i] = *(const lanes_source_t*)(staged + (q0 + i) * ld + o0);
      conv_cl_transpose8(r, t);
      if (addend)
        for (int j = 0; j < 8; j++) *(lanes_source_t*)(out + (o0 + j) * pixels + q0) = t[j] + *(const lanes_source_t*)(addend + (o0 + j) * pixels + q0);
      else
        for (int j = 0; j < 8; j++) *(lanes_source_t*)(out + (o0 + j) * pixels + q0) = t[j];
    }
    for (int64_t o = o0; o < o0 + 8; o++)
      for (int64_t q = q0; q < pixels; q++) out[o * pixels + q] = staged[q * ld + o] + (addend ? addend[o * pixels + q] : 0);
  }
  for (int64_t o = o0; o < m; o++)
    for (int64_t q = 0; q < pixels; q++) out[o * pixels + q] = staged[q * ld + o] + (addend ? addend[o * pixels + q] : 0);
}

/* out[n][j][pixel] = sum over (t, c) of w * source_n[base + shift[t] + c], per phase, plus
   addend[n][j][pixel] if addend is not null. Weights are packed once; threads take whole
   groups of images. bf16 (bf16 builds only, conv_cl_gemm_bf16): the source is a copy rounded
   to bf16 halves, each pixel's channels padded with zero to an even count cp so that channels
   (c, c + 1) are one 32-bit pair, the weights are rounded once into pairs [t][cp / 2][GEMM_NR]
   (bf16_pack_pairs), and the tiles run gemm_bf16_tap_rows (vdpbf16ps or its emulation); the
   single-precision sums, staging, output and moments are those of the unrounded kernel. */
static inline void conv_cl_gemm_run(const conv_cl_plan_t* p, const real_t* restrict w, const real_t* restrict in, real_t* restrict out,
                                    const real_t* restrict addend, real_t* restrict moments, int bf16) {
  const int64_t C = p->source.channels, col_panels = (p->m + GEMM_NR - 1) / GEMM_NR, ld = col_panels * GEMM_NR;
  const int64_t cp = bf16 ? (C + 1) / 2 * 2 : C;  /* values per source pixel */
  /* per image, in source values (bf16 halves: whole 64-byte lines, so pairs stay aligned) */
  const int64_t source_size = bf16 ? (p->source.rows * p->source.cols * cp + 31) / 32 * 32 : (p->source.rows * p->source.cols * C + 15) / 16 * 16;
  const int64_t pixels = p->out_channel, staged_size = pixels * ld;  /* per image */
  real_t* b[p->phases];
  int32_t* pair_shift[p->phases];  /* bf16: shift[t] in pairs of the cp-channel source */
  for (int64_t f = 0; f < p->phases; f++) {
    b[f] = gemm_alloc(col_panels * GEMM_NR * cp * p->phase[f].taps);  /* cp values hold cp / 2 pairs */
    pair_shift[f] = bf16 ? malloc(sizeof(int32_t) * (size_t)(p->phase[f].taps + 1)) : 0;
    for (int64_t t = 0; bf16 && t < p->phase[f].taps; t++) pair_shift[f][t] = (int32_t)(p->phase[f].shift[t] / C * cp / 2);
  }
  double** sums = moments ? calloc((size_t)omp_get_max_threads(), sizeof(double*)) : 0;
  #pragma omp parallel
  {
    double* const thread_sums = conv_moments_begin(sums, p->m);
    for (int64_t f = 0; f < p->phases; f++) {
      const conv_cl_phase_t* ph = &p->phase[f];
      const int64_t K = C * ph->taps;
      #pragma omp for schedule(static) nowait
      for (int64_t jb = 0; jb < col_panels; jb++) {
        real_t* restrict panel = bf16 ? gemm_alloc(GEMM_NR * K) : b[f] + jb * GEMM_NR * K;
        for (int64_t t = 0; t < ph->taps; t++)
          for (int64_t c = 0; c < C; c++)
            for (int64_t j = 0; j < GEMM_NR; j++) {
              const int64_t o = jb * GEMM_NR + j;
              panel[(t * C + c) * GEMM_NR + j] = o < p->m ? w[o * p->weight_row + c * p->weight_channel + ph->tap[t]] : 0;
            }
#ifdef GEMM_BF16_DPBF16
        if (bf16) {
          for (int64_t t = 0; t < ph->taps; t++)
            bf16_pack_pairs(C, GEMM_NR, panel + t * C * GEMM_NR, (uint32_t*)b[f] + (jb * ph->taps + t) * (cp / 2) * GEMM_NR);
          free(panel);
        }
#endif
      }
    }
    #pragma omp barrier
    real_t* restrict source = gemm_alloc(bf16 ? (p->group * source_size + 1) / 2 : p->group * source_size);
    memset(source, 0, sizeof(real_t) * (size_t)(bf16 ? (p->group * source_size + 1) / 2 : p->group * source_size));
    /* bf16: one image's single-precision channels-last copy (conv_cl_fill), rounded from there */
    const int64_t fill_size = bf16 ? p->source.rows * p->source.cols * C : 0;
    real_t* restrict filled = bf16 ? gemm_alloc(fill_size) : 0;
    if (filled) memset(filled, 0, sizeof(real_t) * (size_t)fill_size);
    /* Tiles are written channels-last (staged[g][pixel][o], whole vector rows), then each image
       is transposed into NCHW in 8 x 8 blocks: storing the tiles transposed, value by value,
       measured 10% (forward) to 25% (strided dx, half-empty rows) of the kernel. */
    real_t* restrict staged = gemm_alloc(p->group * staged_size);
    memset(staged, 0, sizeof(real_t) * (size_t)(p->group * staged_size));
    int64_t tiles = 0;  /* per group, to spread the prefetch of the next group over */
    for (int64_t f = 0; f < p->phases; f++) tiles += col_panels * ((p->group * p->phase[f].rows * p->phase[f].cols + GEMM_MR - 1) / GEMM_MR);
    const int64_t groups = (p->images + p->group - 1) / p->group;
    #pragma omp for schedule(static)
    for (int64_t gi = 0; gi < groups; gi++) {
      const int64_t n0 = gi * p->group, count = p->images - n0 < p->group ? p->images - n0 : p->group;
      for (int64_t g = 0; g < count; g++) {
        if (!bf16) { conv_cl_fill(&p->source, in + (n0 + g) * p->image_size, source + g * source_size); continue; }
#ifdef GEMM_BF16_DPBF16
        conv_cl_fill_bf16(&p->source, in + (n0 + g) * p->image_size, filled, cp, (uint16_t*)source + g * source_size);
#endif
      }
      /* the next group's images are prefetched a few lines per tile: its fill then reads cache */
      const int64_t next = n0 + count < p->images ? n0 + count : n0;
      const int64_t next_count = p->images - next < p->group ? p->images - next : p->group;
      const char* ahead = (const char*)(in + next * p->image_size);
      const int64_t lines = (next_count * p->image_size * (int64_t)sizeof(real_t) + 63) / 64, per_tile = tiles > 0 ? (lines + tiles - 1) / tiles : 0;
      int64_t prefetched = 0;
      /* and this group's output lines, for writing: the transposing stores then wait less on memory */
      const char* outward = (const char*)(out + n0 * p->out_image);
      const int64_t out_lines = (count * p->out_image * (int64_t)sizeof(real_t) + 63) / 64, out_per_tile = tiles > 0 ? (out_lines + tiles - 1) / tiles : 0;
      int64_t written = 0;
      for (int64_t f = 0; f < p->phases; f++) {
        const conv_cl_phase_t* ph = &p->phase[f];
        if (ph->taps == 0) continue;  /* no tap reaches it: its pixels stay zero in staged (the addend's in out) */
        const int64_t K = cp * ph->taps, per_image = ph->rows * ph->cols, positions = count * per_image;
        /* a column panel of weights stays in L2 while the group's positions pass it */
        for (int64_t jb = 0; jb < col_panels; jb++) {
          int64_t g = 0, r = 0, c = 0;  /* position u0 is column c of row r of image g: counted, not divided */
          for (int64_t u0 = 0; u0 < positions; u0 += GEMM_MR) {
            int64_t position[GEMM_MR];  /* in source values */
            real_t* row[GEMM_MR];
            const int64_t valid = positions - u0 < GEMM_MR ? positions - u0 : GEMM_MR;
            for (int64_t i = 0; i < GEMM_MR; i++) {
              if (i >= valid) { position[i] = position[i - 1]; row[i] = row[i - 1]; continue; }  /* rows past the end repeat the last */
              position[i] = g * source_size + (r * ph->row_step + c * ph->col_step) * cp;
              row[i] = staged + g * staged_size + (ph->dest_offset + r * ph->dest_row + c * ph->dest_col) * ld + jb * GEMM_NR;
              if (++c == ph->cols) { c = 0; if (++r == ph->rows) { r = 0; g++; } }
            }
            for (int64_t l = 0; l < per_tile && prefetched < lines; l++, prefetched++) __builtin_prefetch(ahead + prefetched * 64);
            for (int64_t l = 0; l < out_per_tile && written < out_lines; l++, written++) __builtin_prefetch(outward + written * 64, 1);
            if (!bf16) {
              const real_t* window[GEMM_MR];
              for (int i = 0; i < GEMM_MR; i++) window[i] = source + position[i];
              conv_cl_micro_rows(ph->taps, C, ph->shift, window, b[f] + jb * GEMM_NR * K, row);
              continue;
            }
#ifdef GEMM_BF16_DPBF16
            const uint32_t* pairs[GEMM_MR];  /* base(i) is even: whole pairs */
            for (int i = 0; i < GEMM_MR; i++) pairs[i] = (const uint32_t*)((const uint16_t*)source + position[i]);
            gemm_bf16_tap_rows(ph->taps, cp / 2, pair_shift[f], pairs, (const uint32_t*)b[f] + jb * GEMM_NR * K / 2, row);
#endif
          }
        }
      }
      for (int64_t g = 0; g < count; g++) {
        const int64_t at = (n0 + g) * p->out_image;
        conv_cl_unstage(p->m, pixels, ld, staged + g * staged_size, out + at, addend ? addend + at : 0);
        if (thread_sums) conv_moments_add(p->m, p->out_channel, out + at, thread_sums);
      }
    }
    free(staged);
    free(filled);
    free(source);
    conv_moments_finish(p->m, (double)(p->images * p->out_channel), sums, moments);
  }
  free(sums);
  for (int64_t f = 0; f < p->phases; f++) { free(b[f]); free(pair_shift[f]); }
}

/* The channels-last convolution in real_t (forward, backward data). */
static void conv_cl_gemm(const conv_cl_plan_t* p, const real_t* restrict w, const real_t* restrict in, real_t* restrict out,
                         const real_t* restrict addend, real_t* restrict moments) {
  conv_cl_gemm_run(p, w, in, out, addend, moments, 0);
}

#ifdef GEMM_BF16_DPBF16
/* The same convolution on bf16 operands with single-precision sums (gemm_bf16.h): bf16 builds. */
static void conv_cl_gemm_bf16(const conv_cl_plan_t* p, const real_t* restrict w, const real_t* restrict in, real_t* restrict out,
                              const real_t* restrict addend, real_t* restrict moments) {
  conv_cl_gemm_run(p, w, in, out, addend, moments, 1);
}
#endif

#ifndef CONV_CL_WEIGHT_MR
#define CONV_CL_WEIGHT_MR GEMM_MR
#endif
/* CONV_CL_WEIGHT_EACH_ROW(X) is X(0) ... X(CONV_CL_WEIGHT_MR - 1), as GEMM_EACH_ROW. AVX2 builds
   take 6 rows (12 accumulators of 16) where GEMM_MR is 4: each 64-byte line of the source then
   feeds 12 FMAs, not 8. In a harness W1's stride-2 dws took 4-18% less time (layer3.0.conv1
   15.5-15.7 ms a call against 13.0-13.1; AMD EPYC Zen 3, 2 threads, best of 6 calls in two
   rounds); in the step, layer3.0.conv1's 31.4-35.0 ms against 27.7-28.6. */
#if CONV_CL_WEIGHT_MR == 8
#define CONV_CL_WEIGHT_EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#elif CONV_CL_WEIGHT_MR == 6
#define CONV_CL_WEIGHT_EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5)
#elif CONV_CL_WEIGHT_MR == 4
#define CONV_CL_WEIGHT_EACH_ROW(X) X(0) X(1) X(2) X(3)
#else
#error "CONV_CL_WEIGHT_MR must be 8, 6 or 4"
#endif

/* Row i of the tile += du[i] * (b0, b1). */
#define CONV_CL_WEIGHT_FMA_ROW(i) c##i##_0 += du[i] * b0; c##i##_1 += du[i] * b1;
/* Row i of the tile added to sum[i][0 .. GEMM_NR) (stride ld). */
#define CONV_CL_WEIGHT_ADD_ROW(i) *(vec_t*)(sum + i * ld) += c##i##_0; *(vec_t*)(sum + i * ld + GEMM_LANES) += c##i##_1;

/* sum[i][j] += sum over positions u < count of d[u * d_stride + i] * s[offset[u] + j], for the
   rows i that EACH_ROW lists (output channels, dy copied channels-last) and the GEMM_NR columns j
   (input channels, whole lines of the source) of a tile: conv_cl_weight_tile has GEMM_MR rows (the
   Winograd weight gradients' per-point GEMMs step over output channels by GEMM_MR),
   conv_cl_weight_tall_tile CONV_CL_WEIGHT_MR (conv_cl_weight_gemm's single-precision tiles). */
#define CONV_CL_WEIGHT_TILE_FUNCTION(name, EACH_ROW)                                                    \
  static inline void name(int64_t count, const int32_t* restrict offset, const real_t* restrict s,     \
                          const real_t* restrict d, int64_t d_stride, real_t* restrict sum, int64_t ld) { \
    EACH_ROW(GEMM_ZERO_ROW)                                                                             \
    for (int64_t u = 0; u < count; u++) {                                                               \
      const real_t* restrict su = s + offset[u];                                                        \
      const vec_t b0 = *(const vec_t*)su, b1 = *(const vec_t*)(su + GEMM_LANES);                        \
      const real_t* restrict du = d + u * d_stride;                                                     \
      EACH_ROW(CONV_CL_WEIGHT_FMA_ROW)                                                                  \
    }                                                                                                   \
    EACH_ROW(CONV_CL_WEIGHT_ADD_ROW)                                                                    \
  }
CONV_CL_WEIGHT_TILE_FUNCTION(conv_cl_weight_tile, GEMM_EACH_ROW)
CONV_CL_WEIGHT_TILE_FUNCTION(conv_cl_weight_tall_tile, CONV_CL_WEIGHT_EACH_ROW)

#ifdef GEMM_BF16_DPBF16
/* panel[k][j] = the pair (s[offset[2k] + j], s[offset[2k + 1] + j]) of bf16 halves, j < GEMM_NR:
   two positions' channels interleaved, the B panel of one tap and GEMM_NR channels. */
static void conv_cl_interleave_positions(int64_t pairs, const int32_t* restrict offset, const uint16_t* restrict s, uint32_t* restrict panel) {
  for (int64_t k = 0; k < pairs; k++) {
    const uint16_t* restrict even = s + offset[2 * k];
    const uint16_t* restrict odd = s + offset[2 * k + 1];
    for (int64_t j = 0; j < GEMM_NR; j++) panel[k * GEMM_NR + j] = (uint32_t)even[j] | (uint32_t)odd[j] << 16;
  }
}

/* dy[o][u] of one image rounded into pairs of positions along o's row: out[o * ld + k] holds
   positions 2k (low half) and 2k + 1, the last pair of an odd count padded with zero. The pairs
   bf16_pack_pairs makes of a one-column panel, rounded as one run of halves (bf16_round_run):
   bf16_pack_pairs(PQ, 1, ...) per row ran W1's layer2.0.conv1 dw at 15.9-18.2 ms per step against
   12.7-14.2 for a loop that vectorised (2 rounds, busy host). */
static void conv_cl_round_position_pairs(int64_t m, int64_t positions, const real_t* restrict dy, uint32_t* restrict out, int64_t ld) {
  for (int64_t o = 0; o < m; o++) {
    const real_t* restrict row = dy + o * positions;
    uint32_t* restrict pairs = out + o * ld;
    bf16_round_run(positions / 2 * 2, row, pairs);  /* pair k's halves are positions 2k and 2k + 1 */
    if (positions % 2) pairs[positions / 2] = bf16_round_bits(row[positions - 1]) >> 16;
  }
}
#endif

typedef struct {
  int64_t images, m, taps;  /* dw is m x (channels x taps); channels a multiple of GEMM_NR */
  const int32_t* shift;     /* per tap: source offset, in values */
  conv_cl_source_t source;
  int64_t out_rows, out_cols, stride;  /* positions (r, c) read the source from (r * stride, c * stride) */
  int64_t group, image_size, dy_image;
} conv_cl_weight_plan_t;

/* dw[o][c][t] = sum over images and positions u of dy[o][u] * source[base(u) + shift[t] + c]:
   a tile is CONV_CL_WEIGHT_MR output channels against GEMM_NR input channels at one tap (GEMM_MR
   in bf16), dy copied channels-last.
   Threads take contiguous ranges of images into private partials ([t][o][c]), added in thread
   order, so the result repeats exactly for a fixed thread count.
   bf16 (bf16 builds only, conv_cl_weight_gemm_bf16): the sum runs over pairs of positions. The
   source is rounded to bf16 halves, dy to pairs along each output channel's row (rows[o][k] over
   the group's images, each image's positions padded to even with zero; the pad reads a zeroed
   source past the group's images). Per tap and GEMM_NR channels, the two positions of each pair
   are interleaved once into a B panel that every row panel's tile then reads
   (gemm_bf16_micro_tile_into, adding to the partial). Interleaving inside the tile, once per row
   panel, was slower: W1's stride-2 dws took 12.7-16.1 ms per step against 11.2-14.6 (19.6-21.3 in
   single precision). */
static void conv_cl_weight_gemm_run(const conv_cl_weight_plan_t* p, const real_t* restrict dy, const real_t* restrict x, real_t* restrict dw,
                                    int bf16) {
  const int64_t C = p->source.channels, T = p->taps, J = C * T, PQ = p->out_rows * p->out_cols;
  const int64_t mr = bf16 ? GEMM_MR : CONV_CL_WEIGHT_MR;  /* rows of the tile: output channels */
  const int64_t row_panels = (p->m + mr - 1) / mr, ldm = row_panels * mr;
  const int64_t pixels = p->source.rows * p->source.cols;
  /* per image, in source values (bf16 halves: whole 64-byte lines) */
  const int64_t source_size = bf16 ? (pixels * C + 31) / 32 * 32 : (pixels * C + 15) / 16 * 16;
  const int64_t pairs = (PQ + 1) / 2, positions = bf16 ? 2 * pairs : PQ;  /* per image, as summed */
  real_t** partials = calloc((size_t)omp_get_max_threads(), sizeof(real_t*));
  #pragma omp parallel
  {
    const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
    real_t* restrict partial = gemm_alloc(T * ldm * C);
    memset(partial, 0, sizeof(real_t) * (size_t)(T * ldm * C));
    partials[thread] = partial;
    /* bf16: one image's single-precision copy, rounded from there; a zeroed image past the group */
    const int64_t source_values = bf16 ? ((p->group + 1) * source_size + 1) / 2 : p->group * source_size;
    real_t* restrict source = gemm_alloc(source_values);
    memset(source, 0, sizeof(real_t) * (size_t)source_values);
    real_t* restrict filled = bf16 ? gemm_alloc(pixels * C) : 0;
    if (filled) memset(filled, 0, sizeof(real_t) * (size_t)(pixels * C));
    /* dy channels-last, one contiguous block per row panel (rows[ib][u][i]): the block stays in
       L1 while the source lines of every (tap, 32 channels) pass it. bf16: pair rows [o][k]. */
    const int64_t block = p->group * PQ * mr, pair_row = p->group * pairs;
    const int64_t rows_values = bf16 ? ldm * pair_row : row_panels * block;
    real_t* restrict rows = gemm_alloc(rows_values);
    memset(rows, 0, sizeof(real_t) * (size_t)rows_values);
    int32_t* offset = malloc(sizeof(int32_t) * (size_t)(p->group * positions));
    uint32_t* b_panel = bf16 ? gemm_alloc(p->group * pairs * GEMM_NR) : 0;
    for (int64_t u = 0; u < p->group * positions; u++) {
      const int64_t g = u / positions, v = u % positions, r = v / p->out_cols, c = v % p->out_cols;
      offset[u] = (int32_t)(v < PQ ? g * source_size + (r * p->stride * p->source.cols + c * p->stride) * C : p->group * source_size);
    }
    const int64_t first = p->images * thread / threads, last = p->images * (thread + 1) / threads;
    for (int64_t n0 = first; n0 < last; n0 += p->group) {
      const int64_t count = last - n0 < p->group ? last - n0 : p->group;
      for (int64_t g = 0; g < count; g++) {
        const real_t* restrict d = dy + (n0 + g) * p->dy_image;
        if (bf16) {
#ifdef GEMM_BF16_DPBF16
          conv_cl_fill_bf16(&p->source, x + (n0 + g) * p->image_size, filled, C, (uint16_t*)source + g * source_size);
          conv_cl_round_position_pairs(p->m, PQ, d, (uint32_t*)rows + g * pairs, pair_row);
#endif
          continue;
        }
        conv_cl_fill(&p->source, x + (n0 + g) * p->image_size, source + g * source_size);
        int64_t o0 = 0;
#if CONV_CL_WEIGHT_MR == 8
        /* whole 8 x 8 blocks through registers: the gathered copy measured 10-15% of the kernel */
        for (; o0 + 8 <= p->m; o0 += 8) {
          real_t* restrict panel = rows + o0 / mr * block + g * PQ * mr;
          int64_t u0 = 0;
          for (; u0 + 8 <= PQ; u0 += 8) {
            lanes_source_t r[8], out[8];
            for (int i = 0; i < 8; i++) r[i] = *(const lanes_source_t*)(d + (o0 + i) * PQ + u0);
            conv_cl_transpose8(r, out);
            for (int j = 0; j < 8; j++) *(lanes_source_t*)(panel + (u0 + j) * mr) = out[j];
          }
          for (int64_t u = u0; u < PQ; u++)
            for (int64_t i = 0; i < 8; i++) panel[u * mr + i] = d[(o0 + i) * PQ + u];
        }
#endif
        for (int64_t o = o0; o < p->m; o++)
          for (int64_t u = 0; u < PQ; u++) rows[o / mr * block + (g * PQ + u) * mr + o % mr] = d[o * PQ + u];
      }
      /* The thread's next images (x and dy) are prefetched a few lines per tile: copying them
         in then reads cache, not memory (the copies measured 15-20% of the kernel without). */
      const int64_t next = n0 + count < last ? n0 + count : n0, next_count = last - next < p->group ? last - next : p->group;
      const char* ahead_x = (const char*)(x + next * p->image_size);
      const char* ahead_dy = (const char*)(dy + next * p->dy_image);
      const int64_t x_lines = (next_count * p->image_size * (int64_t)sizeof(real_t) + 63) / 64;
      const int64_t dy_lines = (next_count * p->dy_image * (int64_t)sizeof(real_t) + 63) / 64;
      const int64_t tiles = row_panels * T * ((C + GEMM_NR - 1) / GEMM_NR);
      const int64_t x_per_tile = (x_lines + tiles - 1) / tiles, dy_per_tile = (dy_lines + tiles - 1) / tiles;
      int64_t x_done = 0, dy_done = 0;
      for (int64_t ib = 0; ib < row_panels && !bf16; ib++)
        for (int64_t t = 0; t < T; t++)
          for (int64_t c0 = 0; c0 < C; c0 += GEMM_NR) {
            for (int64_t l = 0; l < x_per_tile && x_done < x_lines; l++, x_done++) __builtin_prefetch(ahead_x + x_done * 64);
            for (int64_t l = 0; l < dy_per_tile && dy_done < dy_lines; l++, dy_done++) __builtin_prefetch(ahead_dy + dy_done * 64);
            conv_cl_weight_tall_tile(count * PQ, offset, source + p->shift[t] + c0, rows + ib * block, mr,
                                partial + (t * ldm + ib * mr) * C + c0, C);
          }
#ifdef GEMM_BF16_DPBF16
      for (int64_t t = 0; t < T && bf16; t++)
        for (int64_t c0 = 0; c0 < C; c0 += GEMM_NR) {
          conv_cl_interleave_positions(count * pairs, offset, (const uint16_t*)source + p->shift[t] + c0, b_panel);
          for (int64_t ib = 0; ib < row_panels; ib++) {
            for (int64_t l = 0; l < x_per_tile && x_done < x_lines; l++, x_done++) __builtin_prefetch(ahead_x + x_done * 64);
            for (int64_t l = 0; l < dy_per_tile && dy_done < dy_lines; l++, dy_done++) __builtin_prefetch(ahead_dy + dy_done * 64);
            const uint32_t* pair_rows[GEMM_MR];
            for (int i = 0; i < GEMM_MR; i++) pair_rows[i] = (const uint32_t*)rows + (ib * GEMM_MR + i) * pair_row;
            gemm_bf16_micro_tile_into(count * pairs, pair_rows, 1, b_panel, GEMM_NR, partial + (t * ldm + ib * GEMM_MR) * C + c0, C, 1);
          }
        }
#endif
    }
    #pragma omp barrier
    #pragma omp for schedule(static)
    for (int64_t e = 0; e < p->m * J; e++) {
      const int64_t o = e / J, c = e % J / T, t = e % T;
      real_t sum = 0;
      for (int th = 0; th < threads; th++) sum += partials[th][(t * ldm + o) * C + c];
      dw[e] = sum;
    }
    free(b_panel);
    free(offset);
    free(rows);
    free(filled);
    free(source);
    free(partial);
  }
  free(partials);
}

/* The channels-last weight gradient in real_t. */
static void conv_cl_weight_gemm(const conv_cl_weight_plan_t* p, const real_t* restrict dy, const real_t* restrict x, real_t* restrict dw) {
  conv_cl_weight_gemm_run(p, dy, x, dw, 0);
}

#ifdef GEMM_BF16_DPBF16
/* The same weight gradient on bf16 operands with single-precision sums (gemm_bf16.h): bf16 builds. */
static void conv_cl_weight_gemm_bf16(const conv_cl_weight_plan_t* p, const real_t* restrict dy, const real_t* restrict x, real_t* restrict dw) {
  conv_cl_weight_gemm_run(p, dy, x, dw, 1);
}
#endif

#endif /* SIMSIAM_CONV_CHANNELS_LAST_H */
