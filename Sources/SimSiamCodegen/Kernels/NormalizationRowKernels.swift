import SimSiamIR

/// Batch normalisation over [N, C] (the heads' BNs, HW = 1) in tuned builds. A channel's values lie
/// C apart, so a thread that walked one channel down the batch read a cache line per value, and at
/// 2 KB and more apart the lines of a channel fell into a few cache sets and evicted each other.
/// Here each thread takes blocks of `rowBlock` channels and walks the batch row by row, one
/// 64-byte run of each row at a time, with the block's sums in arrays. Every channel still sums its
/// values in batch order in double, so the results are those of the per-channel loops, bit for bit.
extension KernelEmitter {
    /// Channels per block: one 64-byte line of a float32 row.
    static let rowBlock = 16

    /// Whether this BN runs on channel blocks (`NormalizationRowKernels`).
    var rowBlocked: Bool {
        guard strategy == .tuned, layout.plane == 1 else { return false }
        if case .batchNorm(let a) = node.op, a.momentsOperand { return false }
        return node.op != .batchNormBackwardRecomputing
    }

    /// `#pragma omp parallel for` over the channel blocks [c0, c0 + cb).
    private func overBlocks(_ c: inout CLines, _ body: (inout CLines) -> Void) {
        c.line("#pragma omp parallel for schedule(static)")
        c.block("for (int64_t c0 = 0; c0 < C; c0 += \(Self.rowBlock))") { c in
            c.line("const int64_t cb = C - c0 < \(Self.rowBlock) ? C - c0 : \(Self.rowBlock);")
            body(&c)
        }
    }

    /// Each channel c = c0 + j of the block (c bound where a line indexes by it).
    private func eachChannel(_ c: inout CLines, _ lines: [String]) {
        c.block("for (int64_t j = 0; j < cb; j++)") { c in
            if lines.contains(where: { $0.contains("c]") }) { c.line("const int64_t c = c0 + j;") }
            for line in lines { c.line(line) }
        }
    }

    /// Each row n of the batch, and in it each channel of the block at v = n * C + c0 + j.
    private func eachRow(_ c: inout CLines, _ lines: [String]) {
        c.block("for (int64_t n = 0; n < N; n++)") { c in
            c.block("for (int64_t j = 0; j < cb; j++)") { c in
                c.line("const int64_t v = n * C + c0 + j;")
                for line in lines { c.line(line) }
            }
        }
    }

    /// Arrays of one double per channel of the block, zeroed when `zero`.
    private func blockArrays(_ names: [String], zero: Bool = false) -> String {
        "double " + names.map { "\($0)[\(Self.rowBlock)]\(zero ? " = {0}" : "")" }.joined(separator: ", ") + ";"
    }

    /// SyncBN's prologue (`syncPrologue`'s, per block): when other ranks hold the rest of the batch,
    /// each block's `sums` (`prepare` binds what `lines` need, `lines` add row v into them, `after`
    /// runs per channel before they are kept) go into `synced`, and the sums and the count over the
    /// ranks replace them.
    private func rowSyncPrologue(_ c: inout CLines, sums: (String, String), prepare: (inout CLines) -> Void = { _ in },
                                 lines: [String], after: [String] = []) {
        c.line("double count = (double)N;  /* values per channel (over all ranks' batches when synced) */")
        c.line("double* synced = NULL;  /* per-channel sums over every rank's batch (SyncBN), or null */")
        c.block("if (ranks_share_batch())") { c in
            c.line("synced = malloc(sizeof(double) * (2 * C + 1));")
            overBlocks(&c) { c in
                c.line(blockArrays([sums.0, sums.1], zero: true))
                prepare(&c)
                eachRow(&c, lines)
                eachChannel(&c, after + ["synced[c] = \(sums.0)[j]; synced[C + c] = \(sums.1)[j];"])
            }
            c.line("count = sum_channels_over_ranks(synced, C, count);")
        }
    }

    private func rowKernel(_ summary: String, _ inputs: [String], _ outputs: [String], body: CLines, math: String) -> Kernel {
        sharedKernel(summary, inputs, outputs, body: body,
                     math: math + "\nx is [N, C] (HW = 1): a thread takes blocks of \(Self.rowBlock) channels and reads the batch row by row.",
                     sizes: layoutSizes, variant: "_rows")
    }

    func batchNormTrainForwardRows(_ a: BatchNormAttributes, summary: String, math: String) -> Kernel {
        var c = CLines()
        let sumLines = ["sum[j] += x[v]; squares[j] += (double)x[v] * x[v];"]
        rowSyncPrologue(&c, sums: ("sum", "squares"), lines: sumLines)
        overBlocks(&c) { c in
            c.line(blockArrays(["mean", "var"]) + "  /* var biased: what the batch is normalised with */")
            c.line("\(t) scales[\(Self.rowBlock)], shifts[\(Self.rowBlock)];")
            c.block("if (synced)") { c in
                eachChannel(&c, ["mean[j] = synced[c] / count;", "var[j] = fmax(synced[C + c] / count - mean[j] * mean[j], 0.0);"])
            }
            c.block("else") { c in
                c.line("/* one pass for both moments: double sums keep sum(x^2) - n mean^2 exact enough */")
                c.line(blockArrays(["sum", "squares"], zero: true))
                eachRow(&c, sumLines)
                eachChannel(&c, ["mean[j] = sum[j] / count;", "var[j] = fmax(squares[j] / count - mean[j] * mean[j], 0.0);"])
            }
            var statistics = ["const double invstd = 1.0 / sqrt(var[j] + \(a.epsilon));",
                              "saved[c] = (\(t))mean[j];",
                              "saved[C + c] = (\(t))invstd;",
                              "const double saved_mean = saved[c], saved_invstd = saved[C + c];"]
            let (scale, shift) = scaleAndShiftValues(affine: a.affine, mean: "saved_mean", invstd: "saved_invstd")
            statistics += ["scales[j] = \(scale);", "shifts[j] = \(shift);"]
            statistics += ["/* running estimates use the unbiased variance, as PyTorch does */",
                           "running_mean[c] = (\(t))(\(1 - a.momentum) * running_mean[c] + \(a.momentum) * mean[j]);",
                           "running_var[c] = (\(t))(\(1 - a.momentum) * running_var[c] + \(a.momentum) * var[j] * count / (count - 1));"]
            eachChannel(&c, statistics)
            eachRow(&c, ["const \(t) scale = scales[j], shift = shifts[j];", applyLine(a)])
        }
        c.line("free(synced);")
        c.line("*num_batches_tracked += 1;")
        return rowKernel(summary, forwardInputs(a), ["y", "saved"], body: c, math: math)
    }

    func batchNormEvalForwardRows(_ a: BatchNormAttributes, summary: String, math: String) -> Kernel {
        var c = CLines()
        overBlocks(&c) { c in
            c.line("\(t) scales[\(Self.rowBlock)], shifts[\(Self.rowBlock)];")
            let (scale, shift) = scaleAndShiftValues(affine: a.affine, mean: "running_mean[c]", invstd: "invstd")
            eachChannel(&c, ["const double invstd = 1.0 / sqrt((double)running_var[c] + \(a.epsilon));", "scales[j] = \(scale);", "shifts[j] = \(shift);"])
            eachRow(&c, ["const \(t) scale = scales[j], shift = shifts[j];", applyLine(a)])
        }
        return rowKernel(summary, forwardInputs(a), ["y"], body: c, math: math)
    }

    /// The backward of a BN over [N, C]: dx from the sums of `gradient` (and dgamma, dbeta from them
    /// when `parameters`), as `backwardOverChannels` computes them channel by channel.
    func batchNormBackwardRows(gradient: String, affine: Bool, parameters: Bool, summary: String, inputs: [String], outputs: [String], math: String) -> Kernel {
        var c = CLines()
        let statistics = ["mean[j] = saved[c];", "invstd[j] = saved[C + c];"]
        let sumLines = ["const double g = \(gradient); sum_dy[j] += g; sum_dy_xhat[j] += g * (x[v] - mean[j]) * invstd[j];"]
        let gradients = parameters ? ["dgamma[c] = (\(t))sum_dy_xhat[j];", "dbeta[c] = (\(t))sum_dy[j];"] : []
        rowSyncPrologue(&c, sums: ("sum_dy", "sum_dy_xhat"), prepare: { c in
            c.line(blockArrays(["mean", "invstd"]))
            eachChannel(&c, statistics)
        }, lines: sumLines, after: gradients)
        overBlocks(&c) { c in
            c.line(blockArrays(["mean", "invstd", "sum_dy", "sum_dy_xhat", "a", "mean_dy", "mean_dy_xhat"]))
            eachChannel(&c, statistics)
            c.block("if (synced)") { c in
                eachChannel(&c, ["sum_dy[j] = synced[c]; sum_dy_xhat[j] = synced[C + c];"])
            }
            c.block("else") { c in
                eachChannel(&c, ["sum_dy[j] = 0; sum_dy_xhat[j] = 0;"])
                eachRow(&c, sumLines)
                if parameters { eachChannel(&c, gradients) }
            }
            eachChannel(&c, ["a[j] = \(affine ? "gamma[c] * " : "")invstd[j];",
                             "mean_dy[j] = sum_dy[j] / count; mean_dy_xhat[j] = sum_dy_xhat[j] / count;"])
            eachRow(&c, ["dx[v] = (\(t))(a[j] * (\(gradient) - mean_dy[j] - (x[v] - mean[j]) * invstd[j] * mean_dy_xhat[j]));"])
        }
        c.line("free(synced);")
        return rowKernel(summary, inputs, outputs, body: c, math: math)
    }

    /// dgamma (`sum(dy * xhat)`, `gamma`) or dbeta (`sum(dy)`) of a BN over [N, C].
    func batchNormParameterGradientRows(gamma: Bool, summary: String, inputs: [String], math: String) -> Kernel {
        var c = CLines()
        overBlocks(&c) { c in
            c.line(blockArrays(["sum"], zero: true))
            if gamma {
                c.line(blockArrays(["mean", "invstd"]))
                eachChannel(&c, ["mean[j] = saved[c];", "invstd[j] = saved[C + c];"])
                eachRow(&c, ["sum[j] += dy[v] * (x[v] - mean[j]) * invstd[j];"])
            } else {
                eachRow(&c, ["sum[j] += dy[v];"])
            }
            eachChannel(&c, ["\(gamma ? "dgamma" : "dbeta")[c] = (\(t))sum[j];"])
        }
        return rowKernel(summary, inputs, [gamma ? "dgamma" : "dbeta"], body: c, math: math)
    }
}
