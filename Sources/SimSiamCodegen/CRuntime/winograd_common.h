/* winograd_common.h: the parts of the Winograd convolutions (winograd.h) that do not depend on
   the transform, so that a program running both F(2x2, 3x3) and F(4x4, 3x3) (two copies of
   winograd.h, the second with its names carrying the tile) holds them once: prefetches of the
   next images, the padded stride between the points of a transformed block, and the store of
   channels-last outputs into NCHW.

   Needs gemm.h and conv_channels_last.h (lanes_source_t, conv_cl_transpose8). */
#ifndef SIMSIAM_WINOGRAD_COMMON_H
#define SIMSIAM_WINOGRAD_COMMON_H

#include "gemm.h"
#include "conv_channels_last.h"

/* Prefetches of the next images, a few lines per GEMM point: their copies then read cache. */
typedef struct { const char* next; int64_t lines, per_step, done; } winograd_prefetch_t;

static inline winograd_prefetch_t winograd_prefetch_plan(const void* next, int64_t bytes, int64_t steps) {
  const int64_t lines = (bytes + 63) / 64;
  return (winograd_prefetch_t){.next = next, .lines = lines, .per_step = (lines + steps - 1) / steps, .done = 0};
}

static inline void winograd_prefetch_step(winograd_prefetch_t* f) {
  for (int64_t l = 0; l < f->per_step && f->done < f->lines; l++, f->done++) __builtin_prefetch(f->next + f->done * 64);
}

/* The stride between the points of a transformed block of `elements` per point (each of `size`
   bytes): one cache line more, so that the values of a tile's points, written or read together,
   fall into different L1 sets. Unpadded, the strides are multiples of 2 KB (W1's 32 channels x 48
   tiles: 6 KB; W2's shared dw chunks: 256 KB and up), which put a tile's points into one or two
   sets, evicting each other. Padded, in a C harness (2 threads, best of 7 calls, AMD EPYC Zen 4,
   best of three alternating rounds): W1's Winograd forwards 2-7% faster, W2's 4-5% (forwards) and
   6-9% (dws). */
static inline int64_t winograd_point_stride(int64_t elements, int64_t size) {
  return elements + 64 / size;
}

/* out[n][o][h][w] = channels-last y[h][w][o] (+ addend), eight channels by eight pixels through
   registers; y holds ld values per pixel and at least seven pixels past each row's end. Eight
   channels at a time, whole planes: eight write streams instead of one per channel. */
static void winograd_store(int64_t m, int64_t height, int64_t width, const real_t* restrict y, int64_t y_cols, int64_t ld,
                       real_t* restrict out, const real_t* restrict addend) {
  const int64_t plane = height * width;
  for (int64_t j0 = 0; j0 < m; j0 += 8)
    for (int64_t h = 0; h < height; h++)
      for (int64_t w0 = 0; w0 < width; w0 += 8) {
        lanes_source_t r[8], c[8];
        for (int q = 0; q < 8; q++) r[q] = *(const lanes_source_t*)(y + (h * y_cols + w0 + q) * ld + j0);
        conv_cl_transpose8(r, c);
        const int64_t pixels = width - w0 < 8 ? width - w0 : 8, channels = m - j0 < 8 ? m - j0 : 8;
        for (int64_t j = 0; j < channels; j++) {
          real_t* restrict dst = out + (j0 + j) * plane + h * width + w0;
          const real_t* restrict add = addend ? addend + (j0 + j) * plane + h * width + w0 : 0;
          if (pixels == 8 && add) *(lanes_source_t*)dst = c[j] + *(const lanes_source_t*)add;
          else if (pixels == 8) *(lanes_source_t*)dst = c[j];
          else for (int64_t q = 0; q < pixels; q++) dst[q] = c[j][q] + (add ? add[q] : 0);
        }
      }
}

#endif /* SIMSIAM_WINOGRAD_COMMON_H */
