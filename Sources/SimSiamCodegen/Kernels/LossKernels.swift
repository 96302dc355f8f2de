import SimSiamIR

/// The loss chain: per-sample cosine or cross-entropy similarity and the batch mean.
extension KernelEmitter {
    /// Binds dot, na, nb (norms clamped at eps, as PyTorch) for sample n.
    private func norms(_ c: inout CLines, _ d: Int, _ eps: Double) {
        c.line("const \(t)* restrict an = a + n * \(d);")
        c.line("const \(t)* restrict bn = b + n * \(d);")
        c.line("double dot = 0, aa = 0, bb = 0;")
        c.line("for (int64_t i = 0; i < \(d); i++) { dot += an[i] * bn[i]; aa += an[i] * an[i]; bb += bn[i] * bn[i]; }")
        c.line("const double na = fmax(sqrt(aa), \(eps)), nb = fmax(sqrt(bb), \(eps));")
    }

    func cosineSimilarity(_ eps: Double) -> Kernel {
        let a = shape(operand: 0)
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t n = 0; n < \(a[0]); n++)") { c in
            norms(&c, a[1], eps)
            c.line("y[n] = (\(t))(dot / (na * nb));")
        }
        return kernel("a \(a), b \(a) -> y [\(a[0])] = a.b / (max(|a|,eps) max(|b|,eps)), eps \(eps)", ["a", "b"], ["y"], body: c)
    }

    /// d cos / d a = b / (|a||b|) - cos * a / |a|^2 (and symmetrically for b).
    func cosineSimilarityBackward(_ eps: Double, wrt: Int) -> Kernel {
        let a = shape(operand: 1)
        let (own, other, ownNorm) = wrt == 0 ? ("an", "bn", "na") : ("bn", "an", "nb")
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t n = 0; n < \(a[0]); n++)") { c in
            norms(&c, a[1], eps)
            c.line("const double cosine = dot / (na * nb);")
            c.line("const double g = dy[n];")
            c.line("\(t)* restrict out = dx + n * \(a[1]);")
            c.line("for (int64_t i = 0; i < \(a[1]); i++) out[i] = (\(t))(g * (\(other)[i] / (na * nb) - cosine * \(own)[i] / (\(ownNorm) * \(ownNorm))));")
        }
        return kernel("dy [\(a[0])], a \(a), b \(a) -> d\(wrt == 0 ? "a" : "b") \(a)", ["dy", "a", "b"], ["dx"], body: c)
    }

    /// Binds pn, zn and the max-subtracted log-sum-exps plse, zlse of both rows
    /// of sample n, so that log_softmax(p)_i = pn[i] - plse and softmax(z)_i = exp(zn[i] - zlse).
    private func logSumExps(_ c: inout CLines, _ d: Int) {
        c.line("const \(t)* restrict pn = p + n * \(d);")
        c.line("const \(t)* restrict zn = z + n * \(d);")
        c.line("double pmax = pn[0], zmax = zn[0];")
        c.line("for (int64_t i = 1; i < \(d); i++) { pmax = fmax(pmax, pn[i]); zmax = fmax(zmax, zn[i]); }")
        c.line("double psum = 0, zsum = 0;")
        c.line("for (int64_t i = 0; i < \(d); i++) { psum += exp(pn[i] - pmax); zsum += exp(zn[i] - zmax); }")
        c.line("const double plse = pmax + log(psum), zlse = zmax + log(zsum);")
    }

    /// Binds s = sum_i softmax(z)_i log_softmax(p)_i for sample n (after `logSumExps`).
    private func similarity(_ c: inout CLines, _ d: Int) {
        c.line("double s = 0;")
        c.line("for (int64_t i = 0; i < \(d); i++) s += exp(zn[i] - zlse) * (pn[i] - plse);")
    }

    /// The SimSiam paper's cross-entropy variant: s = softmax(z) . log_softmax(p) = -CE(softmax(z), p).
    func crossEntropySimilarity() -> Kernel {
        let p = shape(operand: 0)
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t n = 0; n < \(p[0]); n++)") { c in
            logSumExps(&c, p[1])
            similarity(&c, p[1])
            c.line("y[n] = (\(t))s;")
        }
        return kernel("p \(p), z \(p) -> y [\(p[0])] = softmax(z) . log_softmax(p), row-wise", ["p", "z"], ["y"], body: c)
    }

    /// d s / d p = softmax(z) - softmax(p) (the rows of softmax(z) sum to 1);
    /// d s / d z_i = softmax(z)_i (log_softmax(p)_i - s).
    func crossEntropySimilarityBackward(wrt: Int) -> Kernel {
        let p = shape(operand: 1)
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t n = 0; n < \(p[0]); n++)") { c in
            logSumExps(&c, p[1])
            c.line("const double g = dy[n];")
            c.line("\(t)* restrict out = dx + n * \(p[1]);")
            if wrt == 0 {
                c.line("for (int64_t i = 0; i < \(p[1]); i++) out[i] = (\(t))(g * (exp(zn[i] - zlse) - exp(pn[i] - plse)));")
            } else {
                similarity(&c, p[1])
                c.line("for (int64_t i = 0; i < \(p[1]); i++) out[i] = (\(t))(g * exp(zn[i] - zlse) * (pn[i] - plse - s));")
            }
        }
        return kernel("dy [\(p[0])], p \(p), z \(p) -> d\(wrt == 0 ? "p" : "z") \(p)", ["dy", "p", "z"], ["dx"], body: c)
    }

    /// Sequential on purpose: a fixed summation order, and it is tiny.
    func mean() -> Kernel {
        let x = shape(operand: 0)
        var c = CLines()
        c.line("double sum = 0;")
        c.line("for (int64_t i = 0; i < \(x.elementCount); i++) sum += x[i];")
        c.line("y[0] = (\(t))(sum / \(x.elementCount));")
        return kernel("x \(x) -> y [] = mean(x)", ["x"], ["y"], body: c)
    }

    func meanBackward() -> Kernel {
        let dx = shape(result: 0)
        var c = CLines()
        c.line("const \(t) g = dy[0] / \(precision.literal(Double(dx.elementCount)));")
        c.line("for (int64_t i = 0; i < \(dx.elementCount); i++) dx[i] = g;")
        return kernel("dy [] -> dx \(dx) = dy / \(dx.elementCount)", ["dy"], ["dx"], body: c)
    }
}
