import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamCodegen
@testable import SimSiamDSL

/// Winograd F(4x4, 3x3) (`winograd-4x4`, `conv_wino4` in the generated C): forced on every pass of
/// a layer, its gradients equal F(2x2, 3x3)'s in float64 and pass finite differences; in float32
/// its weight gradients stay within 1e-5 of the reference kernels, with a private du per thread and
/// with the shared one; and only float32 builds choose it, on maps of 2x2 of its tiles or more.
@Suite(.serialized) struct Winograd4x4Tests {
    /// "wide" (32 -> 32 channels, 6x6 maps: 2x2 tiles of 4x4, two thirds of them padding) and
    /// "narrow" (16 channels) of the plan gallery, every pass F(4x4, 3x3).
    static let plan = KernelPlan(convolutions: [ConvPass.forward, .dx, .dw].flatMap { pass in
        ["wide", "narrow"].map { ConvPlanEntry(layer: $0, pass: pass, algorithm: .winograd4x4) }
    })

    @Test func float64GradientsEqualF2x2AndFiniteDifferences() throws {
        let derived = try KernelPlanTests().lower(nil)
        let forced = try KernelPlanTests().lower(Self.plan)
        for entry in Self.plan.convolutions {
            let body = try KernelPlanTests.kernel(entry.layer, entry.pass, in: forced.generated.source)
            #expect(body.contains(entry.pass == .dw ? "conv_wino4_weight(&plan" : "conv_wino4(&plan"), "\(entry.layer) \(entry.pass):\n\(body.prefix(400))")
        }
        #expect(derived.plan.algorithm(layer: "wide", pass: .forward) == .winograd, "float64 builds keep F(2x2, 3x3)")
        #expect(!derived.generated.source.contains("conv_wino4"), "a program without F(4x4, 3x3) passes pastes its runtime")

        try KernelPlanTests.expectForcedGradientsMatch(derived: derived, forced: forced, what: "F(4x4, 3x3)'s kernels")
    }

    /// 32 x 32 channels: 36 x 32 x 32 values of du, one per thread.
    static let privateSum = LayerWeightGradientCheck(
        layer: "f4", x: [3, 32, 10, 10], w: [32, 32, 3, 3], stride: 1, padding: 1,
        entry: .init(layer: "f4", pass: .dw, algorithm: .winograd4x4),
        call: "conv_wino4_weight", detail: ".tiles_h = 3, .tiles_w = 3", parameterSeed: 3, inputSeed: 9)

    /// 96 x 96 channels: 36 x 96 x 96 values (over 256K), one du the threads share by rows.
    static let sharedSum = LayerWeightGradientCheck(
        layer: "f4shared", x: [3, 96, 8, 8], w: [96, 96, 3, 3], stride: 1, padding: 1,
        entry: .init(layer: "f4shared", pass: .dw, algorithm: .winograd4x4),
        call: "conv_wino4_weight", detail: ".channels = 96, .m = 96", parameterSeed: 5, inputSeed: 13)

    @Test func float32WeightGradientsEqualTheReferenceKernels() throws {
        #expect(!ConvWinograd.sumsShared(outputs: 32, channels: 32, transform: .f4x4))
        #expect(ConvWinograd.sumsShared(outputs: 96, channels: 96, transform: .f4x4))
        try Self.privateSum.expectFloat32EqualsTheReferenceKernels()
        try Self.sharedSum.expectFloat32EqualsTheReferenceKernels()
    }

    /// The cost models' transform on W1 and W2 (float32, AVX-512): F(4x4) on the dx and dw of maps
    /// of 7x7 and up and on the forwards that sum 32 channels (W1's layer1), F(2x2) on wider
    /// forwards, on W2's 4x4 maps, and on the 128 x 128 dws whose du only F(4x4) would share;
    /// float64 F(2x2) throughout. bfloat16 builds choose the float32 transforms, and run every one
    /// in bfloat16 but F(4x4)'s forwards, which stay float32 (`hasBF16Kernel`).
    @Test func theCostModelsChooseF4x4ForFloat32BackwardPassesOfLargerMaps() throws {
        let expected: [(Workload, Int, String, ConvPass, ConvAlgorithm)] = [
            (.fmnistResNetMini, 256, "layer1.0.conv1", .forward, .winograd4x4),
            (.fmnistResNetMini, 256, "layer1.0.conv2", .forward, .winograd4x4),
            (.fmnistResNetMini, 256, "layer2.0.conv2", .forward, .winograd),
            (.fmnistResNetMini, 256, "layer3.0.conv2", .forward, .winograd),
            (.fmnistResNetMini, 256, "layer1.0.conv1", .dx, .winograd4x4),
            (.fmnistResNetMini, 256, "layer1.0.conv1", .dw, .winograd4x4),
            (.fmnistResNetMini, 256, "layer3.0.conv2", .dx, .winograd4x4),
            (.fmnistResNetMini, 256, "layer3.0.conv2", .dw, .winograd),
            (.cifarResNet18, 128, "layer1.1.conv2", .forward, .winograd),
            (.cifarResNet18, 128, "layer1.1.conv2", .dw, .winograd4x4),
            (.cifarResNet18, 128, "layer2.0.conv2", .dx, .winograd4x4),
            (.cifarResNet18, 128, "layer2.0.conv2", .dw, .winograd),
            (.cifarResNet18, 128, "layer3.1.conv1", .dw, .winograd4x4),
            (.cifarResNet18, 128, "layer4.0.conv2", .dx, .winograd),
            (.cifarResNet18, 128, "layer4.0.conv2", .dw, .winograd),
        ]
        for (precision, operands) in [(Precision.float32, MatmulOperands.native), (.float64, .native), (.float32, .bf16Emulated)] {
            var options = ReferenceSources.options
            options.precision = precision
            options.operands = operands
            var plans: [String: KernelPlan] = [:]
            for (workload, batch, layer, pass, algorithm) in expected {
                let key = "\(workload.name)@\(batch)"
                if plans[key] == nil {
                    let lowered = try Lowering.lower(workload, batch: batch, options: options)
                    plans[key] = KernelPlanner.derived(training: lowered.training, features: lowered.features, options: lowered.options)
                }
                let entry = plans[key]!.entry(layer: "backbone." + layer, pass: pass)
                let wanted = precision == .float32 ? algorithm : .winograd
                let build = "\(precision) \(operands) \(key) \(layer) \(pass.rawValue)"
                #expect(entry?.algorithm == wanted, "\(build): \(entry?.algorithm.rawValue ?? "not planned"), expected \(wanted.rawValue)")
                if operands.isBF16 {
                    #expect(entry?.bf16 == (algorithm != .winograd4x4 || pass != .forward), "\(build): bf16 \(String(describing: entry?.bf16))")
                }
            }
        }
    }

    /// `tune` times F(4x4, 3x3) where the cost models may choose it: on W1's forwards of 32 channels
    /// (layer1), not on those of 64 and 128, and on its Winograd dx.
    @Test func tuneTimesF4x4OnForwardsOf32ChannelsOnly() throws {
        let lowered = try Lowering.lower(.fmnistResNetMini, batch: 256, options: ReferenceSources.options)
        let choices = KernelPlanner.choices(training: lowered.training, features: nil, options: lowered.options)
        func timesF4(_ layer: String, _ pass: ConvPass) -> Bool? {
            choices.first { $0.derived.layer == "backbone." + layer && $0.derived.pass == pass }?.algorithms.contains(.winograd4x4)
        }
        #expect(timesF4("layer1.0.conv2", .forward) == true)
        #expect(timesF4("layer2.0.conv2", .forward) == false)
        #expect(timesF4("layer3.0.conv2", .forward) == false)
        #expect(timesF4("layer3.0.conv2", .dx) == true)
    }

    /// A plan may run F(4x4)'s dx and dw in bfloat16, not its forward (`hasBF16Kernel`).
    @Test func bf16ForwardsCannotRunF4x4() {
        var options = KernelPlanTests.options
        options.precision = .float32
        options.operands = .bf16Emulated
        let error = KernelPlanTests().planError([.init(layer: "wide", pass: .forward, algorithm: .winograd4x4, bf16: true)], options: options)
        #expect(error.contains("winograd-4x4 has no bfloat16 forward kernel"), "\(error)")
        #expect(KernelPlanTests().planError([.init(layer: "wide", pass: .dx, algorithm: .winograd4x4, bf16: true),
                                             .init(layer: "wide", pass: .dw, algorithm: .winograd4x4, bf16: true)], options: options) == "no error")
    }
}
