import SimSiamIR

/// The supervised loss of fine-tuning: softmax cross-entropy against integer labels.
/// The same kernels serve both `KernelStrategy`s (the work is N x K, tiny next to the
/// backbone) and both precisions (sums in double either way).
extension KernelEmitter {
    /// Binds `row` (sample n's logits), `k` (its label as an index, -1 when the stored float
    /// is not a whole number in [0, K)), and the max-subtracted `rowMax`, `sum` = sum exp(row - rowMax).
    private func rowSoftmax(_ c: inout CLines, classes: Int) {
        c.line("const \(t)* restrict row = logits + n * \(classes);")
        c.line("const double label = labels[n];")
        // A wrong label must not index out of bounds: it is flagged and poisons the result instead.
        c.line("const int64_t k = (label >= 0 && label < \(classes) && label == (double)(int64_t)label) ? (int64_t)label : -1;")
        c.line("double rowMax = row[0];")
        c.line("for (int64_t i = 1; i < \(classes); i++) rowMax = fmax(rowMax, row[i]);")
        c.line("double sum = 0;")
        c.line("for (int64_t i = 0; i < \(classes); i++) sum += exp(row[i] - rowMax);")
    }

    /// y = mean over n of log-sum-exp(logits_n) - logits_n[label_n]. Sequential on purpose:
    /// a fixed summation order, and N x K is small.
    func softmaxCrossEntropy() -> Kernel {
        let logits = shape(operand: 0)
        let (batch, classes) = (logits[0], logits[1])
        var c = CLines()
        c.line("double total = 0;")
        c.block("for (int64_t n = 0; n < \(batch); n++)") { c in
            rowSoftmax(&c, classes: classes)
            c.line("total += k < 0 ? NAN : rowMax + log(sum) - row[k];")
        }
        c.line("y[0] = (\(t))(total / \(batch));")
        return kernel("logits \(logits), labels [\(batch)] -> y [] = mean(-log softmax(logits)[label])",
                      ["logits", "labels"], ["y"], body: c)
    }

    /// dlogits = dy (softmax(logits) - onehot(label)) / N.
    func softmaxCrossEntropyBackward() -> Kernel {
        let logits = shape(operand: 1)
        let (batch, classes) = (logits[0], logits[1])
        var c = CLines()
        c.line("const double g = dy[0] / \(batch);")
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t n = 0; n < \(batch); n++)") { c in
            rowSoftmax(&c, classes: classes)
            c.line("\(t)* restrict out = dx + n * \(classes);")
            c.line("for (int64_t i = 0; i < \(classes); i++) out[i] = (\(t))(k < 0 ? NAN : g * (exp(row[i] - rowMax) / sum - (i == k ? 1.0 : 0.0)));")
        }
        return kernel("dy [], logits \(logits), labels [\(batch)] -> dlogits \(logits) = dy (softmax - onehot) / \(batch)",
                      ["dy", "logits", "labels"], ["dx"], body: c)
    }
}
