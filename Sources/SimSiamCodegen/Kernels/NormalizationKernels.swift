import SimSiamIR

/// Batch normalisation over [N,C] or [N,C,H,W]. Each thread owns whole
/// channels and sums them in a fixed order (double accumulators), so results
/// do not depend on the thread count. The bodies are shape-generic (N, C and
/// HW = H*W are parameters; epsilon and momentum stay literals), so every
/// layer with the same fusion shares one.
extension KernelEmitter {
    var layout: (n: Int, c: Int, plane: Int) {
        let x = shape(operand: node.op.isBatchNormBackward ? 1 : 0)
        return (x[0], x[1], x.rank == 4 ? x[2] * x[3] : 1)
    }

    /// N, C and HW, the parameters of a shared BN body.
    var layoutSizes: [SharedBody.Size] {
        [SharedBody.Size(name: "N", value: layout.n), SharedBody.Size(name: "C", value: layout.c), SharedBody.Size(name: "HW", value: layout.plane)]
    }

    /// The kernel of a BN over [N, C, HW], its body shared by every layer of the same shape of fusion.
    private func normalizationKernel(_ summary: String, _ inputs: [String], _ outputs: [String], body: CLines, math: String) -> Kernel {
        // Bodies differ by what the shape switched on; the name says which, so equal bodies keep one name.
        let lanes = body.text.contains("lanes_t"), prefetch = body.text.contains("__builtin_prefetch")
        let given = inputs.contains("moments")
        let variant = (given ? "_given_moments" : "") + (lanes ? "_lanes" : "") + (prefetch ? "_prefetch" : "")
        let layoutNote = "\nx is [N, C, HW] (NCHW with HW = H*W, or [N, C] with HW = 1); a thread owns whole channels c."
            + (given ? "\nThe convolution that wrote x summed its moments (mean, biased var) per channel." : "")
            + (lanes ? "\nReductions take 8 pixels at a time into 8 double lanes (fixed order), the row's tail one by one." : "")
            + (prefetch ? "\nRows of at most 128 bytes are prefetched \(Self.prefetchImages) images ahead (the hardware prefetcher misses them)." : "")
        return sharedKernel(summary, inputs, outputs, body: body, math: math + layoutNote, sizes: layoutSizes, variant: variant)
    }

    /// `for n, i` over the elements of channel `c`, binding `v` to the flat index.
    /// `reads` and `writes` name the tensors the body touches at `v`, for prefetching.
    private func channelLoop(_ c: inout CLines, reads: [String], writes: [String] = [], _ body: (inout CLines) -> Void) {
        c.block("for (int64_t n = 0; n < N; n++)") { c in
            prefetchRows(&c, reads: reads, writes: writes)
            c.block("for (int64_t i = 0; i < HW; i++)") { c in
                c.line("const int64_t v = (n * C + c) * HW + i;")
                body(&c)
            }
        }
    }

    /// Rows of a channel are a whole image apart. When a row is only a cache line or two, the
    /// hardware prefetcher misses them: W2's layer4 BN forward (4x4 planes, 64 bytes) took
    /// 5.9 ms a call without these hints and 0.8 ms with them. From 196 bytes (W1's 7x7) on,
    /// hints measured no gain, and at 784 bytes (14x14) a small loss; BN over [N, C] (one
    /// element per row) lost 30-70% with them.
    private func prefetchRows(_ c: inout CLines, reads: [String], writes: [String]) {
        let plane = layout.plane
        guard strategy == .tuned, plane > 1, plane * precision.bytes <= 128 else { return }
        c.line("const int64_t ahead = ((n + \(Self.prefetchImages) < N ? n + \(Self.prefetchImages) : n) * C + c) * HW;")
        for tensor in reads { c.line("__builtin_prefetch(\(tensor) + ahead);") }
        for tensor in writes { c.line("__builtin_prefetch(\(tensor) + ahead, 1);") }
    }

    /// How many images ahead `prefetchRows` asks for.
    static let prefetchImages = 8

    /// Tuned builds sum channels of 8 or more pixels in eight vector lanes.
    private var vectorizedReductions: Bool { strategy == .tuned && layout.plane >= 8 }

    /// Per-channel reduction over `n` and the plane: 8 pixels at a time into the
    /// lane accumulators, the tail of each row one at a time. `rows` binds row
    /// pointers (e.g. `xc` -> `x`) to the channel's plane of image n.
    private func laneLoop(_ c: inout CLines, accumulators: [String], vector: [String], scalar: String, rows: [String: String]) {
        let tensors = rows.sorted(by: { $0.key < $1.key })
        c.line("lanes_t \(accumulators.map { "\($0) = {0}" }.joined(separator: ", "));")
        c.block("for (int64_t n = 0; n < N; n++)") { c in
            prefetchRows(&c, reads: tensors.map(\.value), writes: [])
            for (row, tensor) in tensors {
                c.line("const \(t)* restrict \(row) = \(tensor) + (n * C + c) * HW;")
            }
            c.line("int64_t i = 0;")
            c.block("for (; i + 8 <= HW; i += 8)") { c in
                for line in vector { c.line(line) }
            }
            c.line("for (; i < HW; i++) { \(scalar) }")
        }
    }

    /// The channel loop's pragma, for kernels that need no batch count (and so no sums over ranks).
    private func prologue() -> CLines {
        var c = CLines()
        c.line("#pragma omp parallel for schedule(static)")
        return c
    }

    /// The operands of a forward BN, in the IR's order.
    func forwardInputs(_ a: BatchNormAttributes) -> [String] {
        ["x"] + (a.affine ? ["gamma", "beta"] : []) + (a.fusedResidual ? ["residual"] : []) + (a.momentsOperand ? ["moments"] : [])
    }

    /// y from x at flat index v, with what fusion folded in after the normalisation.
    func applyLine(_ a: BatchNormAttributes) -> String {
        let value = "x[v] * scale + shift" + (a.fusedResidual ? " + residual[v]" : "")
        return a.fusedReLU ? "const \(t) out = \(value); y[v] = out > 0 ? out : 0;" : "y[v] = \(value);"
    }

    private func appliedFormula(_ a: BatchNormAttributes) -> String {
        a.fusedResidual ? " = max(bn(x) + residual, 0)" : a.fusedReLU ? " = max(bn(x), 0)" : ""
    }

    /// Binds `sum` and `squares`, the channel's sum of x and of x^2 (this rank's batch).
    private func forwardSums(_ c: inout CLines, _ a: BatchNormAttributes) {
        if a.momentsOperand {
            c.line("const double sum = moments[c] * count, squares = (moments[C + c] + moments[c] * moments[c]) * count;")
            return
        }
        c.line("double sum = 0, squares = 0;")
        if vectorizedReductions {
            laneLoop(&c, accumulators: ["sum8", "squares8"], vector: ["const lanes_t xv = load_lanes(xc + i);", "sum8 += xv; squares8 += xv * xv;"],
                     scalar: "sum += xc[i]; squares += (double)xc[i] * xc[i];", rows: ["xc": "x"])
            c.line("sum += lane_total(&sum8); squares += lane_total(&squares8);")
        } else {
            channelLoop(&c, reads: ["x"]) { $0.line("sum += x[v]; squares += (double)x[v] * x[v];") }
        }
    }

    /// Synchronized batch norm (PyTorch's SyncBatchNorm), for when other ranks hold the
    /// rest of the batch: a first pass sums the channels of this rank's shard into
    /// `synced` (`sums` binds two per-channel sums), the sums and the count go over all
    /// ranks, and the kernel's main loop reads them instead of its own. With one
    /// process `synced` stays null and the main loop is the one-process kernel.
    private func syncPrologue(_ c: inout CLines, sums: (String, String), _ body: (inout CLines) -> Void) {
        c.line("double count = (double)(N * HW);  /* values per channel (over all ranks' batches when synced) */")
        c.line("double* synced = NULL;  /* per-channel sums over every rank's batch (SyncBN), or null */")
        c.block("if (ranks_share_batch())") { c in
            c.line("synced = malloc(sizeof(double) * (2 * C + 1));")
            c.line("#pragma omp parallel for schedule(static)")
            c.block("for (int64_t c = 0; c < C; c++)") { c in
                body(&c)
                c.line("synced[c] = \(sums.0); synced[C + c] = \(sums.1);")
            }
            c.line("count = sum_channels_over_ranks(synced, C, count);")
        }
        c.line("#pragma omp parallel for schedule(static)")
    }

    func batchNormTrainForward(_ a: BatchNormAttributes) -> Kernel {
        let x = shape(operand: 0)
        let summary = "x \(x) -> y \(x)\(appliedFormula(a)), saved [2,\(x[1])] = (batch mean, 1/sqrt(var + \(a.epsilon))); "
            + "momentum \(a.momentum)\(a.affine ? "" : ", no affine")"
        let math = "Batch norm, training mode\(appliedFormula(a)): per channel, mean and biased var over N*HW values,\n"
            + "y = (x - mean) / sqrt(var + \(a.epsilon))\(a.affine ? " * gamma + beta" : "")\(a.fusedResidual ? " + residual" : "")"
            + "\(a.fusedReLU ? ", then max(., 0)" : ""); saved = (mean, 1/sqrt(var + eps));\n"
            + "running stats move by \(a.momentum) towards (mean, unbiased var)."
        if rowBlocked { return batchNormTrainForwardRows(a, summary: summary, math: math) }
        var c = CLines()
        syncPrologue(&c, sums: ("sum", "squares")) { forwardSums(&$0, a) }
        c.block("for (int64_t c = 0; c < C; c++)") { c in
            c.line("double mean, var;  /* var biased: what the batch is normalised with */")
            c.block("if (synced)") { c in
                c.line("mean = synced[c] / count;")
                c.line("var = fmax(synced[C + c] / count - mean * mean, 0.0);")
            }
            c.block("else") { c in
                if a.momentsOperand {
                    c.line("/* the batch statistics were summed by the convolution that produced x */")
                    c.line("mean = moments[c], var = moments[C + c];")
                } else {
                    c.line("/* one pass for both moments: double sums keep sum(x^2) - n mean^2 exact enough */")
                    forwardSums(&c, a)
                    c.line("mean = sum / count;")
                    c.line("var = fmax(squares / count - mean * mean, 0.0);")
                }
            }
            c.line("const double invstd = 1.0 / sqrt(var + \(a.epsilon));")
            c.line("saved[c] = (\(t))mean;")
            c.line("saved[C + c] = (\(t))invstd;")
            scaleAndShift(&c, affine: a.affine)
            channelLoop(&c, reads: ["x"] + (a.fusedResidual ? ["residual"] : []), writes: ["y"]) { $0.line(applyLine(a)) }
            c.line("/* running estimates use the unbiased variance, as PyTorch does */")
            c.line("running_mean[c] = (\(t))(\(1 - a.momentum) * running_mean[c] + \(a.momentum) * mean);")
            c.line("running_var[c] = (\(t))(\(1 - a.momentum) * running_var[c] + \(a.momentum) * var * count / (count - 1));")
        }
        c.line("free(synced);")
        c.line("*num_batches_tracked += 1;")
        return normalizationKernel(summary, forwardInputs(a), ["y", "saved"], body: c, math: math)
    }

    /// Binds `scale` and `shift` of channel c from the statistics as `saved` holds them, rounded to
    /// the scalar type, so that a backward recomputing y (`batchNormBackwardRecomputing`) gets the
    /// forward's y again bit for bit. `statistics` names double bindings of `saved[c]` and
    /// `saved[C + c]` already made (BN backward's); nil binds them here (the forward's own mean and
    /// invstd are the unrounded ones).
    private func scaleAndShift(_ c: inout CLines, affine: Bool, statistics: (mean: String, invstd: String)? = nil) {
        if statistics == nil { c.line("const double saved_mean = saved[c], saved_invstd = saved[C + c];") }
        let (mean, invstd) = statistics ?? ("saved_mean", "saved_invstd")
        let (scale, shift) = scaleAndShiftValues(affine: affine, mean: mean, invstd: invstd)
        c.line("const \(t) scale = \(scale);")
        c.line("const \(t) shift = \(shift);")
    }

    /// Channel c's scale and shift from `mean` and `invstd`, rounded to the scalar type.
    func scaleAndShiftValues(affine: Bool, mean: String, invstd: String) -> (scale: String, shift: String) {
        ("(\(t))(\(invstd)\(affine ? " * gamma[c]" : ""))", "(\(t))(\(affine ? "beta[c] - " : "-")\(mean) * \(invstd)\(affine ? " * gamma[c]" : ""))")
    }

    func batchNormEvalForward(_ a: BatchNormAttributes) -> Kernel {
        let x = shape(operand: 0)
        let summary = "x \(x) -> y \(x)\(appliedFormula(a)) with the running statistics (eval mode)\(a.affine ? "" : ", no affine")"
        let math = "Batch norm, eval mode\(appliedFormula(a)): per channel,\n"
            + "y = (x - running_mean) / sqrt(running_var + \(a.epsilon))\(a.affine ? " * gamma + beta" : "")"
            + "\(a.fusedResidual ? " + residual" : "")\(a.fusedReLU ? ", then max(., 0)" : "")."
        if rowBlocked { return batchNormEvalForwardRows(a, summary: summary, math: math) }
        var c = prologue()
        c.block("for (int64_t c = 0; c < C; c++)") { c in
            c.line("const double invstd = 1.0 / sqrt((double)running_var[c] + \(a.epsilon));")
            scaleAndShift(&c, affine: a.affine, statistics: ("running_mean[c]", "invstd"))
            channelLoop(&c, reads: ["x"] + (a.fusedResidual ? ["residual"] : []), writes: ["y"]) { $0.line(applyLine(a)) }
        }
        return normalizationKernel(summary, forwardInputs(a), ["y"], body: c, math: math)
    }

    /// dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)): the
    /// gradient through the batch statistics as well as the normalisation.
    func batchNormBackwardData(affine: Bool) -> Kernel {
        let x = shape(operand: 1)
        let summary = "dy \(x), x \(x), saved [2,\(x[1])]\(affine ? ", gamma" : "") -> dx \(x)"
        let inputs = ["dy", "x", "saved"] + (affine ? ["gamma"] : [])
        let math = "Batch norm backward to x (training mode): per channel, with xhat = (x - mean) * invstd,\n"
            + "dx = \(affine ? "gamma * " : "")invstd * (dy - mean(dy) - xhat * mean(dy * xhat)),\n"
            + "the gradient through the batch statistics as well as the normalisation."
        if rowBlocked {
            return batchNormBackwardRows(gradient: "dy[v]", affine: affine, parameters: false, summary: summary, inputs: inputs, outputs: ["dx"], math: math)
        }
        func localSums(_ c: inout CLines) {
            c.line("double sum_dy = 0, sum_dy_xhat = 0;")
            channelLoop(&c, reads: ["dy", "x"]) { $0.line("sum_dy += dy[v]; sum_dy_xhat += dy[v] * (x[v] - mean) * invstd;") }
        }
        var c = CLines()
        backwardOverChannels(&c, localSums: localSums) { dataLoop(&$0, affine: affine) }
        return normalizationKernel(summary, inputs, ["dx"], body: c, math: math)
    }

    /// The channel loop of a BN backward: this rank's sums of dy and dy * xhat (`localSums`),
    /// summed over the ranks first when batch norm is synchronized, then dx from them (`dataLoop`).
    private func backwardOverChannels(_ c: inout CLines, localSums: (inout CLines) -> Void, dataLoop: (inout CLines) -> Void) {
        let statistics = "const double mean = saved[c], invstd = saved[C + c];"
        syncPrologue(&c, sums: ("sum_dy", "sum_dy_xhat")) { c in
            c.line(statistics)
            localSums(&c)
        }
        c.block("for (int64_t c = 0; c < C; c++)") { c in
            c.line(statistics)
            c.block("if (synced)") { c in
                c.line("const double sum_dy = synced[c], sum_dy_xhat = synced[C + c];")
                dataLoop(&c)
            }
            c.block("else") { c in
                localSums(&c)
                dataLoop(&c)
            }
        }
        c.line("free(synced);")
    }

    /// dx from the channel's `sum_dy` and `sum_dy_xhat` (through the batch statistics).
    private func dataLoop(_ c: inout CLines, affine: Bool) {
        c.line("const double a = \(affine ? "gamma[c] * " : "")invstd;")
        c.line("const double mean_dy = sum_dy / count, mean_dy_xhat = sum_dy_xhat / count;")
        channelLoop(&c, reads: ["dy", "x"], writes: ["dx"]) { $0.line("dx[v] = (\(t))(a * (dy[v] - mean_dy - (x[v] - mean) * invstd * mean_dy_xhat));") }
    }

    /// Where the mask of a BN backward through a fused ReLU comes from.
    enum ReLUMask {
        /// The forward's output y, kept until backward (operand `y`).
        case keptOutput
        /// y computed again from x with the forward's arithmetic (the same bits), and written
        /// (result `y`) for the other backward readers of the output.
        case recomputedOutput
    }

    /// dx, dgamma and dbeta of an affine BN from one pair of reductions; with a `mask`, dy is
    /// the gradient of the fused ReLU's output y, masked by y > 0.
    func batchNormBackwardFused(mask: ReLUMask?) -> Kernel {
        let recomputes = mask == .recomputedOutput
        let gradient = switch mask {
        case nil: "dy[v]"
        case .keptOutput: "(y[v] > 0 ? dy[v] : 0)"
        case .recomputedOutput: "(x[v] * scale + shift > 0 ? dy[v] : 0)"
        }
        /// `body` with the channel's scale and shift bound when the output is recomputed (in a
        /// block of its own: both loops of the unsynchronized channel bind them).
        func scoped(_ c: inout CLines, _ body: (inout CLines) -> Void) {
            guard recomputes else { return body(&c) }
            c.block("") { c in
                // BN backward has bound the saved statistics as mean and invstd.
                scaleAndShift(&c, affine: true, statistics: ("mean", "invstd"))
                body(&c)
            }
        }
        /// This rank's sums, and dgamma, dbeta from them (each rank's share; the gradient sums add them up).
        func localSums(_ c: inout CLines) {
            c.line("double sum_dy = 0, sum_dy_xhat = 0;")
            scoped(&c, sums)
            c.line("dgamma[c] = (\(t))sum_dy_xhat;")
            c.line("dbeta[c] = (\(t))sum_dy;")
        }
        func sums(_ c: inout CLines) {
            // The recomputed output, as the forward wrote it (`applyLine`): out, then max(out, 0).
            let output = "const \(t) out = %@ * scale + shift; const \(t) kept = out > 0 ? out : 0;"
            if vectorizedReductions {
                c.line("const lanes_t mean8 = (lanes_t){0} + mean\(mask != nil ? ", zero8 = {0}" : "");")
                var vector: [String] = []
                var scalarGradient = "dyc[i]"
                switch mask {
                case nil: vector = ["const lanes_t g = load_lanes(dyc + i);"]
                case .keptOutput:
                    vector = ["const lanes_t g = load_lanes(dyc + i) * -__builtin_convertvector(load_lanes(yc + i) > zero8, lanes_t);  /* compare: -1 or 0 */"]
                    scalarGradient = "(yc[i] > 0 ? dyc[i] : 0)"
                case .recomputedOutput:
                    vector = ["\(t) y8[8];",
                              "for (int j = 0; j < 8; j++) { \(output.replacingOccurrences(of: "%@", with: "xc[i + j]")) y8[j] = kept; }",
                              "memcpy(y + (n * C + c) * HW + i, y8, sizeof y8);",
                              "const lanes_t g = load_lanes(dyc + i) * -__builtin_convertvector(load_lanes(y8) > zero8, lanes_t);  /* compare: -1 or 0 */"]
                    scalarGradient = "kept > 0 ? dyc[i] : 0"
                }
                let tail = (recomputes ? output.replacingOccurrences(of: "%@", with: "xc[i]") + " y[(n * C + c) * HW + i] = kept; " : "")
                    + "const double g = \(scalarGradient); sum_dy += g; sum_dy_xhat += g * (xc[i] - mean);"
                laneLoop(&c, accumulators: ["g8", "gx8"], vector: vector + ["g8 += g; gx8 += g * (load_lanes(xc + i) - mean8);"], scalar: tail,
                         rows: ["dyc": "dy", "xc": "x"].merging(mask == .keptOutput ? ["yc": "y"] : [:]) { a, _ in a })
                c.line("sum_dy += lane_total(&g8); sum_dy_xhat = (sum_dy_xhat + lane_total(&gx8)) * invstd;")
            } else if recomputes {
                channelLoop(&c, reads: ["dy", "x"], writes: ["y"]) {
                    $0.line(output.replacingOccurrences(of: "%@", with: "x[v]") + " y[v] = kept;")
                    $0.line("const double g = kept > 0 ? dy[v] : 0; sum_dy += g; sum_dy_xhat += g * (x[v] - mean) * invstd;")
                }
            } else {
                channelLoop(&c, reads: ["dy", "x"] + (mask == .keptOutput ? ["y"] : [])) { $0.line("const double g = \(gradient); sum_dy += g; sum_dy_xhat += g * (x[v] - mean) * invstd;") }
            }
        }
        func dataLoop(_ c: inout CLines) {
            scoped(&c) { c in
                c.line("const double a = gamma[c] * invstd, mean_dy = sum_dy / count, mean_dy_xhat = sum_dy_xhat / count;")
                channelLoop(&c, reads: ["dy", "x"] + (mask == .keptOutput ? ["y"] : []), writes: ["dx"]) { $0.line("dx[v] = (\(t))(a * (\(gradient) - mean_dy - (x[v] - mean) * invstd * mean_dy_xhat));") }
            }
        }
        let x = shape(operand: 1)
        let inputs = ["dy", "x", "saved", "gamma"] + (mask == .keptOutput ? ["y"] : recomputes ? ["beta"] : [])
        let outputs = ["dx", "dgamma", "dbeta"] + (recomputes ? ["y"] : [])
        let masked = mask == nil ? " (g = dy)" : " through a fused ReLU (g = y > 0 ? dy : 0)"
        let recomputed = recomputes ? ",\ny = max(x * scale + shift, 0) with the forward's scale and shift (from saved, gamma, beta), so the\n"
            + "forward's bits: written here for the other backward readers of y instead of kept from the forward" : ""
        let summary = "dy \(x)\(mask == nil ? "" : " (of the fused ReLU's output y)"), x \(x), saved, gamma\(recomputes ? ", beta" : "")"
            + " -> dx \(x), dgamma [\(x[1])], dbeta [\(x[1])]\(recomputes ? ", y \(x)" : "")"
        let math = "Batch norm backward\(masked): per channel,\n"
            + "dbeta = sum(g), dgamma = sum(g * xhat) with xhat = (x - mean) * invstd,\n"
            + "dx = gamma * invstd * (g - dbeta / count - xhat * dgamma / count)\(recomputed)."
        if rowBlocked {
            return batchNormBackwardRows(gradient: gradient, affine: true, parameters: true, summary: summary, inputs: inputs, outputs: outputs, math: math)
        }
        var c = CLines()
        backwardOverChannels(&c, localSums: localSums, dataLoop: dataLoop)
        return normalizationKernel(summary, inputs, outputs, body: c, math: math)
    }

    func batchNormBackwardGamma() -> Kernel {
        let x = shape(operand: 1)
        let summary = "dy \(x), x \(x), saved -> dgamma [\(x[1])] = sum(dy * xhat)"
        let math = "Batch norm backward to gamma: dgamma[c] = sum over n, i of dy * xhat, xhat = (x - mean) * invstd."
        if rowBlocked { return batchNormParameterGradientRows(gamma: true, summary: summary, inputs: ["dy", "x", "saved"], math: math) }
        var c = prologue()
        c.block("for (int64_t c = 0; c < C; c++)") { c in
            c.line("const double mean = saved[c], invstd = saved[C + c];")
            c.line("double sum = 0;")
            channelLoop(&c, reads: ["dy", "x"]) { $0.line("sum += dy[v] * (x[v] - mean) * invstd;") }
            c.line("dgamma[c] = (\(t))sum;")
        }
        return normalizationKernel(summary, ["dy", "x", "saved"], ["dgamma"], body: c, math: math)
    }

    func batchNormBackwardBeta() -> Kernel {
        let dy = shape(operand: 0)
        let summary = "dy \(dy) -> dbeta [\(dy[1])] = sum(dy)"
        let math = "Batch norm backward to beta: dbeta[c] = sum over n, i of dy."
        if rowBlocked { return batchNormParameterGradientRows(gamma: false, summary: summary, inputs: ["dy"], math: math) }
        var c = prologue()
        c.block("for (int64_t c = 0; c < C; c++)") { c in
            c.line("double sum = 0;")
            channelLoop(&c, reads: ["dy"]) { $0.line("sum += dy[v];") }
            c.line("dbeta[c] = (\(t))sum;")
        }
        return normalizationKernel(summary, ["dy"], ["dbeta"], body: c, math: math)
    }
}

extension Op {
    var isBatchNormBackward: Bool {
        switch self {
        case .batchNormBackwardData, .batchNormBackwardGamma, .batchNormBackward, .batchNormBackwardRecomputing: true
        default: false
        }
    }
}
