import SimSiamIR

/// Direct convolution, plain loops: each thread owns whole output planes, so
/// results do not depend on the thread count. The spatial loops clip the
/// kernel window against the padding once per row instead of testing every tap.
extension KernelEmitter {
    /// The rows of a shared conv loop nest: for tap (kh, kw), output row p maps
    /// to input row h = p*S - PAD + kh, and columns q in [q0, q1) to w = q*S - PAD + kw.
    private func taps(_ c: inout CLines, _ k: Int, _ stride: Int, _ pad: Int, _ inner: (inout CLines) -> Void) {
        c.block("for (int kh = 0; kh < \(k); kh++)") { c in
            c.block("for (int kw = 0; kw < \(k); kw++)") { c in
                c.line("int q0 = (\(pad) - kw + \(stride - 1)) / \(stride); if (q0 < 0) q0 = 0;")
                c.line("int q1 = W - 1 + \(pad) - kw < 0 ? 0 : (W - 1 + \(pad) - kw) / \(stride) + 1; if (q1 > Q) q1 = Q;")
                inner(&c)
            }
        }
    }

    private func dims(_ x: Shape, _ w: Shape, _ y: Shape) -> String {
        "const int64_t N = \(x[0]), C = \(x[1]), H = \(x[2]), W = \(x[3]), O = \(w[0]), K = \(w[2]), P = \(y[2]), Q = \(y[3]);"
    }

    func conv2dForward(stride: Int, padding: Int, moments: Bool) -> Kernel {
        let x = shape(operand: 0), w = shape(operand: 1), y = shape(result: 0)
        var c = CLines()
        c.line(dims(x, w, y))
        c.line("(void)K;")
        c.line("#pragma omp parallel for collapse(2) schedule(static)")
        c.block("for (int64_t n = 0; n < N; n++)") { c in
            c.block("for (int64_t o = 0; o < O; o++)") { c in
                c.line("\(t)* restrict yp = y + (n * O + o) * P * Q;")
                c.line("for (int64_t i = 0; i < P * Q; i++) yp[i] = 0;")
                c.block("for (int64_t ci = 0; ci < C; ci++)") { c in
                    c.line("const \(t)* restrict xp = x + (n * C + ci) * H * W;")
                    c.line("const \(t)* restrict wp = w + (o * C + ci) * K * K;")
                    taps(&c, w[2], stride, padding) { c in
                        c.line("const \(t) wv = wp[kh * K + kw];")
                        c.block("for (int64_t p = 0; p < P; p++)") { c in
                            c.line("const int64_t h = p * \(stride) - \(padding) + kh;")
                            c.line("if (h < 0 || h >= H) continue;")
                            c.line("const int64_t base = h * W - \(padding) + kw;")
                            c.line("for (int64_t q = q0; q < q1; q++) yp[p * Q + q] += wv * xp[base + q * \(stride)];")
                        }
                    }
                }
            }
        }
        let convolution = kernel("x \(x) * w \(w) -> y \(y); stride \(stride), padding \(padding)", ["x", "w"], ["y"], body: c)
        return moments ? withMomentsPass(convolution) : convolution
    }

    /// ", moments [2,O] = ..." for the summary of a convolution that also returns y's batch statistics.
    func momentsSummary(_ moments: Bool) -> String {
        moments ? ", moments [2,\(shape(result: 0)[1])] = (mean, biased variance) of y per channel" : ""
    }

    /// `kernel` followed by a pass over y for its batch statistics (`Op.conv2d` with moments), for
    /// kernels whose tiles span images: each thread owns whole channels, summed in a fixed order.
    func withMomentsPass(_ kernel: Kernel) -> Kernel {
        let y = shape(result: 0)
        let plane = y[2] * y[3]
        var c = CLines()
        c.line("/* y's batch statistics for the BN after this convolution */")
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t o = 0; o < \(y[1]); o++)") { c in
            c.line("double sum = 0, squares = 0;")
            c.block("for (int64_t n = 0; n < \(y[0]); n++)") { c in
                c.line("const \(t)* restrict row = y + (n * \(y[1]) + o) * \(plane);")
                c.line("for (int64_t i = 0; i < \(plane); i++) { sum += row[i]; squares += (double)row[i] * row[i]; }")
            }
            c.line("const double mean = sum / \(y[0] * plane).0;")
            c.line("moments[o] = (\(t))mean;")
            c.line("moments[\(y[1]) + o] = (\(t))fmax(squares / \(y[0] * plane).0 - mean * mean, 0.0);")
        }
        var fused = kernel
        fused.comment = kernel.comment.replacingOccurrences(of: "-> y \(y)", with: "-> y \(y)\(momentsSummary(true))")
        fused.parameters.append("\(t)* restrict moments")
        fused.body += c.text
        return fused
    }

    func conv2dBackwardData(stride: Int, padding: Int, accumulates: Bool) -> Kernel {
        let dy = shape(operand: 0), w = shape(operand: 1), dx = shape(result: 0)
        var c = CLines()
        c.line(dims(dx, w, dy))
        c.line("(void)K;")
        c.line("#pragma omp parallel for collapse(2) schedule(static)")
        c.block("for (int64_t n = 0; n < N; n++)") { c in
            c.block("for (int64_t ci = 0; ci < C; ci++)") { c in
                c.line("\(t)* restrict dxp = dx + (n * C + ci) * H * W;")
                c.line(accumulates ? "for (int64_t i = 0; i < H * W; i++) dxp[i] = addend[(n * C + ci) * H * W + i];"
                                   : "for (int64_t i = 0; i < H * W; i++) dxp[i] = 0;")
                c.block("for (int64_t o = 0; o < O; o++)") { c in
                    c.line("const \(t)* restrict dyp = dy + (n * O + o) * P * Q;")
                    c.line("const \(t)* restrict wp = w + (o * C + ci) * K * K;")
                    taps(&c, w[2], stride, padding) { c in
                        c.line("const \(t) wv = wp[kh * K + kw];")
                        c.block("for (int64_t p = 0; p < P; p++)") { c in
                            c.line("const int64_t h = p * \(stride) - \(padding) + kh;")
                            c.line("if (h < 0 || h >= H) continue;")
                            c.line("const int64_t base = h * W - \(padding) + kw;")
                            c.line("for (int64_t q = q0; q < q1; q++) dxp[base + q * \(stride)] += wv * dyp[p * Q + q];")
                        }
                    }
                }
            }
        }
        return kernel("dy \(dy), w \(w)\(accumulates ? ", addend" : "") -> dx \(dx)\(accumulates ? " (+ addend)" : ""); stride \(stride), padding \(padding)",
                      ["dy", "w"] + (accumulates ? ["addend"] : []), ["dx"], body: c)
    }

    func conv2dBackwardWeight(stride: Int, padding: Int) -> Kernel {
        let dy = shape(operand: 0), x = shape(operand: 1), dw = shape(result: 0)
        var c = CLines()
        c.line(dims(x, dw, dy))
        c.line("#pragma omp parallel for collapse(2) schedule(static)")
        c.block("for (int64_t o = 0; o < O; o++)") { c in
            c.block("for (int64_t ci = 0; ci < C; ci++)") { c in
                c.line("double acc[\(dw[2] * dw[3])] = {0};")
                c.block("for (int64_t n = 0; n < N; n++)") { c in
                    c.line("const \(t)* restrict xp = x + (n * C + ci) * H * W;")
                    c.line("const \(t)* restrict dyp = dy + (n * O + o) * P * Q;")
                    taps(&c, dw[2], stride, padding) { c in
                        c.line("\(t) sum = 0;")
                        c.block("for (int64_t p = 0; p < P; p++)") { c in
                            c.line("const int64_t h = p * \(stride) - \(padding) + kh;")
                            c.line("if (h < 0 || h >= H) continue;")
                            c.line("const int64_t base = h * W - \(padding) + kw;")
                            c.line("for (int64_t q = q0; q < q1; q++) sum += dyp[p * Q + q] * xp[base + q * \(stride)];")
                        }
                        c.line("acc[kh * K + kw] += sum;")
                    }
                }
                c.line("for (int64_t i = 0; i < K * K; i++) dw[(o * C + ci) * K * K + i] = (\(t))acc[i];")
            }
        }
        return kernel("dy \(dy), x \(x) -> dw \(dw); stride \(stride), padding \(padding)",
                      ["dy", "x"], ["dw"], body: c)
    }
}
