/// The C of the Winograd convolution F(m x m, 3x3) (Lavin & Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2016), for 3x3 kernels at stride 1, padding 1.
///
/// An (m+2)x(m+2) window d of the input gives an m x m tile of the output as
/// `A^T [(G g G^T) . (B^T d B)] A`: (m+2)^2 products per input and output channel
/// pair where the direct convolution needs 9 m^2. Each thread copies a few images
/// into zero-padded channels-last sources (as the channels-last convolution does),
/// transforms a block of tiles into `v[point][tile][c]`, runs one GEMM per point of
/// the transform against the transformed kernels `u[point][c][o]` (the shared
/// micro-kernel), transforms the products back into channels-last outputs and
/// stores them transposed into NCHW. Weight gradients run the same transforms
/// backwards: `G^T [sum over tiles of (A dy A^T) . (B^T x B)] G`.
///
/// Every output value is computed by one thread in a fixed order, so results do
/// not depend on the thread count.
enum ConvWinograd {
    /// The tile size in use. F(2x2, 3x3) rounds like the direct convolution (max
    /// error 2.3e-7 to 3.8e-7 of max|y| against float64 on W1's 3x3 layers, direct
    /// 4.3e-7 to 9.1e-7). F(4x4, 3x3) does 44% fewer FMAs but rounds 5-10x worse than
    /// the direct kernels (3.8e-6 to 4.3e-6), and with it `scripts/check_step.py` failed
    /// on W2 at batch 8 (randomised BN affine: weight gradients off by up to 4.8e-2).
    static let transform = WinogradTransform.f2x2

    static func source(_ tile: RegisterTile) -> String {
        let t = tile.precision.cType, lanes = tile.lanes
        return """
            /* ===== Winograd convolution F(\(transform.m)x\(transform.m), 3x3) =====
               Stride 1, padding 1. Per WINO_N x WINO_N input window d: v = B^T d B (WINO_POINTS points), per
               point a GEMM over input channels with u = G g G^T, and the WINO_M x WINO_M output tile A^T m A. */
            enum { WINO_M = \(transform.m), WINO_N = \(transform.n), WINO_POINTS = \(transform.n * transform.n) };

            typedef struct {
              int64_t images, channels, m;         /* input channels (whole vectors), output channels */
              int64_t height, width;               /* of input and output */
              int64_t weight_row, weight_channel;  /* g[o][c][tap] = w[o * weight_row + c * weight_channel + tap] */
              int64_t flip;                        /* 1: tap 8 - t, the kernel rotated by 180 degrees (dx) */
              int64_t tiles_h, tiles_w;            /* WINO_M x WINO_M output tiles per image */
              int64_t group, block;                /* images per pass; tiles per GEMM block (a multiple of GEMM_MR) */
            } conv_wino_plan_t;

            \(transform.cFunctions)
            /* u = G g G^T for one 3 x 3 kernel g (row-major), in double: the kernels are transformed once
               per call, and rounded once, at the store. */
            static void wino_kernel(const double* g, double* u) {
              double t[WINO_N * 3];
              for (int j = 0; j < 3; j++) wino_kernel_1d(g + j, 3, t + j, 3);
              for (int i = 0; i < WINO_N; i++) wino_kernel_1d(t + i * 3, 1, u + i * WINO_N, 1);
            }

            /* Prefetches of the next images, a few lines per GEMM point: their copies then read cache. */
            typedef struct { const char* next; int64_t lines, per_step, done; } wino_prefetch_t;

            static inline wino_prefetch_t wino_prefetch_plan(const void* next, int64_t bytes, int64_t steps) {
              const int64_t lines = (bytes + 63) / 64;
              return (wino_prefetch_t){.next = next, .lines = lines, .per_step = (lines + steps - 1) / steps, .done = 0};
            }

            static inline void wino_prefetch_step(wino_prefetch_t* f) {
              for (int64_t l = 0; l < f->per_step && f->done < f->lines; l++, f->done++) __builtin_prefetch(f->next + f->done * 64);
            }

            /* v[point][c0..] = B^T d B for the WINO_N x WINO_N window d at s (channels-last): columns,
               then rows. */
            static inline void wino_input_tile(const \(t)* restrict s, int64_t cols, int64_t C, int64_t c0, \(t)* restrict v, int64_t point_stride) {
              vec_t d[WINO_POINTS], e[WINO_POINTS], o[WINO_N];
              for (int r = 0; r < WINO_N; r++)
                for (int q = 0; q < WINO_N; q++) d[r * WINO_N + q] = *(const vec_t*)(s + (r * cols + q) * C + c0);
              for (int q = 0; q < WINO_N; q++) wino_input_1d(d + q, WINO_N, e + q, WINO_N);
              for (int r = 0; r < WINO_N; r++) {
                wino_input_1d(e + r * WINO_N, 1, o, 1);
                for (int q = 0; q < WINO_N; q++) *(vec_t*)(v + (r * WINO_N + q) * point_stride + c0) = o[q];
              }
            }

            /* The WINO_M x WINO_M output tile A^T m A of products m (point_stride apart) into y (channels-last
               rows of y_cols pixels, ld values per pixel). */
            static inline void wino_output_tile(const \(t)* restrict m, int64_t point_stride, \(t)* restrict y, int64_t y_cols, int64_t ld) {
              vec_t p[WINO_POINTS], e[WINO_M * WINO_N], o[WINO_M];
              for (int k = 0; k < WINO_POINTS; k++) p[k] = *(const vec_t*)(m + k * point_stride);
              for (int q = 0; q < WINO_N; q++) wino_output_1d(p + q, WINO_N, e + q, WINO_N);
              for (int r = 0; r < WINO_M; r++) {
                wino_output_1d(e + r * WINO_N, 1, o, 1);
                for (int q = 0; q < WINO_M; q++) *(vec_t*)(y + (r * y_cols + q) * ld) = o[q];
              }
            }

            /* out[n][o][h][w] = channels-last y[h][w][o] (+ addend), eight channels by eight pixels through
               registers; y holds ld values per pixel and at least seven pixels past each row's end. Eight
               channels at a time, whole planes: eight write streams instead of one per channel (W1
               layer1, 32 channels: 3.0-3.5 -> 1.4-1.8 ms per 128 images). */
            static void wino_store(int64_t m, int64_t height, int64_t width, const \(t)* restrict y, int64_t y_cols, int64_t ld,
                                   \(t)* restrict out, const \(t)* restrict addend) {
              const int64_t plane = height * width;
              for (int64_t j0 = 0; j0 < m; j0 += 8)
                for (int64_t h = 0; h < height; h++)
                  for (int64_t w0 = 0; w0 < width; w0 += 8) {
                    lanes_source_t r[8], c[8];
                    for (int q = 0; q < 8; q++) r[q] = *(const lanes_source_t*)(y + (h * y_cols + w0 + q) * ld + j0);
                    conv_cl_transpose8(r, c);
                    const int64_t pixels = width - w0 < 8 ? width - w0 : 8, channels = m - j0 < 8 ? m - j0 : 8;
                    for (int64_t j = 0; j < channels; j++) {
                      \(t)* restrict dst = out + (j0 + j) * plane + h * width + w0;
                      const \(t)* restrict add = addend ? addend + (j0 + j) * plane + h * width + w0 : 0;
                      if (pixels == 8 && add) *(lanes_source_t*)dst = c[j] + *(const lanes_source_t*)add;
                      else if (pixels == 8) *(lanes_source_t*)dst = c[j];
                      else for (int64_t q = 0; q < pixels; q++) dst[q] = c[j][q] + (add ? add[q] : 0);
                    }
                  }
            }

            /* out = conv(in, w) (+ addend), and out's batch statistics into moments [2][m] when moments is not
               null. Threads take whole groups of images. */
            static void conv_wino(const conv_wino_plan_t* p, const \(t)* restrict w, const \(t)* restrict in, \(t)* restrict out,
                                  const \(t)* restrict addend, \(t)* restrict moments) {
              const int64_t C = p->channels, panels = (p->m + GEMM_NR - 1) / GEMM_NR, O = panels * GEMM_NR;
              const int64_t T = p->tiles_h * p->tiles_w, TB = p->block, plane = p->height * p->width;
              const conv_cl_source_t src = {.channels = C, .height = p->height, .width = p->width, .pad_top = 1, .pad_left = 1,
                                            .rows = p->tiles_h * WINO_M + 2, .cols = p->tiles_w * WINO_M + 2};
              const int64_t source_size = (src.rows * src.cols * C + 15) / 16 * 16;
              const int64_t y_rows = p->tiles_h * WINO_M, y_cols = p->tiles_w * WINO_M, y_size = y_rows * y_cols * O;
              /* u[point][panel][c][j]: the transformed kernels as the GEMMs' B panels, zero past m */
              \(t)* restrict u = gemm_alloc(WINO_POINTS * O * C);
              double** sums = moments ? calloc((size_t)omp_get_max_threads(), sizeof(double*)) : 0;
              #pragma omp parallel
              {
                double* const thread_sums = conv_moments_begin(sums, p->m);
                #pragma omp for schedule(static)
                for (int64_t e = 0; e < O * C; e++) {
                  const int64_t o = e / C, c = e % C;
                  double g[9], transformed[WINO_POINTS];
                  for (int k = 0; k < 9; k++) g[k] = o < p->m ? w[o * p->weight_row + c * p->weight_channel + (p->flip ? 8 - k : k)] : 0;
                  wino_kernel(g, transformed);
                  for (int k = 0; k < WINO_POINTS; k++) u[((k * panels + o / GEMM_NR) * C + c) * GEMM_NR + o % GEMM_NR] = (\(t))transformed[k];
                }
                \(t)* restrict source = gemm_alloc(p->group * source_size);
                memset(source, 0, sizeof(\(t)) * (size_t)(p->group * source_size));
                \(t)* restrict v = gemm_alloc(WINO_POINTS * TB * C);                 /* v[point][tile][c] */
                \(t)* restrict products = gemm_alloc(WINO_POINTS * panels * TB * GEMM_NR);  /* [point][panel][tile][j] */
                \(t)* restrict y = gemm_alloc(p->group * y_size + 8 * O);   /* channels-last outputs, 8 pixels of slack */
                const int32_t no_shift = 0;
                const int64_t groups = (p->images + p->group - 1) / p->group;
                #pragma omp for schedule(static)
                for (int64_t gi = 0; gi < groups; gi++) {
                  const int64_t n0 = gi * p->group, count = p->images - n0 < p->group ? p->images - n0 : p->group, tiles = count * T;
                  for (int64_t g = 0; g < count; g++) conv_cl_fill(&src, in + (n0 + g) * C * plane, source + g * source_size);
                  const int64_t next = n0 + count < p->images ? n0 + count : n0, next_count = p->images - next < p->group ? p->images - next : p->group;
                  wino_prefetch_t ahead = wino_prefetch_plan(in + next * C * plane, next_count * C * plane * (int64_t)sizeof(\(t)),
                                                             WINO_POINTS * ((tiles + TB - 1) / TB));
                  for (int64_t t0 = 0; t0 < tiles; t0 += TB) {
                    const int64_t valid = tiles - t0 < TB ? tiles - t0 : TB, rows = (valid + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
                    for (int64_t i = 0; i < rows; i++) {  /* rows past the end repeat the last tile */
                      const int64_t tile = t0 + (i < valid ? i : valid - 1), g = tile / T, th = tile % T / p->tiles_w, tw = tile % p->tiles_w;
                      const \(t)* restrict s = source + g * source_size + (th * WINO_M * src.cols + tw * WINO_M) * C;
                      for (int64_t c0 = 0; c0 < C; c0 += \(lanes)) wino_input_tile(s, src.cols, C, c0, v + i * C, TB * C);
                    }
                    for (int64_t k = 0; k < WINO_POINTS; k++) {
                      wino_prefetch_step(&ahead);
                      for (int64_t jb = 0; jb < panels; jb++)
                        for (int64_t i0 = 0; i0 < rows; i0 += GEMM_MR) {
                          const \(t)* position[GEMM_MR];
                          for (int64_t i = 0; i < GEMM_MR; i++) position[i] = v + (k * TB + i0 + i) * C;
                          conv_cl_micro_tile(1, C, &no_shift, position, u + (k * panels + jb) * C * GEMM_NR,
                                             products + ((k * panels + jb) * TB + i0) * GEMM_NR);
                        }
                    }
                    for (int64_t i = 0; i < valid; i++) {
                      const int64_t tile = t0 + i, g = tile / T, th = tile % T / p->tiles_w, tw = tile % p->tiles_w;
                      \(t)* restrict yt = y + g * y_size + (th * WINO_M * y_cols + tw * WINO_M) * O;
                      for (int64_t j0 = 0; j0 < O; j0 += \(lanes))
                        wino_output_tile(products + ((j0 / GEMM_NR) * TB + i) * GEMM_NR + j0 % GEMM_NR, panels * TB * GEMM_NR, yt + j0, y_cols, O);
                    }
                  }
                  for (int64_t g = 0; g < count; g++) {
                    \(t)* restrict o = out + (n0 + g) * p->m * plane;
                    wino_store(p->m, p->height, p->width, y + g * y_size, y_cols, O, o, addend ? addend + (n0 + g) * p->m * plane : 0);
                    if (thread_sums) conv_moments_add(p->m, plane, o, thread_sums);
                  }
                }
                free(y);
                free(products);
                free(v);
                free(source);
                conv_moments_finish(p->m, (double)(p->images * plane), sums, moments);
              }
              free(sums);
              free(u);
            }

            /* z[point][o0..] = A dy A^T for the WINO_M x WINO_M tile of dy at s (channels-last, ld values
               per pixel). */
            static inline void wino_gradient_tile(const \(t)* restrict s, int64_t cols, int64_t ld, int64_t o0, \(t)* restrict z, int64_t point_stride) {
              vec_t d[WINO_M * WINO_M], e[WINO_N * WINO_M], o[WINO_N];
              for (int r = 0; r < WINO_M; r++)
                for (int q = 0; q < WINO_M; q++) d[r * WINO_M + q] = *(const vec_t*)(s + (r * cols + q) * ld + o0);
              for (int q = 0; q < WINO_M; q++) wino_gradient_1d(d + q, WINO_M, e + q, WINO_M);
              for (int r = 0; r < WINO_N; r++) {
                wino_gradient_1d(e + r * WINO_M, 1, o, 1);
                for (int q = 0; q < WINO_N; q++) *(vec_t*)(z + (r * WINO_N + q) * point_stride + o0) = o[q];
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
               result repeats exactly for a fixed thread count. */
            static void conv_wino_weight(const conv_wino_weight_plan_t* p, const \(t)* restrict dy, const \(t)* restrict x, \(t)* restrict dw) {
              const int64_t C = p->channels, O = p->m, T = p->tiles_h * p->tiles_w, TB = p->block, plane = p->height * p->width;
              const conv_cl_source_t xs = {.channels = C, .height = p->height, .width = p->width, .pad_top = 1, .pad_left = 1,
                                           .rows = p->tiles_h * WINO_M + 2, .cols = p->tiles_w * WINO_M + 2};
              const conv_cl_source_t ds = {.channels = O, .height = p->height, .width = p->width, .pad_top = 0, .pad_left = 0,
                                           .rows = p->tiles_h * WINO_M, .cols = p->tiles_w * WINO_M};
              const int64_t x_size = (xs.rows * xs.cols * C + 15) / 16 * 16, d_size = (ds.rows * ds.cols * O + 15) / 16 * 16;
              \(t)** partials = calloc((size_t)omp_get_max_threads(), sizeof(\(t)*));
              #pragma omp parallel
              {
                const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
                \(t)* restrict partial = gemm_alloc(WINO_POINTS * O * C);  /* du[point][o][c] */
                memset(partial, 0, sizeof(\(t)) * (size_t)(WINO_POINTS * O * C));
                partials[thread] = partial;
                \(t)* restrict x_source = gemm_alloc(p->group * x_size);
                \(t)* restrict dy_source = gemm_alloc(p->group * d_size);  /* zero past the map: no gradient there */
                memset(x_source, 0, sizeof(\(t)) * (size_t)(p->group * x_size));
                memset(dy_source, 0, sizeof(\(t)) * (size_t)(p->group * d_size));
                \(t)* restrict v = gemm_alloc(WINO_POINTS * TB * C);  /* v[point][tile][c] */
                \(t)* restrict z = gemm_alloc(WINO_POINTS * TB * O);  /* z[point][tile][o] */
                int32_t* offset = malloc(sizeof(int32_t) * (size_t)TB);
                for (int64_t i = 0; i < TB; i++) offset[i] = (int32_t)(i * C);
                const int64_t first = p->images * thread / threads, last = p->images * (thread + 1) / threads;
                for (int64_t n0 = first; n0 < last; n0 += p->group) {
                  const int64_t count = last - n0 < p->group ? last - n0 : p->group, tiles = count * T;
                  for (int64_t g = 0; g < count; g++) {
                    conv_cl_fill(&xs, x + (n0 + g) * C * plane, x_source + g * x_size);
                    conv_cl_fill(&ds, dy + (n0 + g) * O * plane, dy_source + g * d_size);
                  }
                  const int64_t next = n0 + count < last ? n0 + count : n0, next_count = last - next < p->group ? last - next : p->group;
                  const int64_t steps = WINO_POINTS * ((tiles + TB - 1) / TB);
                  wino_prefetch_t x_ahead = wino_prefetch_plan(x + next * C * plane, next_count * C * plane * (int64_t)sizeof(\(t)), steps);
                  wino_prefetch_t dy_ahead = wino_prefetch_plan(dy + next * O * plane, next_count * O * plane * (int64_t)sizeof(\(t)), steps);
                  for (int64_t t0 = 0; t0 < tiles; t0 += TB) {
                    const int64_t valid = tiles - t0 < TB ? tiles - t0 : TB;
                    for (int64_t i = 0; i < valid; i++) {
                      const int64_t tile = t0 + i, g = tile / T, th = tile % T / p->tiles_w, tw = tile % p->tiles_w;
                      const \(t)* restrict s = x_source + g * x_size + (th * WINO_M * xs.cols + tw * WINO_M) * C;
                      for (int64_t c0 = 0; c0 < C; c0 += \(lanes)) wino_input_tile(s, xs.cols, C, c0, v + i * C, TB * C);
                      const \(t)* restrict sd = dy_source + g * d_size + (th * WINO_M * ds.cols + tw * WINO_M) * O;
                      for (int64_t o0 = 0; o0 < O; o0 += \(lanes)) wino_gradient_tile(sd, ds.cols, O, o0, z + i * O, TB * O);
                    }
                    for (int64_t k = 0; k < WINO_POINTS; k++) {
                      wino_prefetch_step(&x_ahead);
                      wino_prefetch_step(&dy_ahead);
                      for (int64_t o0 = 0; o0 < O; o0 += GEMM_MR)
                        for (int64_t c0 = 0; c0 < C; c0 += GEMM_NR)
                          conv_cl_weight_tile(valid, offset, v + k * TB * C + c0, z + k * TB * O + o0, O, partial + (k * O + o0) * C + c0, C);
                    }
                  }
                }
                #pragma omp barrier
                #pragma omp for schedule(static)
                for (int64_t e = 0; e < O * C; e++) {
                  double du[WINO_POINTS], t[3 * WINO_N];
                  for (int k = 0; k < WINO_POINTS; k++) {
                    double sum = 0;
                    for (int th = 0; th < threads; th++) sum += partials[th][k * O * C + e];
                    du[k] = sum;
                  }
                  for (int r = 0; r < WINO_N; r++) wino_kernel_gradient_1d(du + r * WINO_N, 1, t + r, WINO_N);  /* t[kw][r] */
                  double g[9];
                  for (int a = 0; a < 3; a++) wino_kernel_gradient_1d(t + a * WINO_N, 1, g + a, 3);  /* g[kh][kw] */
                  for (int k = 0; k < 9; k++) dw[e * 9 + k] = (\(t))g[k];
                }
                free(offset);
                free(z);
                free(v);
                free(dy_source);
                free(x_source);
                free(partial);
              }
              free(partials);
            }

            """
    }
}

extension KernelEmitter {
    private var winograd: WinogradTransform { ConvWinograd.transform }

    /// Output tiles of an H x W map, per row and column.
    private func winogradTiles(height: Int, width: Int) -> (rows: Int, cols: Int) {
        ((height + winograd.m - 1) / winograd.m, (width + winograd.m - 1) / winograd.m)
    }

    /// "Winograd F(2x2, 3x3)" and its GEMMs, for kernel summaries.
    private var winogradName: String { "Winograd F(\(winograd.m)x\(winograd.m), 3x3)" }

    /// Whether a convolution runs as Winograd: 3x3 at stride 1, padding 1, input channels in whole
    /// vectors, at least 32 input and output channels (narrower GEMMs were not measured), and at
    /// least 3/4 of the tiles' outputs kept (49 of 64 at 7x7).
    func winogradFits(kernel k: Int, stride s: Int, padding pad: Int, channels: Int, outputs: Int, height: Int, width: Int) -> Bool {
        guard k == 3, s == 1, pad == 1, channels % tile.lanes == 0, channels >= 32, outputs >= 32 else { return false }
        let tiles = winogradTiles(height: height, width: width)
        return 4 * height * width >= 3 * tiles.rows * tiles.cols * winograd.m * winograd.m
    }

    /// Blocks of up to ~48 tiles, from as many images as that takes: each point's GEMM then reuses
    /// its kernels for six row tiles, and the block's transforms stay within L2.
    private func winogradBlocking(images: Int, height: Int, width: Int) -> (group: Int, block: Int) {
        let tiles = winogradTiles(height: height, width: width)
        let perImage = tiles.rows * tiles.cols
        let group = max(1, min(48 / perImage, images / 2))
        return (group, min(48, (group * perImage + tile.rows - 1) / tile.rows * tile.rows))
    }

    /// The kernel body of a `conv_wino` call: output `outputs` channels from `channels`, weights
    /// at `weightRow`/`weightChannel`, rotated by 180 degrees when `flip`.
    private func winogradBody(images: Int, channels: Int, outputs: Int, height: Int, width: Int,
                              weightRow: Int, weightChannel: Int, flip: Bool,
                              operands: (w: String, input: String, output: String, addend: String, moments: String)) -> CLines {
        let tiles = winogradTiles(height: height, width: width)
        let (group, block) = winogradBlocking(images: images, height: height, width: width)
        var c = CLines()
        c.line("const conv_wino_plan_t plan = {.images = \(images), .channels = \(channels), .m = \(outputs), .height = \(height), .width = \(width),")
        c.line("  .weight_row = \(weightRow), .weight_channel = \(weightChannel), .flip = \(flip ? 1 : 0), "
            + ".tiles_h = \(tiles.rows), .tiles_w = \(tiles.cols), .group = \(group), .block = \(block)};")
        c.line("conv_wino(&plan, \(operands.w), \(operands.input), \(operands.output), \(operands.addend), \(operands.moments));")
        return c
    }

    /// "N images x T tiles, P GEMMs N .., K ..": the GEMMs of a Winograd forward or dx.
    private func winogradGemms(images: Int, height: Int, width: Int, n: Int, k: Int) -> String {
        let tiles = winogradTiles(height: height, width: width)
        return "\(winogradName): \(images) images x \(tiles.rows * tiles.cols) tiles, \(winograd.n * winograd.n) GEMMs N \(n), K \(k)"
    }

    /// y = conv(x, w) as a Winograd convolution.
    func conv2dForwardWinograd(moments: Bool) -> Kernel {
        let x = shape(operand: 0), w = shape(operand: 1), y = shape(result: 0)
        let body = winogradBody(images: x[0], channels: x[1], outputs: w[0], height: x[2], width: x[3],
                                weightRow: x[1] * 9, weightChannel: 9, flip: false,
                                operands: ("w", "x", "y", "0", moments ? "moments" : "0"))
        return kernel("x \(x) * w \(w) -> y \(y)\(momentsSummary(moments)); stride 1, padding 1\n"
                      + winogradGemms(images: x[0], height: x[2], width: x[3], n: w[0], k: x[1]),
                      ["x", "w"], ["y"] + (moments ? ["moments"] : []), body: body)
    }

    /// dx = the convolution of dy with the kernels rotated by 180 degrees and transposed, as a
    /// Winograd convolution.
    func conv2dBackwardDataWinograd(accumulates: Bool) -> Kernel {
        let dy = shape(operand: 0), w = shape(operand: 1), dx = shape(result: 0)
        let body = winogradBody(images: dy[0], channels: w[0], outputs: w[1], height: dx[2], width: dx[3],
                                weightRow: 9, weightChannel: w[1] * 9, flip: true,
                                operands: ("w", "dy", "dx", accumulates ? "addend" : "0", "0"))
        return kernel("dy \(dy), w \(w)\(accumulates ? ", addend" : "") -> dx \(dx)\(accumulates ? " (+ addend)" : ""); stride 1, padding 1\n"
                      + winogradGemms(images: dy[0], height: dx[2], width: dx[3], n: w[1], k: w[0]),
                      ["dy", "w"] + (accumulates ? ["addend"] : []), ["dx"], body: body)
    }

    /// Whether a weight gradient runs as Winograd: as `winogradFits`, with input channels in whole
    /// GEMM panels and each thread's transformed gradient (points x O x C) within 4 MB, the limit the
    /// channels-last weight gradients' partial sums measured well up to.
    func winogradWeightFits(kernel k: Int, stride s: Int, padding pad: Int, channels: Int, outputs: Int, height: Int, width: Int) -> Bool {
        winogradFits(kernel: k, stride: s, padding: pad, channels: channels, outputs: outputs, height: height, width: width)
            && channels % tile.columns == 0 && outputs % tile.lanes == 0
            && winograd.n * winograd.n * outputs * channels * precision.bytes <= 4 << 20
    }

    /// dw = G^T [sum over tiles of (A dy A^T) . (B^T x B)] G, the gradient of the Winograd forward.
    func conv2dBackwardWeightWinograd() -> Kernel {
        let dy = shape(operand: 0), x = shape(operand: 1), dw = shape(result: 0)
        let tiles = winogradTiles(height: x[2], width: x[3])
        let (group, block) = winogradBlocking(images: x[0], height: x[2], width: x[3])
        var c = CLines()
        c.line("const conv_wino_weight_plan_t plan = {.images = \(x[0]), .channels = \(x[1]), .m = \(dy[1]), .height = \(x[2]), .width = \(x[3]),")
        c.line("  .tiles_h = \(tiles.rows), .tiles_w = \(tiles.cols), .group = \(group), .block = \(block)};")
        c.line("conv_wino_weight(&plan, dy, x, dw);")
        return kernel("dy \(dy), x \(x) -> dw \(dw); stride 1, padding 1\n"
                      + "\(winogradName): \(winograd.n * winograd.n) GEMMs M \(dy[1]), N \(x[1]), K \(x[0]) images x \(tiles.rows * tiles.cols) tiles",
                      ["dy", "x"], ["dw"], body: c)
    }
}
