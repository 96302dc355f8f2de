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

    /// The emulated bfloat16 step lands within bfloat16's reach of PyTorch float64 (loss to 1e-3,
    /// every tensor to 5e-2 of its largest value), and measurably off our float32 step: the
    /// operands really were rounded. The float32 step sits within 1e-3 of the fixture (its own test
    /// says 1e-3), so the bounds separate the two.
    @Test func emulatedStepIsNearPyTorchAndRoundsItsOperands() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny-step", withExtension: "safetensors"))
        let fixture = try SafeTensors.read(url: url)
        let bf16 = try Self.step(Self.everyGemmBF16(.bf16Emulated))
        let float32 = try Self.step(CodegenOptions())
        let expectedLoss = try #require(fixture.tensor(named: "expected.loss")).doubles[0]
        #expect(abs(bf16.loss - expectedLoss) / abs(expectedLoss) < 1e-3, "loss \(bf16.loss) vs PyTorch float64 \(expectedLoss)")
        var largestOffFloat32 = 0.0, worstOffPyTorch = (name: "", error: 0.0)
        for (name, tensor) in bf16.tensors where tensor.dtype != .int64 {
            let expected = try #require(fixture.tensor(named: "expected." + name) ?? fixture.tensor(named: name))
            let error = relativeError(tensor.doubles, expected.doubles)
            print("BF16DEBUG \(name) bf16 \(error) f32 \(relativeError(try #require(float32.tensors[name]).doubles, expected.doubles)) scale \(expected.doubles.map(abs).max()!)")
            if error > worstOffPyTorch.error { worstOffPyTorch = (name, error) }
            largestOffFloat32 = max(largestOffFloat32, relativeError(tensor.doubles, try #require(float32.tensors[name]).doubles))
        }
        #expect(worstOffPyTorch.error < 5e-2, "\(worstOffPyTorch.name) differs from PyTorch float64 by \(worstOffPyTorch.error) (relative)")
        #expect(largestOffFloat32 > 1e-4, "the bf16 step equals the float32 one to \(largestOffFloat32): were the operands rounded?")
        print("bf16-emulated tiny step: loss \(bf16.loss) (PyTorch float64 \(expectedLoss)); worst tensor \(worstOffPyTorch.name) at \(worstOffPyTorch.error) of its scale; largest distance to float32 \(largestOffFloat32)")
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
        #expect(!float32.contains("gemm_bf16"), "a float32 build pastes no bfloat16 code")
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
    /// first precision's, the run finishes, its checkpoint holds float32 tensors, and it ends near
    /// the uninterrupted float32 run (bf16 rounding apart: 5e-2 of each tensor's scale).
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
        let expected = reference.state.exportTensors(includeGradients: false, includeMomentum: false)
        let actual = Dictionary(uniqueKeysWithValues: resumed.state.exportTensors(includeGradients: false, includeMomentum: false).map { ($0.name, $0.tensor) })
        var differs = false
        for (name, tensor) in expected where tensor.dtype != .int64 {
            let other = try #require(actual[name])
            differs = differs || other != tensor
            #expect(relativeError(other.doubles, tensor.doubles) < 5e-2, "\(name) after resuming in \(then.rawValue)")
        }
        #expect(differs, "the second epoch's precision changed nothing")
    }
}
