import Testing

@testable import SimSiamCodegen

/// Which CPUs and options a bfloat16 build accepts, decided from the CPU's flags.
@Suite struct BF16SupportTests {
    static let zen4 = "fpu avx2 avx512f avx512bw avx512_bf16 avx512_vnni"
    static let avx2Only = "fpu sse4_2 avx avx2 fma"

    @Test func realKernelsNeedAVX512BF16AndSayWhatElseToDo() throws {
        let options = CodegenOptions(vectorWidth: .avx512, operands: .bf16)
        #expect(BF16Support.problem(options, flags: Self.zen4) == nil)
        let refusal = try #require(BF16Support.problem(options, flags: Self.avx2Only))
        #expect(refusal.contains("AVX512_BF16") && refusal.contains("bf16-emulated"), "\(refusal)")
        let avx2Tiles = try #require(BF16Support.problem(CodegenOptions(vectorWidth: .avx2, operands: .bf16), flags: Self.zen4))
        #expect(avx2Tiles.contains("--vector-width avx2"), "\(avx2Tiles)")
    }

    @Test func theEmulationRunsAnywhereButNotOnReferenceKernels() {
        #expect(BF16Support.problem(CodegenOptions(vectorWidth: .avx2, operands: .bf16Emulated), flags: Self.avx2Only) == nil)
        #expect(BF16Support.problem(CodegenOptions(kernels: .reference, operands: .bf16Emulated), flags: Self.zen4)?.contains("--kernels reference") == true)
        #expect(BF16Support.problem(CodegenOptions(), flags: "") == nil, "float32 builds need nothing")
    }

    @Test func precisionNamesRoundTrip() {
        for precision in TrainingPrecision.allCases {
            #expect(TrainingPrecision(scalar: precision.scalar, operands: precision.operands) == precision)
            #expect(CodegenOptions(precision: precision.scalar, operands: precision.operands).trainingPrecision == precision)
        }
        #expect(CodegenOptions(operands: .bf16).fileSuffix == "_bf16")
        #expect(CodegenOptions(operands: .bf16Emulated).fileSuffix == "_bf16emu")
        #expect(CodegenOptions().fileSuffix == "")
    }
}
