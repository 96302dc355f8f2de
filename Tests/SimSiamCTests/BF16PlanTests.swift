import Foundation
import Testing
@testable import SimSiamC

/// The kernel plan's bfloat16 dimension (`ConvPlanEntry.bf16`), on the plan gallery.
extension KernelPlanTests {
    static let bf16Options = CodegenOptions(kernels: .tuned, vectorWidth: .avx512, operands: .bf16Emulated)

    /// In a bfloat16 build every entry says whether its pass runs in bfloat16: exactly the packed
    /// ones (the only algorithm with a bfloat16 kernel); float32 builds write no such field, so
    /// their plan.json is unchanged.
    @Test func bf16BuildsMarkEveryEntryAndFloat32BuildsNone() throws {
        let graph = try Self.planGallery()
        let plan = KernelPlanner.plan(training: graph, features: nil, options: Self.bf16Options)
        #expect(!plan.convolutions.isEmpty)
        for entry in plan.convolutions {
            #expect(entry.bf16 == (entry.algorithm == .packed), "\(entry.layer) \(entry.pass.rawValue): \(entry.algorithm.rawValue), bf16 \(String(describing: entry.bf16))")
        }
        let float32 = KernelPlanner.plan(training: graph, features: nil, options: CodegenOptions(vectorWidth: .avx512))
        #expect(float32.convolutions.allSatisfy { $0.bf16 == nil })
        #expect(!String(decoding: try float32.encoded(), as: UTF8.self).contains("bf16"))
    }

    /// A forced bfloat16 pass runs the bfloat16 GEMM; `"bf16": false` keeps a packed pass float32.
    @Test func planEntriesChooseTheArithmeticPerPass() throws {
        let graph = try Self.planGallery()
        var options = Self.bf16Options
        options.plan = KernelPlan(convolutions: [.init(layer: "wide", pass: .forward, algorithm: .packed, bf16: true),
                                                 .init(layer: "strided", pass: .forward, algorithm: .packed, bf16: false)])
        try KernelPlanner.validate(options.plan!, training: graph, features: nil, options: options)
        let source = ProgramEmitter(training: graph, features: nil, options: options).emit(baseName: "gallery").source
        func body(_ layer: String) -> String {
            let start = source.range(of: "static void conv2d_fwd__\(layer)(")!
            let rest = source[start.lowerBound...]
            return String(rest[..<rest.range(of: "\n}\n")!.lowerBound])
        }
        #expect(body("wide").contains("gemm_bf16_column_panels("))
        #expect(body("strided").contains("gemm_column_panels(") && !body("strided").contains("gemm_bf16"))
    }

    /// A bfloat16 entry on an algorithm without a bfloat16 kernel, or in a float32 build, is an
    /// error naming the layer and pass and what to do.
    @Test func bf16EntriesThatCannotApplyAreErrors() throws {
        let graph = try Self.planGallery()
        let winograd = KernelPlan(convolutions: [.init(layer: "wide", pass: .forward, algorithm: .winograd, bf16: true)])
        let noKernel = #expect(throws: KernelPlanError.self) {
            try KernelPlanner.validate(winograd, training: graph, features: nil, options: Self.bf16Options)
        }
        #expect(noKernel?.description.contains("\"layer\": \"wide\"") == true && noKernel?.description.contains("no bfloat16 kernel") == true,
                "\(String(describing: noKernel))")
        let packed = KernelPlan(convolutions: [.init(layer: "wide", pass: .forward, algorithm: .packed, bf16: true)])
        let float32 = #expect(throws: KernelPlanError.self) {
            try KernelPlanner.validate(packed, training: graph, features: nil, options: CodegenOptions(vectorWidth: .avx512))
        }
        #expect(float32?.description.contains("--precision bf16") == true, "\(String(describing: float32))")
    }
}
