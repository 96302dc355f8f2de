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

    static let check = LayerWeightGradientCheck(
        graph: deepLayer, layer: "deep", entry: .init(layer: "deep", pass: .dw, algorithm: .winograd),
        call: "conv_wino_weight", detail: ".channels = 256, .m = 256", parameterSeed: 5, inputSeed: 13)

    @Test func sharedSumsEqualTheReferenceKernels() throws {
        try Self.check.expectFloat32EqualsTheReferenceKernels()
    }

    @Test func bf16SharedSumsMatchTheirEmulationAndStayNearFloat32() throws {
        try Self.check.expectBF16MatchesItsEmulationAndStaysNearFloat32(tolerance: 5e-2)
    }
}
