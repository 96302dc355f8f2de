import Foundation
import Testing
@testable import SimSiamC

/// The model descriptions in examples/: each compiles and steps, and W1 written
/// as a description is the built-in W1.
@Suite(.serialized) struct ExamplesTests {
    static func example(_ name: String) -> String { packageRoot.appendingPathComponent("examples/\(name)").path }

    @Test func w1AsADescriptionIsTheBuiltInW1BitForBit() throws {
        let described = try ModelDescription.load(Self.example("w1.swift")).workload
        #expect(described.name == Workload.fmnistResNetMini.name && described.defaultBatch == 256 && described.baseLR == 0.06)
        let (mine, builtIn) = (try described.trace(batch: 8), try Workload.fmnistResNetMini.trace(batch: 8))
        // Equal down to the DSL lines the nodes cite: W1's layers are the DSL's ResNet and Heads.
        #expect(mine == builtIn)
        // One step from the same initialisation and views: every tensor equal bit for bit.
        var outputs: [[(name: String, tensor: HostTensor)]] = []
        for workload in [described, Workload.fmnistResNetMini] {
            let compiled = try Compiler.compile(workload, batch: 8, cache: quickTestCache)
            let state = ModelState(library: compiled.library)
            state.initialize(seed: 5)
            var random = TestRandom(seed: 6)
            let inputs = compiled.library.inputs.map { random.array($0.numel).map(Float.init) }
            let rates = Array(repeating: 0.05, count: compiled.library.groupNames.count)
            let loss = try state.trainStep(inputs: inputs, groupLR: rates, weightDecay: 5e-4, momentum: 0.9)
            outputs.append([("loss", HostTensor(shape: [], floats: [Float(loss)]))] + state.exportTensors(includeGradients: true))
        }
        #expect(outputs[0].map(\.name) == outputs[1].map(\.name) && outputs[0].count > 100)
        for (a, b) in zip(outputs[0], outputs[1]) {
            #expect(a.tensor.doubles.map(\.bitPattern) == b.tensor.doubles.map(\.bitPattern), "\(a.name) differs")
        }
    }

    @Test(arguments: ["resnet50.swift", "custom-layer.swift"])
    func exampleCompilesAndSteps(file: String) throws {
        let loaded = try ModelDescription.load(Self.example(file))
        let compiled = try Compiler.compile(loaded.workload, batch: 2, cache: quickTestCache)
        let state = ModelState(library: compiled.library)
        state.initialize(seed: 1)
        var random = TestRandom(seed: 2)
        let inputs = compiled.library.inputs.map { random.array($0.numel).map(Float.init) }
        let rates = Array(repeating: 0.01, count: compiled.library.groupNames.count)
        let before = try #require(state.tensor(named: "backbone.conv1.weight")).doubles
        let loss = try state.trainStep(inputs: inputs, groupLR: rates, weightDecay: 1e-4, momentum: 0.9)
        #expect(loss.isFinite && loss > -1.0001 && loss < 1.0001, "\(file): loss \(loss)")
        #expect(try #require(state.tensor(named: "backbone.conv1.weight")).doubles != before, "\(file): the step changed nothing")
    }
}
