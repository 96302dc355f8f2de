import SimSiamIR

/// The loss chain: per-sample cosine similarity and the batch mean.
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
