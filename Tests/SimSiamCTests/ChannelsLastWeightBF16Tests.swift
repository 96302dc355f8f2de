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
    /// The same layer with AVX2 tiles: in float32 the tile is 6 output channels tall
    /// (`CONV_CL_WEIGHT_MR`), so 16 outputs end in a partial row panel; bfloat16 keeps GEMM_MR's 4.
    static let avx2Check = { var check = Self.check; check.width = .avx2; return check }()

    @Test func float32EqualsTheReferenceKernels() throws {
        try Self.check.expectFloat32EqualsTheReferenceKernels()
    }

    @Test func bf16MatchesItsEmulationAndStaysNearFloat32() throws {
        try Self.check.expectBF16MatchesItsEmulationAndStaysNearFloat32(tolerance: 1e-2)
    }

    @Test func avx2TilesInFloat32EqualTheReferenceKernels() throws {
        try Self.avx2Check.expectFloat32EqualsTheReferenceKernels()
    }

    @Test func avx2TilesInEmulatedBF16StayNearFloat32() throws {
        try Self.avx2Check.expectBF16MatchesItsEmulationAndStaysNearFloat32(tolerance: 1e-2)
    }
}
