import SimSiamIR

/// Fully connected layers, weight [O, I]. Each thread owns whole rows of its
/// output (samples for y and dx, output features for dw and db).
extension KernelEmitter {
    func linearForward(hasBias: Bool) -> Kernel {
        let x = shape(operand: 0), w = shape(operand: 1)
        var c = CLines()
        c.line("const int64_t N = \(x[0]), I = \(x[1]), O = \(w[0]);")
        c.line("#pragma omp parallel for collapse(2) schedule(static)")
        c.block("for (int64_t n = 0; n < N; n++)") { c in
            c.block("for (int64_t o = 0; o < O; o++)") { c in
                c.line("\(t) sum = \(hasBias ? "b[o]" : "0");")
                c.line("for (int64_t i = 0; i < I; i++) sum += x[n * I + i] * w[o * I + i];")
                c.line("y[n * O + o] = sum;")
            }
        }
        return kernel("x \(x), w \(w)\(hasBias ? ", b [\(w[0])]" : "") -> y [\(x[0]),\(w[0])]",
                      ["x", "w"] + (hasBias ? ["b"] : []), ["y"], body: c)
    }

    func linearBackwardData() -> Kernel {
        let dy = shape(operand: 0), w = shape(operand: 1)
        var c = CLines()
        c.line("const int64_t N = \(dy[0]), I = \(w[1]), O = \(w[0]);")
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t n = 0; n < N; n++)") { c in
            c.line("\(t)* restrict row = dx + n * I;")
            c.line("for (int64_t i = 0; i < I; i++) row[i] = 0;")
            c.block("for (int64_t o = 0; o < O; o++)") { c in
                c.line("const \(t) g = dy[n * O + o];")
                c.line("for (int64_t i = 0; i < I; i++) row[i] += g * w[o * I + i];")
            }
        }
        return kernel("dy \(dy), w \(w) -> dx [\(dy[0]),\(w[1])]", ["dy", "w"], ["dx"], body: c)
    }

    func linearBackwardWeight() -> Kernel {
        let dy = shape(operand: 0), x = shape(operand: 1)
        var c = CLines()
        c.line("const int64_t N = \(x[0]), I = \(x[1]), O = \(dy[1]);")
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t o = 0; o < O; o++)") { c in
            c.line("\(t)* restrict row = dw + o * I;")
            c.line("for (int64_t i = 0; i < I; i++) row[i] = 0;")
            c.block("for (int64_t n = 0; n < N; n++)") { c in
                c.line("const \(t) g = dy[n * O + o];")
                c.line("for (int64_t i = 0; i < I; i++) row[i] += g * x[n * I + i];")
            }
        }
        return kernel("dy \(dy), x \(x) -> dw [\(dy[1]),\(x[1])]", ["dy", "x"], ["dw"], body: c)
    }

    func linearBackwardBias() -> Kernel {
        let dy = shape(operand: 0)
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t o = 0; o < \(dy[1]); o++)") { c in
            c.line("\(t) sum = 0;")
            c.line("for (int64_t n = 0; n < \(dy[0]); n++) sum += dy[n * \(dy[1]) + o];")
            c.line("db[o] = sum;")
        }
        return kernel("dy \(dy) -> db [\(dy[1])]", ["dy"], ["db"], body: c)
    }
}
