import SimSiamIR

/// Convolutions as GEMMs with both operands packed (`gemm_column_panels`),
/// columns running across images (forward) or taps (weight gradients). Chosen over the
/// in-place kernels of `TunedKernels.swift` where the padded grid of one image
/// wastes more than packing costs (packing is ~1/M of the work) and
/// channels-last does not pay: weight gradients whose channels-last partial
/// sums would outgrow 4 MB (W2's layer4), and strided 1x1 forward convolutions
/// with many outputs on tiny maps (W2's layer4.0.downsample).
extension KernelEmitter {
    /// A[i][k] = src[i * ld + k] (rows of a row-major matrix).
    private func packWeightRows(ld: Int) -> String {
        var c = CLines()
        c.line("const \(t)* restrict src = g->a;")
        c.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("for (int64_t i = 0; i < GEMM_MR; i++) panel[k * GEMM_MR + i] = i < count ? src[(x0 + i) * \(ld) + k0 + k] : 0;")
        }
        return c.text
    }

    /// y[n,o,p,q] = sum over (c,kh,kw) of w[o,c,kh,kw] x[n,c,p*S-PAD+kh,q*S-PAD+kw]:
    /// A = w as [O x C*K*K], B = im2col(x) read in place, columns (n,p,q).
    func conv2dForwardPacked(stride s: Int, padding pad: Int) -> Kernel {
        let x = shape(operand: 0), w = shape(operand: 1), y = shape(result: 0)
        let (channels, h, width, k) = (x[1], x[2], x[3], w[2])
        let (p, q) = (y[2], y[3])
        var packB = CLines()
        packB.line("const \(t)* restrict x = g->b;")
        packB.line("int64_t base[GEMM_NR], top[GEMM_NR], left[GEMM_NR];")
        packB.block("for (int64_t j = 0; j < count; j++)") { c in
            c.line("const int64_t column = x0 + j, n = column / \(p * q), pixel = column % \(p * q);")
            c.line("base[j] = n * \(channels * h * width); top[j] = pixel / \(q) * \(s) - \(pad); left[j] = pixel % \(q) * \(s) - \(pad);")
        }
        packB.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("const int64_t row = k0 + k, ci = row / \(k * k), kh = row / \(k) % \(k), kw = row % \(k);")
            c.line("\(t)* restrict out = panel + k * GEMM_NR;")
            c.block("for (int64_t j = 0; j < GEMM_NR; j++)") { c in
                c.line("const int64_t hh = top[j] + kh, ww = left[j] + kw;")
                c.line("out[j] = j < count && hh >= 0 && hh < \(h) && ww >= 0 && ww < \(width) ? x[base[j] + ci * \(h * width) + hh * \(width) + ww] : 0;")
            }
        }
        var store = CLines()
        store.block("for (int64_t j = 0; j < cols; j++)") { c in
            c.line("const int64_t column = j0 + j, n = column / \(p * q), pixel = column % \(p * q);")
            c.line("\(t)* restrict out = g->c + n * \(w[0] * p * q) + pixel;")
            c.line("for (int64_t i = 0; i < rows; i++) out[(i0 + i) * \(p * q)] = tile[i * GEMM_NR + j];")
        }
        return gemmKernel(GemmPlan(
            summary: "x \(x) * w \(w) -> y \(y); stride \(s), padding \(pad)", inputs: ["x", "w"], outputs: ["y"],
            operands: "{.a = w, .b = x, .c = y}", m: w[0], n: x[0] * p * q, k: channels * k * k,
            packA: packWeightRows(ld: channels * k * k), packB: packB.text, store: store.text))
    }

    /// dw[o,(c,kh,kw)] = sum over (n,p,q) of dy[n,o,p,q] x[n,c,p*S-PAD+kh,q*S-PAD+kw]:
    /// A = dy as [O x N*P*Q], B = im2col(x)^T. Threads own column panels of dw and sum the
    /// whole batch in registers: thread-private partial sums of dw, zeroed and added up every call,
    /// measured slower (W2 layer4 at 128 images: 54.9 -> 49.3 ms; at 512, 217.7 -> 208.8). A dw
    /// of two column panels or fewer (a 1x1 with few inputs) has too few panels to share, and
    /// packing all of its long A costs memory: W1's layer3.0 1x1 (K 12544) takes 3.3-3.4 ms
    /// either way, but W1's peak RSS read 5-10 MiB higher with it as column panels (`bench
    /// --json`), so it sums over k in blocks.
    func conv2dBackwardWeightPacked(stride s: Int, padding pad: Int) -> Kernel {
        let dy = shape(operand: 0), x = shape(operand: 1), dw = shape(result: 0)
        let (outputs, channels, h, width, k) = (dy[1], x[1], x[2], x[3], dw[2])
        let (p, q) = (dy[2], dy[3])
        var packA = CLines()
        packA.line("const \(t)* restrict dy = g->a;")
        packA.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("const int64_t column = k0 + k, n = column / \(p * q), pixel = column % \(p * q);")
            c.line("const \(t)* restrict src = dy + n * \(outputs * p * q) + pixel;")
            c.line("for (int64_t i = 0; i < GEMM_MR; i++) panel[k * GEMM_MR + i] = i < count ? src[(x0 + i) * \(p * q)] : 0;")
        }
        var packB = CLines()
        packB.line("const \(t)* restrict x = g->b;")
        packB.line("int64_t plane[GEMM_NR], tap_h[GEMM_NR], tap_w[GEMM_NR];")
        packB.block("for (int64_t j = 0; j < count; j++)") { c in
            c.line("const int64_t column = x0 + j;")
            c.line("plane[j] = column / \(k * k) * \(h * width); tap_h[j] = column / \(k) % \(k) - \(pad); tap_w[j] = column % \(k) - \(pad);")
        }
        packB.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("const int64_t row = k0 + k, n = row / \(p * q), pixel = row % \(p * q);")
            c.line("const int64_t top = pixel / \(q) * \(s), left = pixel % \(q) * \(s);")
            c.line("const \(t)* restrict image = x + n * \(channels * h * width);")
            c.line("\(t)* restrict out = panel + k * GEMM_NR;")
            c.block("for (int64_t j = 0; j < GEMM_NR; j++)") { c in
                c.line("const int64_t hh = top + tap_h[j], ww = left + tap_w[j];")
                c.line("out[j] = j < count && hh >= 0 && hh < \(h) && ww >= 0 && ww < \(width) ? image[plane[j] + hh * \(width) + ww] : 0;")
            }
        }
        return gemmKernel(GemmPlan(
            summary: "dy \(dy), x \(x) -> dw \(dw); stride \(s), padding \(pad)", inputs: ["dy", "x"], outputs: ["dw"],
            operands: "{.a = dy, .b = x, .c = dw}", m: outputs, n: channels * k * k, k: x[0] * p * q,
            packA: packA.text, packB: packB.text,
            store: threadSplit() == .kBlocks ? nil : storeRows(ld: channels * k * k, bias: false)))
    }
}
