import SimSiamIR

/// Convolutions and linear layers as packed GEMMs on the shared micro-kernel
/// (`GemmSupport`). Each kernel states its GEMM in its comment and supplies
/// the three small functions that bind the GEMM to its tensors' layouts.
extension KernelEmitter {
    /// What a GEMM kernel needs beyond the shared drivers.
    struct GemmPlan {
        var summary: String
        var inputs: [String], outputs: [String]
        /// C assignments of `g` fields, e.g. `{.a = w, .b = x, .c = y}`.
        var operands: String
        var m: Int, n: Int, k: Int
        var packA: String, packB: String
        /// Store body for column-panel GEMMs; nil for a k-reduction into `g.c` (row-major M x N).
        var store: String?
    }

    func gemmKernel(_ plan: GemmPlan) -> Kernel {
        let t = self.t
        let packSignature = "(const gemm_operands_t* g, int64_t k0, int64_t kc, int64_t x0, int64_t count, \(t)* restrict panel)"
        var helpers = [
            "static void $KERNEL__pack_a\(packSignature) {\n\(plan.packA)}\n",
            "static void $KERNEL__pack_b\(packSignature) {\n\(plan.packB)}\n",
        ]
        var c = CLines()
        c.line("const gemm_operands_t g = \(plan.operands);")
        if let store = plan.store {
            helpers.append("static void $KERNEL__store(const gemm_operands_t* g, int64_t i0, int64_t rows, int64_t j0, int64_t cols, const \(t)* restrict tile) {\n\(store)}\n")
            c.line("gemm_column_panels(\(plan.m), \(plan.n), \(plan.k), &g, $KERNEL__pack_a, $KERNEL__pack_b, $KERNEL__store);")
        } else {
            c.line("gemm_reduce_over_k(\(plan.m), \(plan.n), \(plan.k), 256, &g, $KERNEL__pack_a, $KERNEL__pack_b, g.c);")
        }
        var kernel = kernel("\(plan.summary)\nGEMM: M \(plan.m), N \(plan.n), K \(plan.k)", plan.inputs, plan.outputs, body: c)
        kernel.helpers = helpers
        return kernel
    }

    // MARK: Packing and stores shared by several layers

    /// A[i][k] = src[i * ld + k] (rows of a row-major matrix).
    private func packRows(_ source: String, ld: Int) -> String {
        var c = CLines()
        c.line("const \(t)* restrict src = \(source);")
        c.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("for (int64_t i = 0; i < GEMM_MR; i++) panel[k * GEMM_MR + i] = i < count ? src[(x0 + i) * \(ld) + k0 + k] : 0;")
        }
        return c.text
    }

    /// A[i][k] = src[k * ld + i] (rows of a transposed row-major matrix).
    private func packRowsTransposed(_ source: String, ld: Int) -> String {
        var c = CLines()
        c.line("const \(t)* restrict src = \(source);")
        c.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("for (int64_t i = 0; i < GEMM_MR; i++) panel[k * GEMM_MR + i] = i < count ? src[(k0 + k) * \(ld) + x0 + i] : 0;")
        }
        return c.text
    }

    /// B[k][j] = src[k * ld + j].
    private func packColumns(_ source: String, ld: Int) -> String {
        var c = CLines()
        c.line("const \(t)* restrict src = \(source);")
        c.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("for (int64_t j = 0; j < GEMM_NR; j++) panel[k * GEMM_NR + j] = j < count ? src[(k0 + k) * \(ld) + x0 + j] : 0;")
        }
        return c.text
    }

    /// B[k][j] = src[j * ld + k].
    private func packColumnsTransposed(_ source: String, ld: Int) -> String {
        var c = CLines()
        c.line("const \(t)* restrict src = \(source);")
        c.block("for (int64_t j = 0; j < GEMM_NR; j++)") { c in
            c.block("if (j >= count)") { c in
                c.line("for (int64_t k = 0; k < kc; k++) panel[k * GEMM_NR + j] = 0;")
                c.line("continue;")
            }
            c.line("for (int64_t k = 0; k < kc; k++) panel[k * GEMM_NR + j] = src[(x0 + j) * \(ld) + k0 + k];")
        }
        return c.text
    }

    /// C[i][j] = tile (+ bias[j]) into a row-major matrix.
    private func storeRows(ld: Int, bias: Bool) -> String {
        var c = CLines()
        c.block("for (int64_t i = 0; i < rows; i++)") { c in
            c.line("\(t)* restrict row = g->c + (i0 + i) * \(ld) + j0;")
            c.line("for (int64_t j = 0; j < cols; j++) row[j] = tile[i * GEMM_NR + j]\(bias ? " + g->bias[j0 + j]" : "");")
        }
        return c.text
    }

    // MARK: Convolution

    /// y[n,o,p,q] = sum over (c,kh,kw) of w[o,c,kh,kw] x[n,c,p*S-PAD+kh,q*S-PAD+kw]:
    /// A = w as [O x C*K*K], B = im2col(x) read in place, columns (n,p,q).
    func conv2dForwardGemm(stride s: Int, padding pad: Int) -> Kernel {
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
            packA: packRows("g->a", ld: channels * k * k), packB: packB.text, store: store.text))
    }

    /// dx[n,c,h,w] = sum over (o,kh,kw) of w[o,c,kh,kw] dy[n,o,p,q] where h = p*S-PAD+kh:
    /// A = w^T as [C x O*K*K], B gathers dy (zero where no p, q maps to h, w).
    func conv2dBackwardDataGemm(stride s: Int, padding pad: Int) -> Kernel {
        let dy = shape(operand: 0), w = shape(operand: 1), dx = shape(result: 0)
        let (outputs, channels, k) = (w[0], w[1], w[2])
        let (p, q, h, width) = (dy[2], dy[3], dx[2], dx[3])
        var packA = CLines()
        packA.line("const \(t)* restrict w = g->a;")
        packA.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("const int64_t row = k0 + k, o = row / \(k * k), tap = row % \(k * k);")
            c.line("for (int64_t i = 0; i < GEMM_MR; i++) panel[k * GEMM_MR + i] = i < count ? w[(o * \(channels) + x0 + i) * \(k * k) + tap] : 0;")
        }
        var packB = CLines()
        packB.line("const \(t)* restrict dy = g->b;")
        packB.line("int64_t base[GEMM_NR], top[GEMM_NR], left[GEMM_NR];")
        packB.block("for (int64_t j = 0; j < count; j++)") { c in
            c.line("const int64_t column = x0 + j, n = column / \(h * width), pixel = column % \(h * width);")
            c.line("base[j] = n * \(outputs * p * q); top[j] = pixel / \(width) + \(pad); left[j] = pixel % \(width) + \(pad);")
        }
        packB.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("const int64_t row = k0 + k, o = row / \(k * k), kh = row / \(k) % \(k), kw = row % \(k);")
            c.line("\(t)* restrict out = panel + k * GEMM_NR;")
            c.block("for (int64_t j = 0; j < GEMM_NR; j++)") { c in
                c.line("const int64_t ph = top[j] - kh, qw = left[j] - kw;  /* = p * S, q * S when they exist */")
                if s == 1 {
                    c.line("out[j] = j < count && ph >= 0 && ph < \(p) && qw >= 0 && qw < \(q) ? dy[base[j] + o * \(p * q) + ph * \(q) + qw] : 0;")
                } else {
                    c.line("out[j] = j < count && ph >= 0 && qw >= 0 && ph % \(s) == 0 && qw % \(s) == 0 && ph / \(s) < \(p) && qw / \(s) < \(q)")
                    c.line("    ? dy[base[j] + o * \(p * q) + ph / \(s) * \(q) + qw / \(s)] : 0;")
                }
            }
        }
        var store = CLines()
        store.block("for (int64_t j = 0; j < cols; j++)") { c in
            c.line("const int64_t column = j0 + j, n = column / \(h * width), pixel = column % \(h * width);")
            c.line("\(t)* restrict out = g->c + n * \(channels * h * width) + pixel;")
            c.line("for (int64_t i = 0; i < rows; i++) out[(i0 + i) * \(h * width)] = tile[i * GEMM_NR + j];")
        }
        return gemmKernel(GemmPlan(
            summary: "dy \(dy), w \(w) -> dx \(dx); stride \(s), padding \(pad)", inputs: ["dy", "w"], outputs: ["dx"],
            operands: "{.a = w, .b = dy, .c = dx}", m: channels, n: dx[0] * h * width, k: outputs * k * k,
            packA: packA.text, packB: packB.text, store: store.text))
    }

    /// dw[o,(c,kh,kw)] = sum over (n,p,q) of dy[n,o,p,q] x[n,c,p*S-PAD+kh,q*S-PAD+kw]:
    /// A = dy as [O x N*P*Q], B = im2col(x)^T, reduced over k by thread-private partials.
    func conv2dBackwardWeightGemm(stride s: Int, padding pad: Int) -> Kernel {
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
            packA: packA.text, packB: packB.text, store: nil))
    }

    // MARK: Linear

    /// y = x w^T + b: A = x [N x I], B = w^T.
    func linearForwardGemm(hasBias: Bool) -> Kernel {
        let x = shape(operand: 0), w = shape(operand: 1)
        return gemmKernel(GemmPlan(
            summary: "x \(x), w \(w)\(hasBias ? ", b [\(w[0])]" : "") -> y [\(x[0]),\(w[0])]",
            inputs: ["x", "w"] + (hasBias ? ["b"] : []), outputs: ["y"],
            operands: "{.a = x, .b = w, .bias = \(hasBias ? "b" : "0"), .c = y}", m: x[0], n: w[0], k: x[1],
            packA: packRows("g->a", ld: x[1]), packB: packColumnsTransposed("g->b", ld: w[1]),
            store: storeRows(ld: w[0], bias: hasBias)))
    }

    /// dx = dy w: A = dy [N x O], B = w [O x I].
    func linearBackwardDataGemm() -> Kernel {
        let dy = shape(operand: 0), w = shape(operand: 1)
        return gemmKernel(GemmPlan(
            summary: "dy \(dy), w \(w) -> dx [\(dy[0]),\(w[1])]", inputs: ["dy", "w"], outputs: ["dx"],
            operands: "{.a = dy, .b = w, .c = dx}", m: dy[0], n: w[1], k: w[0],
            packA: packRows("g->a", ld: dy[1]), packB: packColumns("g->b", ld: w[1]), store: storeRows(ld: w[1], bias: false)))
    }

    /// dw = dy^T x: A = dy^T [O x N], B = x [N x I].
    func linearBackwardWeightGemm() -> Kernel {
        let dy = shape(operand: 0), x = shape(operand: 1)
        return gemmKernel(GemmPlan(
            summary: "dy \(dy), x \(x) -> dw [\(dy[1]),\(x[1])]", inputs: ["dy", "x"], outputs: ["dw"],
            operands: "{.a = dy, .b = x, .c = dw}", m: dy[1], n: x[1], k: x[0],
            packA: packRowsTransposed("g->a", ld: dy[1]), packB: packColumns("g->b", ld: x[1]), store: storeRows(ld: x[1], bias: false)))
    }
}
