/// The C of the channels-last convolution: a GEMM whose rows are output
/// positions and whose columns are output channels.
///
/// Each thread copies a few images at a time into a zero-padded channels-last
/// "source" (pixel-major, `channels` values per pixel). Output position u then
/// reads its window at `source + base(u) + shift[tap] + c`, so eight positions
/// can sit anywhere: in different rows, phases or images. Unlike the in-place
/// grid of `ConvGemm`, no FMA is spent on padding columns, which is what small
/// maps (7x7 to 16x16) lose most to. The price is a transposing copy of the
/// input and a transposing store of each tile: chosen where the FMAs per copied
/// value are many (`KernelEmitter.channelsLastConvEfficiency`).
///
/// Every output value is computed by one tile of one thread, in a fixed order,
/// so results do not depend on the thread count.
enum ConvChannelsLast {
    static func source(_ tile: RegisterTile) -> String {
        let t = tile.precision.cType, lanes = tile.lanes, mr = tile.rows
        let accumulators = (0..<mr).map { "c\($0)_0 = {0}, c\($0)_1 = {0}" }.joined(separator: ", ")
        let windows = (0..<mr).map { "const \(t)* restrict a\($0) = position[\($0)] + shift[t];" }.joined(separator: "\n    ")
        let fmas = (0..<mr).map { "      c\($0)_0 += a\($0)[c] * b0; c\($0)_1 += a\($0)[c] * b1;" }.joined(separator: "\n")
        let weightFmas = (0..<mr).map { "    c\($0)_0 += du[\($0)] * b0; c\($0)_1 += du[\($0)] * b1;" }.joined(separator: "\n")
        let weightSums = (0..<mr).map { "  *(vec_t*)(sum + \($0) * ld) += c\($0)_0; *(vec_t*)(sum + \($0) * ld + \(lanes)) += c\($0)_1;" }
            .joined(separator: "\n")
        let writes = (0..<mr).map { "  *(vec_t*)(tile + \($0 * 2 * lanes)) = c\($0)_0; *(vec_t*)(tile + \($0 * 2 * lanes + lanes)) = c\($0)_1;" }
            .joined(separator: "\n")
        return """
            /* ===== Channels-last convolution =====
               GEMM rows are output positions, columns output channels: position u of a phase reads
               source[base(u) + shift[t] + c] for tap t and input channel c, from a zero-padded
               channels-last copy of its image. Positions need not be neighbours, so no FMA falls on
               padding; tiles are stored transposed into the NCHW output. */
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
              int64_t image_size, out_image, out_channel;
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
               eight pixels at a time through registers; the padding stays as zeroed at allocation. */
            static void conv_cl_fill(const conv_cl_source_t* s, const \(t)* restrict image, \(t)* restrict source) {
              const int64_t C = s->channels, H = s->height, W = s->width, plane = H * W;
              for (int64_t h = 0; h < H; h++) {
                \(t)* restrict row = source + ((h + s->pad_top) * s->cols + s->pad_left) * C;
                int64_t c0 = 0;
                for (; c0 + 8 <= C; c0 += 8) {
                  const \(t)* restrict in = image + c0 * plane + h * W;
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
                for (; c0 < C; c0++) {
                  const \(t)* restrict in = image + c0 * plane + h * W;
                  for (int64_t w = 0; w < W; w++) row[w * C + c0] = in[w];
                }
              }
            }

            /* tile[i][j] = sum over taps t and channels c of position[i][shift[t] + c] * b[(t, c)][j]. */
            static inline void conv_cl_micro_tile(int64_t taps, int64_t C, const int32_t* restrict shift, const \(t)* const* position,
                                                  const \(t)* restrict b, \(t)* restrict tile) {
              vec_t \(accumulators);
              for (int64_t t = 0; t < taps; t++) {
                \(windows)
                for (int64_t c = 0; c < C; c++, b += GEMM_NR) {
                  const vec_t b0 = *(const vec_t*)b, b1 = *(const vec_t*)(b + \(lanes));
            \(fmas)
                }
              }
            \(writes)
            }

            /* Writes tile rows [0, valid) to their positions' pixels (dest) of output channels [0, cols),
               plus addend at the same places when there is one. */
            static inline void conv_cl_store(int64_t out_channel, int64_t valid, const int64_t* dest, int64_t cols,
                                             \(t)* restrict out, const \(t)* restrict addend, const \(t)* restrict tile) {
              /* Pixels evenly spaced (one row of a phase): each channel's pixels share a line or two.
                 dest grows by at least step between positions, so the ends tell. */
              const int64_t step = dest[1] - dest[0];
              if (valid == GEMM_MR && dest[GEMM_MR - 1] == dest[0] + (GEMM_MR - 1) * step) {
                for (int64_t j = 0; j < cols; j++) {
                  \(t)* restrict o = out + dest[0] + j * out_channel;
                  const \(t)* restrict a = addend ? addend + dest[0] + j * out_channel : 0;
                  if (step == 1 && a)
                    for (int64_t i = 0; i < GEMM_MR; i++) o[i] = tile[i * GEMM_NR + j] + a[i];
                  else if (step == 1)
                    for (int64_t i = 0; i < GEMM_MR; i++) o[i] = tile[i * GEMM_NR + j];
                  else if (a)
                    for (int64_t i = 0; i < GEMM_MR; i++) o[i * step] = tile[i * GEMM_NR + j] + a[i * step];
                  else
                    for (int64_t i = 0; i < GEMM_MR; i++) o[i * step] = tile[i * GEMM_NR + j];
                }
                return;
              }
              for (int64_t i = 0; i < valid; i++)
                for (int64_t j = 0; j < cols; j++)
                  out[dest[i] + j * out_channel] = tile[i * GEMM_NR + j] + (addend ? addend[dest[i] + j * out_channel] : 0);
            }

            /* out[n][j][pixel] = sum over (t, c) of w * source_n[base + shift[t] + c], per phase, plus
               addend[n][j][pixel] if addend is not null. Weights are packed once; threads take whole
               groups of images. */
            static void conv_cl_gemm(const conv_cl_plan_t* p, const \(t)* restrict w, const \(t)* restrict in, \(t)* restrict out,
                                     const \(t)* restrict addend, \(t)* restrict moments) {
              const int64_t C = p->source.channels, col_panels = (p->m + GEMM_NR - 1) / GEMM_NR;
              const int64_t source_size = (p->source.rows * p->source.cols * C + 15) / 16 * 16;
              \(t)* b[p->phases];
              for (int64_t f = 0; f < p->phases; f++) b[f] = gemm_alloc(col_panels * GEMM_NR * C * p->phase[f].taps);
              double** sums = moments ? calloc((size_t)omp_get_max_threads(), sizeof(double*)) : 0;
              #pragma omp parallel
              {
                double* const thread_sums = conv_moments_begin(sums, p->m);
                for (int64_t f = 0; f < p->phases; f++) {
                  const conv_cl_phase_t* ph = &p->phase[f];
                  const int64_t K = C * ph->taps;
                  #pragma omp for schedule(static) nowait
                  for (int64_t jb = 0; jb < col_panels; jb++) {
                    \(t)* restrict panel = b[f] + jb * GEMM_NR * K;
                    for (int64_t t = 0; t < ph->taps; t++)
                      for (int64_t c = 0; c < C; c++)
                        for (int64_t j = 0; j < GEMM_NR; j++) {
                          const int64_t o = jb * GEMM_NR + j;
                          panel[(t * C + c) * GEMM_NR + j] = o < p->m ? w[o * p->weight_row + c * p->weight_channel + ph->tap[t]] : 0;
                        }
                  }
                }
                #pragma omp barrier
                \(t)* restrict source = gemm_alloc(p->group * source_size);
                memset(source, 0, sizeof(\(t)) * (size_t)(p->group * source_size));
                \(t) tile[GEMM_MR * GEMM_NR] __attribute__((aligned(64)));
                int64_t tiles = 0;  /* per group, to spread the prefetch of the next group over */
                for (int64_t f = 0; f < p->phases; f++) tiles += col_panels * ((p->group * p->phase[f].rows * p->phase[f].cols + GEMM_MR - 1) / GEMM_MR);
                const int64_t groups = (p->images + p->group - 1) / p->group;
                #pragma omp for schedule(static)
                for (int64_t gi = 0; gi < groups; gi++) {
                  const int64_t n0 = gi * p->group, count = p->images - n0 < p->group ? p->images - n0 : p->group;
                  for (int64_t g = 0; g < count; g++) {
                    conv_cl_fill(&p->source, in + (n0 + g) * p->image_size, source + g * source_size);
                    for (int64_t f = 0; f < p->phases; f++)
                      if (p->phase[f].taps == 0) {  /* no tap reaches the phase: zero, or the addend */
                        if (addend) memcpy(out + (n0 + g) * p->out_image, addend + (n0 + g) * p->out_image, sizeof(\(t)) * (size_t)p->out_image);
                        else memset(out + (n0 + g) * p->out_image, 0, sizeof(\(t)) * (size_t)p->out_image);
                        break;
                      }
                  }
                  /* the next group's images are prefetched a few lines per tile: its fill then reads cache */
                  const int64_t next = n0 + count < p->images ? n0 + count : n0;
                  const int64_t next_count = p->images - next < p->group ? p->images - next : p->group;
                  const char* ahead = (const char*)(in + next * p->image_size);
                  const int64_t lines = (next_count * p->image_size * (int64_t)sizeof(\(t)) + 63) / 64, per_tile = tiles > 0 ? (lines + tiles - 1) / tiles : 0;
                  int64_t prefetched = 0;
                  for (int64_t f = 0; f < p->phases; f++) {
                    const conv_cl_phase_t* ph = &p->phase[f];
                    if (ph->taps == 0) continue;
                    const int64_t K = C * ph->taps, per_image = ph->rows * ph->cols, positions = count * per_image;
                    /* a column panel of weights stays in L2 while the group's positions pass it */
                    for (int64_t jb = 0; jb < col_panels; jb++) {
                      const int64_t cols = p->m - jb * GEMM_NR < GEMM_NR ? p->m - jb * GEMM_NR : GEMM_NR;
                      for (int64_t u0 = 0; u0 < positions; u0 += GEMM_MR) {
                        const \(t)* position[GEMM_MR];
                        int64_t dest[GEMM_MR];
                        const int64_t valid = positions - u0 < GEMM_MR ? positions - u0 : GEMM_MR;
                        for (int64_t i = 0; i < GEMM_MR; i++) {  /* rows past the end repeat the last position */
                          const int64_t u = i < valid ? u0 + i : u0 + valid - 1, g = u / per_image, r = u % per_image / ph->cols, c = u % ph->cols;
                          position[i] = source + g * source_size + (r * ph->row_step + c * ph->col_step) * C;
                          dest[i] = (n0 + g) * p->out_image + ph->dest_offset + r * ph->dest_row + c * ph->dest_col;
                        }
                        for (int64_t l = 0; l < per_tile && prefetched < lines; l++, prefetched++) __builtin_prefetch(ahead + prefetched * 64);
                        conv_cl_micro_tile(ph->taps, C, ph->shift, position, b[f] + jb * GEMM_NR * K, tile);
                        conv_cl_store(p->out_channel, valid, dest, cols, out + jb * GEMM_NR * p->out_channel,
                                      addend ? addend + jb * GEMM_NR * p->out_channel : 0, tile);
                      }
                    }
                  }
                  if (thread_sums)
                    for (int64_t g = 0; g < count; g++) conv_moments_add(p->m, p->out_channel, out + (n0 + g) * p->out_image, thread_sums);
                }
                free(source);
                conv_moments_finish(p->m, (double)(p->images * p->out_channel), sums, moments);
              }
              free(sums);
              for (int64_t f = 0; f < p->phases; f++) free(b[f]);
            }

            /* sum[i][j] += sum over positions u < count of d[u * d_stride + i] * s[offset[u] + j], for the
               GEMM_MR rows i (output channels, dy copied channels-last) and GEMM_NR columns j (input
               channels, whole lines of the source) of a tile. */
            static inline void conv_cl_weight_tile(int64_t count, const int32_t* restrict offset, const \(t)* restrict s,
                                                   const \(t)* restrict d, int64_t d_stride, \(t)* restrict sum, int64_t ld) {
              vec_t \(accumulators);
              for (int64_t u = 0; u < count; u++) {
                const \(t)* restrict su = s + offset[u];
                const vec_t b0 = *(const vec_t*)su, b1 = *(const vec_t*)(su + \(lanes));
                const \(t)* restrict du = d + u * d_stride;
            \(weightFmas)
              }
            \(weightSums)
            }

            typedef struct {
              int64_t images, m, taps;  /* dw is m x (channels x taps); channels a multiple of GEMM_NR */
              const int32_t* shift;     /* per tap: source offset, in values */
              conv_cl_source_t source;
              int64_t out_rows, out_cols, stride;  /* positions (r, c) read the source from (r * stride, c * stride) */
              int64_t group, image_size, dy_image;
            } conv_cl_weight_plan_t;

            /* dw[o][c][t] = sum over images and positions u of dy[o][u] * source[base(u) + shift[t] + c]:
               eight output channels against 32 input channels at one tap, dy copied channels-last.
               Threads take contiguous ranges of images into private partials ([t][o][c]), added in thread
               order, so the result repeats exactly for a fixed thread count. */
            static void conv_cl_weight_gemm(const conv_cl_weight_plan_t* p, const \(t)* restrict dy, const \(t)* restrict x, \(t)* restrict dw) {
              const int64_t C = p->source.channels, T = p->taps, J = C * T, PQ = p->out_rows * p->out_cols;
              const int64_t row_panels = (p->m + GEMM_MR - 1) / GEMM_MR, ldm = row_panels * GEMM_MR;
              const int64_t source_size = (p->source.rows * p->source.cols * C + 15) / 16 * 16;
              \(t)** partials = calloc((size_t)omp_get_max_threads(), sizeof(\(t)*));
              #pragma omp parallel
              {
                const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
                \(t)* restrict partial = gemm_alloc(T * ldm * C);
                memset(partial, 0, sizeof(\(t)) * (size_t)(T * ldm * C));
                partials[thread] = partial;
                \(t)* restrict source = gemm_alloc(p->group * source_size);
                memset(source, 0, sizeof(\(t)) * (size_t)(p->group * source_size));
                /* dy channels-last, one contiguous block per row panel (rows[ib][u][i]): the block stays in
                   L1 while the source lines of every (tap, 32 channels) pass it */
                const int64_t block = p->group * PQ * GEMM_MR;
                \(t)* restrict rows = gemm_alloc(row_panels * block);
                memset(rows, 0, sizeof(\(t)) * (size_t)(row_panels * block));
                int32_t* offset = malloc(sizeof(int32_t) * (size_t)(p->group * PQ));
                for (int64_t u = 0; u < p->group * PQ; u++) {
                  const int64_t g = u / PQ, r = u % PQ / p->out_cols, c = u % p->out_cols;
                  offset[u] = (int32_t)(g * source_size + (r * p->stride * p->source.cols + c * p->stride) * C);
                }
                const int64_t first = p->images * thread / threads, last = p->images * (thread + 1) / threads;
                for (int64_t n0 = first; n0 < last; n0 += p->group) {
                  const int64_t count = last - n0 < p->group ? last - n0 : p->group;
                  for (int64_t g = 0; g < count; g++) {
                    conv_cl_fill(&p->source, x + (n0 + g) * p->image_size, source + g * source_size);
                    const \(t)* restrict d = dy + (n0 + g) * p->dy_image;
                    for (int64_t o = 0; o < p->m; o++)
                      for (int64_t u = 0; u < PQ; u++) rows[o / GEMM_MR * block + (g * PQ + u) * GEMM_MR + o % GEMM_MR] = d[o * PQ + u];
                  }
                  for (int64_t ib = 0; ib < row_panels; ib++)
                    for (int64_t t = 0; t < T; t++)
                      for (int64_t c0 = 0; c0 < C; c0 += GEMM_NR)
                        conv_cl_weight_tile(count * PQ, offset, source + p->shift[t] + c0, rows + ib * block, GEMM_MR,
                                            partial + (t * ldm + ib * GEMM_MR) * C + c0, C);
                }
                #pragma omp barrier
                #pragma omp for schedule(static)
                for (int64_t e = 0; e < p->m * J; e++) {
                  const int64_t o = e / J, c = e % J / T, t = e % T;
                  \(t) sum = 0;
                  for (int th = 0; th < threads; th++) sum += partials[th][(t * ldm + o) * C + c];
                  dw[e] = sum;
                }
                free(offset);
                free(rows);
                free(source);
                free(partial);
              }
              free(partials);
            }

            """
    }
}

extension KernelEmitter {
    /// Estimated fraction of the FMA peak of a channels-last convolution that does `fmas` FMAs
    /// per value it copies: the tiles run at `kernel`, and the transposing copies and stores cost
    /// about copyCost/fmas. Measured on W1 at batch 256, 2 threads (AVX-512), forward 3x3: 76%,
    /// 80%, 86% and 89% of the peak at 144, 288, 576 and 1152 FMAs per value.
    static func channelsLastConvEfficiency(fmasPerValue fmas: Double, copyCost: Double = 40, kernel: Double = 0.92) -> Double {
        kernel / (1 + copyCost / fmas)
    }

    /// Estimated fraction of the FMA peak of an in-place convolution (`conv_gemm`) whose grid keeps
    /// `grid` of its columns: 89-92% of that at stride 1 (W1 layer1-3), less at stride 2, where it
    /// also fills S x S phase planes (74-82%, W1 layer2.0/3.0.conv1).
    static func inPlaceConvEfficiency(grid: Double, stride: Int) -> Double { 0.9 * grid * (stride == 1 ? 1 : 0.85) }

    /// One sub-pixel phase of a strided convolution's dx: rows h = r*S + ph, columns w = c*S + pw,
    /// and the taps that reach it, each reading dy at (r + dh, c + dw).
    struct PhaseTaps {
        var ph: Int, pw: Int, rows: Int, cols: Int
        var taps: [(tap: Int, dh: Int, dw: Int)]
    }

    /// One phase of a channels-last convolution; `shifts` are in source values.
    struct ChannelsLastPhase {
        var taps: [Int], shifts: [Int]
        var rows: Int, cols: Int, rowStep: Int, colStep: Int
        var destOffset: Int, destRow: Int, destCol: Int
    }

    /// The channels-last source of an image [channels, height, width] placed at (pad, pad)
    /// in a zero plane of rows x cols pixels.
    struct ChannelsLastSource {
        var channels: Int, height: Int, width: Int, pad: Int, rows: Int, cols: Int
        var imageSize: Int { channels * height * width }
        var values: Int { rows * cols * channels }
        var c: String {
            "{.channels = \(channels), .height = \(height), .width = \(width), .pad_top = \(pad), .pad_left = \(pad), "
                + ".rows = \(rows), .cols = \(cols)}"
        }
    }

    /// The kernel body of a `conv_cl_gemm` call.
    func channelsLastBody(images: Int, m: Int, weightRow: Int, weightChannel: Int, source: ChannelsLastSource,
                          outImage: Int, outChannel: Int, phases: [ChannelsLastPhase],
                          operands: (w: String, input: String, output: String, addend: String, moments: String)) -> CLines {
        let bytes = (source.values + outImage) * precision.bytes
        // Up to four images per pass (fewer tiles straddle a short tail), while their sources and
        // outputs fit ~512 KB of L2. Measured on W2 layer2.0.conv1's dx (404 KB per image): 182
        // GFLOP/s at one image per pass, 172 at four.
        let group = max(1, min(4, images / 2, (512 << 10) / bytes))
        var c = CLines()
        var entries: [String] = []
        for (f, phase) in phases.enumerated() {
            let list = { (values: [Int]) in values.isEmpty ? "0" : values.map(String.init).joined(separator: ", ") }
            c.line("static const int32_t tap\(f)[] = {\(list(phase.taps))}, shift\(f)[] = {\(list(phase.shifts))};")
            entries.append("{.taps = \(phase.taps.count), .tap = tap\(f), .shift = shift\(f), .rows = \(phase.rows), .cols = \(phase.cols), "
                + ".row_step = \(phase.rowStep), .col_step = \(phase.colStep), "
                + ".dest_offset = \(phase.destOffset), .dest_row = \(phase.destRow), .dest_col = \(phase.destCol)}")
        }
        c.line("static const conv_cl_phase_t phases[\(phases.count)] = {")
        for entry in entries { c.line("  \(entry),") }
        c.line("};")
        c.line("const conv_cl_plan_t plan = {.images = \(images), .m = \(m), .weight_row = \(weightRow), .weight_channel = \(weightChannel),")
        c.line("  .source = \(source.c), .group = \(group),")
        c.line("  .image_size = \(source.imageSize), .out_image = \(outImage), .out_channel = \(outChannel), "
            + ".phases = \(phases.count), .phase = phases};")
        c.line("conv_cl_gemm(&plan, \(operands.w), \(operands.input), \(operands.output), \(operands.addend), \(operands.moments));")
        return c
    }

    /// y = conv(x, w) with output positions as GEMM rows, read from a channels-last copy of x.
    func conv2dForwardChannelsLast(stride s: Int, padding pad: Int, moments: Bool) -> Kernel {
        let x = shape(operand: 0), w = shape(operand: 1), y = shape(result: 0)
        let (channels, k, p, q) = (x[1], w[2], y[2], y[3])
        let source = ChannelsLastSource(channels: channels, height: x[2], width: x[3], pad: pad,
                                        rows: max((p - 1) * s + k, pad + x[2]), cols: max((q - 1) * s + k, pad + x[3]))
        let taps = Array(0..<k * k)
        let phase = ChannelsLastPhase(taps: taps, shifts: taps.map { ($0 / k * source.cols + $0 % k) * channels },
                                      rows: p, cols: q, rowStep: s * source.cols, colStep: s, destOffset: 0, destRow: q, destCol: 1)
        let body = channelsLastBody(images: x[0], m: w[0], weightRow: channels * k * k, weightChannel: k * k, source: source,
                                    outImage: w[0] * p * q, outChannel: p * q, phases: [phase],
                                    operands: ("w", "x", "y", "0", moments ? "moments" : "0"))
        return kernel("x \(x) * w \(w) -> y \(y)\(momentsSummary(moments)); stride \(s), padding \(pad)\n"
                      + "channels-last: GEMM M \(x[0]) images x \(p)x\(q) positions, N \(w[0]), K \(channels * k * k)",
                      ["x", "w"], ["y"] + (moments ? ["moments"] : []), body: body)
    }

    /// dx = the transposed convolution of dy, per sub-pixel phase of dx, with dx positions as GEMM
    /// rows, read from a channels-last copy of dy.
    func conv2dBackwardDataChannelsLast(stride s: Int, padding pad: Int, phases: [PhaseTaps], accumulates: Bool) -> Kernel {
        let dy = shape(operand: 0), w = shape(operand: 1), dx = shape(result: 0)
        let (outputs, channels, k) = (w[0], w[1], w[2])
        let (p, q, h, width) = (dy[2], dy[3], dx[2], dx[3])
        let rowReach = phases.flatMap { $0.taps.map(\.dh) }, colReach = phases.flatMap { $0.taps.map(\.dw) }
        let low = max(0, -(rowReach + colReach).min()!), high = max(0, (rowReach + colReach).max()!)
        let source = ChannelsLastSource(channels: outputs, height: p, width: q, pad: low,
                                        rows: max(phases.map(\.rows).max()! + high + low, low + p),
                                        cols: max(phases.map(\.cols).max()! + high + low, low + q))
        let clPhases = phases.map { phase in
            ChannelsLastPhase(taps: phase.taps.map(\.tap), shifts: phase.taps.map { (($0.dh + low) * source.cols + $0.dw + low) * outputs },
                              rows: phase.rows, cols: phase.cols, rowStep: source.cols, colStep: 1,
                              destOffset: phase.ph * width + phase.pw, destRow: s * width, destCol: s)
        }
        let body = channelsLastBody(images: dy[0], m: channels, weightRow: k * k, weightChannel: channels * k * k, source: source,
                                    outImage: channels * h * width, outChannel: h * width, phases: clPhases,
                                    operands: ("w", "dy", "dx", accumulates ? "addend" : "0", "0"))
        return kernel("dy \(dy), w \(w)\(accumulates ? ", addend" : "") -> dx \(dx)\(accumulates ? " (+ addend)" : ""); stride \(s), padding \(pad)\n"
                      + (s == 1 ? "channels-last: GEMM M \(dy[0]) images x \(h)x\(width) positions, N \(channels), K \(outputs * k * k)"
                                : "channels-last, per phase of dx: GEMM M \(dy[0]) images x the phase's pixels, N \(channels), K \(outputs) x its taps"),
                      ["dy", "w"] + (accumulates ? ["addend"] : []), ["dx"], body: body)
    }

    /// dw = the correlation of dy with x over images and positions, GEMM_MR output channels against
    /// GEMM_NR input channels at one tap, read from channels-last copies of x and dy. Needs input
    /// channels in whole tiles (a multiple of `RegisterTile.columns`).
    func conv2dBackwardWeightChannelsLast(stride s: Int, padding pad: Int) -> Kernel {
        let dy = shape(operand: 0), x = shape(operand: 1), dw = shape(result: 0)
        let (outputs, channels, k, p, q) = (dy[1], x[1], dw[2], dy[2], dy[3])
        let source = ChannelsLastSource(channels: channels, height: x[2], width: x[3], pad: pad,
                                        rows: max((p - 1) * s + k, pad + x[2]), cols: max((q - 1) * s + k, pad + x[3]))
        // Up to ~256 positions per pass: their dy rows of eight channels (8 KB) then stay in L1.
        let group = max(1, min(8, x[0] / 2, 256 / (p * q)))
        let shifts = (0..<k * k).map { ($0 / k * source.cols + $0 % k) * channels }
        var c = CLines()
        c.line("static const int32_t shift[\(k * k)] = {\(shifts.map(String.init).joined(separator: ", "))};")
        c.line("const conv_cl_weight_plan_t plan = {.images = \(x[0]), .m = \(outputs), .taps = \(k * k), .shift = shift,")
        c.line("  .source = \(source.c),")
        c.line("  .out_rows = \(p), .out_cols = \(q), .stride = \(s), .group = \(group), .image_size = \(source.imageSize), .dy_image = \(outputs * p * q)};")
        c.line("conv_cl_weight_gemm(&plan, dy, x, dw);")
        return kernel("dy \(dy), x \(x) -> dw \(dw); stride \(s), padding \(pad)\n"
                      + "channels-last: GEMM M \(channels * k * k), N \(outputs), K \(x[0]) images x \(p)x\(q) positions",
                      ["dy", "x"], ["dw"], body: c)
    }
}
