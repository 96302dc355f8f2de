import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// Every op's VJP against central finite differences, in double precision.
@Suite(.serialized) struct GradientCheckTests {
    /// One graph exercising every differentiable op: each op reads its own
    /// parameters, and each term reaches the loss through cos(flatten(y), t)
    /// with a random target t, so every output element matters. A wrong VJP
    /// shows up as wrong gradients of exactly that op's parameters.
    static func opGallery() throws -> Graph {
        let m = Model()
        func p(_ name: String, _ shape: Shape) -> Int { m.declareParameter(name, shape, .uniformFanIn(fanIn: 1)) }
        let conv = (x: p("conv_s1.x", [3, 2, 5, 5]), w: p("conv_s1.w", [4, 2, 3, 3]))
        let stridedConv = (x: p("conv_s2.x", [3, 2, 6, 7]), w: p("conv_s2.w", [3, 2, 3, 3]))
        let pointwiseConv = (x: p("conv_1x1_s2.x", [3, 2, 5, 5]), w: p("conv_1x1_s2.w", [3, 2, 1, 1]))
        // Many channels on a small image: the tuned kernels take their packed-GEMM path here.
        let wideOutput = (x: p("conv_wide_out.x", [2, 16, 4, 4]), w: p("conv_wide_out.w", [256, 16, 3, 3]))
        let wideInput = (x: p("conv_wide_in.x", [2, 256, 4, 4]), w: p("conv_wide_in.w", [4, 256, 3, 3]))
        let widePointwise = (x: p("conv_wide_1x1_s2.x", [2, 256, 4, 4]), w: p("conv_wide_1x1_s2.w", [4, 256, 1, 1]))
        // Many FMAs per input value on a small map: the tuned kernels go channels-last here.
        let channelsLast = (x: p("conv_cl.x", [3, 24, 6, 6]), w: p("conv_cl.w", [24, 24, 3, 3]))
        let channelsLastStrided = (x: p("conv_cl_s2.x", [3, 16, 7, 6]), w: p("conv_cl_s2.w", [64, 16, 3, 3]))
        // Tiny maps with many channels: channels-last weight gradients (3x3 keeps too little of
        // its 2x2 Winograd tiles).
        let channelsLastWeight = (x: p("conv_cl_w.x", [2, 32, 3, 3]), w: p("conv_cl_w.w", [32, 32, 3, 3]))
        let channelsLastWeightStrided = (x: p("conv_cl_w_s2.x", [2, 32, 3, 3]), w: p("conv_cl_w_s2.w", [64, 32, 3, 3]))
        // 3x3 at stride 1 with 32 channels or more: Winograd F(4x4, 3x3), here with output channels
        // that fill no whole GEMM panel and a 7x7 map that fills its 4x4 tiles only in part.
        let winograd = (x: p("conv_wino.x", [2, 32, 7, 7]), w: p("conv_wino.w", [40, 32, 3, 3]))
        let sharedInputs: [(String, (x: Int, w: Int, stride: Int, padding: Int))] = [
            ("conv_shared", (p("conv_shared.x", [3, 2, 5, 5]), p("conv_shared.w", [4, 2, 3, 3]), 1, 1)),
            ("conv_wide_s1_shared", (p("conv_wide_s1_shared.x", [2, 256, 4, 4]), p("conv_wide_s1_shared.w", [4, 256, 3, 3]), 1, 1)),
            ("conv_wide_shared", (p("conv_wide_shared.x", [2, 256, 4, 4]), p("conv_wide_shared.w", [4, 256, 3, 3]), 2, 1)),
            ("conv_wide_1x1_shared", (p("conv_wide_1x1_shared.x", [2, 256, 4, 4]), p("conv_wide_1x1_shared.w", [4, 256, 1, 1]), 2, 0)),
            ("conv_cl_shared", (p("conv_cl_shared.x", [3, 24, 6, 6]), p("conv_cl_shared.w", [24, 24, 3, 3]), 1, 1)),
            ("conv_cl_s2_shared", (p("conv_cl_s2_shared.x", [3, 40, 7, 6]), p("conv_cl_s2_shared.w", [16, 40, 3, 3]), 2, 1)),
            ("conv_wino_shared", (p("conv_wino_shared.x", [2, 32, 7, 7]), p("conv_wino_shared.w", [32, 32, 3, 3]), 1, 1)),
        ]
        let bn2d = (x: p("bn2d.x", [3, 2, 4, 4]), layer: BatchNorm(m, "bn2d", 2))
        // BNs of convolutions take their batch statistics from the convolution (in place,
        // channels-last, and packed with a pass after it). conv_packed_bn's dw is the packed one
        // summed over k (8 columns): on a 1x1 output, as a 1x1 dw with more of a grid runs in place.
        let convBNShapes: [(String, Shape, Shape, Int, Int)] = [
            ("conv_bn", [3, 2, 5, 5], [4, 2, 3, 3], 1, 1), ("conv_cl_bn", [3, 24, 6, 6], [24, 24, 3, 3], 1, 1),
            ("conv_packed_bn", [3, 8, 2, 2], [256, 8, 1, 1], 2, 0),
            ("conv_wino_bn", [2, 32, 7, 7], [32, 32, 3, 3], 1, 1),
        ]
        let convBN = convBNShapes.map { name, x, w, stride, padding in
            (name, (x: p("\(name).x", x), w: p("\(name).w", w), stride: stride, padding: padding), BatchNorm(m, "\(name).bn", w[0]))
        }
        let bn1d = (x: p("bn1d.x", [4, 5]), layer: BatchNorm(m, "bn1d", 5, affine: false))
        let bnReLU = (x: p("bn_relu.x", [3, 2, 4, 4]), layer: BatchNorm(m, "bn_relu", 2))
        // Rows of 128 doubles (1 KB): tuned builds run these on channel-major copies.
        let bn1dWide = (x: p("bn1d_wide.x", [16, 128]), layer: BatchNorm(m, "bn1d_wide", 128, affine: false))
        let bnReLUWide = (x: p("bn_relu_wide.x", [16, 128]), layer: BatchNorm(m, "bn_relu_wide", 128))
        let relu = p("relu.x", [3, 6])
        let add = (a: p("add.a", [3, 6]), b: p("add.b", [3, 6]))
        let pool = p("gap.x", [3, 4, 3, 3])
        let linear = (x: p("linear.x", [3, 5]), w: p("linear.w", [4, 5]), b: p("linear.b", [4]))
        let linearNoBias = (x: p("linear_nobias.x", [3, 5]), w: p("linear_nobias.w", [2, 5]))
        let cosine = (a: p("cos.a", [3, 4]), b: p("cos.b", [3, 4]))
        let scale = p("scale.x", [3, 4])
        // Max pooling: the ImageNet stem's 3x3/2 with -inf padding (on odd and even sizes, so the
        // last window is clipped or not), disjoint 2x2 windows, and overlapping 3x3/1 windows
        // whose dx sums several dy per element.
        let maxPools: [(String, Int, (kernel: Int, stride: Int, padding: Int), Shape)] = [
            ("maxpool_3s2p1", p("maxpool_3s2p1.x", [2, 3, 7, 6]), (3, 2, 1), [2, 3, 4, 3]),
            ("maxpool_2s2", p("maxpool_2s2.x", [2, 2, 5, 4]), (2, 2, 0), [2, 2, 2, 2]),
            ("maxpool_3s1p1", p("maxpool_3s1p1.x", [3, 2, 4, 5]), (3, 1, 1), [3, 2, 4, 5]),
        ]
        // A convolution with a bias (Conv2d(bias: true)): the bias's gradient sums over N, H, W.
        let biasedConv = (x: p("conv_bias.x", [3, 2, 5, 5]), layer: Conv2d(m, "conv_bias", 2, 4, kernel: 3, stride: 2, padding: 1, bias: true))
        // Softmax cross-entropy: the labels are a frozen parameter (the inputs are random floats,
        // labels must be class indices), set by `setGalleryLabels` after initialisation.
        let crossEntropy = (logits: p("softmax_ce.logits", [4, 5]),
                            labels: m.declareParameter(Self.galleryLabelsName, [4], .constant(0), trainable: false))

        let g = GraphBuilder(name: "op-gallery", model: m, training: true)
        func v(_ index: Int) -> Tensor { g.parameter(index) }
        var terms: [Tensor] = []
        func term(_ name: String, _ y: Tensor) {
            let flat = y.flattened()
            let target = g.input("t_\(name)", flat.shape)
            terms.append(flat.cosineSimilarity(target, label: name).mean())
        }
        term("conv_s1", v(conv.x).conv2d(v(conv.w), stride: 1, padding: 1))
        term("conv_s2", v(stridedConv.x).conv2d(v(stridedConv.w), stride: 2, padding: 1))
        term("conv_1x1_s2", v(pointwiseConv.x).conv2d(v(pointwiseConv.w), stride: 2, padding: 0))
        term("conv_wide_out", v(wideOutput.x).conv2d(v(wideOutput.w), stride: 1, padding: 1))
        term("conv_wide_in", v(wideInput.x).conv2d(v(wideInput.w), stride: 2, padding: 1))
        term("conv_wide_1x1_s2", v(widePointwise.x).conv2d(v(widePointwise.w), stride: 2, padding: 0))
        term("conv_cl", v(channelsLast.x).conv2d(v(channelsLast.w), stride: 1, padding: 1))
        term("conv_cl_s2", v(channelsLastStrided.x).conv2d(v(channelsLastStrided.w), stride: 2, padding: 1))
        term("conv_cl_w", v(channelsLastWeight.x).conv2d(v(channelsLastWeight.w), stride: 1, padding: 1))
        term("conv_cl_w_s2", v(channelsLastWeightStrided.x).conv2d(v(channelsLastWeightStrided.w), stride: 2, padding: 1))
        term("conv_wino", v(winograd.x).conv2d(v(winograd.w), stride: 1, padding: 1))
        // Convolution inputs with a second reader: their dx is summed with another gradient, which
        // tuned builds fold into the convolution (in place, and per phase of a strided dx).
        for (name, shared) in sharedInputs {
            let input = v(shared.x).scaled(by: 1.5)
            term(name, input.conv2d(v(shared.w), stride: shared.stride, padding: shared.padding))
            term("\(name)_again", input.scaled(by: -0.5))
        }
        term("bn2d", bn2d.layer(v(bn2d.x)))
        for (name, conv, bn) in convBN {
            term(name, bn(v(conv.x).conv2d(v(conv.w), stride: conv.stride, padding: conv.padding)))
        }
        term("bn1d", bn1d.layer(v(bn1d.x)))
        term("bn_relu", bnReLU.layer(v(bnReLU.x)).relu())  // fused forward and backward in tuned builds
        term("bn1d_wide", bn1dWide.layer(v(bn1dWide.x)))
        term("bn_relu_wide", bnReLUWide.layer(v(bnReLUWide.x)).relu())
        term("relu", v(relu).relu())
        term("add", v(add.a).adding(v(add.b)))
        term("gap", v(pool).globalAveragePool())
        term("linear", v(linear.x).linear(v(linear.w), bias: v(linear.b)))
        term("linear_nobias", v(linearNoBias.x).linear(v(linearNoBias.w)))
        terms.append(v(cosine.a).cosineSimilarity(v(cosine.b)).mean())
        term("scale", v(scale).scaled(by: -1.7))
        for (name, x, pool, expected) in maxPools {
            let y = v(x).maxPool2d(kernel: pool.kernel, stride: pool.stride, padding: pool.padding, label: name)
            precondition(y.shape == expected, "\(name): \(y.shape), expected \(expected)")
            term(name, y)
        }
        term("conv_bias", biasedConv.layer(v(biasedConv.x)))
        // Already a scalar loss; scaled up so its gradient is not small beside the cosine terms.
        terms.append(v(crossEntropy.logits).scaled(by: 3).softmaxCrossEntropy(labels: v(crossEntropy.labels), label: "softmax_ce"))
        g.output("loss", terms.dropFirst().reduce(terms[0]) { $0.adding($1) })
        return try g.finish()
    }

    static let galleryLabelsName = "softmax_ce.labels"

    /// Gives the gallery's cross-entropy four different classes (of five) as labels.
    static func setGalleryLabels(_ state: ModelState) throws {
        try state.setTensor(named: galleryLabelsName, HostTensor(shape: [4], doubles: [3, 0, 4, 1]))
    }

    @Test(arguments: KernelStrategy.allCases)
    func everyOpVJPMatchesFiniteDifferences(kernels: KernelStrategy) throws {
        let lowered = try Lowering.lower(forward: try Self.opGallery(), features: nil,
                                         options: CodegenOptions(precision: .float64, kernels: kernels))
        let compiled = try Compiler.build(lowered, cache: quickTestCache)
        let state = ModelState(library: compiled.library)
        state.initialize(seed: 7)
        try Self.setGalleryLabels(state)
        var random = TestRandom(seed: 11)
        try state.randomizeBatchNormAffine(&random)
        let inputs = compiled.library.inputs.map { random.array($0.numel).map(Float.init) }
        #expect(lowered.generated.source.contains("static void softmax_cross_entropy_bwd__softmax_ce("))
        // A few elements and random directions per tensor: each probe costs two steps of the whole
        // gallery, and the directions reach every element of the large tensors.
        let errors = try FiniteDifferences.check(state, inputs: inputs, probes: GradientProbes(elementsPerTensor: 8, directionsPerTensor: 4))
        #expect(errors.count == compiled.library.symbols.filter { $0.kind == .trainable }.count)
        if kernels == .tuned {
            // The gallery's shapes are chosen so that AVX-512 tiles take every kernel path. AVX2
            // tiles are narrower and choose otherwise on two of them (no packed dw summed over k,
            // in-place dw for conv_cl_w_s2); tunedKernelsAgreeAcrossVectorWidths checks the
            // AVX-512 build's gradients against theirs, so every path is checked on either CPU.
            let gallery = VectorWidth.host == .avx512 ? lowered.generated.source
                : try Lowering.lower(forward: try Self.opGallery(), features: nil,
                                     options: CodegenOptions(precision: .float64, kernels: .tuned, vectorWidth: .avx512)).generated.source
            // Both convolution paths of the tuned kernels are exercised (calls, not the definitions).
            #expect(gallery.contains("  conv_gemm(&plan"))
            #expect(gallery.contains(/\n  gemm_column_panels\(\d+, \d+, \d+, &g, conv2d_bwd_weight\w*__pack_a/))
            #expect(gallery.contains(/\n  gemm_column_panels\(\d+, \d+, \d+, &g, conv2d_fwd\w*__pack_a/))
            #expect(gallery.contains(/\n  gemm_reduce_over_k\(\d+, \d+, \d+, \d+, &g, conv2d_bwd_weight\w*__pack_a/))
            #expect(gallery.contains("static void conv2d_bwd_data_add"))
            // The BN + ReLU's output is not kept: its fused backward recomputes it (Rematerialization).
            #expect(gallery.contains("static inline void batch_norm_relu_bwd_recompute__bn_relu("))
            // [N, C] BNs, wide (8 blocks of 16 channels) and narrow (5 channels, one partial block), call
            // the bodies that walk the batch row by row over blocks of channels.
            for (bn, size) in [("batch_norm_relu_bwd__bn_relu_wide(", "16, 128"), ("batch_norm_train_relu_fwd__bn_relu_wide(", "16, 128"),
                               ("batch_norm_bwd_data__bn1d_wide(", "16, 128"), ("batch_norm_train_fwd__bn1d_wide(", "16, 128"),
                               ("batch_norm_bwd_data__bn1d(", "4, 5"), ("batch_norm_train_fwd__bn1d(", "4, 5")] {
                let wrapper = gallery.components(separatedBy: "static inline void " + bn).dropFirst().first?.prefix { $0 != "\n" } ?? ""
                let shared = try #require(wrapper.firstMatch(of: try Regex("\\{ (\\w+_rows)\\(\(size), 1, ")), "\(bn) does not run on channel blocks").output[1].substring
                let body = gallery.components(separatedBy: "static void \(shared ?? "")(").dropFirst().first ?? ""
                #expect(body.prefix(1500).contains("for (int64_t c0 = 0; c0 < C; c0 += 16)"), "\(shared ?? "") does not walk channel blocks")
            }
            #expect(gallery.contains("-> y [3,4,5,5], moments [2,4] = (mean, biased variance) of y per channel; stride 1, padding 1\n   per image"))
            #expect(gallery.contains("-> y [3,256,1,1], moments [2,256] = (mean, biased variance) of y per channel; stride 2, padding 0\n   GEMM"))
            // Channels-last: forward at stride 1 and 2, dx at stride 1 and per phase, with and without an
            // addend (a strided 1x1 kernel's dx reaches only phase (0, 0), the others stay zero or the
            // addend), and weight gradients at stride 1 and 2.
            for summary in ["-> y [3,24,6,6]; stride 1, padding 1\n   channels-last", "-> y [3,64,4,3]; stride 2, padding 1\n   channels-last",
                            "-> dx [3,24,6,6]; stride 1, padding 1\n   channels-last", "-> dx [3,16,7,6]; stride 2, padding 1\n   channels-last",
                            "-> dx [3,24,6,6] (+ addend); stride 1, padding 1\n   channels-last",
                            "-> dx [3,40,7,6] (+ addend); stride 2, padding 1\n   channels-last",
                            "-> dx [2,256,4,4]; stride 2, padding 0\n   channels-last", "-> dx [2,256,4,4] (+ addend); stride 2, padding 0\n   channels-last",
                            "-> dw [32,32,3,3]; stride 1, padding 1\n   channels-last", "-> dw [64,32,3,3]; stride 2, padding 1\n   channels-last",
                            "-> y [3,24,6,6], moments [2,24] = (mean, biased variance) of y per channel; stride 1, padding 1\n   channels-last"] {
                #expect(gallery.contains(summary), "no channels-last kernel \(summary)")
            }
            // Winograd: forward with and without batch statistics, dx with and without an addend, dw.
            for summary in ["-> y [2,40,7,7]; stride 1, padding 1\n   Winograd", "-> dx [2,32,7,7]; stride 1, padding 1\n   Winograd",
                            "-> dw [40,32,3,3]; stride 1, padding 1\n   Winograd", "-> dw [32,32,3,3]; stride 1, padding 1\n   Winograd",
                            "-> dx [2,32,7,7] (+ addend); stride 1, padding 1\n   Winograd",
                            "-> y [2,32,7,7], moments [2,32] = (mean, biased variance) of y per channel; stride 1, padding 1\n   Winograd"] {
                #expect(gallery.contains(summary), "no Winograd kernel \(summary)")
            }
        }
        for (name, error) in errors.map({ ($0.name, $0.error) }) {
            #expect(error < 1e-6, "gradient of \(name) differs from finite differences by \(error) (relative)")
        }
    }

    /// The finite-difference check above runs the tuned kernels with this CPU's register tiles;
    /// the other width's tiles (AVX-512 or AVX2) must give the same gradients on the same
    /// gallery, with the same kernel choices where the shapes allow both.
    @Test func tunedKernelsAgreeAcrossVectorWidths() throws {
        var gradients: [VectorWidth: [String: [Double]]] = [:]
        for width in VectorWidth.allCases {
            let lowered = try Lowering.lower(forward: try Self.opGallery(), features: nil,
                                             options: CodegenOptions(precision: .float64, kernels: .tuned, vectorWidth: width))
            let tile = RegisterTile(precision: .float64, width: width)
            #expect(lowered.generated.source.contains("#define GEMM_LANES \(tile.lanes) "))
            #expect(lowered.generated.source.contains("#define GEMM_MR \(tile.rows) "))
            for path in ["channels-last", "Winograd", "  conv_gemm(&plan", "gemm_column_panels(", "gemm_reduce_over_k("] {
                #expect(lowered.generated.source.contains(path), "\(width): no \(path) kernel in the gallery")
            }
            let compiled = try Compiler.build(lowered, cache: quickTestCache)
            // The build for this CPU's own tile compiles without a warning under -Wall (an AVX2
            // CPU warns, -Wpsabi, about every 64-byte vector passed by value; AVX-512 does not).
            if width == VectorWidth.host {
                let log = try String(contentsOfFile: compiled.build.logPath, encoding: .utf8)
                #expect(!log.contains("warning:"), "\(width) build warns:\n\(log)")
            }
            let state = ModelState(library: compiled.library)
            state.initialize(seed: 7)
            try Self.setGalleryLabels(state)
            var random = TestRandom(seed: 11)
            try state.randomizeBatchNormAffine(&random)
            let inputs = compiled.library.inputs.map { random.array($0.numel).map(Float.init) }
            _ = try state.lossAndGradients(inputs)
            for symbol in compiled.library.symbols where symbol.kind == .trainable {
                gradients[width, default: [:]][symbol.name] = try #require(state.gradient(named: symbol.name)).doubles
            }
        }
        let (wide, narrow) = (try #require(gradients[.avx512]), try #require(gradients[.avx2]))
        #expect(wide.count == narrow.count && !wide.isEmpty)
        for (name, expected) in wide {
            let error = relativeError(try #require(narrow[name], "avx2 build lacks \(name)"), expected)
            #expect(error < 1e-10, "gradient of \(name): avx2 tiles differ from avx512 ones by \(error) (relative)")
        }
    }

    /// With stop-gradient on, the step's "gradient" is by design not the loss's
    /// derivative, so the whole-graph check runs on the variant without the
    /// cut (every backward op of the default graph, plus the target branch).
    @Test(arguments: KernelStrategy.allCases)
    func wholeSimSiamGradientMatchesFiniteDifferences(kernels: KernelStrategy) throws {
        let errors = try tinyFiniteDifferenceErrors(stopGradient: false, kernels: kernels)
        #expect(errors.count == 30)  // every trainable tensor of the tiny model; the frozen bias is excluded
        for (name, error) in errors {
            #expect(error < 1e-5, "gradient of \(name) differs from finite differences by \(error) (relative)")
        }
    }

    /// The ImageNet stem (7x7/2 convolution, BN, ReLU, 3x3/2 max-pool) and Bottleneck blocks
    /// (with and without a downsample) in a whole SimSiam step, through fusion and the memory
    /// plan: every trainable tensor's gradient against finite differences.
    @Test(arguments: KernelStrategy.allCases)
    func bottleneckResNetGradientMatchesFiniteDifferences(kernels: KernelStrategy) throws {
        let m = Model()
        let backbone = ResNet(m, imageNetStemFrom: 1, stemWidth: 4, block: .bottleneck, stages: [
            .init(width: 2, blocks: 2, stride: 1), .init(width: 3, blocks: 1, stride: 2),
        ])
        let simsiam = SimSiam(model: m, backbone: backbone, projector: Heads.projector(m, backbone.featureDimension, 8, layers: 2),
                              predictor: Heads.predictor(m, 8, hidden: 4), imageShape: [1, 16, 16],
                              variant: SimSiamVariant(stopGradient: false))
        let lowered = try Lowering.lower(forward: try simsiam.trainingGraph(name: "bottleneck-resnet", batch: 4), features: nil,
                                         options: CodegenOptions(precision: .float64, kernels: kernels))
        for name in ["max_pool2d_fwd__backbone_maxpool(", "max_pool2d_bwd__backbone_maxpool(", "conv2d_fwd__backbone_layer1_0_conv3("] {
            #expect(lowered.generated.source.contains("static void " + name), "no kernel \(name)")
        }
        let compiled = try Compiler.build(lowered, cache: quickTestCache)
        let state = ModelState(library: compiled.library)
        state.initialize(seed: 3)
        var random = TestRandom(seed: 5)
        try state.randomizeBatchNormAffine(&random)
        let inputs = compiled.library.inputs.map { random.array($0.numel, -2, 2).map(Float.init) }
        let errors = try FiniteDifferences.check(state, inputs: inputs, probes: GradientProbes(elementsPerTensor: 6, directionsPerTensor: 2))
        #expect(errors.count == compiled.library.symbols.filter { $0.kind == .trainable }.count)
        #expect(errors.contains { $0.name == "backbone.layer1.0.conv3.weight" } && errors.contains { $0.name == "backbone.layer2.0.downsample.0.weight" })
        for result in errors {
            #expect(result.error < 1e-5, "gradient of \(result.name) differs from finite differences by \(result.error) (relative)")
        }
    }

    /// With the cut, the predictor's gradients are still true derivatives (the
    /// targets do not depend on it); the encoder's are not.
    @Test func stopGradientChangesOnlyTheEncoderGradient() throws {
        let errors = try tinyFiniteDifferenceErrors(stopGradient: true)
        for (name, error) in errors where name.hasPrefix("predictor.") {
            #expect(error < 1e-5, "gradient of \(name) differs from finite differences by \(error) (relative)")
        }
        for (name, error) in errors where name.hasPrefix("projector.") {
            #expect(error > 1e-3, "gradient of \(name) should ignore the target branch but matches the full derivative")
        }
    }

    func tinyFiniteDifferenceErrors(stopGradient: Bool, kernels: KernelStrategy = .tuned) throws -> [(name: String, error: Double)] {
        let compiled = try Compiler.compile(Workload.tiny, options: CodegenOptions(precision: .float64, kernels: kernels),
                                            variant: SimSiamVariant(stopGradient: stopGradient),
                                            cache: quickTestCache)
        return try GradientCheck.run(compiled.library, seed: 3, probes: GradientProbes(elementsPerTensor: 12, directionsPerTensor: 0))
            .results.map { ($0.name, $0.error) }
    }
}
