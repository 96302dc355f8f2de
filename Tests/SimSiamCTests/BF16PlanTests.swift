import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamCodegen

/// The kernel plan's bfloat16 dimension (`ConvPlanEntry.bf16`), on the plan gallery.
extension KernelPlanTests {
    static let bf16Options = CodegenOptions(kernels: .tuned, vectorWidth: .avx512, operands: .bf16Emulated)

    /// In a bfloat16 build every entry says whether its pass runs in bfloat16: exactly those with a
    /// bfloat16 kernel (packed, Winograd, channels-last where it pays); float32 builds write no such field, so
    /// their plan.json is unchanged.
    @Test func bf16BuildsMarkEveryEntryAndFloat32BuildsNone() throws {
        let plan = try lower(nil, options: Self.bf16Options).plan
        #expect(Set(plan.convolutions.map(\.pass)) == Set(ConvPass.allCases), "every pass planned")
        for entry in plan.convolutions {
            // channels-last passes may stay float32 where their copy outweighs the GEMM (channelsLastBF16Pays)
            let expected = KernelEmitter.hasBF16Kernel(entry.algorithm, pass: entry.pass)
            #expect(entry.bf16 == expected || (entry.algorithm == .channelsLast && entry.bf16 == false),
                    "\(entry.layer) \(entry.pass.rawValue): \(entry.algorithm.rawValue), bf16 \(String(describing: entry.bf16))")
        }
        #expect(plan.convolutions.contains { $0.bf16 == true } && plan.convolutions.contains { $0.bf16 == false })
        let float32 = try lower(nil, options: CodegenOptions(vectorWidth: .avx512)).plan
        #expect(float32.convolutions.allSatisfy { $0.bf16 == nil })
        #expect(!String(decoding: try float32.encoded(), as: UTF8.self).contains("bf16"))
    }

    /// A forced bfloat16 pass runs the bfloat16 GEMM; `"bf16": false` keeps a packed pass float32.
    @Test func planEntriesChooseTheArithmeticPerPass() throws {
        let plan = KernelPlan(convolutions: [.init(layer: "wide", pass: .forward, algorithm: .packed, bf16: true),
                                             .init(layer: "strided", pass: .forward, algorithm: .packed, bf16: false)])
        let lowered = try lower(plan, options: Self.bf16Options)
        let wide = try Self.kernel("wide", .forward, in: lowered.generated.source)
        let strided = try Self.kernel("strided", .forward, in: lowered.generated.source)
        #expect(wide.contains("gemm_bf16_column_panels("))
        #expect(strided.contains("gemm_column_panels(") && !strided.contains("gemm_bf16"))
        #expect(lowered.plan.entry(layer: "strided", pass: .forward)?.bf16 == false)
    }

    /// Channels-last passes without a `bf16` entry run bfloat16 where the copy is spread over
    /// enough FMAs (`channelsLastBF16Pays`): "strided" (3x3/2, 24 -> 16 channels: 41 FMAs per
    /// source value) does, "pointwise" (1x1/2, 16 -> 8: 2.9) stays float32 unless forced.
    @Test func channelsLastRunsBF16WhereItsCopyIsSpreadOverEnoughFMAs() throws {
        let derived = try lower(KernelPlan(convolutions: [.init(layer: "strided", pass: .forward, algorithm: .channelsLast),
                                                          .init(layer: "pointwise", pass: .forward, algorithm: .channelsLast)]),
                                options: Self.bf16Options)
        #expect(derived.plan.entry(layer: "strided", pass: .forward)?.bf16 == true)
        #expect(derived.plan.entry(layer: "pointwise", pass: .forward)?.bf16 == false)
        #expect(try Self.kernel("pointwise", .forward, in: derived.generated.source).contains("conv_cl_gemm(&plan"))
        let forced = try lower(KernelPlan(convolutions: [.init(layer: "pointwise", pass: .forward, algorithm: .channelsLast, bf16: true)]),
                               options: Self.bf16Options)
        #expect(try Self.kernel("pointwise", .forward, in: forced.generated.source).contains("conv_cl_gemm_bf16(&plan"))
    }

    /// A bfloat16 entry on an algorithm without a bfloat16 kernel for its pass (in place), or in a
    /// float32 build, is an error naming the layer and pass and what to do.
    @Test func bf16EntriesThatCannotApplyAreErrors() throws {
        let inPlace = planError([.init(layer: "wide", pass: .forward, algorithm: .inPlace, bf16: true)], options: Self.bf16Options)
        #expect(inPlace.contains("plan entry {\"layer\": \"wide\", \"pass\": \"forward\"}") && inPlace.contains("in-place has no bfloat16 forward kernel"), "\(inPlace)")
        let inPlaceDw = planError([.init(layer: "wide", pass: .dw, algorithm: .inPlace, bf16: true)], options: Self.bf16Options)
        #expect(inPlaceDw.contains("\"pass\": \"dw\"") && inPlaceDw.contains("in-place has no bfloat16 dw kernel"), "\(inPlaceDw)")
        let inPlaceDx = planError([.init(layer: "strided", pass: .dx, algorithm: .inPlace, bf16: true)], options: Self.bf16Options)
        #expect(inPlaceDx.contains("in-place has no bfloat16 dx kernel"), "\(inPlaceDx)")
        // channels-last has one for every pass (conv_cl_gemm_bf16, conv_cl_weight_gemm_bf16)
        #expect(planError([.init(layer: "strided", pass: .forward, algorithm: .channelsLast, bf16: true),
                           .init(layer: "strided", pass: .dx, algorithm: .channelsLast, bf16: true),
                           .init(layer: "wide", pass: .dw, algorithm: .channelsLast, bf16: true)], options: Self.bf16Options) == "no error")
        let float32 = planError([.init(layer: "wide", pass: .forward, algorithm: .packed, bf16: true)], options: CodegenOptions(vectorWidth: .avx512))
        #expect(float32.contains("--precision bf16"), "\(float32)")
        #expect(planError([.init(layer: "wide", pass: .forward, algorithm: .packed, bf16: true)], options: Self.bf16Options) == "no error")
    }

    /// W2's layer4 weight gradients at its benchmark batch of 128 run Winograd with one shared du
    /// in bfloat16 as in float32 (`winogradWeightFits`: 39.6-53.0 ms per layer and step against
    /// 52.7-62.2 packed, alternating bf16 builds on an AMD EPYC Zen 4); the stride-2 conv1 stays packed.
    @Test func sharedSumWinogradWeightGradientsRunBF16() throws {
        let lowered = try Lowering.lower(.cifarResNet18, batch: 128, options: Self.bf16Options)
        let plan = KernelPlanner.derived(training: lowered.training, features: lowered.features, options: lowered.options)
        for layer in ["layer4.0.conv2", "layer4.1.conv1", "layer4.1.conv2"] {
            let entry = plan.entry(layer: "backbone." + layer, pass: .dw)
            #expect(entry?.algorithm == .winograd && entry?.bf16 == true, "\(layer) dw: \(String(describing: entry))")
        }
        #expect(plan.algorithm(layer: "backbone.layer4.0.conv1", pass: .dw) == .packed)
    }

    /// The gallery's "wide" layer (32 channels) with its Winograd passes in bfloat16 (the tiny
    /// workload is too narrow for Winograd): F(2x2) all three, F(4x4) the dx and dw (its forward
    /// runs float32). The vdpbf16ps build equals the emulated one bit for bit where the CPU has the
    /// instruction, and the bfloat16 gradients stay within bfloat16's reach of the float32 ones
    /// (5e-2 of each gradient's scale: a Winograd layer and a cosine) while differing from them
    /// (the operands were rounded).
    @Test(arguments: [ConvAlgorithm.winograd, .winograd4x4])
    func winogradBF16MatchesItsEmulationAndStaysNearFloat32(_ algorithm: ConvAlgorithm) throws {
        let forwardBF16 = KernelEmitter.hasBF16Kernel(algorithm, pass: .forward)
        #expect(forwardBF16 == (algorithm == .winograd))
        let plan = KernelPlan(convolutions: [.init(layer: "wide", pass: .forward, algorithm: algorithm, bf16: forwardBF16),
                                             .init(layer: "wide", pass: .dx, algorithm: algorithm, bf16: true),
                                             .init(layer: "wide", pass: .dw, algorithm: algorithm, bf16: true)])
        let call = algorithm == .winograd4x4 ? "conv_wino4" : "conv_wino"
        func gradients(_ operands: MatmulOperands) throws -> [String: HostTensor] {
            try Self.galleryGradients(operands, plan: plan) { source throws in
                #expect(try Self.kernel("wide", .forward, in: source).contains("\(call)\(forwardBF16 ? "_bf16" : "")(&plan"))
                #expect(try Self.kernel("wide", .dx, in: source).contains("\(call)_bf16(&plan"))
                #expect(try Self.kernel("wide", .dw, in: source).contains("\(call)_weight_bf16(&plan"))
            }
        }
        let emulated = try gradients(.bf16Emulated), float32 = try gradients(.native)
        var differs = false
        for (name, tensor) in emulated {
            let reference = try #require(float32[name]).doubles
            let error = relativeError(tensor.doubles, reference)
            #expect(error < 5e-2, "\(algorithm.rawValue): gradient of \(name): \(error) of its scale from float32")
            differs = differs || (name.hasPrefix("wide") && error > 1e-5)
        }
        #expect(differs, "the bf16 \(algorithm.rawValue) layer's gradients equal float32's: were its operands rounded?")
        guard BF16Support.hasDPBF16(flags: BF16Support.hostFlags) else {
            print("skipped the vdpbf16ps Winograd build: this CPU has no \(BF16Support.avx512Flag)")
            return
        }
        let real = try gradients(.bf16)
        for (name, tensor) in real { #expect(tensor == emulated[name], "gradient of \(name) differs from the emulated build") }
    }

    /// The gallery's stride-2 layers run channels-last in bfloat16, forward and dx ("strided": 3x3,
    /// 24 channels; "pointwise": 1x1, 16 channels): the vdpbf16ps build equals the emulated one bit
    /// for bit where the CPU has the instruction, and the gradients stay within bfloat16's reach of
    /// the float32 ones while differing from them.
    @Test func channelsLastBF16MatchesItsEmulationAndStaysNearFloat32() throws {
        let plan = KernelPlan(convolutions: ["strided", "pointwise"].flatMap { layer in
            [ConvPlanEntry(layer: layer, pass: .forward, algorithm: .channelsLast, bf16: true),
             ConvPlanEntry(layer: layer, pass: .dx, algorithm: .channelsLast, bf16: true)]
        })
        func gradients(_ operands: MatmulOperands) throws -> [String: HostTensor] {
            try Self.galleryGradients(operands, plan: plan) { source throws in
                for layer in ["strided", "pointwise"] {
                    for pass in [ConvPass.forward, .dx] {
                        let kernel = try Self.kernel(layer, pass, in: source)
                        #expect(kernel.contains("conv_cl_gemm_bf16(&plan") && kernel.contains("bfloat16 operands"), "\(layer) \(pass.rawValue):\n\(kernel)")
                    }
                }
            }
        }
        let emulated = try gradients(.bf16Emulated), float32 = try gradients(.native)
        var differs: Set<String> = []
        for (name, tensor) in emulated {
            let reference = try #require(float32[name]).doubles
            let error = relativeError(tensor.doubles, reference)
            #expect(error < 5e-2, "gradient of \(name): \(error) of its scale from float32")
            // x's gradient comes from the bf16 dx, w's from the float32 dw of the bf16 forward's output
            if error > 1e-5 { differs.insert(name) }
        }
        for name in ["strided.x", "strided.w", "pointwise.x", "pointwise.w"] {
            #expect(differs.contains(name), "the gradient of \(name) equals float32's: were the channels-last operands rounded?")
        }
        guard BF16Support.hasDPBF16(flags: BF16Support.hostFlags) else {
            print("skipped the vdpbf16ps channels-last build: this CPU has no \(BF16Support.avx512Flag)")
            return
        }
        let real = try gradients(.bf16)
        for (name, tensor) in real { #expect(tensor == emulated[name], "gradient of \(name) differs from the emulated build") }
    }

    /// The gradients of the plan gallery's parameters after one step on fixed inputs, built with
    /// `operands` (and `plan` where they are bfloat16, after `checkSource` has read its C).
    static func galleryGradients(_ operands: MatmulOperands, plan: KernelPlan,
                                 checkSource: (String) throws -> Void) throws -> [String: HostTensor] {
        var options = CodegenOptions(kernels: .tuned, vectorWidth: .avx512, operands: operands)
        options.plan = operands.isBF16 ? plan : nil
        let lowered = try Lowering.lower(forward: try planGallery(), features: nil, options: options)
        if operands.isBF16 { try checkSource(lowered.generated.source) }
        let state = try steppedState(lowered, parameterSeed: 7, inputSeed: 11)
        return Dictionary(uniqueKeysWithValues: state.library.symbols.filter { $0.kind == .trainable }.map {
            ($0.name, state.gradient(named: $0.name)!)
        })
    }
}
