import SimSiamIR

/// Max pooling as PyTorch's CPU MaxPool2d computes it. Each thread owns whole
/// (n, c) planes of the output, or of dx in the backward, so there are no
/// atomics and results repeat exactly. Both kernel strategies use these loops:
/// the pool is memory-bound and runs once per step (the ImageNet stem).
extension KernelEmitter {
    /// The window of output (p, q), clipped to the input: rows [h0, h1), columns [w0, w1).
    /// Padding is at most half the kernel (shape inference), so no window is empty.
    private func window(_ c: inout CLines, kernel: Int, stride: Int, padding: Int) {
        c.line("const int64_t h0 = p * \(stride) - \(padding) < 0 ? 0 : p * \(stride) - \(padding);")
        c.line("const int64_t h1 = p * \(stride) - \(padding) + \(kernel) > H ? H : p * \(stride) - \(padding) + \(kernel);")
        c.line("const int64_t w0 = q * \(stride) - \(padding) < 0 ? 0 : q * \(stride) - \(padding);")
        c.line("const int64_t w1 = q * \(stride) - \(padding) + \(kernel) > W ? W : q * \(stride) - \(padding) + \(kernel);")
    }

    /// PyTorch's scan: row-major over the clipped window, starting from -inf at the window's
    /// first element; a strictly greater value or a NaN takes over, so ties keep the first.
    private func argmax(_ c: inout CLines) {
        c.line("\(t) best = -INFINITY;")
        c.line("int64_t at = h0 * W + w0;")
        c.block("for (int64_t h = h0; h < h1; h++)") { c in
            c.block("for (int64_t w = w0; w < w1; w++)") { c in
                c.line("const \(t) v = xp[h * W + w];")
                c.line("if (v > best || isnan(v)) { best = v; at = h * W + w; }")
            }
        }
    }

    private func poolDims(_ x: Shape, _ y: Shape) -> String {
        "const int64_t H = \(x[2]), W = \(x[3]), P = \(y[2]), Q = \(y[3]);"
    }

    func maxPool2d(kernel: Int, stride: Int, padding: Int) -> Kernel {
        let x = shape(operand: 0), y = shape(result: 0)
        var c = CLines()
        c.line(poolDims(x, y))
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t nc = 0; nc < \(x[0] * x[1]); nc++)") { c in
            c.line("const \(t)* restrict xp = x + nc * H * W;")
            c.line("\(t)* restrict yp = y + nc * P * Q;")
            c.block("for (int64_t p = 0; p < P; p++)") { c in
                c.block("for (int64_t q = 0; q < Q; q++)") { c in
                    window(&c, kernel: kernel, stride: stride, padding: padding)
                    argmax(&c)
                    c.line("(void)at;")
                    c.line("yp[p * Q + q] = best;")
                }
            }
        }
        return self.kernel("x \(x) -> y \(y) = max over each \(kernel)x\(kernel) window; stride \(stride), padding \(padding) (-inf)",
                      ["x"], ["y"], body: c)
    }

    /// Recomputes each window's argmax from x rather than saving indices: no int64 tensor in
    /// the workspace, and the scan is the forward's, so the routing matches it exactly.
    func maxPool2dBackward(kernel: Int, stride: Int, padding: Int) -> Kernel {
        let dy = shape(operand: 0), x = shape(operand: 1)
        var c = CLines()
        c.line(poolDims(x, dy))
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t nc = 0; nc < \(x[0] * x[1]); nc++)") { c in
            c.line("const \(t)* restrict xp = x + nc * H * W;")
            c.line("const \(t)* restrict dyp = dy + nc * P * Q;")
            c.line("\(t)* restrict dxp = dx + nc * H * W;")
            c.line("for (int64_t i = 0; i < H * W; i++) dxp[i] = 0;")
            c.block("for (int64_t p = 0; p < P; p++)") { c in
                c.block("for (int64_t q = 0; q < Q; q++)") { c in
                    window(&c, kernel: kernel, stride: stride, padding: padding)
                    argmax(&c)
                    c.line("dxp[at] += dyp[p * Q + q];")
                }
            }
        }
        return self.kernel("dy \(dy), x \(x) -> dx \(x): dy to the argmax of its \(kernel)x\(kernel) window (first of ties); stride \(stride), padding \(padding)",
                      ["dy", "x"], ["dx"], body: c)
    }

    /// y = x + b[c]: a convolution's bias, as its own op so the convolution kernels stay bias-free.
    func channelBias() -> Kernel {
        let x = shape(operand: 0)
        let (channels, plane) = (x[1], x.dims.dropFirst(2).reduce(1, *))
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t nc = 0; nc < \(x[0] * channels); nc++)") { c in
            c.line("const \(t) bias = b[nc % \(channels)];")
            c.line("for (int64_t i = 0; i < \(plane); i++) y[nc * \(plane) + i] = x[nc * \(plane) + i] + bias;")
        }
        return kernel("x \(x), b [\(channels)] -> y = x + b per channel", ["x", "b"], ["y"], body: c)
    }

    /// db[c] = sum of dy over n and the spatial positions; each thread owns whole channels
    /// and sums them in a fixed order, in double.
    func channelBiasBackward() -> Kernel {
        let dy = shape(operand: 0)
        let (channels, plane) = (dy[1], dy.dims.dropFirst(2).reduce(1, *))
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t ch = 0; ch < \(channels); ch++)") { c in
            c.line("double sum = 0;")
            c.block("for (int64_t n = 0; n < \(dy[0]); n++)") { c in
                c.line("const \(t)* restrict row = dy + (n * \(channels) + ch) * \(plane);")
                c.line("for (int64_t i = 0; i < \(plane); i++) sum += row[i];")
            }
            c.line("db[ch] = (\(t))sum;")
        }
        return kernel("dy \(dy) -> db [\(channels)] = sum of dy over all but the channel", ["dy"], ["db"], body: c)
    }
}
