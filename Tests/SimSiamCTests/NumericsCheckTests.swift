import Foundation
import Testing
@testable import SimSiamC

/// A check-numerics build of the tiny workload: it names the first kernel and
/// tensor that holds a NaN or infinity, stops the step before the update, and
/// otherwise computes exactly what the plain build computes.
@Suite struct NumericsCheckTests {
    static let checked = CodegenOptions(checkNumerics: true)

    func compile(checked: Bool) throws -> CompiledModel {
        try Compiler.compile(Workload.tiny, batch: 4, options: checked ? Self.checked : CodegenOptions(), cache: quickTestCache)
    }

    func inputs(_ library: ModelLibrary, seed: UInt64) -> [[Float]] {
        var random = TestRandom(seed: seed)
        return library.inputs.map { random.array($0.numel).map(Float.init) }
    }

    func step(_ state: ModelState, _ inputs: [[Float]]) throws -> Double {
        try state.trainStep(inputs: inputs, groupLR: Array(repeating: 0.05, count: state.library.groupNames.count),
                            weightDecay: 5e-4, momentum: 0.9)
    }

    func setElement(_ state: ModelState, _ name: String, _ index: Int, to value: Double) throws {
        var values = state.tensor(named: name)!.doubles
        values[index] = value
        try state.setTensor(named: name, HostTensor(shape: state.library.symbol(named: name)!.shape, doubles: values))
    }

    // MARK: The check-numerics build

    @Test func checksChangeNoNumber() throws {
        let plain = ModelState(library: try compile(checked: false).library)
        let checked = ModelState(library: try compile(checked: true).library)
        #expect(!plain.library.checksNumerics)
        #expect(checked.library.checksNumerics && checked.library.numericsCheckCount > 100)
        plain.initialize(seed: 7)
        checked.initialize(seed: 7)
        let batch = inputs(plain.library, seed: 1)
        #expect(try step(plain, batch) == step(checked, batch))
        let expected = plain.exportTensors(includeGradients: true, includeMomentum: true)
        let actual = checked.exportTensors(includeGradients: true, includeMomentum: true)
        for (a, b) in zip(expected, actual) { #expect(a.tensor == b.tensor, "\(a.name) differs with checks on") }
    }

    @Test func infinityInAWeightStopsAtTheFirstKernelThatReadsIt() throws {
        let state = ModelState(library: try compile(checked: true).library)
        state.initialize(seed: 7)
        try setElement(state, "backbone.layer1.0.conv2.weight", 5, to: .infinity)
        // BN layers ahead of the failing kernel did update their running statistics and counters.
        func isTrainedState(_ name: String) -> Bool { !name.contains("running") && !name.hasSuffix("num_batches_tracked") }
        let before = state.exportTensors(includeGradients: false, includeMomentum: true).filter { isTrainedState($0.name) }
        let failure = try #require(throws: NonFiniteValue.self) { try step(state, inputs(state.library, seed: 1)) }
        // View 1's forward convolution reads the weight first; the layers before it are finite.
        #expect(failure.kernel == "conv2d_fwd__backbone_layer1_0_conv2")
        #expect(failure.origin.hasPrefix("layer backbone.layer1.0.conv2, DSL SimSiamDSL/ResNet.swift:"))
        #expect(failure.tensor.hasSuffix(" y [4,4,8,8]"))
        #expect(!failure.value.isFinite && failure.element >= 0 && failure.element < 4 * 4 * 8 * 8)
        #expect(failure.description.hasPrefix("non-finite value in %"))
        #expect(failure.description.contains("written by conv2d_fwd__backbone_layer1_0_conv2 (layer backbone.layer1.0.conv2, DSL "))
        // The step stopped before the update: parameters and momentum are untouched.
        let after = state.exportTensors(includeGradients: false, includeMomentum: true).filter { isTrainedState($0.name) }
        for (a, b) in zip(before, after) where a.name != "backbone.layer1.0.conv2.weight" {
            #expect(a.tensor == b.tensor, "\(a.name) changed in a step that failed its checks")
        }
        // The report belongs to the last call: a clean step clears it.
        try setElement(state, "backbone.layer1.0.conv2.weight", 5, to: 0.1)
        #expect(try step(state, inputs(state.library, seed: 1)).isFinite)
    }

    @Test func nonFiniteInputIsNamedWithItsFirstElement() throws {
        let state = ModelState(library: try compile(checked: true).library)
        state.initialize(seed: 7)
        var batch = inputs(state.library, seed: 1)
        batch[1][37] = .nan
        batch[1][40] = .infinity
        let failure = try #require(throws: NonFiniteValue.self) { try step(state, batch) }
        #expect(failure.kernel == "the caller" && failure.origin == "input of simsiam_train_step")
        #expect(failure.tensor == "x2 [4,1,8,8]" && failure.element == 37 && failure.value.isNaN)
        var images = inputs(state.library, seed: 2)[0]
        images[3] = -.infinity
        let features = try #require(throws: NonFiniteValue.self) { try state.features(batch: images) }
        #expect(features.tensor == "x [4,1,8,8]" && features.element == 3 && features.value == -.infinity)
    }
}
