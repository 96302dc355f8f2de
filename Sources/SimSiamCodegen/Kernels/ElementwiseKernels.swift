import SimSiamIR

/// Elementwise and pooling kernels: one flat parallel loop each.
extension KernelEmitter {
    /// One parallel loop over `n` elements: every element is independent, so
    /// the layer's size is all a body needs, and one body serves every layer
    /// (forward and backward alike: a scale is a scale, so the body is named after the op).
    private func flatKernel(_ summary: String, _ inputs: [String], _ outputs: [String], count: Int,
                            _ statement: String, math: String) -> Kernel {
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        c.line("for (int64_t i = 0; i < n; i++) \(statement)")
        return sharedKernel(summary, inputs, outputs, body: c,
                            math: math + "\nFlat over n contiguous elements; threads own disjoint ranges.",
                            sizes: [SharedBody.Size(name: "n", value: count)], shared: node.op.mnemonic)
    }

    func fill(_ value: Double, _ shape: Shape) -> Kernel {
        flatKernel("y \(shape) = \(value)", [], ["y"], count: shape.elementCount, "y[i] = \(precision.literal(value));",
                   math: "y = \(value)")
    }

    func relu() -> Kernel {
        let x = shape(operand: 0)
        return flatKernel("x \(x) -> y = max(x, 0)", ["x"], ["y"], count: x.elementCount, "y[i] = x[i] > 0 ? x[i] : 0;",
                          math: "y = max(x, 0)")
    }

    /// Masks by the forward output: y > 0 exactly where x > 0.
    func reluBackward() -> Kernel {
        let y = shape(operand: 1)
        return flatKernel("dy, y \(y) -> dx = y > 0 ? dy : 0", ["dy", "y"], ["dx"], count: y.elementCount,
                          "dx[i] = y[i] > 0 ? dy[i] : 0;",
                          math: "dx = y > 0 ? dy : 0: the ReLU's gradient, masked by its output (y > 0 exactly where x > 0)")
    }

    func add() -> Kernel {
        let a = shape(operand: 0)
        return flatKernel("a \(a) + b \(a) -> y", ["a", "b"], ["y"], count: a.elementCount, "y[i] = a[i] + b[i];", math: "y = a + b")
    }

    func scale(_ factor: Double) -> Kernel {
        let x = shape(operand: 0)
        return flatKernel("x \(x) -> y = \(factor) * x", ["x"], ["y"], count: x.elementCount,
                          "y[i] = \(precision.literal(factor)) * x[i];", math: "y = \(factor) * x")
    }

    /// Both views of a layer (and a parameter used twice) add into one gradient slot.
    func accumulateGradient() -> Kernel {
        let g = shape(operand: 0)
        return flatKernel("grad \(g) += g", ["g"], [], count: g.elementCount, "grad[i] += g[i];",
                          math: "grad += g: a parameter's gradient slot sums what each use of the parameter contributes")
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
