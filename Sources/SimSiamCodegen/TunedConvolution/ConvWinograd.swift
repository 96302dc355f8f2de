import SimSiamIR

/// The Winograd convolution F(m x m, 3x3) (Lavin & Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2016), for 3x3 kernels at stride 1, padding 1: its C is
/// `CRuntime/winograd.h`; this file picks the transform and plans the calls.
///
/// An (m+2)x(m+2) window d of the input gives an m x m tile of the output as
/// `A^T [(G g G^T) . (B^T d B)] A`: (m+2)^2 products per input and output channel
/// pair where the direct convolution needs 9 m^2. Each thread copies a few images
/// into zero-padded channels-last sources (as the channels-last convolution does),
/// transforms a block of tiles into `v[point][tile][c]`, runs one GEMM per point of
/// the transform against the transformed kernels `u[point][c][o]` (the shared
/// micro-kernel), transforms the products back into channels-last outputs and
/// stores them transposed into NCHW. Weight gradients run the same transforms
/// backwards: `G^T [sum over tiles of (A dy A^T) . (B^T x B)] G`. Where it runs is the
/// planner's choice (`Plan/ConvPlanner.swift`).
///
/// Every output value is computed by one thread in a fixed order, so results do
/// not depend on the thread count.
enum ConvWinograd {
    /// The transform `algorithm` runs: F(2x2, 3x3) rounds like the direct convolution (max error
    /// 2.3e-7 to 3.8e-7 of max|y| against float64 on W1's 3x3 layers, direct 4.3e-7 to 9.1e-7).
    /// F(4x4, 3x3) does 44% fewer FMAs and, with the points 0, +-1, 1/2, -2, rounds about 4x worse
    /// than F(2x2, 3x3); Lavin & Gray's 0, +-1, +-2 twice that again (a float32 simulation of one
    /// tile summed over 128 channels: 1.6e-6, 3.0e-6 and 3.8e-7 of max|y|, mostly from the point
    /// GEMMs' sums). The planner runs it on the dx and dw, and on forwards of at most 32 input
    /// channels, of float32 and bfloat16 builds, bfloat16's forwards in float32 (`winograd4x4Fits`
    /// and `hasBF16Kernel` say why).
    static func transform(_ algorithm: ConvAlgorithm) -> WinogradTransform {
        algorithm == .winograd4x4 ? .f4x4 : .f2x2
    }

    /// Values of one thread's transformed weight gradient (points x O x C) above which
    /// `conv_wino_weight` sums into one du the threads share by rows instead of one du per thread
    /// (256 x 256 channels and up at F(2x2, 3x3)). A private du past L2 was streamed from memory once
    /// per block of tiles and thread: W2's layer4 dw (16 MB per thread) at 128 images took 53-69 ms
    /// against 35 ms shared, layer3's 35-38 against 31-33 (float32; bf16 48-49 against 20 and 20-25
    /// against 15.5); at 128 x 128 the private du (1 MB) was faster, 26 against 32-34 ms (C harness,
    /// 2 threads, AMD EPYC Zen 4).
    static let sharedSumValues = 256 * 1024

    /// Whether the Winograd dw of `outputs` x `channels` sums into the shared du.
    static func sumsShared(outputs: Int, channels: Int, transform: WinogradTransform) -> Bool {
        transform.n * transform.n * outputs * channels > sharedSumValues
    }

    /// The transforms the convolutions of these graphs run (labelled or not), each once.
    static func transforms(training: Graph, features: Graph?, options: CodegenOptions) -> [WinogradTransform] {
        var tiles = Set<Int>()
        return KernelPlanner.allConvolutions(training: training, features: features, options: options).compactMap { emitter in
            let algorithm = emitter.convAlgorithm()
            guard algorithm.isWinograd, tiles.insert(transform(algorithm).m).inserted else { return nil }
            return transform(algorithm)
        }
    }

    /// `transform`'s part of the C before `CRuntime/winograd.h`: `WINO_M`, `WINO_N`, `WINO_POINTS`
    /// and the five 1D transforms, generated from its matrices (`WinogradTransform.cFunctions`),
    /// under its names (`WinogradTransform.named`).
    static func transformSource(_ transform: WinogradTransform) -> String {
        transform.named("""
            /* ===== Winograd transform F(\(transform.m)x\(transform.m), 3x3), for CRuntime/winograd.h ===== */
            #define WINO_M \(transform.m)         /* output tile */
            #define WINO_N \(transform.n)         /* input tile, WINO_M + 2 */
            #define WINO_POINTS \(transform.n * transform.n)   /* WINO_N^2 */
            #define WINO_SHARED_DU_VALUES \(sharedSumValues)   /* dw: one shared du above this many values per thread's */

            \(transform.cFunctions)
            """)
    }

    /// The Winograd runtime for `transform` as the generated C holds it: `transformSource`, then
    /// `CRuntime/winograd.h` (`pasted`: the file's text, its includes as comments). F(4x4, 3x3)
    /// gets its own copy with every name carrying the tile (`conv_wino4`, `wino4_input_1d`,
    /// `WINO4_M`), so that both can run in one program.
    static func source(_ transform: WinogradTransform, pasted: String) -> String {
        let banner = "/* ===== from CRuntime/winograd.h\(transform.cSuffix.isEmpty ? "" : ", its names for F(\(transform.m)x\(transform.m), 3x3)") ===== */\n"
        return transformSource(transform) + "\n" + banner + transform.named(pasted)
    }
}

extension KernelEmitter {
    /// The transform this node runs (its plan entry's or the cost models' algorithm).
    private var winograd: WinogradTransform { ConvWinograd.transform(convAlgorithm()) }

    /// Output tiles of an H x W map, per row and column, at `transform` (this node's when nil).
    func winogradTiles(height: Int, width: Int, transform: WinogradTransform? = nil) -> (rows: Int, cols: Int) {
        let m = (transform ?? winograd).m
        return ((height + m - 1) / m, (width + m - 1) / m)
    }

    /// "Winograd F(2x2, 3x3)" and its GEMMs, for kernel summaries.
    private var winogradName: String { "Winograd F(\(winograd.m)x\(winograd.m), 3x3)" }

    /// The images per pass and the tiles per GEMM block, as the plan says (`imagesPerPass()`,
    /// `tilesPerBlock()`).
    private func winogradBlocking() -> (group: Int, block: Int) {
        (imagesPerPass(), tilesPerBlock())
    }

    /// The kernel body of a `conv_wino` call: output `outputs` channels from `channels`, weights
    /// at `weightRow`/`weightChannel`, rotated by 180 degrees when `flip`.
    private func winogradBody(images: Int, channels: Int, outputs: Int, height: Int, width: Int,
                              weightRow: Int, weightChannel: Int, flip: Bool,
                              operands: (w: String, input: String, output: String, addend: String, moments: String)) -> CLines {
        let tiles = winogradTiles(height: height, width: width)
        let (group, block) = winogradBlocking()
        var c = CLines()
        c.line("const conv_wino\(winograd.cSuffix)_plan_t plan = {.images = \(images), .channels = \(channels), .m = \(outputs), .height = \(height), .width = \(width),")
        c.line("  .weight_row = \(weightRow), .weight_channel = \(weightChannel), .flip = \(flip ? 1 : 0), "
            + ".tiles_h = \(tiles.rows), .tiles_w = \(tiles.cols), .group = \(group), .block = \(block)};")
        // A bfloat16 pass: the same transforms, the point GEMMs on bfloat16 pairs (CRuntime/winograd.h).
        c.line("conv_wino\(winograd.cSuffix)\(runsBF16 ? "_bf16" : "")(&plan, \(operands.w), \(operands.input), \(operands.output), \(operands.addend), \(operands.moments));")
        return c
    }

    /// "N images x T tiles, P GEMMs N .., K ..": the GEMMs of a Winograd forward or dx.
    private func winogradGemms(images: Int, height: Int, width: Int, n: Int, k: Int) -> String {
        let tiles = winogradTiles(height: height, width: width)
        return "\(winogradName): \(images) images x \(tiles.rows * tiles.cols) tiles, \(winograd.n * winograd.n) GEMMs N \(n), K \(k)"
    }

    /// y = conv(x, w) as a Winograd convolution.
    func conv2dForwardWinograd(moments: Bool) -> Kernel {
        let x = shape(operand: 0), w = shape(operand: 1), y = shape(result: 0)
        let body = winogradBody(images: x[0], channels: x[1], outputs: w[0], height: x[2], width: x[3],
                                weightRow: x[1] * 9, weightChannel: 9, flip: false,
                                operands: ("w", "x", "y", "0", moments ? "moments" : "0"))
        return kernel("x \(x) * w \(w) -> y \(y)\(momentsSummary(moments)); stride 1, padding 1\n"
                      + winogradGemms(images: x[0], height: x[2], width: x[3], n: w[0], k: x[1]),
                      ["x", "w"], ["y"] + (moments ? ["moments"] : []), body: body)
    }

    /// dx = the convolution of dy with the kernels rotated by 180 degrees and transposed, as a
    /// Winograd convolution.
    func conv2dBackwardDataWinograd(accumulates: Bool) -> Kernel {
        let dy = shape(operand: 0), w = shape(operand: 1), dx = shape(result: 0)
        let body = winogradBody(images: dy[0], channels: w[0], outputs: w[1], height: dx[2], width: dx[3],
                                weightRow: 9, weightChannel: w[1] * 9, flip: true,
                                operands: ("w", "dy", "dx", accumulates ? "addend" : "0", "0"))
        return kernel("dy \(dy), w \(w)\(accumulates ? ", addend" : "") -> dx \(dx)\(accumulates ? " (+ addend)" : ""); stride 1, padding 1\n"
                      + winogradGemms(images: dy[0], height: dx[2], width: dx[3], n: w[1], k: w[0]),
                      ["dy", "w"] + (accumulates ? ["addend"] : []), ["dx"], body: body)
    }

    /// dw = G^T [sum over tiles of (A dy A^T) . (B^T x B)] G, the gradient of the Winograd forward.
    func conv2dBackwardWeightWinograd() -> Kernel {
        let dy = shape(operand: 0), x = shape(operand: 1), dw = shape(result: 0)
        let tiles = winogradTiles(height: x[2], width: x[3])
        let (group, block) = winogradBlocking()
        var c = CLines()
        c.line("const conv_wino\(winograd.cSuffix)_weight_plan_t plan = {.images = \(x[0]), .channels = \(x[1]), .m = \(dy[1]), .height = \(x[2]), .width = \(x[3]),")
        c.line("  .tiles_h = \(tiles.rows), .tiles_w = \(tiles.cols), .group = \(group), .block = \(block)};")
        c.line("conv_wino\(winograd.cSuffix)_weight\(runsBF16 ? "_bf16" : "")(&plan, dy, x, dw);")
        return kernel("dy \(dy), x \(x) -> dw \(dw); stride 1, padding 1\n"
                      + "\(winogradName): \(winograd.n * winograd.n) GEMMs M \(dy[1]), N \(x[1]), K \(x[0]) images x \(tiles.rows * tiles.cols) tiles",
                      ["dy", "x"], ["dw"], body: c)
    }
}
