import Foundation
import Testing
@testable import SimSiamC

/// Memory-bound kernels that differ only in their sizes are one C body; each
/// layer keeps a one-line wrapper of its own name (profiles and verify name it).
@Suite struct SharedKernelTests {
    /// `static void NAME(PARAMETERS) {` ... `}` at column 0: every multi-line function.
    static func functions(_ source: String) -> [(name: String, parameters: String, body: String)] {
        source.matches(of: /\nstatic void (\w+)\(([^)]*)\) \{\n((?:.*\n)*?)\}\n/).map {
            (String($0.1), String($0.2), String($0.3))
        }
    }

    static let sources: [GeneratedC] = try! ReferenceSources.all()

    @Test func w1HasOneAccumulateGradBodyCalledByEveryParameter() throws {
        let w1 = try #require(Self.sources.first { $0.baseName == "fmnist_resnet_mini" }).source
        #expect(w1.components(separatedBy: "static void accumulate_grad(").count - 1 == 1)
        let wrappers = w1.matches(of: /\nstatic inline void (accumulate_grad__\w+)\([^)]*\) \{ (\w+)\((\d+), g, grad\); \}\n/)
        #expect(wrappers.count > 30)
        #expect(wrappers.allSatisfy { $0.2 == "accumulate_grad" })
        #expect(w1.contains("static inline void accumulate_grad__predictor_3_bias(const float* restrict g, float* restrict grad) "
                            + "{ accumulate_grad(512, g, grad); }"))
        #expect(!w1.contains("static void accumulate_grad__"))
    }

    /// Compute-bound kernels (convolutions and linear layers, with their GEMM
    /// packing and stores) stay per layer: their tiles are sized for each shape.
    @Test func noTwoMemoryBoundFunctionsHaveTheSameBody() {
        for generated in Self.sources {
            var seen: [String: String] = [:]
            for function in Self.functions(generated.source) where !function.name.hasPrefix("conv2d_") && !function.name.hasPrefix("linear_") {
                let key = function.parameters + "\n" + function.body.replacingOccurrences(of: function.name, with: "$")
                #expect(seen[key] == nil, "\(generated.baseName): \(function.name) repeats \(seen[key] ?? "")")
                seen[key] = function.name
            }
        }
    }

    /// Every wrapper calls a shared body defined above it, with the sizes first.
    @Test func wrappersCallSharedBodiesDefinedBeforeThem() {
        for generated in Self.sources {
            let source = generated.source
            let wrappers = source.matches(of: /\nstatic inline void (\w+__\w+)\([^)]*\) \{ (\w+)\(/)
            #expect(wrappers.count > 50)
            for wrapper in wrappers {
                let definition = source.range(of: "\nstatic void \(wrapper.2)(")
                #expect(definition != nil && definition!.lowerBound < wrapper.range.lowerBound,
                        "\(generated.baseName): \(wrapper.1) calls \(wrapper.2), not defined before it")
            }
        }
    }
}
