import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// The Winograd weight gradient of a layer with many channels sums into one shared du
/// (`conv_wino_weight_shared_run` in CRuntime/winograd.h: 16 x O x C above 256K values) instead of
/// a private one per thread. One 3x3 layer of 256 -> 256 channels on 6x6 maps (9 tiles per image,
/// odd, so bfloat16 pads each image's last pair) against the reference kernels, and in bfloat16
/// against its emulation and the float32 reference kernels.
@Suite struct WinogradSharedSumTests {
    static func deepLayer() throws -> Graph {
        let m = Model()
        let x = m.declareParameter("deep.x", [3, 256, 6, 6], .uniformFanIn(fanIn: 1))
        let w = m.declareParameter("deep.w", [256, 256, 3, 3], .uniformFanIn(fanIn: 2304))
        let g = GraphBuilder(name: "winograd-shared-sum", model: m, training: true)
        let y = g.parameter(x).conv2d(g.parameter(w), stride: 1, padding: 1, label: "deep").flattened()
        g.output("loss", y.cosineSimilarity(g.input("t_deep", y.shape), label: "deep.cos").mean())
        return try g.finish()
    }

    static let plan = KernelPlan(convolutions: [.init(layer: "deep", pass: .dw, algorithm: .winograd)])

    /// The weight gradient of the layer in a build with these kernels and operands.
    static func weightGradient(kernels: KernelStrategy, operands: MatmulOperands = .native) throws -> [Double] {
        var options = CodegenOptions(kernels: kernels, vectorWidth: .avx512, operands: operands)
        if kernels == .tuned {
            options.plan = operands.isBF16
                ? KernelPlan(convolutions: plan.convolutions.map { .init(layer: $0.layer, pass: $0.pass, algorithm: $0.algorithm, bf16: true) })
                : plan
        }
        let lowered = try Lowering.lower(forward: try deepLayer(), features: nil, options: options)
        if kernels == .tuned {
            let dw = try KernelPlanTests.kernel("deep", .dw, in: lowered.generated.source)
            #expect(dw.contains(operands.isBF16 ? "conv_wino_weight_bf16(&plan" : "conv_wino_weight(&plan") && dw.contains(".channels = 256, .m = 256"),
                    "\(dw)")
        }
        let state = try steppedState(lowered, parameterSeed: 5, inputSeed: 13)
        return try #require(state.gradient(named: "deep.w")).doubles
    }

    @Test func sharedSumsEqualTheReferenceKernels() throws {
        let tuned = try Self.weightGradient(kernels: .tuned), reference = try Self.weightGradient(kernels: .reference)
        let error = relativeError(tuned, reference)
        #expect(error < 1e-5, "deep.w gradient: \(error) of its scale from the reference kernels")
        #expect(reference.contains { $0 != 0 })
    }

    @Test func bf16SharedSumsMatchTheirEmulationAndStayNearFloat32() throws {
        let emulated = try Self.weightGradient(kernels: .tuned, operands: .bf16Emulated)
        let float32 = try Self.weightGradient(kernels: .reference)
        let error = relativeError(emulated, float32)
        #expect(error < 5e-2 && error > 1e-5, "deep.w gradient: \(error) of its scale from float32's reference kernels")
        guard BF16Support.hasDPBF16(flags: BF16Support.hostFlags) else {
            print("skipped the vdpbf16ps build: this CPU has no \(BF16Support.avx512Flag)")
            return
        }
        #expect(try Self.weightGradient(kernels: .tuned, operands: .bf16) == emulated, "vdpbf16ps differs from the emulation")
    }
}
