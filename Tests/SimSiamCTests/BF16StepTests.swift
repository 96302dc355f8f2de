import Foundation
import Testing
@testable import SimSiamC

/// bfloat16 builds (`--precision bf16`, `bf16-emulated`) on the tiny workload: one step against
/// PyTorch's float64 fixture and against our float32 build, and the real `vdpbf16ps` kernels bit
/// for bit against the emulation where the CPU has them.
@Suite struct BF16StepTests {
    /// Options whose plan runs every convolution pass that has a bfloat16 kernel (forward and dw)
    /// as a packed bfloat16 GEMM, so the tiny graph exercises them all; linear layers always are.
    static func everyGemmBF16(_ operands: MatmulOperands) throws -> CodegenOptions {
        var options = CodegenOptions(operands: .bf16Emulated)
        let derived = try Lowering.lower(Workload.tiny, batch: Workload.tiny.defaultBatch, options: options).plan
        options.plan = KernelPlan(convolutions: derived.convolutions.map { entry in
            entry.pass == .dx ? entry : ConvPlanEntry(layer: entry.layer, pass: entry.pass, algorithm: .packed, bf16: true)
        })
        options.operands = operands
        return options
    }

    /// One step of the fixture's parameters and views; every exported tensor by name.
    static func step(_ options: CodegenOptions) throws -> (loss: Double, tensors: [String: HostTensor]) {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny-step", withExtension: "safetensors"))
        let fixture = try SafeTensors.read(url: url)
        let compiled = try Compiler.compile(Workload.tiny, options: options, cache: testCache)
        let state = ModelState(library: compiled.library)
        _ = try state.loadSafetensors(url: url, strict: false)
        let lr = try #require(Double(fixture.metadata["lr"] ?? ""))
        let weightDecay = try #require(Double(fixture.metadata["weight_decay"] ?? ""))
        let momentum = try #require(Double(fixture.metadata["momentum"] ?? ""))
        let inputs = try ["x1", "x2"].map { try #require(fixture.tensor(named: $0)).floats }
        let loss = try state.trainStep(inputs: inputs, groupLR: [lr, lr], weightDecay: weightDecay, momentum: momentum)
        return (loss, Dictionary(uniqueKeysWithValues: state.exportTensors(includeGradients: true).map { ($0.name, $0.tensor) }))
    }

    /// The emulated bfloat16 step is as close to PyTorch float64 as PyTorch's own bf16 mixed
    /// precision (`torch.autocast`, fixture by scripts/make_bf16_step_fixture.py): every tensor
    /// within twice autocast's distance or 1e-3 of its scale, the loss within twice autocast's
    /// error or 2^-8. The tiny model's backward sums cancel heavily (autocast lands 4x its scale
    /// off on one BN bias gradient), so a fixed bound would say nothing. It is also measurably
    /// off our float32 step (1e-4 or more somewhere): the operands really were rounded.
    @Test func emulatedStepIsAsCloseToFloat64AsPyTorchAutocast() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny-step", withExtension: "safetensors"))
        let autocastURL = try #require(Bundle.module.url(forResource: "Fixtures/tiny-step-autocast-bf16", withExtension: "safetensors"))
        let fixture = try SafeTensors.read(url: url), autocast = try SafeTensors.read(url: autocastURL)
        let bf16 = try Self.step(Self.everyGemmBF16(.bf16Emulated))
        let float32 = try Self.step(CodegenOptions())
        let expectedLoss = try #require(fixture.tensor(named: "expected.loss")).doubles[0]
        let autocastLoss = try #require(autocast.tensor(named: "autocast.loss")).doubles[0]
        // A mean of 8 cosines: one number, so autocast's own error may be small by luck; the floor is
        // bfloat16's unit roundoff at 1 (2^-8), the scale of a cosine.
        #expect(abs(bf16.loss - expectedLoss) <= max(0x1p-8, 2 * abs(autocastLoss - expectedLoss)),
                "loss \(bf16.loss), autocast \(autocastLoss), float64 \(expectedLoss)")
        var largestOffFloat32 = 0.0, compared = 0, ratios: [Double] = []
        for (name, tensor) in bf16.tensors where tensor.dtype != .int64 {
            let expected = try #require(fixture.tensor(named: "expected." + name) ?? fixture.tensor(named: name)).doubles
            // The frozen projector bias never changes and is not in the autocast fixture.
            guard let theirs = autocast.tensor(named: "autocast." + name)?.doubles else { continue }
            let ours = relativeError(tensor.doubles, expected), pytorch = relativeError(theirs, expected)
            #expect(ours <= max(1e-3, 2 * pytorch), "\(name): \(ours) of its scale from float64, PyTorch autocast \(pytorch)")
            if pytorch > 1e-3 { ratios.append(ours / pytorch) }
            largestOffFloat32 = max(largestOffFloat32, relativeError(tensor.doubles, try #require(float32.tensors[name]).doubles))
            compared += 1
        }
        #expect(compared == 30 + 30 + 20, "parameters, gradients and running statistics compared: \(compared)")
        #expect(largestOffFloat32 > 1e-4, "the bf16 step equals the float32 one to \(largestOffFloat32): were the operands rounded?")
        print("bf16-emulated tiny step: loss \(bf16.loss), autocast \(autocastLoss), float64 \(expectedLoss); median distance to float64 over autocast's \(ratios.sorted()[ratios.count / 2]) (\(ratios.count) tensors)")
    }

    /// The `vdpbf16ps` build computes the emulated build's step bit for bit. Runs only on CPUs
    /// with AVX512_BF16; elsewhere it prints why it did not.
    @Test func realKernelsEqualTheEmulationBitForBit() throws {
        guard BF16Support.hasDPBF16(flags: BF16Support.hostFlags) else {
            print("skipped: this CPU has no \(BF16Support.avx512Flag) (vdpbf16ps); the emulated bf16 tests still ran")
            return
        }
        let real = try Self.step(Self.everyGemmBF16(.bf16))
        let emulated = try Self.step(Self.everyGemmBF16(.bf16Emulated))
        #expect(real.loss.bitPattern == emulated.loss.bitPattern, "loss \(real.loss) vs emulated \(emulated.loss)")
        #expect(real.tensors.keys.sorted() == emulated.tensors.keys.sorted())
        for (name, tensor) in real.tensors { #expect(tensor == emulated.tensors[name], "\(name) differs from the emulated build") }
    }

    /// The cost models' bfloat16 plan (no forced plan): the C carries the vdpbf16ps kernel or the
    /// emulation as asked and says which; on a CPU without AVX512_BF16, `bf16` is refused.
    @Test func bf16SourcesSayWhichKernelTheyRun() throws {
        let hasDPBF16 = BF16Support.hasDPBF16(flags: BF16Support.hostFlags)
        if !hasDPBF16 {
            #expect(throws: CompileError.self) { try Lowering.lower(Workload.tiny, batch: 4, options: CodegenOptions(operands: .bf16)) }
        }
        for operands in hasDPBF16 ? [MatmulOperands.bf16, .bf16Emulated] : [.bf16Emulated] {
            let lowered = try Lowering.lower(Workload.tiny, batch: 4, options: CodegenOptions(operands: operands))
            let source = lowered.generated.source
            #expect(source.contains("#define GEMM_BF16_DPBF16 \(operands == .bf16 ? 1 : 0)"))
            #expect(source.contains("gemm_bf16_column_panels("), "linear layers of a bf16 build run the bfloat16 GEMM")
            #expect(operands == .bf16Emulated || source.contains("_mm512_dpbf16_ps"))
        }
        let float32 = try Lowering.lower(Workload.tiny, batch: 4, options: CodegenOptions()).generated.source
        #expect(!float32.contains("from CRuntime/gemm_bf16.h") && !float32.contains("#define GEMM_BF16_DPBF16"),
                "a float32 build pastes no bfloat16 code")
    }
}

/// Checkpoints stay float32 whatever the precision, so a run interrupted in one precision resumes
/// in the other. In `TrainerTests` (serialized): the Ctrl-C flag these runs raise is process-wide.
extension TrainerTests {
    /// The tiny model compiled with `operands`, batch 4, as `trainer` compiles it in float32.
    func trainer(_ directory: URL, operands: MatmulOperands, onEvent: @escaping (TrainEvent) -> Void = { _ in }) throws -> Trainer {
        let compiled = try Compiler.compile(Workload.tiny, batch: 4, options: CodegenOptions(operands: operands), cache: quickTestCache)
        return Trainer(configuration: Self.configuration(), runDirectory: directory, compiled: compiled, data: Self.data, onEvent: onEvent)
    }

    /// Interrupted in epoch 2 by one precision, resumed by the other: the first epoch's loss is the
    /// first precision's, the run finishes with finite state, its checkpoint holds float32 tensors,
    /// and it ends elsewhere than the uninterrupted run in the first precision (the second epoch
    /// really ran in the other). How close: the tiny model's 2 epochs amplify bf16 rounding far
    /// past anything a bound could state; BF16StepTests judges one step.
    @Test(arguments: [(MatmulOperands.native, MatmulOperands.bf16Emulated), (.bf16Emulated, .native)])
    func runsResumeAcrossPrecisions(first: MatmulOperands, then: MatmulOperands) throws {
        let straight = temporaryDirectory(), interrupted = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: straight)
            try? FileManager.default.removeItem(at: interrupted)
        }
        let reference = try trainer(straight, operands: first)
        let referenceHistory = try reference.run(resume: false)
        let partial = try trainer(interrupted, operands: first) { event in
            if case .step(let epoch, let step, _, _, _, _, _) = event, epoch == 1, step == 4 {
                Interrupt.requested.store(true, ordering: .relaxed)  // what Ctrl-C does
            }
        }.run(resume: false)
        #expect(partial.count == 1)
        let resumed = try trainer(interrupted, operands: then)
        let history = try resumed.run(resume: true)
        #expect(history.map(\.epoch) == [0, 1])
        #expect(history.first?.loss == referenceHistory.first?.loss, "the first epoch ran in the first precision")
        let saved = try SafeTensors.read(url: resumed.checkpointURL)
        #expect(saved.tensors.allSatisfy { $0.tensor.dtype != .float64 }, "a checkpoint holds float32 (and int64) tensors")
        let expected = reference.state.exportTensors(includeGradients: false, includeMomentum: true)
        let actual = Dictionary(uniqueKeysWithValues: resumed.state.exportTensors(includeGradients: false, includeMomentum: true).map { ($0.name, $0.tensor) })
        var differs = false
        for (name, tensor) in expected where tensor.dtype != .int64 {
            let other = try #require(actual[name])
            differs = differs || other != tensor
            let finite = other.doubles.allSatisfy { $0.isFinite }
            #expect(finite, "\(name) after resuming in \(then.rawValue)")
        }
        #expect(differs, "the second epoch's precision changed nothing")
    }
}
