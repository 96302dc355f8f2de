/// The channels-last convolution, whose C is `CRuntime/conv_channels_last.h`: a GEMM
/// whose rows are output positions and whose columns are output channels. This file
/// plans its calls.
///
/// Each thread copies a few images at a time into a zero-padded channels-last
/// "source" (pixel-major, `channels` values per pixel). Output position u then
/// reads its window at `source + base(u) + shift[tap] + c`, so eight positions
/// can sit anywhere: in different rows, phases or images. Unlike the in-place
/// grid of `conv_gemm` (`CRuntime/conv_gemm.h`), no FMA is spent on padding columns, which is what small
/// maps (7x7 to 16x16) lose most to. The price is a transposing copy of the
/// input and a transposing store of each tile: chosen where the FMAs per copied
/// value are many (`KernelEmitter.channelsLastConvEfficiency`, in `Plan/ConvPlanner.swift`).
///
/// Every output value is computed by one tile of one thread, in a fixed order,
/// so results do not depend on the thread count.
extension KernelEmitter {
    /// One sub-pixel phase of a strided convolution's dx: rows h = r*S + ph, columns w = c*S + pw,
    /// and the taps that reach it, each reading dy at (r + dh, c + dw).
    struct PhaseTaps {
        var ph: Int, pw: Int, rows: Int, cols: Int
        var taps: [(tap: Int, dh: Int, dw: Int)]
    }

    /// One phase of a channels-last convolution; `shifts` are in source values.
    struct ChannelsLastPhase {
        var taps: [Int], shifts: [Int]
        var rows: Int, cols: Int, rowStep: Int, colStep: Int
        var destOffset: Int, destRow: Int, destCol: Int
    }

    /// The channels-last source of an image [channels, height, width] placed at (pad, pad)
    /// in a zero plane of rows x cols pixels.
    struct ChannelsLastSource {
        var channels: Int, height: Int, width: Int, pad: Int, rows: Int, cols: Int
        var imageSize: Int { channels * height * width }
        var values: Int { rows * cols * channels }
        var c: String {
            "{.channels = \(channels), .height = \(height), .width = \(width), .pad_top = \(pad), .pad_left = \(pad), "
                + ".rows = \(rows), .cols = \(cols)}"
        }
    }

    /// The kernel body of a `conv_cl_gemm` call, `group` images per pass.
    func channelsLastBody(images: Int, m: Int, weightRow: Int, weightChannel: Int, source: ChannelsLastSource,
                          outImage: Int, outChannel: Int, phases: [ChannelsLastPhase], group: Int,
                          operands: (w: String, input: String, output: String, addend: String, moments: String)) -> CLines {
        var c = CLines()
        var entries: [String] = []
        for (f, phase) in phases.enumerated() {
            let list = { (values: [Int]) in values.isEmpty ? "0" : values.map(String.init).joined(separator: ", ") }
            c.line("static const int32_t tap\(f)[] = {\(list(phase.taps))}, shift\(f)[] = {\(list(phase.shifts))};")
            entries.append("{.taps = \(phase.taps.count), .tap = tap\(f), .shift = shift\(f), .rows = \(phase.rows), .cols = \(phase.cols), "
                + ".row_step = \(phase.rowStep), .col_step = \(phase.colStep), "
                + ".dest_offset = \(phase.destOffset), .dest_row = \(phase.destRow), .dest_col = \(phase.destCol)}")
        }
        c.line("static const conv_cl_phase_t phases[\(phases.count)] = {")
        for entry in entries { c.line("  \(entry),") }
        c.line("};")
        c.line("const conv_cl_plan_t plan = {.images = \(images), .m = \(m), .weight_row = \(weightRow), .weight_channel = \(weightChannel),")
        c.line("  .source = \(source.c), .group = \(group),")
        c.line("  .image_size = \(source.imageSize), .out_image = \(outImage), .out_channel = \(outChannel), "
            + ".phases = \(phases.count), .phase = phases};")
        if runsBF16 {
            // A bfloat16 pass: the source copy and the weights rounded to bfloat16 pairs, float32
            // sums, staging and output as conv_cl_gemm (CRuntime/conv_channels_last.h).
            c.line("/* bfloat16 operands (channels in pairs), float32 sums */")
        }
        c.line("conv_cl_gemm\(runsBF16 ? "_bf16" : "")(&plan, \(operands.w), \(operands.input), \(operands.output), \(operands.addend), \(operands.moments));")
        return c
    }

    /// ", bfloat16 operands ..." in the summary of a forward or dx that runs `conv_cl_gemm_bf16`.
    private var channelsLastArithmetic: String {
        runsBF16 ? ", bfloat16 operands (source and weights rounded to channel pairs), float32 sums" : ""
    }

    /// y = conv(x, w) with output positions as GEMM rows, read from a channels-last copy of x.
    func conv2dForwardChannelsLast(stride s: Int, padding pad: Int, moments: Bool) -> Kernel {
        let x = shape(operand: 0), w = shape(operand: 1), y = shape(result: 0)
        let (channels, k, p, q) = (x[1], w[2], y[2], y[3])
        let source = channelsLastForwardSource(stride: s, padding: pad)
        let taps = Array(0..<k * k)
        let phase = ChannelsLastPhase(taps: taps, shifts: taps.map { ($0 / k * source.cols + $0 % k) * channels },
                                      rows: p, cols: q, rowStep: s * source.cols, colStep: s, destOffset: 0, destRow: q, destCol: 1)
        let body = channelsLastBody(images: x[0], m: w[0], weightRow: channels * k * k, weightChannel: k * k, source: source,
                                    outImage: w[0] * p * q, outChannel: p * q, phases: [phase], group: imagesPerPass(),
                                    operands: ("w", "x", "y", "0", moments ? "moments" : "0"))
        return kernel("x \(x) * w \(w) -> y \(y)\(momentsSummary(moments)); stride \(s), padding \(pad)\n"
                      + "channels-last: GEMM M \(x[0]) images x \(p)x\(q) positions, N \(w[0]), K \(channels * k * k)\(channelsLastArithmetic)",
                      ["x", "w"], ["y"] + (moments ? ["moments"] : []), body: body)
    }

    /// The channels-last source of x for a forward convolution or weight gradient of this node.
    func channelsLastForwardSource(stride s: Int, padding pad: Int) -> ChannelsLastSource {
        let x = shape(operand: convPass == .dw ? 1 : 0)
        let w = convPass == .dw ? shape(result: 0) : shape(operand: 1), y = convPass == .dw ? shape(operand: 0) : shape(result: 0)
        let (k, p, q) = (w[2], y[2], y[3])
        return ChannelsLastSource(channels: x[1], height: x[2], width: x[3], pad: pad,
                                  rows: max((p - 1) * s + k, pad + x[2]), cols: max((q - 1) * s + k, pad + x[3]))
    }

    /// The channels-last source of dy for this node's dx, whose sub-pixel phases are `phases`.
    func channelsLastBackwardDataSource(phases: [PhaseTaps]) -> ChannelsLastSource {
        let dy = shape(operand: 0)
        let rowReach = phases.flatMap { $0.taps.map(\.dh) }, colReach = phases.flatMap { $0.taps.map(\.dw) }
        let low = max(0, -(rowReach + colReach).min()!), high = max(0, (rowReach + colReach).max()!)
        return ChannelsLastSource(channels: dy[1], height: dy[2], width: dy[3], pad: low,
                                  rows: max(phases.map(\.rows).max()! + high + low, low + dy[2]),
                                  cols: max(phases.map(\.cols).max()! + high + low, low + dy[3]))
    }

    /// dx = the transposed convolution of dy, per sub-pixel phase of dx, with dx positions as GEMM
    /// rows, read from a channels-last copy of dy.
    func conv2dBackwardDataChannelsLast(stride s: Int, padding pad: Int, phases: [PhaseTaps], accumulates: Bool) -> Kernel {
        let dy = shape(operand: 0), w = shape(operand: 1), dx = shape(result: 0)
        let (outputs, channels, k) = (w[0], w[1], w[2])
        let (h, width) = (dx[2], dx[3])
        let source = channelsLastBackwardDataSource(phases: phases)
        let low = source.pad
        let clPhases = phases.map { phase in
            ChannelsLastPhase(taps: phase.taps.map(\.tap), shifts: phase.taps.map { (($0.dh + low) * source.cols + $0.dw + low) * outputs },
                              rows: phase.rows, cols: phase.cols, rowStep: source.cols, colStep: 1,
                              destOffset: phase.ph * width + phase.pw, destRow: s * width, destCol: s)
        }
        let body = channelsLastBody(images: dy[0], m: channels, weightRow: k * k, weightChannel: channels * k * k, source: source,
                                    outImage: channels * h * width, outChannel: h * width, phases: clPhases, group: imagesPerPass(),
                                    operands: ("w", "dy", "dx", accumulates ? "addend" : "0", "0"))
        return kernel("dy \(dy), w \(w)\(accumulates ? ", addend" : "") -> dx \(dx)\(accumulates ? " (+ addend)" : ""); stride \(s), padding \(pad)\n"
                      + (s == 1 ? "channels-last: GEMM M \(dy[0]) images x \(h)x\(width) positions, N \(channels), K \(outputs * k * k)"
                                : "channels-last, per phase of dx: GEMM M \(dy[0]) images x the phase's pixels, N \(channels), K \(outputs) x its taps")
                        + channelsLastArithmetic,
                      ["dy", "w"] + (accumulates ? ["addend"] : []), ["dx"], body: body)
    }

    /// dw = the correlation of dy with x over images and positions, GEMM_MR output channels against
    /// GEMM_NR input channels at one tap, read from channels-last copies of x and dy. Needs input
    /// channels in whole tiles (a multiple of `RegisterTile.columns`).
    func conv2dBackwardWeightChannelsLast(stride s: Int, padding pad: Int) -> Kernel {
        let dy = shape(operand: 0), x = shape(operand: 1), dw = shape(result: 0)
        let (outputs, channels, k, p, q) = (dy[1], x[1], dw[2], dy[2], dy[3])
        let source = channelsLastForwardSource(stride: s, padding: pad)
        let group = imagesPerPass()
        let shifts = (0..<k * k).map { ($0 / k * source.cols + $0 % k) * channels }
        var c = CLines()
        c.line("static const int32_t shift[\(k * k)] = {\(shifts.map(String.init).joined(separator: ", "))};")
        c.line("const conv_cl_weight_plan_t plan = {.images = \(x[0]), .m = \(outputs), .taps = \(k * k), .shift = shift,")
        c.line("  .source = \(source.c),")
        c.line("  .out_rows = \(p), .out_cols = \(q), .stride = \(s), .group = \(group), .image_size = \(source.imageSize), .dy_image = \(outputs * p * q)};")
        if runsBF16 { c.line("/* bfloat16 operands (positions in pairs), float32 sums */") }
        c.line("conv_cl_weight_gemm\(runsBF16 ? "_bf16" : "")(&plan, dy, x, dw);")
        return kernel("dy \(dy), x \(x) -> dw \(dw); stride \(s), padding \(pad)\n"
                      + "channels-last: GEMM M \(channels * k * k), N \(outputs), K \(x[0]) images x \(p)x\(q) positions"
                      + (runsBF16 ? ", bfloat16 operands (x and dy rounded, positions in pairs), float32 sums" : ""),
                      ["dy", "x"], ["dw"], body: c)
    }
}
