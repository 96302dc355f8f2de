import Testing
import SimSiamIR
import SimSiamDSL
import SimSiamPasses
@testable import SimSiamCodegen

@Suite struct EmitterTests {
    func emit(_ precision: Precision = .float32) throws -> GeneratedC {
        let (training, _) = try Autodiff.differentiate(try Workload.tiny.makeModel().trainingGraph(name: "tiny", batch: 4))
        let features = try Workload.tiny.makeModel().featureGraph(name: "tiny-features", batch: 4)
        return ProgramEmitter(training: training, features: features, options: CodegenOptions(precision: precision)).emit(baseName: "tiny")
    }

    @Test func kernelsAreNamedAfterOpAndLayerWithShapesAndOrigin() throws {
        let source = try emit().source
        #expect(source.contains("static void conv2d_fwd__backbone_layer2_0_conv1("))
        #expect(source.contains("static void conv2d_bwd_weight__backbone_layer2_0_conv1("))
        #expect(source.contains("static inline void batch_norm_train_fwd__projector_1("))
        #expect(source.contains("static inline void batch_norm_eval_fwd__backbone_bn1("))
        #expect(source.contains("x [4,4,8,8] * w [8,4,3,3] -> y [4,8,4,4]; stride 2, padding 1"))
        #expect(source.contains("DSL SimSiamDSL/ResNet.swift:"))
    }

    @Test func bothViewsShareOneKernelPerLayer() throws {
        let source = try emit().source
        let definitions = source.components(separatedBy: "static void conv2d_fwd__backbone_conv1(").count - 1
        let calls = source.components(separatedBy: "  conv2d_fwd__backbone_conv1(").count - 1
        #expect(definitions == 1)
        #expect(calls == 3)  // view 1, view 2, feature graph
    }

    @Test func emissionIsDeterministic() throws {
        #expect(try emit().source == emit().source)
    }

    @Test func parallelLoopsUseStaticSchedulesOnly() throws {
        let source = try emit().source
        #expect(source.contains("#pragma omp parallel for"))
        #expect(!source.contains("schedule(dynamic)"))
        #expect(!source.contains("atomic"))
        #expect(!source.contains("reduction("))
    }

    @Test func vectorWidthComesFromTheCPUFlags() {
        #expect(VectorWidth.forCPU(flags: "fpu sse avx2 fma avx512f avx512dq") == .avx512)
        #expect(VectorWidth.forCPU(flags: "fpu sse avx2 fma") == .avx2)
        #expect(VectorWidth.forCPU(flags: "") == .avx2)
        #expect(RegisterTile(precision: .float32, width: .avx2).columns == 16)
        #expect(RegisterTile(precision: .float64, width: .avx512).columns == 16)
    }

    @Test func doublePrecisionUsesDoubleThroughout() throws {
        let generated = try emit(.float64)
        #expect(generated.source.contains("static void conv2d_fwd__backbone_conv1(const double* restrict x"))
        #expect(!generated.source.contains("float"))
        #expect(generated.header.contains("double* params"))
    }

    @Test func callsNameStateTensorsInsteadOfOffsets() throws {
        let source = try emit().source
        #expect(source.contains("#define P_backbone_conv1_weight (params + 0)  /* [4,1,3,3] backbone.conv1.weight */"))
        #expect(source.contains("#define G_backbone_conv1_weight (grads + 0)\n"))
        #expect(source.contains("#define B_backbone_bn1_running_mean (buffers + 0)  /* [4] backbone.bn1.running_mean */"))
        #expect(source.contains("#define NBT_backbone_bn1_num_batches_tracked (counters + 0)"))
        #expect(source.contains("  conv2d_fwd__backbone_conv1(input_x1, P_backbone_conv1_weight, v3_backbone_conv1);"))
        #expect(source.contains(", B_backbone_bn1_running_mean, B_backbone_bn1_running_var, NBT_backbone_bn1_num_batches_tracked);"))
        #expect(source.contains("  accumulate_grad__backbone_conv1_weight(d"))
        // The entry points' calls no longer spell state offsets (the initializer and symbol table still do).
        let entryPoints = source.components(separatedBy: "/* ===== Training step ===== */").last ?? ""
        let calls = entryPoints.components(separatedBy: "/* ===== Symbol table").first ?? ""
        #expect(!calls.contains("params + ") && !calls.contains("grads + ") && !calls.contains("buffers + "))
    }

    @Test func symbolTableListsEveryStateTensor() throws {
        let source = try emit().source
        #expect(source.contains("{\"projector.6.bias\", SIMSIAM_ARENA_PARAMS, SIMSIAM_KIND_FROZEN, -1,"))
        #expect(source.contains("{\"backbone.bn1.num_batches_tracked\", SIMSIAM_ARENA_COUNTERS, SIMSIAM_KIND_NUM_BATCHES_TRACKED"))
        #expect(source.contains("{\"x2\", SIMSIAM_ARENA_INPUTS, SIMSIAM_KIND_INPUT, -1, 1, 256, 4, {4, 1, 8, 8}},"))
    }
}
