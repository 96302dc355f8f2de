import Foundation

/// The C shared by the tuned convolution kernels: convolutions as GEMMs whose
/// im2col operand is never packed.
///
/// Each thread copies one image at a time into a zero-padded "source" (in L2):
/// planes of `rows x cols`, split into stride phases so that every tap of a
/// strided convolution reads a stride-1 window. Output position (r, c) of the
/// grid becomes column m = r * cols + c, and tap k reads source[offset[k] + m]:
/// a contiguous, unaligned vector load per k. Grid columns past the output width
/// compute values the store drops, so no loop has a bounds check per element.
///
/// - `conv_gemm`: forward, and backward data as a forward convolution of dy.
///   A strided backward data is split into sub-pixel phases (dx rows h with
///   h mod S = ph, columns w mod S = pw); each phase is a dense GEMM over only
///   the taps that reach it.
/// - `conv_weight_gemm`: dw[o][j] = sum over images and grid positions of
///   dy[o][m] * source[offset[j] + m], both operands contiguous along m: a
///   tile of vector accumulators (4 x 6 on AVX-512, 2 x 6 on AVX2), summed
///   across lanes per image group.
enum ConvGemm {
    static func source(_ tile: RegisterTile) -> String {
        let precision = tile.precision, t = precision.cType, lanes = tile.lanes
        let (wr, wc) = (tile.weightRows, tile.weightColumns)
        let mr = tile.rows
        let accumulators = (0..<mr).map { "c\($0)_0 = {0}, c\($0)_1 = {0}" }.joined(separator: ", ")
        let fmas = (0..<mr).map { "    c\($0)_0 += ak[\($0)] * b0; c\($0)_1 += ak[\($0)] * b1;" }.joined(separator: "\n")
        let writes = (0..<mr).map { "  *(vec_t*)(tile + \($0 * 2 * lanes)) = c\($0)_0; *(vec_t*)(tile + \($0 * 2 * lanes + lanes)) = c\($0)_1;" }.joined(separator: "\n")
        let weightAccumulators = (0..<wr).map { i in (0..<wc).map { "s\(i)\($0) = {0}" }.joined(separator: ", ") }.joined(separator: ",\n                ")
        var weightBody = ""
        for i in 0..<wr { weightBody += "              const vec_t d\(i) = *(const vec_t*)(r\(i) + m);\n" }
        for j in 0..<wc {
            weightBody += "              { const vec_t v = *(const vec_t*)(s + o\(j) + m); " + (0..<wr).map { "s\($0)\(j) += d\($0) * v;" }.joined(separator: " ") + " }\n"
        }
        let rowPointers = (0..<wr).map { "const \(t)* restrict r\($0) = rows + (g * p->m + (i0 + \($0) < p->m ? i0 + \($0) : p->m - 1)) * p->length;" }
            .joined(separator: "\n            ")
        var halfTypes = "", halving = "", previous = "v", width = lanes
        while width > 1 {
            width /= 2
            let name = "h\(width)"
            let (low, high) = ((0..<width).map(String.init).joined(separator: ", "), (width..<2 * width).map(String.init).joined(separator: ", "))
            if width > 1 {
                halfTypes += "typedef \(t) conv_vec\(width)_t __attribute__((vector_size(\(width * precision.bytes))));\n"
                halving += "  const conv_vec\(width)_t \(name) = __builtin_shufflevector(\(previous), \(previous), \(low)) + __builtin_shufflevector(\(previous), \(previous), \(high));\n"
            } else {
                halving += "  return \(previous)[0] + \(previous)[1];"
            }
            previous = name
        }
        halfTypes = halfTypes.trimmingCharacters(in: .newlines)
        var weightSums = ""
        for i in 0..<wr {
            for j in 0..<wc { weightSums += "          if (\(i) < ri && \(j) < rj) partial[(i0 + \(i)) * J + j0 + \(j)] += conv_lane_sum(s\(i)\(j));\n" }
        }
        return """
            /* ===== Convolution support =====
               A convolution is a GEMM whose im2col operand is read in place from a zero-padded,
               phase-split copy of one image (the source, planes of rows x cols): output grid
               position (r, c) is column m = r * cols + c, and tap k reads source[offset[k] + m].
               Grid columns c >= the output width compute values that the store drops. */
            typedef struct {
              int64_t channels, height, width;  /* the image read */
              int64_t stride, pad;              /* source plane (ci, ph, pw) [r][s] = image[ci][stride*r + ph - pad][stride*s + pw - pad] */
              int64_t phase_rows, phase_cols;   /* phases ph < phase_rows, pw < phase_cols kept per channel */
              int64_t rows, cols;               /* plane size */
            } conv_source_t;

            /* Copies the pixels of image into source, one image row at a time (a stride-S row feeds
               S column phases). Only pixels are written: the zero padding around them is set when the
               source is allocated, and every image writes the same positions. */
            static void conv_fill_source(const conv_source_t* s, const \(t)* restrict image, \(t)* restrict source) {
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
                  const \(t)* restrict in = image + (ci * s->height + h) * s->width;
                  \(t)* restrict row = source + (ci * s->phase_rows + ph) * s->phase_cols * plane + r * s->cols;
                  for (int64_t pw = 0; pw < s->phase_cols; pw++) {
                    \(t)* restrict out = row + pw * plane;
                    const \(t)* restrict at = in - (s->pad - pw);
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
            static inline void conv_micro_tile(int64_t kc, const \(t)* restrict a, const \(t)* restrict b, const int32_t* restrict offset, \(t)* restrict tile) {
              vec_t \(accumulators);
              for (int64_t k = 0; k < kc; k++) {
                const \(t)* bk = b + offset[k];
                const vec_t b0 = *(const vec_t*)bk, b1 = *(const vec_t*)(bk + \(lanes));
                const \(t)* ak = a + k * GEMM_MR;
            \(fmas)
              }
            \(writes)
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

            /* Stores an MR x NR tile of grid columns [m0, m0 + cols) of one phase, dropping c >= phase cols. */
            static inline void conv_store(const conv_plan_t* p, const conv_phase_t* ph, \(t)* restrict out,
                                          int64_t rows, int64_t m0, int64_t cols, const \(t)* restrict tile) {
              const int64_t width = p->source.cols, step = ph->dest_col;
              int64_t r = m0 / width, c = m0 % width;
              for (int64_t j = 0; j < cols;) {
                if (c >= ph->cols) { j += width - c; r++; c = 0; continue; }
                const int64_t run = ph->cols - c < cols - j ? ph->cols - c : cols - j;
                const int64_t at = ph->dest_offset + r * ph->dest_row + c * step;
                \(t)* restrict dst = out + at;
                const \(t)* restrict src = tile + j;
                if (step == 1) {
                  for (int64_t i = 0; i < rows; i++)
                    for (int64_t u = 0; u < run; u++) dst[i * p->out_channel + u] = src[i * GEMM_NR + u];
                } else {
                  for (int64_t i = 0; i < rows; i++)
                    for (int64_t u = 0; u < run; u++) dst[i * p->out_channel + u * step] = src[i * GEMM_NR + u];
                }
                j += run; c += run;
              }
            }

            /* Batch statistics of a convolution's output for the BN after it, summed per image while the
               image's output is still in cache: sums[o] += sum of y[o][.], sums[m + o] += sum of squares. */
            static void conv_moments_add(int64_t m, int64_t plane, const \(t)* restrict y, double* restrict sums) {
              for (int64_t o = 0; o < m; o++) {
                const \(t)* restrict row = y + o * plane;
                lanes_t sum8 = {0}, squares8 = {0};
                double sum = 0, squares = 0;
                int64_t i = 0;
                for (; i + 8 <= plane; i += 8) { const lanes_t v = load_lanes(row + i); sum8 += v; squares8 += v * v; }
                for (; i < plane; i++) { sum += row[i]; squares += (double)row[i] * row[i]; }
                sums[o] += sum + lane_total(sum8);
                sums[m + o] += squares + lane_total(squares8);
              }
            }

            /* This thread's zeroed sums (2 x m) for conv_moments_add, kept in sums[thread]; null when sums is. */
            static double* conv_moments_begin(double** sums, int64_t m) {
              return sums ? (sums[omp_get_thread_num()] = calloc((size_t)(2 * m), sizeof(double))) : 0;
            }

            /* Called by every thread of the region after its last conv_moments_add: moments[o] = mean,
               moments[m + o] = biased variance, from the threads' sums added in thread order (so they repeat
               exactly for a fixed thread count). Double sums keep sum(y^2) - n mean^2 exact enough. */
            static void conv_moments_finish(int64_t m, double count, double** sums, \(t)* restrict moments) {
              if (!moments) return;
              #pragma omp barrier
              #pragma omp single
              for (int64_t o = 0; o < m; o++) {
                double sum = 0, squares = 0;
                for (int t = 0; t < omp_get_num_threads(); t++) { sum += sums[t][o]; squares += sums[t][m + o]; }
                const double mean = sum / count;
                moments[o] = (\(t))mean;
                moments[m + o] = (\(t))fmax(squares / count - mean * mean, 0.0);
              }
              free(sums[omp_get_thread_num()]);
            }

            /* out[n][i][pixel] = sum over (ci, t) of w * source_n[ci * source_channel + shift[t] + m], per phase,
               plus addend[n][i][pixel] if addend is not null, and the output's batch statistics into moments [2][m]
               if moments is not null. Weights are packed once; threads take whole images. */
            static void conv_gemm(const conv_plan_t* p, const \(t)* restrict w, const \(t)* restrict in, \(t)* restrict out,
                                  const \(t)* restrict addend, \(t)* restrict moments) {
              const int64_t row_panels = (p->m + GEMM_MR - 1) / GEMM_MR;
              const int64_t source_channel = p->source.phase_rows * p->source.phase_cols * p->source.rows * p->source.cols;
              \(t)* a[p->phases];
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
                    \(t)* restrict panel = a[f] + r * GEMM_MR * K;
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
                \(t)* restrict source = gemm_alloc(p->source_size);
                memset(source, 0, sizeof(\(t)) * (size_t)p->source_size);
                \(t) tile[GEMM_MR * GEMM_NR] __attribute__((aligned(64)));
                int zero_phases = 0;
                for (int64_t f = 0; f < p->phases; f++) zero_phases |= p->phase[f].taps == 0;
                /* While it computes one image, a thread prefetches the next, a few lines per tile:
                   the fill then reads it from cache instead of memory. */
                int64_t tiles = 0;
                for (int64_t f = 0; f < p->phases; f++)
                  if (p->phase[f].taps > 0)
                    tiles += row_panels * (((p->phase[f].rows - 1) * p->source.cols + p->phase[f].cols + GEMM_NR - 1) / GEMM_NR);
                const int64_t lines = (p->image_size * (int64_t)sizeof(\(t)) + 63) / 64, per_tile = tiles > 0 ? (lines + tiles - 1) / tiles : 0;
                #pragma omp for schedule(static)
                for (int64_t n = 0; n < p->images; n++) {
                  const char* next = (const char*)(in + (n + 1 < p->images ? n + 1 : n) * p->image_size);
                  int64_t prefetched = 0;
                  conv_fill_source(&p->source, in + n * p->image_size, source);
                  if (zero_phases) memset(out + n * p->out_image, 0, sizeof(\(t)) * (size_t)p->out_image);
                  for (int64_t f = 0; f < p->phases; f++) {
                    const conv_phase_t* ph = &p->phase[f];
                    if (ph->taps == 0) continue;  /* no tap reaches it: zero */
                    const int64_t K = p->channels * ph->taps, grid = (ph->rows - 1) * p->source.cols + ph->cols;
                    /* a row panel of weights stays in L1 while the grid streams past it */
                    for (int64_t r = 0; r < row_panels; r++) {
                      const int64_t rows = p->m - r * GEMM_MR < GEMM_MR ? p->m - r * GEMM_MR : GEMM_MR;
                      for (int64_t m0 = 0; m0 < grid; m0 += GEMM_NR) {
                        const int64_t cols = grid - m0 < GEMM_NR ? grid - m0 : GEMM_NR;
                        for (int64_t l = 0; l < per_tile && prefetched < lines; l++, prefetched++) __builtin_prefetch(next + prefetched * 64);
                        conv_micro_tile(K, a[f] + r * GEMM_MR * K, source + m0, offset[f], tile);
                        const int64_t at = n * p->out_image + r * GEMM_MR * p->out_channel;
                        conv_store(p, ph, out + at, rows, m0, cols, tile);
                      }
                    }
                  }
                  /* One contiguous pass while the image's output is still in L2: reading the addend tile
                     by tile in the store cost more (W2 layer1.1.conv1 dx: 47.6-48.1 ms against 46.4-46.9). */
                  if (addend) {
                    \(t)* restrict image = out + n * p->out_image;
                    const \(t)* restrict add = addend + n * p->out_image;
                    for (int64_t e = 0; e < p->out_image; e++) image[e] += add[e];
                  }
                  if (thread_sums) conv_moments_add(p->m, p->out_channel, out + n * p->out_image, thread_sums);
                }
                free(source);
                conv_moments_finish(p->m, (double)(p->images * p->out_channel), sums, moments);
              }
              free(sums);
              for (int64_t f = 0; f < p->phases; f++) { free(a[f]); free(offset[f]); }
            }

            /* Sum of the lanes of v, by halves. */
            \(halfTypes)
            static inline \(t) conv_lane_sum(vec_t v) {
            \(halving)
            }

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

            static void conv_weight_gemm(const conv_weight_plan_t* p, const \(t)* restrict dy, const \(t)* restrict x, \(t)* restrict dw) {
              const int64_t J = p->J, width = p->source.cols;
              \(t)** partials = calloc((size_t)omp_get_max_threads(), sizeof(\(t)*));
              #pragma omp parallel
              {
                const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
                \(t)* restrict partial = gemm_alloc(p->m * J);
                memset(partial, 0, sizeof(\(t)) * (size_t)(p->m * J));
                partials[thread] = partial;
                \(t)* restrict source = gemm_alloc(p->group * p->source_size);
                \(t)* restrict rows = gemm_alloc(p->group * p->m * p->length);
                memset(source, 0, sizeof(\(t)) * (size_t)(p->group * p->source_size));
                memset(rows, 0, sizeof(\(t)) * (size_t)(p->group * p->m * p->length));
                const int64_t first = p->images * thread / threads, last = p->images * (thread + 1) / threads;
                for (int64_t n0 = first; n0 < last; n0 += p->group) {
                  const int64_t count = last - n0 < p->group ? last - n0 : p->group;
                  for (int64_t g = 0; g < count; g++) {
                    conv_fill_source(&p->source, x + (n0 + g) * p->image_size, source + g * p->source_size);
                    for (int64_t i = 0; i < p->m; i++)
                      for (int64_t r = 0; r < p->dy_rows; r++) {
                        const \(t)* restrict in = dy + (n0 + g) * p->dy_image + (i * p->dy_rows + r) * p->dy_cols;
                        \(t)* restrict o = rows + (g * p->m + i) * p->length + r * width;
                        for (int64_t c = 0; c < p->dy_cols; c++) o[c] = in[c];
                      }
                  }
                  for (int64_t j0 = 0; j0 < J; j0 += \(wc)) {
                    const int64_t rj = J - j0 < \(wc) ? J - j0 : \(wc);
                    const int64_t \((0..<wc).map { "o\($0) = p->offset[j0 + \($0) < J ? j0 + \($0) : J - 1]" }.joined(separator: ", "));
                    for (int64_t i0 = 0; i0 < p->m; i0 += \(wr)) {
                      const int64_t ri = p->m - i0 < \(wr) ? p->m - i0 : \(wr);
                      vec_t \(weightAccumulators);
                      for (int64_t g = 0; g < count; g++) {
                        const \(t)* restrict s = source + g * p->source_size;
                        \(rowPointers)
                        for (int64_t m = 0; m < p->length; m += \(lanes)) {
            \(weightBody)            }
                      }
            \(weightSums)          }
                  }
                }
                #pragma omp barrier
                #pragma omp for schedule(static)
                for (int64_t e = 0; e < p->m * J; e++) {
                  \(t) sum = 0;
                  for (int t = 0; t < threads; t++) sum += partials[t][e];
                  dw[e] = sum;
                }
                free(rows);
                free(source);
                free(partial);
              }
              free(partials);
            }

            """
    }
}
