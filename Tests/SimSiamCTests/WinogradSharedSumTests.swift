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
    static let check = LayerWeightGradientCheck(
        layer: "deep", x: [3, 256, 6, 6], w: [256, 256, 3, 3], stride: 1, padding: 1,
        entry: .init(layer: "deep", pass: .dw, algorithm: .winograd),
        call: "conv_wino_weight", detail: ".channels = 256, .m = 256", parameterSeed: 5, inputSeed: 13)

    @Test func sharedSumsEqualTheReferenceKernels() throws {
        try Self.check.expectFloat32EqualsTheReferenceKernels()
    }

    @Test func bf16SharedSumsMatchTheirEmulationAndStayNearFloat32() throws {
        try Self.check.expectBF16MatchesItsEmulationAndStaysNearFloat32(tolerance: 5e-2)
    }
}
