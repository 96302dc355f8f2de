/// The C of the Winograd convolution F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2016), for 3x3 kernels at stride 1, padding 1.
///
/// A 6x6 window d of the input gives a 4x4 tile of the output as
/// `A^T [(G g G^T) . (B^T d B)] A`: 36 products per input and output channel pair
/// where the direct convolution needs 144, so the GEMMs do a quarter of the FMAs.
/// Each thread copies a few images into zero-padded channels-last sources (as the
/// channels-last convolution does), transforms a block of tiles into
/// `v[point][tile][c]`, runs one GEMM per point of the 6x6 transform against the
/// transformed kernels `u[point][c][o]` (the shared micro-kernel), transforms the
/// products back into channels-last outputs and stores them transposed into NCHW.
///
/// Every output value is computed by one thread in a fixed order, so results do
/// not depend on the thread count. The transforms add rounding: measured against
/// the direct kernels in float, 1e-5 to 4e-5 of the output's largest value.
enum ConvWinograd {
    static func source(_ precision: Precision) -> String {
        let t = precision.cType, lanes = GemmSupport.lanes(precision)
        return """
            /* ===== Winograd convolution F(4x4, 3x3) =====
               Stride 1, padding 1. Per 6x6 input window d: v = B^T d B (36 points), per point a GEMM
               m = v u over input channels with u = G g G^T, and the 4x4 output tile A^T m A. */
            typedef struct {
              int64_t images, channels, m;         /* input channels (whole vectors), output channels */
              int64_t height, width;               /* of input and output */
              int64_t weight_row, weight_channel;  /* g[o][c][tap] = w[o * weight_row + c * weight_channel + tap] */
              int64_t flip;                        /* 1: tap 8 - t, the kernel rotated by 180 degrees (dx) */
              int64_t tiles_h, tiles_w;            /* 4 x 4 output tiles per image */
              int64_t group, block;                /* images per pass; tiles per GEMM block (a multiple of GEMM_MR) */
            } conv_wino_plan_t;

            /* o[i * os] = (B^T d)[i] for the six values d[j * s]. */
            static inline void wino_input_1d(const vec_t* d, int64_t s, vec_t* o, int64_t os) {
              o[0] = 4 * d[0] - 5 * d[2 * s] + d[4 * s];
              o[os] = d[4 * s] + d[3 * s] - 4 * (d[s] + d[2 * s]);
              o[2 * os] = d[4 * s] - d[3 * s] + 4 * (d[s] - d[2 * s]);
              o[3 * os] = d[4 * s] - d[2 * s] + 2 * (d[3 * s] - d[s]);
              o[4 * os] = d[4 * s] - d[2 * s] - 2 * (d[3 * s] - d[s]);
              o[5 * os] = 4 * d[s] - 5 * d[3 * s] + d[5 * s];
            }

            /* y[i * ys] = (A^T m)[i] for the six values m[j * s]. */
            static inline void wino_output_1d(const vec_t* m, int64_t s, vec_t* y, int64_t ys) {
              const vec_t a = m[s] + m[2 * s], b = m[s] - m[2 * s], c = m[3 * s] + m[4 * s], d = m[3 * s] - m[4 * s];
              y[0] = m[0] + a + c;
              y[ys] = b + 2 * d;
              y[2 * ys] = a + 4 * c;
              y[3 * ys] = b + 8 * d + m[5 * s];
            }

            /* u[6][6] = G g G^T for one 3 x 3 kernel g (row-major), in double: the kernels are
               transformed once per call, the rounding happens once, at the store. */
            static void wino_kernel(const double* g, double* u) {
              double t[6][3];
              for (int j = 0; j < 3; j++) {
                const double g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                t[0][j] = g0 / 4; t[1][j] = -(g0 + g1 + g2) / 6; t[2][j] = -(g0 - g1 + g2) / 6;
                t[3][j] = g0 / 24 + g1 / 12 + g2 / 6; t[4][j] = g0 / 24 - g1 / 12 + g2 / 6; t[5][j] = g2;
              }
              for (int i = 0; i < 6; i++) {
                const double g0 = t[i][0], g1 = t[i][1], g2 = t[i][2];
                u[i * 6] = g0 / 4; u[i * 6 + 1] = -(g0 + g1 + g2) / 6; u[i * 6 + 2] = -(g0 - g1 + g2) / 6;
                u[i * 6 + 3] = g0 / 24 + g1 / 12 + g2 / 6; u[i * 6 + 4] = g0 / 24 - g1 / 12 + g2 / 6; u[i * 6 + 5] = g2;
              }
            }

            /* v[point][i][c0..] for tile rows i of a block: the 6x6 window at s (channels-last), transformed
               as columns, then rows. */
            static inline void wino_input_tile(const \(t)* restrict s, int64_t cols, int64_t C, int64_t c0, \(t)* restrict v, int64_t point_stride) {
              vec_t d[36], e[36], o[6];
              for (int r = 0; r < 6; r++)
                for (int q = 0; q < 6; q++) d[r * 6 + q] = *(const vec_t*)(s + (r * cols + q) * C + c0);
              for (int q = 0; q < 6; q++) wino_input_1d(d + q, 6, e + q, 6);
              for (int r = 0; r < 6; r++) {
                wino_input_1d(e + r * 6, 1, o, 1);
                for (int q = 0; q < 6; q++) *(vec_t*)(v + (r * 6 + q) * point_stride + c0) = o[q];
              }
            }

            /* The 4x4 output tile of products m (36 points, point_stride apart) into y (channels-last rows
               of y_cols pixels, ld values per pixel). */
            static inline void wino_output_tile(const \(t)* restrict m, int64_t point_stride, \(t)* restrict y, int64_t y_cols, int64_t ld) {
              vec_t p[36], e[24], o[4];
              for (int k = 0; k < 36; k++) p[k] = *(const vec_t*)(m + k * point_stride);
              for (int q = 0; q < 6; q++) wino_output_1d(p + q, 6, e + q, 6);
              for (int r = 0; r < 4; r++) {
                wino_output_1d(e + r * 6, 1, o, 1);
                for (int q = 0; q < 4; q++) *(vec_t*)(y + (r * y_cols + q) * ld) = o[q];
              }
            }

            /* out[n][o][h][w] = channels-last y[h][w][o] (+ addend), eight channels by eight pixels through
               registers; y holds ld values per pixel and at least seven pixels past each row's end. */
            static void wino_store(int64_t m, int64_t height, int64_t width, const \(t)* restrict y, int64_t y_cols, int64_t ld,
                                   \(t)* restrict out, const \(t)* restrict addend) {
              const int64_t plane = height * width;
              for (int64_t h = 0; h < height; h++)
                for (int64_t j0 = 0; j0 < m; j0 += 8)
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
                                            .rows = p->tiles_h * 4 + 2, .cols = p->tiles_w * 4 + 2};
              const int64_t source_size = (src.rows * src.cols * C + 15) / 16 * 16;
              const int64_t y_rows = p->tiles_h * 4, y_cols = p->tiles_w * 4, y_size = y_rows * y_cols * O;
              /* u[point][panel][c][j]: the transformed kernels as the GEMMs' B panels, zero past m */
              \(t)* restrict u = gemm_alloc(36 * O * C);
              double** sums = moments ? calloc((size_t)omp_get_max_threads(), sizeof(double*)) : 0;
              #pragma omp parallel
              {
                double* const thread_sums = conv_moments_begin(sums, p->m);
                #pragma omp for schedule(static)
                for (int64_t e = 0; e < O * C; e++) {
                  const int64_t o = e / C, c = e % C;
                  double g[9], k36[36];
                  for (int k = 0; k < 9; k++) g[k] = o < p->m ? w[o * p->weight_row + c * p->weight_channel + (p->flip ? 8 - k : k)] : 0;
                  wino_kernel(g, k36);
                  for (int k = 0; k < 36; k++) u[((k * panels + o / GEMM_NR) * C + c) * GEMM_NR + o % GEMM_NR] = (\(t))k36[k];
                }
                \(t)* restrict source = gemm_alloc(p->group * source_size);
                memset(source, 0, sizeof(\(t)) * (size_t)(p->group * source_size));
                \(t)* restrict v = gemm_alloc(36 * TB * C);                 /* v[point][tile][c] */
                \(t)* restrict products = gemm_alloc(36 * panels * TB * GEMM_NR);  /* [point][panel][tile][j] */
                \(t)* restrict y = gemm_alloc(p->group * y_size + 8 * O);   /* channels-last outputs, 8 pixels of slack */
                const int32_t no_shift = 0;
                const int64_t groups = (p->images + p->group - 1) / p->group;
                #pragma omp for schedule(static)
                for (int64_t gi = 0; gi < groups; gi++) {
                  const int64_t n0 = gi * p->group, count = p->images - n0 < p->group ? p->images - n0 : p->group, tiles = count * T;
                  for (int64_t g = 0; g < count; g++) conv_cl_fill(&src, in + (n0 + g) * C * plane, source + g * source_size);
                  for (int64_t t0 = 0; t0 < tiles; t0 += TB) {
                    const int64_t valid = tiles - t0 < TB ? tiles - t0 : TB, rows = (valid + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
                    for (int64_t i = 0; i < rows; i++) {  /* rows past the end repeat the last tile */
                      const int64_t tile = t0 + (i < valid ? i : valid - 1), g = tile / T, th = tile % T / p->tiles_w, tw = tile % p->tiles_w;
                      const \(t)* restrict s = source + g * source_size + (th * 4 * src.cols + tw * 4) * C;
                      for (int64_t c0 = 0; c0 < C; c0 += \(lanes)) wino_input_tile(s, src.cols, C, c0, v + i * C, TB * C);
                    }
                    for (int64_t k = 0; k < 36; k++)
                      for (int64_t jb = 0; jb < panels; jb++)
                        for (int64_t i0 = 0; i0 < rows; i0 += GEMM_MR) {
                          const \(t)* position[GEMM_MR];
                          for (int64_t i = 0; i < GEMM_MR; i++) position[i] = v + (k * TB + i0 + i) * C;
                          conv_cl_micro_tile(1, C, &no_shift, position, u + (k * panels + jb) * C * GEMM_NR,
                                             products + ((k * panels + jb) * TB + i0) * GEMM_NR);
                        }
                    for (int64_t i = 0; i < valid; i++) {
                      const int64_t tile = t0 + i, g = tile / T, th = tile % T / p->tiles_w, tw = tile % p->tiles_w;
                      \(t)* restrict yt = y + g * y_size + (th * 4 * y_cols + tw * 4) * O;
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

            """
    }
}

extension KernelEmitter {
    /// Whether a convolution runs as Winograd F(4x4, 3x3): 3x3 at stride 1, padding 1, input
    /// channels in whole vectors, at least 32 input and output channels (narrower GEMMs were not
    /// measured), and most of the 4x4 tiles' outputs kept (49 of 64 at 7x7: 1.55x the direct
    /// kernel's speed on W1 layer3.0.conv2).
    func winogradFits(kernel k: Int, stride s: Int, padding pad: Int, channels: Int, outputs: Int, height: Int, width: Int) -> Bool {
        guard k == 3, s == 1, pad == 1, channels % GemmSupport.lanes(precision) == 0, channels >= 32, outputs >= 32 else { return false }
        let tiles = ((height + 3) / 4) * ((width + 3) / 4)
        return Double(height * width) >= 0.75 * Double(tiles * 16)
    }

    /// The kernel body of a `conv_wino` call: output `outputs` channels from `channels`, weights
    /// at `weightRow`/`weightChannel`, rotated by 180 degrees when `flip`.
    private func winogradBody(images: Int, channels: Int, outputs: Int, height: Int, width: Int,
                              weightRow: Int, weightChannel: Int, flip: Bool,
                              operands: (w: String, input: String, output: String, addend: String, moments: String)) -> CLines {
        let (tilesH, tilesW) = ((height + 3) / 4, (width + 3) / 4)
        let tiles = tilesH * tilesW
        // Blocks of up to ~48 tiles, from as many images as that takes: each point's GEMM then
        // reuses its kernels for six row tiles, and the block's transforms stay within L2.
        let group = max(1, min(48 / tiles, images / 2))
        let block = min(48, (group * tiles + GemmSupport.rows - 1) / GemmSupport.rows * GemmSupport.rows)
        var c = CLines()
        c.line("const conv_wino_plan_t plan = {.images = \(images), .channels = \(channels), .m = \(outputs), .height = \(height), .width = \(width),")
        c.line("  .weight_row = \(weightRow), .weight_channel = \(weightChannel), .flip = \(flip ? 1 : 0), "
            + ".tiles_h = \(tilesH), .tiles_w = \(tilesW), .group = \(group), .block = \(block)};")
        c.line("conv_wino(&plan, \(operands.w), \(operands.input), \(operands.output), \(operands.addend), \(operands.moments));")
        return c
    }

    /// y = conv(x, w) as Winograd F(4x4, 3x3).
    func conv2dForwardWinograd(moments: Bool) -> Kernel {
        let x = shape(operand: 0), w = shape(operand: 1), y = shape(result: 0)
        let body = winogradBody(images: x[0], channels: x[1], outputs: w[0], height: x[2], width: x[3],
                                weightRow: x[1] * 9, weightChannel: 9, flip: false,
                                operands: ("w", "x", "y", "0", moments ? "moments" : "0"))
        return kernel("x \(x) * w \(w) -> y \(y)\(momentsSummary(moments)); stride 1, padding 1\n"
                      + "Winograd F(4x4, 3x3): \(x[0]) images x \((x[2] + 3) / 4 * ((x[3] + 3) / 4)) tiles, 36 GEMMs N \(w[0]), K \(x[1])",
                      ["x", "w"], ["y"] + (moments ? ["moments"] : []), body: body)
    }

    /// dx = the convolution of dy with the kernels rotated by 180 degrees and transposed, as
    /// Winograd F(4x4, 3x3).
    func conv2dBackwardDataWinograd(accumulates: Bool) -> Kernel {
        let dy = shape(operand: 0), w = shape(operand: 1), dx = shape(result: 0)
        let body = winogradBody(images: dy[0], channels: w[0], outputs: w[1], height: dx[2], width: dx[3],
                                weightRow: 9, weightChannel: w[1] * 9, flip: true,
                                operands: ("w", "dy", "dx", accumulates ? "addend" : "0", "0"))
        return kernel("dy \(dy), w \(w)\(accumulates ? ", addend" : "") -> dx \(dx)\(accumulates ? " (+ addend)" : ""); stride 1, padding 1\n"
                      + "Winograd F(4x4, 3x3): \(dy[0]) images x \((dx[2] + 3) / 4 * ((dx[3] + 3) / 4)) tiles, 36 GEMMs N \(w[1]), K \(w[0])",
                      ["dy", "w"] + (accumulates ? ["addend"] : []), ["dx"], body: body)
    }
}
