import Foundation
import Testing
@testable import SimSiamC

/// One full SimSiam step on the tiny workload against the fixture that
/// `scripts/make_step_fixture.py` computed with PyTorch (float64) from the spec.
@Suite struct PyTorchFixtureTests {
    /// The reference loops, and the tuned kernels with either register tile.
    static let builds = [CodegenOptions(kernels: .reference)] + VectorWidth.allCases.map { CodegenOptions(kernels: .tuned, vectorWidth: $0) }

    @Test(arguments: builds)
    func tinyStepMatchesPyTorch(options: CodegenOptions) throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny-step", withExtension: "safetensors"))
        let fixture = try SafeTensors.read(url: url)
        let compiled = try Compiler.compile(Workload.tiny, options: options, cache: testCache)
        let state = ModelState(library: compiled.library)
        let report = try state.loadSafetensors(url: url, strict: false)
        #expect(report.missing.isEmpty, "fixture lacks \(report.missing)")
        #expect(report.mismatched.isEmpty)

        let lr = try #require(Double(fixture.metadata["lr"] ?? ""))
        let weightDecay = try #require(Double(fixture.metadata["weight_decay"] ?? ""))
        let momentum = try #require(Double(fixture.metadata["momentum"] ?? ""))
        let inputs = try ["x1", "x2"].map { try #require(fixture.tensor(named: $0)).floats }
        let loss = try state.trainStep(inputs: inputs, groupLR: [lr, lr], weightDecay: weightDecay, momentum: momentum)

        let expectedLoss = try #require(fixture.tensor(named: "expected.loss")).doubles[0]
        #expect(abs(loss - expectedLoss) / abs(expectedLoss) < 1e-5, "loss \(loss) vs PyTorch \(expectedLoss)")
        var compared = 0
        for (name, tensor) in state.exportTensors(includeGradients: true) {
            // Frozen parameters never change: the fixture stores only their input value.
            let expected = try #require(fixture.tensor(named: "expected." + name) ?? fixture.tensor(named: name),
                                        "fixture has no expected.\(name)")
            if tensor.dtype == .int64 {
                #expect(tensor.int64s == expected.int64s, "\(name): \(tensor.int64s) vs PyTorch \(expected.int64s)")
            } else {
                let error = relativeError(tensor.doubles, expected.doubles)
                #expect(error < 1e-3, "\(name) differs from PyTorch by \(error) (relative)")
            }
            compared += 1
        }
        // 31 parameters, 30 gradients, 2 running statistics and a counter for each of 10 BNs.
        #expect(compared == 31 + 30 + 30)
    }
}
