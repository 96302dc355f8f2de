import Foundation
import Testing
@testable import SimSiamC

/// Removing the stop-gradient must change the encoder's gradients and the
/// number of backward ops, and leave the predictor's gradients alone.
@Suite struct StopGradientTests {
    @Test func removingStopGradientChangesEncoderGradientsAndOpCount() throws {
        let cut = try Compiler.compile(Workload.tiny, variant: .standard, cache: quickTestCache)
        let uncut = try Compiler.compile(Workload.tiny, variant: SimSiamVariant(stopGradient: false), cache: quickTestCache)
        #expect(uncut.lowered.autodiff.backwardOps > cut.lowered.autodiff.backwardOps)
        #expect(cut.lowered.autodiff.prunedByStopGradient == uncut.lowered.autodiff.backwardOps - cut.lowered.autodiff.backwardOps)

        var random = TestRandom(seed: 9)
        let inputs = cut.library.inputs.map { random.array($0.numel, -2, 2).map(Float.init) }
        func gradients(_ compiled: CompiledModel) throws -> [String: [Double]] {
            let state = ModelState(library: compiled.library)
            state.initialize(seed: 4)
            var bnRandom = TestRandom(seed: 8)
            try state.randomizeBatchNormAffine(&bnRandom)
            _ = try state.lossAndGradients(inputs)
            return Dictionary(uniqueKeysWithValues: compiled.library.symbols.filter { $0.kind == .trainable }
                .map { ($0.name, state.gradient(named: $0.name)!.doubles) })
        }
        let withCut = try gradients(cut), withoutCut = try gradients(uncut)
        for name in withCut.keys.sorted() {
            let error = relativeError(withCut[name]!, withoutCut[name]!)
            if name.hasPrefix("predictor.") {
                #expect(error < 1e-5, "\(name): the predictor's gradient should not depend on the cut")
            } else {
                #expect(error > 1e-3, "\(name): the encoder's gradient should change without the cut")
            }
        }
    }
}
