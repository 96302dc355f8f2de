import SimSiamIR

/// Convolutions and linear layers as packed GEMMs on the shared micro-kernel
/// (`GemmSupport`). Each kernel states its GEMM in its comment and supplies
/// the three small functions that bind the GEMM to its tensors' layouts.
extension KernelEmitter {
    /// What a GEMM kernel needs beyond the shared drivers.
    struct GemmPlan {
        var summary: String
        var inputs: [String], outputs: [String]
        /// C assignments of `g` fields, e.g. `{.a = w, .b = x, .c = y}`.
        var operands: String
        var m: Int, n: Int, k: Int
        var packA: String, packB: String
        /// Store body: where an MR x NR tile of C goes; nil: C is `g.c` (row-major M x N), summed
        /// over k by thread-private partials.
        var store: String?
        /// Names for pack and store functions that depend only on a layout, not on the layer
        /// (`gemm_pack_a__ld128`): every kernel that needs the same one calls one definition.
        /// nil: the function is the kernel's own, `<kernel>__pack_a`.
        var packAName: String? = nil, packBName: String? = nil, storeName: String? = nil
    }

    /// The kernel of one GEMM: its pack and store functions, named `<kernel>__pack_a` etc.,
    /// and the driver call that runs it on operands `g`.
    func gemmKernel(_ plan: GemmPlan) -> Kernel {
        let packSignature = "(const gemm_operands_t* g, int64_t k0, int64_t kc, int64_t x0, int64_t count, \(t)* restrict panel)"
        let storeSignature = "(const gemm_operands_t* g, int64_t i0, int64_t rows, int64_t j0, int64_t cols, const \(t)* restrict tile)"
        var c = CLines()
        c.line("const gemm_operands_t g = \(plan.operands);")
        var helpers: [String] = [], shared: [SharedHelper] = []
        func helper(_ sharedName: String?, _ ownName: String, _ signature: String, _ body: String) -> String {
            let name = sharedName ?? ownName
            let definition = "static void \(name)\(signature) {\n\(body)}\n"
            if sharedName != nil { shared.append(SharedHelper(name: name, definition: definition)) } else { helpers.append(definition) }
            return name
        }
        let packA = helper(plan.packAName, "$KERNEL__pack_a", packSignature, plan.packA)
        let packB = helper(plan.packBName, "$KERNEL__pack_b", packSignature, plan.packB)
        // bfloat16 GEMMs take the same pack and store functions: the driver rounds the packed panels.
        let driver = runsBF16 ? "gemm_bf16_" : "gemm_"
        if let store = plan.store {
            let storeName = helper(plan.storeName, "$KERNEL__store", storeSignature, store)
            c.line("\(driver)column_panels(\(plan.m), \(plan.n), \(plan.k), &g, \(packA), \(packB), \(storeName));")
        } else {
            c.line("\(driver)reduce_over_k(\(plan.m), \(plan.n), \(plan.k), 256, &g, \(packA), \(packB), g.c);")
        }
        let arithmetic = runsBF16 ? ", bfloat16 operands rounded as packed, float32 sums" : ""
        var kernel = kernel("\(plan.summary)\nGEMM: M \(plan.m), N \(plan.n), K \(plan.k)\(arithmetic)", plan.inputs, plan.outputs, body: c)
        kernel.helpers = helpers
        kernel.sharedHelpers = shared
        return kernel
    }

    // MARK: Packing and stores shared by several layers

    /// A[i][k] = src[i * ld + k] (rows of a row-major matrix).
    private func packRows(_ source: String, ld: Int) -> String {
        var c = CLines()
        c.line("const \(t)* restrict src = \(source);")
        c.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("for (int64_t i = 0; i < GEMM_MR; i++) panel[k * GEMM_MR + i] = i < count ? src[(x0 + i) * \(ld) + k0 + k] : 0;")
        }
        return c.text
    }

    /// A[i][k] = src[k * ld + i] (rows of a transposed row-major matrix).
    private func packRowsTransposed(_ source: String, ld: Int) -> String {
        var c = CLines()
        c.line("const \(t)* restrict src = \(source);")
        c.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("for (int64_t i = 0; i < GEMM_MR; i++) panel[k * GEMM_MR + i] = i < count ? src[(k0 + k) * \(ld) + x0 + i] : 0;")
        }
        return c.text
    }

    /// B[k][j] = src[k * ld + j].
    private func packColumns(_ source: String, ld: Int) -> String {
        var c = CLines()
        c.line("const \(t)* restrict src = \(source);")
        c.block("for (int64_t k = 0; k < kc; k++)") { c in
            c.line("for (int64_t j = 0; j < GEMM_NR; j++) panel[k * GEMM_NR + j] = j < count ? src[(k0 + k) * \(ld) + x0 + j] : 0;")
        }
        return c.text
    }

    /// B[k][j] = src[j * ld + k].
    private func packColumnsTransposed(_ source: String, ld: Int) -> String {
        var c = CLines()
        c.line("const \(t)* restrict src = \(source);")
        c.block("for (int64_t j = 0; j < GEMM_NR; j++)") { c in
            c.block("if (j >= count)") { c in
                c.line("for (int64_t k = 0; k < kc; k++) panel[k * GEMM_NR + j] = 0;")
                c.line("continue;")
            }
            c.line("for (int64_t k = 0; k < kc; k++) panel[k * GEMM_NR + j] = src[(x0 + j) * \(ld) + k0 + k];")
        }
        return c.text
    }

    /// C[i][j] = tile (+ bias[j]) into a row-major matrix.
    func storeRows(ld: Int, bias: Bool) -> String {
        var c = CLines()
        c.block("for (int64_t i = 0; i < rows; i++)") { c in
            c.line("\(t)* restrict row = g->c + (i0 + i) * \(ld) + j0;")
            c.line("for (int64_t j = 0; j < cols; j++) row[j] = tile[i * GEMM_NR + j]\(bias ? " + g->bias[j0 + j]" : "");")
        }
        return c.text
    }

    // MARK: Convolution

    /// The source of a convolution reading `image` [C,H,W] with stride and padding:
    /// phase-split planes big enough for every tap of every output row and column.
    struct ConvSource {
        var channels: Int, height: Int, width: Int, stride: Int, pad: Int
        var phases: Int, rows: Int, cols: Int
        var plane: Int { rows * cols }
        var perChannel: Int { phases * phases * plane }
        var c: String {
            "{.channels = \(channels), .height = \(height), .width = \(width), .stride = \(stride), .pad = \(pad), "
                + ".phase_rows = \(phases), .phase_cols = \(phases), .rows = \(rows), .cols = \(cols)}"
        }
    }

    /// The narrowest plane width such that every read of a kept output either stays in its
    /// row or runs past it onto the leading zero columns of the next row (whose true value
    /// is zero too), so rows share their padding columns. `reads[pw]`: last column read in
    /// planes of column phase pw. Narrower planes mean fewer dropped grid columns.
    func planeCols(width: Int, stride s: Int, pad: Int, reads: [Int]) -> Int {
        let safe = reads.max()! + 1
        func fits(_ cols: Int) -> Bool {
            reads.indices.allSatisfy { pw in
                let leading = pad - pw > 0 ? (pad - pw + s - 1) / s : 0
                return (cols...max(cols, reads[pw])).allSatisfy { c in c > reads[pw] || (s * c + pw - pad >= width && c - cols < leading) }
            }
        }
        return (1...safe).first(where: fits)!
    }

    /// Forward source of x for a K x K convolution with outputs P x Q: tap (kh, kw) reads
    /// plane (kh % S, kw % S) at row p + kh / S, column q + kw / S.
    func forwardSource(x: Shape, k: Int, stride s: Int, padding pad: Int, p: Int, q: Int) -> (ConvSource, shifts: [Int]) {
        let phases = min(s, k)
        let reads = (0..<phases).map { pw in q - 1 + (0..<k).filter { $0 % s == pw }.map { $0 / s }.max()! }
        let cols = planeCols(width: x[3], stride: s, pad: pad, reads: reads)
        /* one more row: the last row's reads may run onto it */
        let source = ConvSource(channels: x[1], height: x[2], width: x[3], stride: s, pad: pad,
                                phases: phases, rows: p + (k - 1) / s + 1, cols: cols)
        let shifts = (0..<k * k).map { tap in
            let (kh, kw) = (tap / k, tap % k)
            return ((kh % s) * phases + kw % s) * source.plane + (kh / s) * source.cols + kw / s
        }
        return (source, shifts)
    }

    struct ConvPhase {
        var taps: [Int], shifts: [Int]
        var rows: Int, cols: Int, destOffset: Int, destRow: Int, destCol: Int
    }

    func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }

    /// Fraction of the grid columns computed by `conv_gemm` that are kept.
    func gridEfficiency(source: ConvSource, phases: [ConvPhase]) -> Double {
        let nr = tile.columns
        let kept = phases.reduce(0) { $0 + $1.rows * $1.cols * $1.taps.count }
        let computed = phases.reduce(0) { $0 + roundUp(($1.rows - 1) * source.cols + $1.cols, nr) * $1.taps.count }
        return computed == 0 ? 1 : Double(kept) / Double(computed)
    }

    /// The kernel body of a `conv_gemm` call.
    private func convGemmBody(images: Int, m: Int, channels: Int, weightRow: Int, weightChannel: Int, source: ConvSource,
                              imageSize: Int, outImage: Int, outChannel: Int, phases: [ConvPhase],
                              operands: (w: String, input: String, output: String, addend: String, moments: String)) -> CLines {
        let nr = tile.columns
        var reach = source.channels * source.perChannel
        for phase in phases where !phase.taps.isEmpty {
            reach = max(reach, (channels - 1) * source.perChannel + phase.shifts.max()! + roundUp((phase.rows - 1) * source.cols + phase.cols, nr))
        }
        var c = CLines()
        var entries: [String] = []
        for (f, phase) in phases.enumerated() {
            let list = { (values: [Int]) in values.isEmpty ? "0" : values.map(String.init).joined(separator: ", ") }
            c.line("static const int32_t tap\(f)[] = {\(list(phase.taps))}, shift\(f)[] = {\(list(phase.shifts))};")
            entries.append("{.taps = \(phase.taps.count), .tap = tap\(f), .shift = shift\(f), .rows = \(phase.rows), .cols = \(phase.cols), "
                + ".dest_offset = \(phase.destOffset), .dest_row = \(phase.destRow), .dest_col = \(phase.destCol)}")
        }
        c.line("static const conv_phase_t phases[\(phases.count)] = {")
        for entry in entries { c.line("  \(entry),") }
        c.line("};")
        c.line("const conv_plan_t plan = {.images = \(images), .m = \(m), .channels = \(channels), .weight_row = \(weightRow), .weight_channel = \(weightChannel),")
        c.line("  .source = \(source.c),")
        c.line("  .source_size = \(reach), .image_size = \(imageSize), .out_image = \(outImage), .out_channel = \(outChannel), .phases = \(phases.count), .phase = phases};")
        c.line("conv_gemm(&plan, \(operands.w), \(operands.input), \(operands.output), \(operands.addend), \(operands.moments));")
        return c
    }

    /// y[n,o,p,q] = sum over (c,kh,kw) of w[o,c,kh,kw] x[n,c,p*S-PAD+kh,q*S-PAD+kw]:
    /// per image, A = w as [O x C*K*K], B = windows of the padded, phase-split image. With
    /// `moments`, also y's batch statistics per channel (see `Op.conv2d`).
    func conv2dForwardGemm(stride s: Int, padding pad: Int, moments: Bool) -> Kernel {
        let x = shape(operand: 0), w = shape(operand: 1), y = shape(result: 0)
        let (channels, k, p, q) = (x[1], w[2], y[2], y[3])
        switch convAlgorithm() {
        case .winograd, .winograd4x4: return conv2dForwardWinograd(moments: moments)
        case .channelsLast: return conv2dForwardChannelsLast(stride: s, padding: pad, moments: moments)
        case .packed:
            let kernel = conv2dForwardPacked(stride: s, padding: pad)
            return moments ? withMomentsPass(kernel) : kernel
        case .inPlace: break
        }
        let (source, shifts) = forwardSource(x: x, k: k, stride: s, padding: pad, p: p, q: q)
        let phase = ConvPhase(taps: Array(0..<k * k), shifts: shifts, rows: p, cols: q, destOffset: 0, destRow: q, destCol: 1)
        let body = convGemmBody(
            images: x[0], m: w[0], channels: channels, weightRow: channels * k * k, weightChannel: k * k, source: source,
            imageSize: channels * x[2] * x[3], outImage: w[0] * p * q, outChannel: p * q, phases: [phase],
            operands: ("w", "x", "y", "0", moments ? "moments" : "0"))
        return kernel("x \(x) * w \(w) -> y \(y)\(momentsSummary(moments)); stride \(s), padding \(pad)\n"
                      + "per image: GEMM M \(w[0]), N \(p)x\(source.cols) grid, K \(channels * k * k)",
                      ["x", "w"], ["y"] + (moments ? ["moments"] : []), body: body)
    }

    /// The in-place and channels-last geometry of this node's dx: the padded source of dy and,
    /// per sub-pixel phase of dx, its taps (as `conv_gemm` phases and as `PhaseTaps`).
    func backwardDataGeometry(stride s: Int, padding pad: Int) -> (source: ConvSource, phases: [ConvPhase], phaseTaps: [PhaseTaps]) {
        let dy = shape(operand: 0), w = shape(operand: 1), dx = shape(result: 0)
        let (outputs, k) = (w[0], w[2])
        let (p, q, h, width) = (dy[2], dy[3], dx[2], dx[3])
        /// Taps kh reaching phase ph read dy row hh + d for dx row h = hh * S + ph.
        func taps(_ ph: Int) -> [(kh: Int, d: Int)] {
            (0..<k).filter { ((ph + pad - $0) % s + s) % s == 0 }.map { ($0, (ph + pad - $0) / s) }
        }
        let all = (0..<s).flatMap { taps($0).map(\.d) }
        let low = max(0, -(all.min() ?? 0)), high = all.max() ?? 0
        let phaseRows = (0..<s).map { (h - $0 + s - 1) / s }, phaseCols = (0..<s).map { (width - $0 + s - 1) / s }
        let cols = planeCols(width: q, stride: 1, pad: low, reads: [max(0, phaseCols.max()! - 1 + high + low)])
        let source = ConvSource(channels: outputs, height: p, width: q, stride: 1, pad: low, phases: 1,
                                rows: max(1, phaseRows.max()! + high + low + 1), cols: cols)
        var phases: [ConvPhase] = []
        for ph in 0..<s where phaseRows[ph] > 0 {
            for pw in 0..<s where phaseCols[pw] > 0 {
                var list: [Int] = [], shifts: [Int] = []
                for (kh, dh) in taps(ph) {
                    for (kw, dw) in taps(pw) {
                        list.append(kh * k + kw)
                        shifts.append((dh + low) * source.cols + dw + low)
                    }
                }
                phases.append(ConvPhase(taps: list, shifts: shifts, rows: phaseRows[ph], cols: phaseCols[pw],
                                        destOffset: ph * width + pw, destRow: s * width, destCol: s))
            }
        }
        let phaseTaps = (0..<s).flatMap { ph in
            (0..<s).compactMap { pw -> PhaseTaps? in
                guard phaseRows[ph] > 0, phaseCols[pw] > 0 else { return nil }
                let taps = taps(ph).flatMap { row in taps(pw).map { (tap: row.kh * k + $0.kh, dh: row.d, dw: $0.d) } }
                return PhaseTaps(ph: ph, pw: pw, rows: phaseRows[ph], cols: phaseCols[pw], taps: taps)
            }
        }
        return (source, phases, phaseTaps)
    }

    /// dx[n,c,h,w] = sum over (o,kh,kw) of w[o,c,kh,kw] dy[n,o,p,q] where h = p*S-PAD+kh:
    /// a forward convolution of padded dy, split into S x S sub-pixel phases of dx
    /// (h mod S, w mod S); each phase sums only the taps that reach it.
    func conv2dBackwardDataGemm(stride s: Int, padding pad: Int, accumulates: Bool) -> Kernel {
        let dy = shape(operand: 0), w = shape(operand: 1), dx = shape(result: 0)
        let (outputs, channels, k) = (w[0], w[1], w[2])
        let (p, q, h, width) = (dy[2], dy[3], dx[2], dx[3])
        let algorithm = convAlgorithm()
        if algorithm.isWinograd { return conv2dBackwardDataWinograd(accumulates: accumulates) }
        let (source, phases, phaseTaps) = backwardDataGeometry(stride: s, padding: pad)
        if algorithm == .channelsLast {
            return conv2dBackwardDataChannelsLast(stride: s, padding: pad, phases: phaseTaps, accumulates: accumulates)
        }
        precondition(algorithm == .inPlace, "\(name): \(algorithm.rawValue) has no dx kernel; KernelPlanner.validate rejects it")
        let body = convGemmBody(
            images: dy[0], m: channels, channels: outputs, weightRow: k * k, weightChannel: channels * k * k, source: source,
            imageSize: outputs * p * q, outImage: channels * h * width, outChannel: h * width, phases: phases,
            operands: ("w", "dy", "dx", accumulates ? "addend" : "0", "0"))
        return kernel("dy \(dy), w \(w)\(accumulates ? ", addend" : "") -> dx \(dx)\(accumulates ? " (+ addend)" : ""); stride \(s), padding \(pad)\n"
                      + "per image and phase: GEMM M \(channels), K \(outputs) x taps of the phase",
                      ["dy", "w"] + (accumulates ? ["addend"] : []), ["dx"], body: body)
    }

    /// The in-place dw's grid: x's padded, phase-split source and its tap shifts, the dy row length
    /// on the grid (whole vectors) and the elements one image's source spans.
    func weightGrid(stride s: Int, padding pad: Int) -> (source: ConvSource, shifts: [Int], length: Int, reach: Int) {
        let dy = shape(operand: 0), x = shape(operand: 1), dw = shape(result: 0)
        let (channels, k, p, q) = (x[1], dw[2], dy[2], dy[3])
        let (source, shifts) = forwardSource(x: x, k: k, stride: s, padding: pad, p: p, q: q)
        let length = roundUp((p - 1) * source.cols + q, tile.lanes)
        return (source, shifts, length, max(channels * source.perChannel, (channels - 1) * source.perChannel + shifts.max()! + length))
    }

    /// dw[o,(c,kh,kw)] = sum over (n,p,q) of dy[n,o,p,q] x[n,c,p*S-PAD+kh,q*S-PAD+kw]:
    /// dy on the forward grid times windows of the padded x, both contiguous along the grid.
    func conv2dBackwardWeightGemm(stride s: Int, padding pad: Int) -> Kernel {
        let dy = shape(operand: 0), x = shape(operand: 1), dw = shape(result: 0)
        let (outputs, channels, k, p, q) = (dy[1], x[1], dw[2], dy[2], dy[3])
        switch convAlgorithm() {
        case .winograd, .winograd4x4: return conv2dBackwardWeightWinograd()
        case .channelsLast: return conv2dBackwardWeightChannelsLast(stride: s, padding: pad)
        case .packed: return conv2dBackwardWeightPacked(stride: s, padding: pad)
        case .inPlace: break
        }
        let (source, shifts, length, reach) = weightGrid(stride: s, padding: pad)
        let group = imagesPerPass()
        var c = CLines()
        c.line("static const int32_t shift[\(k * k)] = {\(shifts.map(String.init).joined(separator: ", "))};")
        c.line("int32_t offset[\(channels * k * k)];")
        c.line("for (int64_t ci = 0; ci < \(channels); ci++)")
        c.line("  for (int64_t t = 0; t < \(k * k); t++) offset[ci * \(k * k) + t] = (int32_t)(ci * \(source.perChannel) + shift[t]);")
        c.line("const conv_weight_plan_t plan = {.images = \(x[0]), .m = \(outputs), .J = \(channels * k * k), .offset = offset,")
        c.line("  .source = \(source.c),")
        c.line("  .source_size = \(reach), .length = \(length), .group = \(group), .image_size = \(channels * x[2] * x[3]),")
        c.line("  .dy_image = \(outputs * p * q), .dy_rows = \(p), .dy_cols = \(q)};")
        c.line("conv_weight_gemm(&plan, dy, x, dw);")
        return kernel("dy \(dy), x \(x) -> dw \(dw); stride \(s), padding \(pad)\nGEMM M \(outputs), N \(channels * k * k), K \(x[0]) images x \(length) grid",
                      ["dy", "x"], ["dw"], body: c)
    }

    // MARK: Linear

    /// y = x w^T + b: A = x [N x I], B = w^T.
    func linearForwardGemm(hasBias: Bool) -> Kernel {
        let x = shape(operand: 0), w = shape(operand: 1)
        return gemmKernel(GemmPlan(
            summary: "x \(x), w \(w)\(hasBias ? ", b [\(w[0])]" : "") -> y [\(x[0]),\(w[0])]",
            inputs: ["x", "w"] + (hasBias ? ["b"] : []), outputs: ["y"],
            operands: "{.a = x, .b = w, .bias = \(hasBias ? "b" : "0"), .c = y}", m: x[0], n: w[0], k: x[1],
            packA: packRows("g->a", ld: x[1]), packB: packColumnsTransposed("g->b", ld: w[1]),
            store: storeRows(ld: w[0], bias: hasBias),
            packAName: "gemm_pack_a__ld\(x[1])", packBName: "gemm_pack_b_transposed__ld\(w[1])",
            storeName: "gemm_store\(hasBias ? "_bias" : "")__ld\(w[0])"))
    }

    /// dx = dy w: A = dy [N x O], B = w [O x I].
    func linearBackwardDataGemm() -> Kernel {
        let dy = shape(operand: 0), w = shape(operand: 1)
        return gemmKernel(GemmPlan(
            summary: "dy \(dy), w \(w) -> dx [\(dy[0]),\(w[1])]", inputs: ["dy", "w"], outputs: ["dx"],
            operands: "{.a = dy, .b = w, .c = dx}", m: dy[0], n: w[1], k: w[0],
            packA: packRows("g->a", ld: dy[1]), packB: packColumns("g->b", ld: w[1]), store: storeRows(ld: w[1], bias: false),
            packAName: "gemm_pack_a__ld\(dy[1])", packBName: "gemm_pack_b__ld\(w[1])", storeName: "gemm_store__ld\(w[1])"))
    }

    /// dw = dy^T x: A = dy^T [O x N], B = x [N x I].
    func linearBackwardWeightGemm() -> Kernel {
        let dy = shape(operand: 0), x = shape(operand: 1)
        return gemmKernel(GemmPlan(
            summary: "dy \(dy), x \(x) -> dw [\(dy[1]),\(x[1])]", inputs: ["dy", "x"], outputs: ["dw"],
            operands: "{.a = dy, .b = x, .c = dw}", m: dy[1], n: x[1], k: x[0],
            packA: packRowsTransposed("g->a", ld: dy[1]), packB: packColumns("g->b", ld: x[1]), store: storeRows(ld: x[1], bias: false),
            packAName: "gemm_pack_a_transposed__ld\(dy[1])", packBName: "gemm_pack_b__ld\(x[1])", storeName: "gemm_store__ld\(x[1])"))
    }
}
