import Foundation
import Testing
@testable import SimSiamC

/// `compile --out DIR`, `--library DIR` and `verify` on the tiny workload: the
/// directory loads back, edits that break the ABI are refused with a message
/// naming what changed, harmless edits verify and an off-by-one is caught and
/// named by its kernel and tensor. Serialized: `verify` hooks the trace of the generated
/// library, which every test here loads from the same cached file (one `dlopen` handle), and a
/// second test's hook replaced or removed the first's mid-step (a CI run lost the eval-mode
/// features' trace point that way).
@Suite(.serialized) struct TuningDirectoryTests {
    /// One directory per test process for the original and its copies, removed when the process exits.
    static let root: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-tuning-tests-\(getpid())")
        try! FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: TuningDirectoryTests.root) }
        return root
    }()

    /// The tiny workload's tuning directory, written once per test process; tests edit copies.
    static let original: URL = {
        let directory = root.appendingPathComponent(UUID().uuidString)
        let options = CodegenOptions(tuningHooks: true)
        let compiled = try! Compiler.compile(Workload.tiny, batch: 4, options: options, cache: quickTestCache)
        try! TuningDirectory.write(compiled, model: try! LoadedModel.builtIn("tiny"), variant: .standard, to: directory, cache: quickTestCache)
        return directory
    }()

    /// A fresh copy of the original directory with `edit` applied to its C.
    func copy(editing edit: (String) throws -> String = { $0 }) throws -> TuningDirectory {
        let directory = Self.root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.copyItem(at: Self.original, to: directory)
        let tuning = try TuningDirectory.open(library: directory.path)
        let source = try tuning.readSource()
        try Data(try edit(source).utf8).write(to: tuning.sourceURL)
        return tuning
    }

    /// `source` with the first `old` inside function `kernel` replaced by `new`.
    func editKernel(_ kernel: String, in source: String, replacing old: String, with new: String) throws -> String {
        let start = try #require(source.range(of: "static void \(kernel)("), "no kernel \(kernel)")
        let end = try #require(source.range(of: "\n}\n", range: start.upperBound..<source.endIndex))
        let target = try #require(source.range(of: old, range: start.upperBound..<end.lowerBound), "\(kernel) has no \(old)")
        return source.replacingCharacters(in: target, with: new)
    }

    func error(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "no error"
    }

    // MARK: The directory

    @Test func compiledDirectoryHoldsTheBuildLineAndManifest() throws {
        let tuning = try TuningDirectory.open(library: Self.original.path)
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.original.path).sorted()
        #expect(names == ["build.sh", "graph.json", "manifest.json", "plan.json", "tiny.c", "tiny.h", "tiny.so"])
        // plan.json is the plan the C follows; the manifest records no --plan.
        let plan = try PlanFile.read(Self.original.appendingPathComponent("plan.json").path)
        let lowered = try Lowering.lower(Workload.tiny, batch: 4, options: CodegenOptions(tuningHooks: true))
        #expect(plan == lowered.plan && !plan.convolutions.isEmpty)
        #expect(tuning.manifest.plan == nil)
        // graph.json is the traced graph, which --graph compiles without the DSL.
        let graph = try GraphFile.load(Self.original.appendingPathComponent("graph.json").path)
        #expect(try graph.workload.trace(batch: 4) == (try Workload.tiny.trace(batch: 4)))
        #expect(tuning.manifest.workload == "tiny" && tuning.manifest.batch == 4 && tuning.manifest.variant == .standard)
        #expect(tuning.manifest.graphHash == SHA256.hexDigest(of: try tuning.readSource()))
        let script = try String(contentsOf: Self.original.appendingPathComponent("build.sh"), encoding: .utf8)
        #expect(script.contains(quickTestCache.command(source: "tiny.c", output: "tiny.so.tmp").joined(separator: " ")))
    }

    @Test func uneditedDirectoryLoadsBackAndComputesWhatThePlainBuildDoes() throws {
        let program = try Compiler.loadEdited(try copy(), cache: quickTestCache)
        #expect(!program.isEdited)
        #expect(program.edited.library.symbols == program.generated.library.symbols)
        let plain = try Compiler.compile(Workload.tiny, batch: 4, cache: quickTestCache)
        #expect(!plain.lowered.generated.source.contains("TRACE_TENSOR"))
        let states = [ModelState(library: plain.library), ModelState(library: program.edited.library)]
        var random = TestRandom(seed: 3)
        let inputs = plain.library.inputs.map { random.array($0.numel).map(Float.init) }
        let losses = try states.map { state in
            state.initialize(seed: 5)
            return try state.trainStep(inputs: inputs, groupLR: [0.05, 0.05], weightDecay: 5e-4, momentum: 0.9)
        }
        #expect(losses[0] == losses[1])
        for (a, b) in zip(states[0].exportTensors(includeGradients: true), states[1].exportTensors(includeGradients: true)) {
            #expect(a.tensor == b.tensor, "\(a.name) differs between the plain build and the tuning directory's C")
        }
        let profiled = try Compiler.loadEdited(try copy(), instrumentation: .profile, cache: quickTestCache)
        #expect(profiled.edited.library.isProfiling && !program.edited.library.isProfiling)
    }

    // MARK: Refusals

    @Test func symbolShapeEditIsRefusedNamingTheSymbol() throws {
        let tuning = try copy { source in
            let row = "{\"backbone.bn1.weight\", SIMSIAM_ARENA_PARAMS, SIMSIAM_KIND_TRAINABLE, 0, 48, 4, 1, {4, 0, 0, 0}}"
            #expect(source.contains(row))
            return source.replacingOccurrences(of: row, with: row.replacingOccurrences(of: "{4, 0, 0, 0}", with: "{3, 0, 0, 0}")
                .replacingOccurrences(of: "48, 4, 1", with: "48, 3, 1"))
        }
        let message = error { _ = try Compiler.loadEdited(tuning, cache: quickTestCache) }
        #expect(message.hasPrefix(tuning.sourceURL.path + ": symbol 1 is 'backbone.bn1.weight'"), "\(message)")
        #expect(message.contains("shape [3]) in the edited C but") && message.contains("shape [4]) in the graph's"))
        #expect(message.contains("restore the symbol table"))
    }

    @Test func abiVersionEditIsRefused() throws {
        let tuning = try copy {
            $0.replacingOccurrences(of: "int64_t simsiam_abi_version(void) { return SIMSIAM_ABI_VERSION; }",
                                    with: "int64_t simsiam_abi_version(void) { return 7; }")
        }
        let message = error { _ = try Compiler.loadEdited(tuning, cache: quickTestCache) }
        #expect(message.contains("simsiam_abi_version() returns 7, but the graph's C and this runtime use ABI version 2"), "\(message)")
    }

    @Test func flagsForAnotherGraphAreRefused() throws {
        let tuning = try copy()
        let message = error {
            _ = try Compiler.loadEdited(tuning, expecting: TuningExpectation(workload: "W1", batch: 8), cache: quickTestCache)
        }
        #expect(message.contains("--workload W1 but the C is for tiny; --batch 8 but the C is written for batch 4"), "\(message)")
    }

    @Test func compileErrorNamesTheUsersFile() throws {
        let tuning = try copy {
            try editKernel("global_avg_pool_fwd__backbone_avgpool", in: $0, replacing: "sum += x[", with: "sum += undeclared_x[")
        }
        let message = error { _ = try Compiler.loadEdited(tuning, cache: quickTestCache) }
        let line = try tuning.readSource().split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("undeclared_x") }! + 1
        #expect(message.contains("\(tuning.sourceURL.path):\(line):"), "\(message)")
        #expect(message.contains("error: use of undeclared identifier 'undeclared_x'"))
    }

    // MARK: verify

    @Test func harmlessEditsVerify() throws {
        // Swapped loops in the shared body of BN kernels (every layer that calls it), a
        // reversed sum in the pooling kernel and a comment.
        let tuning = try copy { source in
            #expect(source.contains("static inline void batch_norm_train_relu_fwd__backbone_bn1(")
                    && source.contains("{ batch_norm_train_relu_fwd_given_moments(4, 4, 64, x, gamma,"))
            var edited = try editKernel("batch_norm_train_relu_fwd_given_moments", in: source,
                                        replacing: "for (int64_t n = 0; n < N; n++) {\n      for (int64_t i = 0; i < HW; i++) {",
                                        with: "for (int64_t i = 0; i < HW; i++) {\n      for (int64_t n = 0; n < N; n++) {")
            edited = try editKernel("global_avg_pool_fwd__backbone_avgpool", in: edited,
                                    replacing: "for (int64_t i = 0; i < 16; i++)", with: "/* reversed */ for (int64_t i = 15; i >= 0; i--)")
            return edited
        }
        let verification = try KernelVerifier.verify(tuning, cache: quickTestCache)
        #expect(verification.program.isEdited)
        #expect(verification.passed, "\(verification.report(all: false))")
        #expect(verification.results.count > 300 && verification.skippedPoints.isEmpty)
    }

    @Test func offByOneFailsNamingTheKernelAndTensor() throws {
        let tuning = try copy {
            try editKernel("global_avg_pool_fwd__backbone_avgpool", in: $0, replacing: "i < 16;", with: "i < 15;")
        }
        let verification = try KernelVerifier.verify(tuning, cache: quickTestCache)
        #expect(!verification.passed)
        #expect(verification.failingKernels == ["global_avg_pool_fwd__backbone_avgpool"])
        #expect(verification.failures.allSatisfy { $0.point.tensor.hasSuffix(" y [4,8]") })
        let report = verification.report(all: false)
        #expect(report.contains("FAIL  global_avg_pool_fwd__backbone_avgpool  %"), "\(report)")
        // Both views' pooled features and the eval-mode features' pooling.
        #expect(report.contains("FAILED: 3 tensors of 1 kernels depart"), "\(report)")
    }

    @Test func uneditedCVerifiesBitForBit() throws {
        let verification = try KernelVerifier.verify(try copy(), cache: quickTestCache)
        #expect(verification.passed)
        #expect(verification.results.allSatisfy { $0.difference == 0 })
        // Every tensor has a float64 rounding scale, so no tolerance is zero by accident.
        #expect(verification.results.filter { $0.scale > 0 }.allSatisfy { $0.allowed > 0 })
        // Every weight gradient is checked on values, not zeros: the zero-init residual's gamma 0
        // leaves each block's branch without a gradient unless verify varies it.
        let weightGradients = verification.results.filter { $0.point.kernel.hasPrefix("conv2d_bwd_weight__") }
        #expect(weightGradients.count >= 10 && weightGradients.allSatisfy { $0.scale > 0 },
                "\(weightGradients.filter { $0.scale == 0 }.map(\.point.kernel))")
    }

    /// An image dropped from the weight gradient of a residual branch's last convolution, whose
    /// gradient the zero-init residual makes zero at init: it must fail all the same.
    @Test func anEditInAResidualBranchsBackwardFails() throws {
        let tuning = try copy {
            try editKernel("conv2d_bwd_weight__backbone_layer1_0_conv2", in: $0, replacing: ".images = 4,", with: ".images = 3,")
        }
        let verification = try KernelVerifier.verify(tuning, cache: quickTestCache)
        #expect(!verification.passed)
        #expect(verification.failingKernels == ["conv2d_bwd_weight__backbone_layer1_0_conv2"], "\(verification.report(all: false))")
    }
}
