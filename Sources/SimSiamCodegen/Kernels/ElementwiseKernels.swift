import SimSiamIR

/// Elementwise and pooling kernels: one flat parallel loop each.
extension KernelEmitter {
    private func flatLoop(_ count: Int, _ statement: String) -> CLines {
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.line("for (int64_t i = 0; i < \(count); i++) \(statement)")
        return c
    }

    func fill(_ value: Double, _ shape: Shape) -> Kernel {
        kernel("y \(shape) = \(value)", [], ["y"], body: flatLoop(shape.elementCount, "y[i] = \(precision.literal(value));"))
    }

    func relu() -> Kernel {
        let x = shape(operand: 0)
        return kernel("x \(x) -> y = max(x, 0)", ["x"], ["y"], body: flatLoop(x.elementCount, "y[i] = x[i] > 0 ? x[i] : 0;"))
    }

    /// Masks by the forward output: y > 0 exactly where x > 0.
    func reluBackward() -> Kernel {
        let y = shape(operand: 1)
        return kernel("dy, y \(y) -> dx = y > 0 ? dy : 0", ["dy", "y"], ["dx"],
                      body: flatLoop(y.elementCount, "dx[i] = y[i] > 0 ? dy[i] : 0;"))
    }

    func add() -> Kernel {
        let a = shape(operand: 0)
        return kernel("a \(a) + b \(a) -> y", ["a", "b"], ["y"], body: flatLoop(a.elementCount, "y[i] = a[i] + b[i];"))
    }

    func scale(_ factor: Double) -> Kernel {
        let x = shape(operand: 0)
        return kernel("x \(x) -> y = \(factor) * x", ["x"], ["y"],
                      body: flatLoop(x.elementCount, "y[i] = \(precision.literal(factor)) * x[i];"))
    }

    func accumulateGradient() -> Kernel {
        let g = shape(operand: 0)
        return kernel("grad \(g) += g", ["g"], [], body: flatLoop(g.elementCount, "grad[i] += g[i];"))
    }

    func globalAveragePool() -> Kernel {
        let x = shape(operand: 0)
        let plane = x[2] * x[3]
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t nc = 0; nc < \(x[0] * x[1]); nc++)") { c in
            c.line("double sum = 0;")
            c.line("for (int64_t i = 0; i < \(plane); i++) sum += x[nc * \(plane) + i];")
            c.line("y[nc] = (\(t))(sum / \(plane));")
        }
        return kernel("x \(x) -> y \(shape(result: 0)), mean over \(x[2])x\(x[3])", ["x"], ["y"], body: c)
    }

    func globalAveragePoolBackward() -> Kernel {
        let dx = shape(result: 0)
        let plane = dx[2] * dx[3]
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t nc = 0; nc < \(dx[0] * dx[1]); nc++)") { c in
            c.line("const \(t) g = dy[nc] / \(precision.literal(Double(plane)));")
            c.line("for (int64_t i = 0; i < \(plane); i++) dx[nc * \(plane) + i] = g;")
        }
        return kernel("dy \(shape(operand: 0)) -> dx \(dx)", ["dy"], ["dx"], body: c)
    }
}
