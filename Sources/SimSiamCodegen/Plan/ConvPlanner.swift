import SimSiamIR

/// The cost models of the tuned convolutions and the choices they make, in one place: for each
/// pass of a convolution node, which algorithm runs it (`ConvAlgorithm`). The emitters in
/// `TunedConvolution/` only carry out a choice; a `KernelPlan` entry replaces the derived
/// choice of its layer and pass (`convAlgorithm()`), after `convAlgorithmProblem` has said it
/// can apply. All the measured constants below are fractions of the FMA peak at 2 threads on
/// AVX-512, W1 (fmnist-resnet-mini) at batch 256 and W2 (cifar-resnet18) at batch 128, or set
/// from the per-pass times of the quiet `simsiamc tune` of W1 and W2 (batch 512) in
/// docs/tuning.md, "W1/W2 on this machine".
extension KernelEmitter {
    // MARK: Cost models

    /// Estimated fraction of the FMA peak of a channels-last convolution that does `fmas` FMAs
    /// per value it copies: the tiles run at `kernel`, and the transposing copies and stores cost
    /// about copyCost/fmas. Measured on W1 at batch 256, 2 threads (AVX-512), forward 3x3: 76%,
    /// 80%, 86% and 89% of the peak at 144, 288, 576 and 1152 FMAs per value.
    static func channelsLastConvEfficiency(fmasPerValue fmas: Double, copyCost: Double = 40, kernel: Double = 0.92) -> Double {
        kernel / (1 + copyCost / fmas)
    }

    /// Estimated fraction of the FMA peak of an in-place convolution (`conv_gemm`) whose grid keeps
    /// `grid` of its columns: 89-92% of that at stride 1 (W1 layer1-3), less at stride 2, where it
    /// also fills S x S phase planes (74-82%, W1 layer2.0/3.0.conv1).
    static func inPlaceConvEfficiency(grid: Double, stride: Int) -> Double { 0.9 * grid * (stride == 1 ? 1 : 0.85) }

    /// Estimated useful fraction of the FMAs of a packed convolution GEMM with M rows:
    /// the packing of the im2col operand costs about 50/M of the compute, and the GEMM
    /// itself tops out near 84%. Measured at 2 threads (AVX-512): W1's stride-1 layers at
    /// batch 256, 43%, 55% and 69-74% of the FMA peak at M = 32, 64 and 128; W2's
    /// layer4.0.conv1 forward at batch 128, 83% at M = 512 (channels-last: 87-89%).
    static func packedConvEfficiency(rows m: Int) -> Double { min(0.84, 1 / (1 + 50 / Double(m))) }

    /// Whether a convolution pays as Winograd at `transform`: where it can run (`winogradApplies`),
    /// at least 32 input and output channels (narrower GEMMs were not measured), and at least 3/4
    /// of the tiles' outputs kept (49 of 64 at 7x7).
    func winogradFits(kernel k: Int, stride s: Int, padding pad: Int, channels: Int, outputs: Int, height: Int, width: Int,
                      transform: WinogradTransform = .f2x2) -> Bool {
        guard winogradApplies(kernel: k, stride: s, padding: pad, channels: channels) == nil, channels >= 32, outputs >= 32 else { return false }
        let tiles = winogradTiles(height: height, width: width, transform: transform)
        return 4 * height * width >= 3 * tiles.rows * tiles.cols * transform.m * transform.m
    }

    /// Whether a dx or dw that fits Winograd (`winogradFits`, `winogradWeightFits`) runs F(4x4, 3x3)
    /// rather than F(2x2, 3x3): in float32 and bfloat16 builds (float64 keeps the transform that
    /// rounds like the direct kernels; bfloat16 runs F(4x4)'s forwards in float32, `hasBF16Kernel`),
    /// where that fits too and the map holds at least 2x2 of its tiles. Measured with every
    /// Winograd pass of W1 and W2 on F(4x4) with Lavin and Gray's points (`bench --library
    /// --profile`, 2 rounds each, AMD EPYC Zen 4, 2 threads):
    /// W1 at batch 256 (28x28 to 7x7 maps) 0.69-0.93x the F(2x2) time per pass; W2 at batch 128
    /// 0.65-0.71x on 32x32, 0.69-0.79x on 16x16, 0.82-0.87x on 8x8, but 1.24-1.33x (forward, dx)
    /// and 2.0-2.1x (dw) on layer4's 4x4 maps, one tile per image. The points in use (more non-zero
    /// coefficients in B^T), side by side with those on W2: forwards and dx 0.99-1.04x their time,
    /// layer1's dws 0.98-1.00x, layer2's and layer3's 1.02-1.08x.
    ///
    /// Forwards run F(4x4) only where they sum at most 32 input channels
    /// (`winograd4x4ForwardChannels`): a forward's rounding decides which ReLU inputs near zero fall
    /// on which side, and F(4x4)'s error, about 4x F(2x2)'s and growing with the channels summed,
    /// moved W2's gradients beyond PyTorch float32's own distance to float64 (`scripts/check_step.py`,
    /// as accurate as PyTorch, randomised BN). F(4x4) on the forwards of up to 64 channels (W2's
    /// layer1): batch 8, seed 1 failed (layer4.1 and projector gradients 1.0e-2 to 1.7e-1 off,
    /// against PyTorch's 5.8e-6 to 1.6e-5), batch 16 passed; up to 128 channels: batch 16 failed
    /// too (layer4.0's BN weight gradients 9.4e-3 and 1.4e-2); on every forward: both failed. W1
    /// passed at batch 32 (seeds 0 and 1) with F(4x4) on the forwards of up to 128 channels, and
    /// with this rule at batch 32 (seeds 0, 1) and 64 (seed 2). W2 has no forward of 32 channels,
    /// so it keeps F(2x2) on all of them. W1's two 32-channel 28x28 forwards took 18.5-19.9 ms per
    /// step on F(4x4) against 23.8-25.3 on F(2x2) (`bench --library --profile`, two pairs of 2
    /// alternating rounds, AMD EPYC Zen 4, 2 threads).
    func winograd4x4Fits(height: Int, width: Int) -> Bool {
        guard tunesWinograd4x4 else { return false }
        let tiles = winogradTiles(height: height, width: width, transform: .f4x4)
        return tiles.rows >= 2 && tiles.cols >= 2
    }

    /// The transform of a forward or dx that fits Winograd (`winogradFits`): F(4x4, 3x3) where
    /// `winograd4x4Fits` and F(4x4)'s tiles fit the map too, else F(2x2, 3x3).
    func winogradTransformAlgorithm(kernel k: Int, stride s: Int, padding pad: Int, channels: Int, outputs: Int,
                                    height: Int, width: Int) -> ConvAlgorithm {
        let f4 = winograd4x4Fits(height: height, width: width)
            && winogradFits(kernel: k, stride: s, padding: pad, channels: channels, outputs: outputs, height: height, width: width, transform: .f4x4)
        return f4 ? .winograd4x4 : .winograd
    }

    /// Whether a weight gradient pays as Winograd: as `winogradFits`, where `conv_wino_weight` can
    /// run, and with each thread's transformed gradient (points x O x C) paid for
    /// (`partialSumsPay`): each of its values sums one product per tile of the `images`. Beyond 4 MB
    /// it paid at 2048 tiles: W2's layer4 at batch 512 (16 MB), 138-141 ms per step against 204-214
    /// packed (docs/tuning.md, "W2 on this machine"). Where the threads share one du
    /// (`ConvWinograd.sumsShared`) there are no per-thread sums to pay for: `tune` at batch 128
    /// timed W2's three layer4 dws at 79.8-81.9 ms per step against 104.3-106.6 packed in float32.
    /// In bfloat16 that tune (a busy host) kept packed, 57.2-58.5 against 59.9-78.0 ms; four
    /// alternating rounds of the two whole bf16 builds later (`bench --library --profile`, AMD EPYC
    /// Zen 4) timed Winograd at 39.6-53.0 ms per layer and step against 52.7-62.2 packed, so shared
    /// sums pay in bfloat16 too.
    func winogradWeightFits(kernel k: Int, stride s: Int, padding pad: Int, channels: Int, outputs: Int, images: Int, height: Int, width: Int,
                            transform: WinogradTransform = .f2x2) -> Bool {
        let n = transform.n, tiles = winogradTiles(height: height, width: width, transform: transform)
        return winogradFits(kernel: k, stride: s, padding: pad, channels: channels, outputs: outputs, height: height, width: width, transform: transform)
            && winogradWeightApplies(kernel: k, stride: s, padding: pad, channels: channels, outputs: outputs) == nil
            && (ConvWinograd.sumsShared(outputs: outputs, channels: channels, transform: transform)
                || Self.partialSumsPay(bytes: n * n * outputs * channels * precision.bytes,
                                       sums: images * tiles.rows * tiles.cols, measuredSums: 2048))
    }

    /// Whether a weight gradient's per-thread partial sums of `bytes`, zeroed and added across the
    /// threads on every call, pay: always within 4 MB (the channels-last partial sums measured well
    /// up to it); beyond, only where each value sums at least `measuredSums` products, as many as
    /// where a larger one was measured to pay (at batch 512). The zeroing and the sum across threads
    /// cost the same whatever the batch, while the products summed into each value grow with it: at
    /// batch 128 a value of W2's layer4 sums a quarter as many, so that fixed cost weighs 4x as much
    /// against the work. That was not measured to pay, so batch 128 keeps the choice it had.
    static func partialSumsPay(bytes: Int, sums: Int, measuredSums: Int) -> Bool {
        bytes <= 4 << 20 || sums >= measuredSums
    }

    /// Whether `simsiamc tune` times F(4x4, 3x3) on this pass, as the cost models may choose it: a
    /// dx or dw, or a forward of at most 32 input channels (`winograd4x4Fits`), of a float32 or
    /// bfloat16 build. A plan may still ask for it anywhere it can run.
    var tunesWinograd4x4: Bool {
        guard precision == .float32 else { return false }
        return convPass != .forward || shape(operand: 0)[1] <= Self.winograd4x4ForwardChannels
    }

    /// Input channels up to which a float32 forward may run F(4x4, 3x3) (`winograd4x4Fits`).
    static let winograd4x4ForwardChannels = 32

    /// Images per pass of a channels-last forward or dx whose source and output take
    /// `bytesPerImage`: up to four (fewer tiles straddle a short tail), while their sources and
    /// outputs fit ~512 KB of L2. Measured on W2 layer2.0.conv1's dx (404 KB per image): 182
    /// GFLOP/s at one image per pass, 172 at four.
    static func channelsLastImagesPerPass(images: Int, bytesPerImage bytes: Int) -> Int {
        max(1, min(4, images / 2, (512 << 10) / bytes))
    }

    /// Images per pass of a channels-last dw with P x Q outputs: up to ~256 positions, whose dy rows
    /// of eight channels (8 KB) then stay in L1.
    static func channelsLastWeightImagesPerPass(images: Int, positions: Int) -> Int {
        max(1, min(8, images / 2, 256 / positions))
    }

    /// Images per pass of an in-place dw whose source and dy rows take `bytesPerImage`: the lane
    /// sums after each pass cost ~25% at one image. Up to ~1.25 MB of sources and dy rows measured
    /// best (W2 layer2, 298 KB per image: 166 GFLOP/s at 1 image, 191 at 4; W1 layer1, 214 KB: 180
    /// at 1, 193 at 6), even where that passes L2.
    static func inPlaceWeightImagesPerPass(images: Int, bytesPerImage bytes: Int) -> Int {
        max(1, min(images / 2, 1280 * 1024 / bytes))
    }

    /// Images per pass of a Winograd convolution on an H x W map at `transform`: blocks of up to
    /// ~48 tiles, from as many images as that takes: each point's GEMM then reuses its kernels for
    /// six row tiles, and the block's transforms stay within L2.
    func winogradImagesPerPass(images: Int, height: Int, width: Int, transform: WinogradTransform) -> Int {
        let tiles = winogradTiles(height: height, width: width, transform: transform)
        return max(1, min(48 / (tiles.rows * tiles.cols), images / 2))
    }

    // MARK: Derived choices

    /// The pass this node computes, or nil when it is not a convolution.
    var convPass: ConvPass? {
        switch node.op {
        case .conv2d: .forward
        case .conv2dBackwardData: .dx
        case .conv2dBackwardWeight: .dw
        default: nil
        }
    }

    /// (stride, padding) of a convolution node.
    var convGeometry: (stride: Int, padding: Int)? {
        switch node.op {
        case .conv2d(let s, let pad, _), .conv2dBackwardData(let s, let pad, _, _, _), .conv2dBackwardWeight(let s, let pad, _): (s, pad)
        default: nil
        }
    }

    /// The algorithm this convolution node runs: its layer's plan entry, else the cost models'.
    func convAlgorithm() -> ConvAlgorithm {
        guard let pass = convPass else { preconditionFailure("\(name) is not a convolution") }
        if let planned = plan?.algorithm(layer: node.label, pass: pass) {
            if let problem = convAlgorithmProblem(planned) { preconditionFailure("\(name): \(problem); KernelPlanner.validate rejects it") }
            return planned
        }
        return derivedConvAlgorithm()
    }

    /// The images per pass this node's kernel runs: its plan entry's, else the cost models'.
    /// Only for algorithms that batch images (`derivedImagesPerPass` is not nil).
    func imagesPerPass() -> Int {
        let algorithm = convAlgorithm()
        guard let derived = derivedImagesPerPass(algorithm) else { preconditionFailure("\(name): \(algorithm.rawValue) has no images per pass") }
        return plan?.entry(layer: node.label, pass: convPass!)?.imagesPerPass ?? derived
    }

    /// The Winograd tiles per block this node runs: its plan entry's, else the cost models'.
    func tilesPerBlock() -> Int {
        guard let derived = derivedTilesPerBlock(convAlgorithm()) else { preconditionFailure("\(name) does not run Winograd") }
        return plan?.entry(layer: node.label, pass: convPass!)?.tilesPerBlock ?? derived
    }

    /// The [N, C, H, W] map a Winograd pass of this node tiles: dx's for the dx, x's otherwise.
    var winogradMap: Shape { convPass == .dx ? shape(result: 0) : shape(operand: convPass == .dw ? 1 : 0) }

    /// The cost models' tiles per block for `algorithm` (nil but for Winograd): a group of images'
    /// tiles in whole register tiles, at most 48 (measured on W1 and W2 when the kernel was written).
    func derivedTilesPerBlock(_ algorithm: ConvAlgorithm) -> Int? {
        guard algorithm.isWinograd, let pass = convPass else { return nil }
        let tiles = winogradTiles(height: winogradMap[2], width: winogradMap[3], transform: ConvWinograd.transform(algorithm))
        let group = plan?.entry(layer: node.label, pass: pass)?.imagesPerPass ?? derivedImagesPerPass(algorithm)!
        return min(48, (group * tiles.rows * tiles.cols + tile.rows - 1) / tile.rows * tile.rows)
    }

    /// The Winograd blockings `simsiamc tune` times for this node, the cost models' first: blocks
    /// of 16 to 96 tiles (whole register tiles), each with the cost models' images per pass, or as
    /// many more as fill one block (at most half the batch, so both threads get work). A block the
    /// group's tiles would cut short is left out: it runs as a smaller one already listed. Which
    /// pays is a matter of the CPU's caches: a block's transformed inputs and products (16 points
    /// x tiles x channels) against L2, its point GEMMs' runs against their per-block setup.
    func winogradBlockingCandidates(_ algorithm: ConvAlgorithm) -> [WinogradBlocking] {
        guard let derivedTiles = derivedTilesPerBlock(algorithm), let derivedImages = derivedImagesPerPass(algorithm) else { return [] }
        let map = winogradMap
        let tiles = winogradTiles(height: map[2], width: map[3], transform: ConvWinograd.transform(algorithm)), perImage = tiles.rows * tiles.cols
        var candidates = [WinogradBlocking(tilesPerBlock: derivedTiles, imagesPerPass: derivedImages)]
        for block in Self.winogradBlockSizes where block % tile.rows == 0 {
            let images = max(derivedImages, min((block + perImage - 1) / perImage, max(1, map[0] / 2)))
            let candidate = WinogradBlocking(tilesPerBlock: block, imagesPerPass: images)
            if images * perImage >= block, !candidates.contains(candidate) { candidates.append(candidate) }
        }
        return candidates
    }

    /// The tiles per block `winogradBlockingCandidates` tries.
    static let winogradBlockSizes = [16, 24, 32, 48, 64, 96]

    /// How the threads of this node's packed dw share it: its plan entry's, else the cost models'.
    func threadSplit() -> ThreadSplit {
        guard let derived = derivedThreadSplit(convAlgorithm()) else { preconditionFailure("\(name) is not a packed dw") }
        return plan?.entry(layer: node.label, pass: convPass!)?.threadSplit ?? derived
    }

    /// The cost models' split of a packed dw (nil for other passes and algorithms): column panels,
    /// but for a dw of two panels or fewer (a 1x1 with few inputs), which has too few panels to
    /// share and whose long A would cost memory to pack whole (see `conv2dBackwardWeightPacked`).
    func derivedThreadSplit(_ algorithm: ConvAlgorithm) -> ThreadSplit? {
        guard algorithm == .packed, convPass == .dw else { return nil }
        let dw = shape(result: 0)
        return dw[1] * dw[2] * dw[3] <= 2 * tile.columns ? .kBlocks : .columns
    }

    /// The cost models' images per pass for this node run by `algorithm`, or nil when that
    /// algorithm does not batch images (in-place forward and dx, packed).
    func derivedImagesPerPass(_ algorithm: ConvAlgorithm) -> Int? {
        guard let pass = convPass, let (s, pad) = convGeometry else { return nil }
        switch (algorithm, pass) {
        case (.inPlace, .dw):
            let (_, _, length, reach) = weightGrid(stride: s, padding: pad)
            let bytes = (reach + shape(operand: 0)[1] * length) * precision.bytes
            return Self.inPlaceWeightImagesPerPass(images: shape(operand: 0)[0], bytesPerImage: bytes)
        case (.inPlace, _), (.packed, _):
            return nil
        case (.channelsLast, .forward):
            let y = shape(result: 0)
            let bytes = (channelsLastForwardSource(stride: s, padding: pad).values + y[1] * y[2] * y[3]) * precision.bytes
            return Self.channelsLastImagesPerPass(images: y[0], bytesPerImage: bytes)
        case (.channelsLast, .dx):
            let dx = shape(result: 0)
            let source = channelsLastBackwardDataSource(phases: backwardDataGeometry(stride: s, padding: pad).phaseTaps)
            return Self.channelsLastImagesPerPass(images: dx[0], bytesPerImage: (source.values + dx[1] * dx[2] * dx[3]) * precision.bytes)
        case (.channelsLast, .dw):
            let dy = shape(operand: 0)
            return Self.channelsLastWeightImagesPerPass(images: dy[0], positions: dy[2] * dy[3])
        case (.winograd, _), (.winograd4x4, _):
            return winogradImagesPerPass(images: winogradMap[0], height: winogradMap[2], width: winogradMap[3],
                                         transform: ConvWinograd.transform(algorithm))
        }
    }

    /// The cost models' choice for this convolution node.
    func derivedConvAlgorithm() -> ConvAlgorithm {
        guard let pass = convPass, let (s, pad) = convGeometry else { preconditionFailure("\(name) is not a convolution") }
        switch pass {
        case .forward: return derivedForward(stride: s, padding: pad)
        case .dx: return derivedBackwardData(stride: s, padding: pad)
        case .dw: return derivedBackwardWeight(stride: s, padding: pad)
        }
    }

    private func derivedForward(stride s: Int, padding pad: Int) -> ConvAlgorithm {
        let x = shape(operand: 0), w = shape(operand: 1), y = shape(result: 0)
        let (channels, k, p, q) = (x[1], w[2], y[2], y[3])
        if winogradFits(kernel: k, stride: s, padding: pad, channels: channels, outputs: w[0], height: p, width: q) {
            if bf16Pays(against: Self.winogradDirectEquivalent, rows: w[0]) { return .packed }
            return winogradTransformAlgorithm(kernel: k, stride: s, padding: pad, channels: channels, outputs: w[0], height: p, width: q)
        }
        let (source, shifts) = forwardSource(x: x, k: k, stride: s, padding: pad, p: p, q: q)
        let phase = ConvPhase(taps: Array(0..<k * k), shifts: shifts, rows: p, cols: q, destOffset: 0, destRow: q, destCol: 1)
        let grid = gridEfficiency(source: source, phases: [phase])
        // Packing a strided x costs more than a stride-1 one (0.8, as the dw's): the quiet W1/W2 tune
        // (docs/tuning.md) timed every stride-2 forward 1.2-3.1x as long packed as channels-last,
        // where the stride-1 estimate said 0.47-1.28x. Packed was chosen on one, W2's
        // layer4.0.downsample.0 (17.7 ms against 14.5); the other 1x1 go in place (the grid below).
        let inPlace = Self.inPlaceConvEfficiency(grid: grid, stride: s)
        let packed = Self.packedConvEfficiency(rows: w[0]) * (s == 1 ? 1 : 0.8)
        var channelsLast = Self.channelsLastConvEfficiency(fmasPerValue: channelsLastFmasPerValue(stride: s, padding: pad))
        if operands.isBF16, channelsLastBF16Pays(stride: s, padding: pad) { channelsLast *= Self.bf16ChannelsLastForwardSpeedup }
        if bf16Pays(against: max(channelsLast, inPlace, packed), rows: w[0]) { return .packed }
        if channelsLast > max(inPlace, packed) { return .channelsLast }
        // Against the grid fraction alone: packing 1x1 inputs (K = C) costs more than the 3x3 layers
        // the packed estimate comes from (W1's 1x1 downsamples measured 11.8 ms packed, 6.6 in place).
        return grid < packed ? .packed : .inPlace
    }

    private func derivedBackwardData(stride s: Int, padding pad: Int) -> ConvAlgorithm {
        let w = shape(operand: 1), dx = shape(result: 0)
        let (outputs, channels, k) = (w[0], w[1], w[2])
        if winogradFits(kernel: k, stride: s, padding: pad, channels: outputs, outputs: channels, height: dx[2], width: dx[3]) {
            return winogradTransformAlgorithm(kernel: k, stride: s, padding: pad, channels: outputs, outputs: channels, height: dx[2], width: dx[3])
        }
        let (source, phases, _) = backwardDataGeometry(stride: s, padding: pad)
        let channelsLast = Self.channelsLastConvEfficiency(fmasPerValue: channelsLastFmasPerValue(stride: s, padding: pad))
        var inPlace = Self.inPlaceConvEfficiency(grid: gridEfficiency(source: source, phases: phases), stride: s)
        if k == 1, s > 1 {
            // In place, a strided 1x1 dx stores its one phase to every S-th column and zeroes the
            // others, which the grid does not count. The quiet W1/W2 tune (docs/tuning.md) timed the
            // five downsamples' dx in place 0.60-1.63x channels-last (estimated 0.61-2.08x); capped at
            // 0.62, between the channels-last estimates at 64 and 128 FMAs per dy value (0.57, 0.70),
            // the estimates order all five as measured (W2's layer3.0.downsample.0: 22.9 ms in place,
            // 18.4 channels-last).
            inPlace = min(inPlace, 0.62)
        }
        return channelsLast > inPlace ? .channelsLast : .inPlace
    }

    private func derivedBackwardWeight(stride s: Int, padding pad: Int) -> ConvAlgorithm {
        let dy = shape(operand: 0), x = shape(operand: 1), dw = shape(result: 0)
        let (outputs, channels, k, p, q) = (dy[1], x[1], dw[2], dy[2], dy[3])
        // F(4x4)'s du is 36/16 of F(2x2)'s: where only it passes the shared-du threshold (128 x 128
        // channels) it trades F(2x2)'s private du for the shared one, and gained little or lost:
        // W2's layer2 dws (16x16) 0.97-0.98x, W1's layer3.0.conv2 dw (7x7) 29.6 against 25.9 ms per
        // step (`bench --library --profile`, 2 alternating rounds, AMD EPYC Zen 4). A quiet `tune`
        // later timed that W1 dw the other way, 23.5 against 26.1: close enough that `tune` decides.
        if winograd4x4Fits(height: x[2], width: x[3]),
           ConvWinograd.sumsShared(outputs: outputs, channels: channels, transform: .f4x4)
            == ConvWinograd.sumsShared(outputs: outputs, channels: channels, transform: .f2x2),
           winogradWeightFits(kernel: k, stride: s, padding: pad, channels: channels, outputs: outputs, images: x[0], height: x[2], width: x[3], transform: .f4x4) {
            return .winograd4x4
        }
        if winogradWeightFits(kernel: k, stride: s, padding: pad, channels: channels, outputs: outputs, images: x[0], height: x[2], width: x[3]) {
            return bf16Pays(against: Self.winogradDirectEquivalent, rows: outputs) ? .packed : .winograd
        }
        let length = weightGrid(stride: s, padding: pad).length
        // Fractions of the FMA peak measured at batch 256 (W1) and 128 (W2), 2 threads: in place,
        // 82-86% where the grid keeps 94-97% of its columns and 77% where it keeps 87.5% (lane sums
        // per image group cost the rest), 71-73% at stride 2 (W2 layer2.0.conv1); packing a strided x
        // costs more than a stride-1 one (57% at M = 128 against 69-74%); channels-last copies x and
        // dy, and fits the forward's model: 74-78%, 81%, 88-92% and 87% at 192, 384, 576 and 1152
        // FMAs per copied value.
        // Stride 2 in place: 0.8, not 0.85. The quiet W1/W2 tune (docs/tuning.md) timed the five
        // stride-2 3x3 dws 1.07-2.66x as long in place as channels-last; 0.85 put W1's
        // layer2.0.conv1 level (0.99x, measured 1.20x: 13.6 against 11.4 ms), 0.8 fits the five
        // ratios better (1.05-2.48x).
        var inPlace = 0.88 * Double(p * q) / Double(length) * (s == 1 ? 1 : 0.8)
        var packed = Self.packedConvEfficiency(rows: outputs) * (s == 1 ? 1 : 0.8)
        if k == 1 {
            // A 1x1 dw copies x (the phase source; packed: the im2col panel) and dy for C and O FMAs
            // per value, a ninth of a 3x3 layer's. On the five downsamples of W1 and W2 the same tune
            // timed in place 0.46-1.7x channels-last (the estimates above: 0.29-0.89x) and packed
            // 0.93-2.0x in place (0.94-1.48x). In place capped at 0.4 (channels-last is estimated 0.32
            // at 21 FMAs per copied value, 0.47 at 43) and packed at 0.4 of its 3x3 figure order all
            // five as measured: in place on W1 and W2's layer2, channels-last on W2's layer3 and 4.
            inPlace = min(inPlace, 0.4)
            packed *= 0.4
        }
        let fmasPerValue = channelsLastFmasPerValue(stride: s, padding: pad)
        // Its partial sums are [C*K*K x O] per thread (`partialSumsPay`), each value summing the
        // batch's P*Q products. Paid beyond 4 MB at 8192 (512 images of 4x4): W2's layer4.0.conv1
        // (4.5 MB) took 98 ms per step against 125 packed in the quiet tune. At 9.4 MB (layer4's
        // 3x3/1, Winograd's now) two measurements disagree at 512 images: 173-181 against 188-195
        // GFLOP/s packed (an earlier one, whatever the images per pass, 8 to 64), and 187-194 against
        // 204-214 ms per step (the quiet tune); at 128 images, 164-172 against 185-193 GFLOP/s.
        let partialBytes = channels * k * k * roundUp(outputs, tile.rows) * precision.bytes
        let channelsLastFits = convAlgorithmProblem(.channelsLast) == nil
            && Self.partialSumsPay(bytes: partialBytes, sums: dy[0] * p * q, measuredSums: 8192)
        let fp32Best = max(inPlace, packed, channelsLastFits ? Self.channelsLastConvEfficiency(fmasPerValue: fmasPerValue) : 0)
        if bf16Pays(against: fp32Best, rows: outputs, strided: s != 1) { return .packed }
        if channelsLastFits, Self.channelsLastConvEfficiency(fmasPerValue: fmasPerValue) > max(inPlace, packed) {
            return .channelsLast
        }
        return inPlace < packed ? .packed : .inPlace
    }

    // MARK: bfloat16

    /// Whether `algorithm` has a bfloat16 kernel for `pass`: the packed GEMM (`gemm_bf16.h`),
    /// Winograd (`conv_wino_bf16`, `conv_wino_weight_bf16` and their F(4x4) copies `conv_wino4_bf16`,
    /// `conv_wino4_weight_bf16`: transforms in float32, the point GEMMs on bfloat16 pairs) and
    /// channels-last (`conv_cl_gemm_bf16`: a source copy rounded to channel pairs;
    /// `conv_cl_weight_gemm_bf16`: pairs of positions). In-place passes stay float32.
    ///
    /// F(4x4, 3x3) runs bfloat16 on the dx and dw only. Its forward stays float32, as a forward's
    /// rounding decides which ReLU inputs near zero fall on which side (`winograd4x4Fits`), and
    /// F(4x4) rounds its transformed operands about 4x as far as F(2x2): with W1's two 32-channel
    /// forwards on F(4x4) bfloat16 as well, `scripts/check_bf16_step.py` (batch 256, randomised BN)
    /// failed, the loss 8.9e-3 from float64 against autocast's 9.6e-4 and 11 tensors past twice
    /// autocast's distance; with those forwards on F(4x4) float32 it passed (median 0.75 and 0.73
    /// of autocast's distance, loss 1.4e-3 and 4.7e-4 against 8.5e-4 and 9.6e-4), and on F(2x2)
    /// bfloat16 too (0.77 and 0.94). F(4x4) float32 took those forwards 18.5-21.7 ms per step,
    /// F(2x2) bfloat16 18.6-19.8: level (`bench --library --profile`, 3 alternating rounds, AMD
    /// EPYC Zen 4, 2 threads).
    static func hasBF16Kernel(_ algorithm: ConvAlgorithm, pass: ConvPass) -> Bool {
        switch algorithm {
        case .packed, .winograd, .channelsLast: true
        case .winograd4x4: pass != .forward
        case .inPlace: false
        }
    }

    /// Whether this convolution node runs the bfloat16 GEMM: its plan entry's `bf16`, else the
    /// cost models' (`derivedConvBF16`).
    func convRunsBF16() -> Bool {
        guard operands.isBF16, let pass = convPass else { return false }
        let algorithm = convAlgorithm()
        if let planned = plan?.entry(layer: node.label, pass: pass)?.bf16 { return planned && Self.hasBF16Kernel(algorithm, pass: pass) }
        return derivedConvBF16(algorithm)
    }

    /// The cost models' bfloat16 choice for this node run by `algorithm`: every algorithm that has
    /// a bfloat16 kernel runs it in a bfloat16 build (the algorithm choice already weighed it),
    /// except channels-last passes whose copy outweighs their GEMM (`channelsLastBF16Pays`).
    func derivedConvBF16(_ algorithm: ConvAlgorithm) -> Bool {
        guard operands.isBF16, let pass = convPass, Self.hasBF16Kernel(algorithm, pass: pass) else { return false }
        if algorithm == .channelsLast, let (s, pad) = convGeometry { return channelsLastBF16Pays(stride: s, padding: pad) }
        return true
    }

    /// FMAs per copied value of a channels-last pass (x for the forward, dy for the dx, both for
    /// the dw): what the copy is spread over (`channelsLastConvEfficiency`).
    func channelsLastFmasPerValue(stride s: Int, padding pad: Int) -> Double {
        if convPass == .dw {
            // x and dy are both copied (and, in bfloat16, rounded).
            let dy = shape(operand: 0), x = shape(operand: 1), w = shape(result: 0)
            return Double(dy[1] * x[1] * w[2] * w[3] * dy[2] * dy[3]) / Double(x[1] * x[2] * x[3] + dy[1] * dy[2] * dy[3])
        }
        if convPass == .dx {
            // Channels-last copies each dy value once for C x (its taps) FMAs, where packing dy per
            // phase copied it for C taps' worth: it replaced the packed dx wherever that was chosen
            // (W2 layer3.0 and layer4.0.conv1: 57% -> 82% and 74% -> 85% of the FMA peak).
            let dy = shape(operand: 0), channels = shape(operand: 1)[1]
            let fmas = backwardDataGeometry(stride: s, padding: pad).phaseTaps.reduce(0) { $0 + $1.rows * $1.cols * $1.taps.count } * channels
            return Double(fmas) / Double(dy[2] * dy[3])
        }
        let x = shape(operand: 0), w = shape(operand: 1), y = shape(result: 0)
        return Double(w[0] * y[2] * y[3] * w[2] * w[3]) / Double(x[2] * x[3])
    }

    /// The fewest source channels for which a channels-last pass runs bfloat16: one channel fills
    /// only half of each pair (the other half is the zero padding) and gives one pair per tap.
    /// W1's stem (1 -> 32 channels, 28x28, batch 256) forced channels-last took 9.4 ms in bfloat16
    /// against 8.1 in float32; W2's (3 channels, batch 128) 16.1 against 18.5 (`bench --profile`,
    /// 1 thread, AMD EPYC Zen 4 (family 25, model 17), load average ~4, medians of 2).
    static let bf16ChannelsLastMinimumChannels = 2

    /// The fewest FMAs per source value for which a channels-last pass runs bfloat16: the rounded
    /// copy costs more than the float32 one, and vdpbf16ps halves only the GEMM. Measured as above:
    /// W1's layer2.0.downsample.0 forward (1x1/2, 32 -> 64 channels: 16 FMAs per value) forced
    /// channels-last took 11.6 ms in bfloat16 against 10.2 in float32; at 32 FMAs per value
    /// (W1's layer3.0.downsample.0 forward, W2's layer2.0.downsample.0 forward, W1's
    /// layer2.0.downsample.0 dx) 8.7 against 11.8, 17.6 against 28.9, 18.5 against 20.4; the 3x3
    /// stride-2 conv1s of W1 and W2 (144-1152) 0.54-0.65x the float32 time.
    static let bf16ChannelsLastMinimumFmasPerValue = 24.0

    /// Speed of the bfloat16 channels-last forward over the float32 one, where it runs
    /// (`channelsLastBF16Pays`), for the algorithm choice of a bfloat16 build. Measured as above
    /// (forced with `--plan`, 1 thread): 1.2-1.6x at 32-128 FMAs per value (the 1x1/2 downsamples
    /// of W1 and W2), 1.3-1.9x on the 3x3/2 conv1s, 1.15x on W2's stem (3 channels). At 1.6 a
    /// bfloat16 build moves to channels-last where it measured faster: W2's layer4.0.conv1 (56.6 ms
    /// against 62.6-65.6 packed bf16; estimated 1.42 against 1.34), layer3.0.downsample.0 (16.8
    /// against 19.5-20.0 in place) and stem (16.1 against 19.4-20.3 in place), W1's
    /// layer3.0.downsample.0 (8.7 against 12.8-13.5 in place). Not W2's layer2.0.downsample.0,
    /// though it measured 17.6 against 28.3-31.4 in place: the float32 estimates put in place
    /// (0.77) far above channels-last (0.41) there, where float32 measured them level.
    static let bf16ChannelsLastForwardSpeedup = 1.6

    /// Whether this channels-last pass runs its bfloat16 kernel in a bfloat16 build.
    func channelsLastBF16Pays(stride s: Int, padding pad: Int) -> Bool {
        let channels = shape(operand: convPass == .dw ? 1 : 0)[1]  /* the source's: x for the forward and dw, dy for the dx */
        return channels >= Self.bf16ChannelsLastMinimumChannels
            && channelsLastFmasPerValue(stride: s, padding: pad) >= Self.bf16ChannelsLastMinimumFmasPerValue
    }

    /// Speed of the bfloat16 packed GEMM over the float32 one at the same shape: vdpbf16ps does
    /// twice the multiply-adds per instruction (its micro-kernel alone: 1.94x, 226 against 117
    /// GFLOP/s on one core), but each panel is rounded as it is packed, and packing does not get
    /// faster. Measured on W2 at batch 128, 2 threads, AMD EPYC Zen 5 (a busy machine: load 7,
    /// the kernels timed alternately in one process, best of 12): 1.94x and 1.30x on
    /// layer2.1.conv1's forward and dw, 2.12x and 1.68x on layer4.1.conv1's.
    static let bf16PackedSpeedup = 1.6

    /// Winograd F(2x2, 3x3) as a multiple of the direct convolution's FMA peak: 2.25 times fewer
    /// multiplies, at the efficiency its transforms leave. In the same measurement, float32
    /// Winograd ran W2's layer2.1.conv1 forward (16x16 maps) 4.3x as fast as the float32 packed
    /// GEMM (3.1x of the direct peak by `packedConvEfficiency`), layer4.1.conv1 (4x4 maps) 2.0x
    /// (1.7x): the bfloat16 packed GEMM took 2.2x Winograd's time on the first and 0.93x on the
    /// second. The lower figure: a bfloat16 packed GEMM (at most 1.6 x 0.84 of the peak) then
    /// never replaces a Winograd layer; in a bfloat16 build Winograd runs its own bfloat16 point
    /// GEMMs (`hasBF16Kernel`), forward 0.62-0.79x the float32 time on the same layers.
    static let winogradDirectEquivalent = 1.7

    /// The fewest GEMM rows (output channels) for which a bfloat16 packed convolution is chosen.
    /// Below, packing dominates: W1's layer2.0.conv1 (M 64, stride 2, batch 256) took 2.7x as long
    /// packed in bfloat16 as in place in float32 (forward; dw 1.5x), measured as above; at M 512
    /// (W2 layer4) bfloat16 packed beat float32 packed 1.7-2.1x and tied Winograd. At M 256 (W2
    /// layer3.0, batch 128, 1 thread on an AMD EPYC Zen 5, quiet core) packed bfloat16 lost to the
    /// float32 choices: conv1 forward 53.7 against 43.0 ms (channels-last), downsample forward
    /// 19.5 against 7.9, its dw 10.2 against 9.0, conv1 dw 45.5 against 47.0; layer4.0 (M 512)
    /// won: conv1 forward 29.8 against 43.4, dw 32.4 against 52.2, downsample dw 6.0 against 8.3.
    static let bf16PackedMinimumRows = 512

    /// Whether, in a bfloat16 build, a packed bfloat16 GEMM with `rows` rows beats the best
    /// float32 algorithm, estimated at `fp32` of the float32 FMA peak. A stride-2 packed dw packs
    /// a strided x (0.8 of the stride-1 figure, as in `derivedBackwardWeight`).
    func bf16Pays(against fp32: Double, rows: Int, strided: Bool = false) -> Bool {
        guard operands.isBF16, rows >= Self.bf16PackedMinimumRows else { return false }
        return Self.bf16PackedSpeedup * Self.packedConvEfficiency(rows: rows) * (strided ? 0.8 : 1) > fp32
    }
}
