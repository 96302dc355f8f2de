import SimSiamIR

/// The loss chain: per-sample cosine or cross-entropy similarity and the batch mean.
/// The symmetric loss runs each kernel once per term, so the bodies are
/// shape-generic (N rows of D features) and shared by the terms.
extension KernelEmitter {
    private func rowSizes(_ shape: Shape) -> [SharedBody.Size] {
        [SharedBody.Size(name: "N", value: shape[0]), SharedBody.Size(name: "D", value: shape[1])]
    }

    /// Binds dot, na, nb (norms clamped at eps, as PyTorch) for sample n.
    private func norms(_ c: inout CLines, _ eps: Double) {
        c.line("const \(t)* restrict an = a + n * D;")
        c.line("const \(t)* restrict bn = b + n * D;")
        c.line("double dot = 0, aa = 0, bb = 0;")
        c.line("for (int64_t i = 0; i < D; i++) { dot += an[i] * bn[i]; aa += an[i] * an[i]; bb += bn[i] * bn[i]; }")
        c.line("const double na = fmax(sqrt(aa), \(eps)), nb = fmax(sqrt(bb), \(eps));")
    }

    func cosineSimilarity(_ eps: Double) -> Kernel {
        let a = shape(operand: 0)
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t n = 0; n < N; n++)") { c in
            norms(&c, eps)
            c.line("y[n] = (\(t))(dot / (na * nb));")
        }
        return sharedKernel("a \(a), b \(a) -> y [\(a[0])] = a.b / (max(|a|,eps) max(|b|,eps)), eps \(eps)", ["a", "b"], ["y"], body: c,
                            math: "Cosine similarity of each row pair: y[n] = a.b / (max(|a|, eps) max(|b|, eps)), eps \(eps)\n(norms clamped as PyTorch's); a and b are [N, D] row-major, a thread owns whole rows.",
                            sizes: rowSizes(a))
    }

    /// d cos / d a = b / (|a||b|) - cos * a / |a|^2 (and symmetrically for b).
    func cosineSimilarityBackward(_ eps: Double, wrt: Int) -> Kernel {
        let a = shape(operand: 1)
        let (own, other, ownNorm) = wrt == 0 ? ("an", "bn", "na") : ("bn", "an", "nb")
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t n = 0; n < N; n++)") { c in
            norms(&c, eps)
            c.line("const double cosine = dot / (na * nb);")
            c.line("const double g = dy[n];")
            c.line("\(t)* restrict out = dx + n * D;")
            c.line("for (int64_t i = 0; i < D; i++) out[i] = (\(t))(g * (\(other)[i] / (na * nb) - cosine * \(own)[i] / (\(ownNorm) * \(ownNorm))));")
        }
        let (x, y) = wrt == 0 ? ("a", "b") : ("b", "a")
        return sharedKernel("dy [\(a[0])], a \(a), b \(a) -> d\(x) \(a)", ["dy", "a", "b"], ["dx"], body: c,
                            math: "Cosine similarity backward to \(x): d\(x) = dy * (\(y) / (|a||b|) - cos * \(x) / |\(x)|^2) per row,\nnorms clamped at eps \(eps); [N, D] row-major, a thread owns whole rows.",
                            sizes: rowSizes(a))
    }

    /// Binds pn, zn and the max-subtracted log-sum-exps plse, zlse of both rows
    /// of sample n, so that log_softmax(p)_i = pn[i] - plse and softmax(z)_i = exp(zn[i] - zlse).
    private func logSumExps(_ c: inout CLines) {
        c.line("const \(t)* restrict pn = p + n * D;")
        c.line("const \(t)* restrict zn = z + n * D;")
        c.line("double pmax = pn[0], zmax = zn[0];")
        c.line("for (int64_t i = 1; i < D; i++) { pmax = fmax(pmax, pn[i]); zmax = fmax(zmax, zn[i]); }")
        c.line("double psum = 0, zsum = 0;")
        c.line("for (int64_t i = 0; i < D; i++) { psum += exp(pn[i] - pmax); zsum += exp(zn[i] - zmax); }")
        c.line("const double plse = pmax + log(psum), zlse = zmax + log(zsum);")
    }

    /// Binds s = sum_i softmax(z)_i log_softmax(p)_i for sample n (after `logSumExps`).
    private func similarity(_ c: inout CLines) {
        c.line("double s = 0;")
        c.line("for (int64_t i = 0; i < D; i++) s += exp(zn[i] - zlse) * (pn[i] - plse);")
    }

    /// The SimSiam paper's cross-entropy variant: s = softmax(z) . log_softmax(p) = -CE(softmax(z), p).
    func crossEntropySimilarity() -> Kernel {
        let p = shape(operand: 0)
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t n = 0; n < N; n++)") { c in
            logSumExps(&c)
            similarity(&c)
            c.line("y[n] = (\(t))s;")
        }
        return sharedKernel("p \(p), z \(p) -> y [\(p[0])] = softmax(z) . log_softmax(p), row-wise", ["p", "z"], ["y"], body: c,
                            math: "Cross-entropy similarity of each row pair: y[n] = softmax(z) . log_softmax(p) = -CE(softmax(z), p),\nwith max-subtracted log-sum-exps; [N, D] row-major, a thread owns whole rows.",
                            sizes: rowSizes(p))
    }

    /// d s / d p = softmax(z) - softmax(p) (the rows of softmax(z) sum to 1);
    /// d s / d z_i = softmax(z)_i (log_softmax(p)_i - s).
    func crossEntropySimilarityBackward(wrt: Int) -> Kernel {
        let p = shape(operand: 1)
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t n = 0; n < N; n++)") { c in
            logSumExps(&c)
            c.line("const double g = dy[n];")
            c.line("\(t)* restrict out = dx + n * D;")
            if wrt == 0 {
                c.line("for (int64_t i = 0; i < D; i++) out[i] = (\(t))(g * (exp(zn[i] - zlse) - exp(pn[i] - plse)));")
            } else {
                similarity(&c)
                c.line("for (int64_t i = 0; i < D; i++) out[i] = (\(t))(g * exp(zn[i] - zlse) * (pn[i] - plse - s));")
            }
        }
        return sharedKernel("dy [\(p[0])], p \(p), z \(p) -> d\(wrt == 0 ? "p" : "z") \(p)", ["dy", "p", "z"], ["dx"], body: c,
                            math: wrt == 0 ? "Cross-entropy similarity backward to p: dp = dy * (softmax(z) - softmax(p)) per row (softmax(z) sums to 1)."
                                : "Cross-entropy similarity backward to z: dz_i = dy * softmax(z)_i (log_softmax(p)_i - s) per row.",
                            sizes: rowSizes(p))
    }

    /// Sequential on purpose: a fixed summation order, and it is tiny.
    func mean() -> Kernel {
        let x = shape(operand: 0)
        var c = CLines()
        c.line("double sum = 0;")
        c.line("for (int64_t i = 0; i < n; i++) sum += x[i];")
        c.block("if (ranks_share_batch())") { c in
            c.line("double totals[2] = {sum, (double)n};  /* the mean over every rank's batch */")
            c.line("sum_over_ranks(totals, 2);")
            c.line("y[0] = (\(t))(totals[0] / totals[1]);")
            c.line("return;")
        }
        c.line("y[0] = (\(t))(sum / n);")
        return sharedKernel("x \(x) -> y [] = mean(x)", ["x"], ["y"], body: c,
                            math: "y = mean of n values, summed in order in double (one thread: a fixed order, and n is small).\n"
                                + "In a data-parallel run x is this rank's shard of the batch and y the mean over all ranks.",
                            sizes: [SharedBody.Size(name: "n", value: x.elementCount)])
    }

    func meanBackward() -> Kernel {
        let dx = shape(result: 0)
        var c = CLines()
        c.line("double count = (double)n;")
        c.line("if (ranks_share_batch()) sum_over_ranks(&count, 1);  /* the mean was over every rank's batch */")
        c.line("const \(t) g = dy[0] / (\(t))count;")
        c.line("for (int64_t i = 0; i < n; i++) dx[i] = g;")
        return sharedKernel("dy [] -> dx \(dx) = dy / \(dx.elementCount)", ["dy"], ["dx"], body: c,
                            math: "Mean backward: every one of the n inputs gets dy / n (n over all ranks in a data-parallel run).",
                            sizes: [SharedBody.Size(name: "n", value: dx.elementCount)])
    }
}
