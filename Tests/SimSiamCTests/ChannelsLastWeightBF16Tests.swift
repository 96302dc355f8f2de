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
    static let check = LayerWeightGradientCheck(
        layer: "down", x: [3, 64, 9, 9], w: [16, 64, 3, 3], stride: 2, padding: 1,
        entry: .init(layer: "down", pass: .dw, algorithm: .channelsLast, imagesPerPass: 2),
        call: "conv_cl_weight_gemm", detail: ".group = 2", parameterSeed: 3, inputSeed: 17)

    @Test func float32EqualsTheReferenceKernels() throws {
        try Self.check.expectFloat32EqualsTheReferenceKernels()
    }

    @Test func bf16MatchesItsEmulationAndStaysNearFloat32() throws {
        try Self.check.expectBF16MatchesItsEmulationAndStaysNearFloat32(tolerance: 1e-2)
    }
}
