import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// One convolution layer's tuned weight-gradient kernel, checked on a graph of that layer alone
/// (`<layer>.x` and `<layer>.w` parameters, a cosine loss): in float32 against the reference
/// kernels, and in bfloat16 against its emulation and the float32 reference kernels.
struct LayerWeightGradientCheck: Sendable {
    var layer: String
    /// The shapes of the layer's input and weights (x is a parameter: its batch is x[0]).
    var x: Shape
    var w: Shape
    var stride: Int
    var padding: Int
    /// The dw's plan entry in float32; bfloat16 builds run it with `"bf16": true`.
    var entry: ConvPlanEntry
    /// The C call of its float32 kernel (`conv_wino_weight`); bfloat16 builds call `<call>_bf16`.
    var call: String
    /// Text the kernel's body must also contain (its shape or blocking).
    var detail: String
    var parameterSeed: UInt64
    var inputSeed: UInt64
    /// The register tiles the build is for (the C runs on any x86-64 CPU either way).
    var width: VectorWidth = .avx512

    /// The layer alone: y = conv(x, w), flattened, and the mean cosine of y against an input.
    func graph() throws -> Graph {
        let m = Model()
        let xp = m.declareParameter(layer + ".x", x, .uniformFanIn(fanIn: 1))
        let wp = m.declareParameter(layer + ".w", w, .uniformFanIn(fanIn: w[1] * w[2] * w[3]))
        let g = GraphBuilder(name: layer + "-layer", model: m, training: true)
        let y = g.parameter(xp).conv2d(g.parameter(wp), stride: stride, padding: padding, label: layer).flattened()
        g.output("loss", y.cosineSimilarity(g.input("t_" + layer, y.shape), label: layer + ".cos").mean())
        return try g.finish()
    }

    /// The gradient of `<layer>.w` after one step in a build with these kernels and operands.
    func weightGradient(kernels: KernelStrategy, operands: MatmulOperands = .native) throws -> [Double] {
        var options = CodegenOptions(kernels: kernels, vectorWidth: width, operands: operands)
        if kernels == .tuned {
            var planned = entry
            planned.bf16 = operands.isBF16 ? true : nil
            options.plan = KernelPlan(convolutions: [planned])
        }
        let lowered = try Lowering.lower(forward: try graph(), features: nil, options: options)
        if kernels == .tuned {
            let dw = try KernelPlanTests.kernel(layer, .dw, in: lowered.generated.source)
            #expect(dw.contains(call + (operands.isBF16 ? "_bf16" : "") + "(&plan") && dw.contains(detail), "\(dw)")
        }
        let state = try steppedState(lowered, parameterSeed: parameterSeed, inputSeed: inputSeed)
        return try #require(state.gradient(named: layer + ".w")).doubles
    }

    /// The float32 kernel within 1e-5 of the reference kernels, on a gradient that is not zero.
    func expectFloat32EqualsTheReferenceKernels() throws {
        let tuned = try weightGradient(kernels: .tuned), reference = try weightGradient(kernels: .reference)
        let error = relativeError(tuned, reference)
        #expect(error < 1e-5, "\(layer).w gradient: \(error) of its scale from the reference kernels")
        #expect(reference.contains { $0 != 0 })
    }

    /// The emulated bfloat16 kernel within `tolerance` of the float32 reference kernels but not equal
    /// to them (its operands were rounded), and the vdpbf16ps kernel equal to the emulation where the
    /// CPU has the instruction (AVX-512 tiles only: `vdpbf16ps` needs 16-lane ones).
    func expectBF16MatchesItsEmulationAndStaysNearFloat32(tolerance: Double) throws {
        let emulated = try weightGradient(kernels: .tuned, operands: .bf16Emulated)
        let float32 = try weightGradient(kernels: .reference)
        let error = relativeError(emulated, float32)
        #expect(error < tolerance && error > 1e-5, "\(layer).w gradient: \(error) of its scale from float32's reference kernels")
        guard width == .avx512 else { return }
        guard BF16Support.hasDPBF16(flags: BF16Support.hostFlags) else {
            print("skipped the vdpbf16ps build: this CPU has no \(BF16Support.avx512Flag)")
            return
        }
        #expect(try weightGradient(kernels: .tuned, operands: .bf16) == emulated, "vdpbf16ps differs from the emulation")
    }
}
