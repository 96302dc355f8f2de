import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// The channels-last weight gradient in bfloat16 (`conv_cl_weight_gemm_bf16` in
/// CRuntime/conv_channels_last.h): its sum runs over pairs of positions. One 3x3 stride-2 layer,
/// 64 -> 16 channels (two column panels of input channels, two row panels of outputs), on 9x9
/// maps: 25 positions per image, odd, so each image's last pair is padded; 3 images at 2 per pass,
/// so a pass also runs short. Against the reference kernels in float32, and in bfloat16 against its
/// emulation and the float32 reference kernels (measured 2.0e-3 of the gradient's scale from them;
/// dropping one pair of positions per pass measured 0.14).
@Suite struct ChannelsLastWeightBF16Tests {
    static func stridedLayer() throws -> Graph {
        let m = Model()
        let x = m.declareParameter("down.x", [3, 64, 9, 9], .uniformFanIn(fanIn: 1))
        let w = m.declareParameter("down.w", [16, 64, 3, 3], .uniformFanIn(fanIn: 576))
        let g = GraphBuilder(name: "channels-last-dw", model: m, training: true)
        let y = g.parameter(x).conv2d(g.parameter(w), stride: 2, padding: 1, label: "down").flattened()
        g.output("loss", y.cosineSimilarity(g.input("t_down", y.shape), label: "down.cos").mean())
        return try g.finish()
    }

    /// The weight gradient of the layer in a build with these kernels and operands (tuned: the dw
    /// channels-last at 2 images per pass, bfloat16 where the operands are).
    static func weightGradient(kernels: KernelStrategy, operands: MatmulOperands = .native) throws -> [Double] {
        var options = CodegenOptions(kernels: kernels, vectorWidth: .avx512, operands: operands)
        if kernels == .tuned {
            options.plan = KernelPlan(convolutions: [.init(layer: "down", pass: .dw, algorithm: .channelsLast, imagesPerPass: 2,
                                                           bf16: operands.isBF16 ? true : nil)])
        }
        let lowered = try Lowering.lower(forward: try stridedLayer(), features: nil, options: options)
        if kernels == .tuned {
            let dw = try KernelPlanTests.kernel("down", .dw, in: lowered.generated.source)
            #expect(dw.contains(operands.isBF16 ? "conv_cl_weight_gemm_bf16(&plan" : "conv_cl_weight_gemm(&plan") && dw.contains(".group = 2"),
                    "\(dw)")
        }
        let state = try steppedState(lowered, parameterSeed: 3, inputSeed: 17)
        return try #require(state.gradient(named: "down.w")).doubles
    }

    @Test func float32EqualsTheReferenceKernels() throws {
        let tuned = try Self.weightGradient(kernels: .tuned), reference = try Self.weightGradient(kernels: .reference)
        let error = relativeError(tuned, reference)
        #expect(error < 1e-5, "down.w gradient: \(error) of its scale from the reference kernels")
        #expect(reference.contains { $0 != 0 })
    }

    @Test func bf16MatchesItsEmulationAndStaysNearFloat32() throws {
        let emulated = try Self.weightGradient(kernels: .tuned, operands: .bf16Emulated)
        let float32 = try Self.weightGradient(kernels: .reference)
        let error = relativeError(emulated, float32)
        #expect(error < 1e-2 && error > 1e-5, "down.w gradient: \(error) of its scale from float32's reference kernels")
        guard BF16Support.hasDPBF16(flags: BF16Support.hostFlags) else {
            print("skipped the vdpbf16ps build: this CPU has no \(BF16Support.avx512Flag)")
            return
        }
        #expect(try Self.weightGradient(kernels: .tuned, operands: .bf16) == emulated, "vdpbf16ps differs from the emulation")
    }
}
