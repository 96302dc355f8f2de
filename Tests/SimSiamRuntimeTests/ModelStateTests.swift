import Foundation
import Testing
@testable import SimSiamRuntime

@Suite struct ModelStateTests {
    static let x: [Float] = [1, 2, 3, -1, 0.5, 2, 0, 0, 1, 4, -2, 0.25]
    static let initialW: [Double] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    static let bias: [Double] = [0.5, -0.5]

    static func state(_ variant: ToyLibraryFixture.Variant, seed: UInt64 = 0) throws -> ModelState {
        let state = ModelState(library: try ModelLibrary.load(path: ToyLibraryFixture.libraryPath(variant)))
        state.initialize(seed: seed)
        return state
    }

    /// y[n][o] = sum_k w[o][k] x[n][k] (+ b[o] when `bias`).
    static func forward(w: [Double], bias: [Double]?) -> [Double] {
        (0..<4).flatMap { n in
            (0..<2).map { o in
                (0..<3).reduce(bias?[o] ?? 0) { $0 + w[o * 3 + $1] * Double(x[n * 3 + $1]) }
            }
        }
    }

    /// 0.9 * 0 + 0.1 * mean over the batch of y[n][o].
    static func firstRunningMean(y: [Double]) -> [Double] {
        (0..<2).map { (o: Int) -> Double in
            let sum: Double = (0..<4).reduce(0.0) { $0 + y[$1 * 2 + o] }
            return 0.1 * sum / 4
        }
    }

    static func columnMeans() -> [Double] {
        let means = (0..<3).map { k in (0..<4).reduce(0.0) { $0 + Double(x[$1 * 3 + k]) } / 4 }
        return means + means
    }

    @Test func initializeFillsParamsBuffersAndCounters() throws {
        let state = try Self.state(.float32, seed: 1)
        let w = try #require(state.tensor(named: "w"))
        #expect(w.dtype == .float32)
        #expect(w.shape == [2, 3])
        #expect(zip(w.doubles, Self.initialW).allSatisfy { abs($0 - ($1 + 1)) < 1e-6 })
        #expect(state.tensor(named: "b")?.floats == [0.5, -0.5])
        #expect(state.tensor(named: "bn.running_mean")?.floats == [0, 0])
        #expect(state.tensor(named: "bn.num_batches_tracked") == HostTensor(shape: [], int64s: [0]))
        #expect(state.tensor(named: "x") == nil)
        #expect(state.tensor(named: "missing") == nil)
    }

    @Test(arguments: [ToyLibraryFixture.Variant.float32, .float64])
    func trainStepReturnsLossGradientsAndUpdates(_ variant: ToyLibraryFixture.Variant) throws {
        let state = try Self.state(variant)
        let tolerance = variant == .float32 ? 1e-5 : 1e-12
        let (lr, weightDecay) = (0.1, 0.01)
        let loss = try state.trainStep(inputs: [Self.x], groupLR: [lr], weightDecay: weightDecay, momentum: 0.9)

        let y = Self.forward(w: Self.initialW, bias: Self.bias)
        #expect(abs(loss - y.reduce(0, +) / 4) < tolerance)
        let gradient = try #require(state.gradient(named: "w"))
        #expect(gradient.dtype == (variant == .float32 ? .float32 : .float64))
        #expect(gradient.shape == [2, 3])
        #expect(zip(gradient.doubles, Self.columnMeans()).allSatisfy { abs($0 - $1) < tolerance })
        #expect(state.gradient(named: "b")?.doubles == [0, 0])
        #expect(state.gradient(named: "bn.running_mean") == nil)

        let expectedW = zip(Self.initialW, Self.columnMeans()).map { w, g in w - lr * (g + weightDecay * w) }
        let w = try #require(state.tensor(named: "w"))
        #expect(zip(w.doubles, expectedW).allSatisfy { abs($0 - $1) < tolerance })
        let runningMean = Self.firstRunningMean(y: y)
        let stateMean = try #require(state.tensor(named: "bn.running_mean")).doubles
        #expect(zip(stateMean, runningMean).allSatisfy { abs($0 - $1) < tolerance })
        #expect(state.tensor(named: "bn.num_batches_tracked")?.int64s == [1])

        _ = try state.trainStep(inputs: [Self.x], groupLR: [lr], weightDecay: weightDecay, momentum: 0.9)
        #expect(state.tensor(named: "bn.num_batches_tracked")?.int64s == [2])
    }

    @Test(arguments: [ToyLibraryFixture.Variant.float32, .float64])
    func featuresAreTheLinearMapWithoutBias(_ variant: ToyLibraryFixture.Variant) throws {
        let state = try Self.state(variant)
        let features = try state.features(batch: Self.x)
        let expected = Self.forward(w: Self.initialW, bias: nil)
        #expect(features.count == 8)
        #expect(zip(features, expected).allSatisfy { abs(Double($0) - $1) < 1e-5 })
    }

    @Test func wrongInputsAreRejectedWithNames() throws {
        let state = try Self.state(.float32)
        expectRuntimeError(containing: ["'x'", "12", "[4, 3]", "11"]) {
            _ = try state.trainStep(inputs: [Array(Self.x.dropLast())], groupLR: [0.1], weightDecay: 0, momentum: 0)
        }
        expectRuntimeError(containing: ["1 inputs", "x", "got 2"]) {
            _ = try state.trainStep(inputs: [Self.x, Self.x], groupLR: [0.1], weightDecay: 0, momentum: 0)
        }
        expectRuntimeError(containing: ["1 learning rates", "encoder", "got 2"]) {
            _ = try state.trainStep(inputs: [Self.x], groupLR: [0.1, 0.2], weightDecay: 0, momentum: 0)
        }
        expectRuntimeError(containing: ["'x'", "12", "got 3"]) { _ = try state.features(batch: [1, 2, 3]) }
        #expect(state.tensor(named: "bn.num_batches_tracked")?.int64s == [0])
    }

    @Test func setTensorRoundTripsAndConverts() throws {
        let state = try Self.state(.float32)
        try state.setTensor(named: "w", HostTensor(shape: [2, 3], doubles: [1, 2, 3, 4, 5, 6]))
        #expect(state.tensor(named: "w") == HostTensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]))
        try state.setTensor(named: "bn.num_batches_tracked", HostTensor(shape: [], int64s: [41]))
        #expect(state.tensor(named: "bn.num_batches_tracked")?.int64s == [41])
        try state.setGradient(named: "b", HostTensor(shape: [2], floats: [7, 8]))
        #expect(state.gradient(named: "b")?.floats == [7, 8])

        let doubleState = try Self.state(.float64)
        try doubleState.setTensor(named: "b", HostTensor(shape: [2], floats: [0.25, 2]))
        #expect(doubleState.tensor(named: "b") == HostTensor(shape: [2], doubles: [0.25, 2]))
    }

    @Test func setTensorRejectsBadShapesNamesAndDTypes() throws {
        let state = try Self.state(.float32)
        expectRuntimeError(containing: ["'w'", "[2, 3]", "[3, 2]"]) {
            try state.setTensor(named: "w", HostTensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6]))
        }
        expectRuntimeError(containing: ["'bn.num_batches_tracked'", "int64", "float32"]) {
            try state.setTensor(named: "bn.num_batches_tracked", HostTensor(shape: [], floats: [1]))
        }
        expectRuntimeError(containing: ["'nope'"]) { try state.setTensor(named: "nope", HostTensor(shape: [], floats: [1])) }
        expectRuntimeError(containing: ["'x'", "input"]) {
            try state.setTensor(named: "x", HostTensor(shape: [4, 3], floats: Self.x))
        }
    }

    @Test func exportsStateThenGradientsInSymbolOrder() throws {
        let state = try Self.state(.float32)
        #expect(state.exportTensors(includeGradients: false).map(\.name)
            == ["w", "b", "bn.running_mean", "bn.num_batches_tracked"])
        #expect(state.exportTensors(includeGradients: true).map(\.name)
            == ["w", "b", "bn.running_mean", "bn.num_batches_tracked", "grad.w"])
    }

    @Test func savesAndLoadsSafetensorsStrictly() throws {
        let trained = try Self.state(.float32)
        _ = try trained.trainStep(inputs: [Self.x], groupLR: [0.1], weightDecay: 0.01, momentum: 0.9)
        let url = try ToyLibraryFixture.temporaryDirectory().appendingPathComponent("model.safetensors")
        try trained.saveSafetensors(url: url, includeGradients: true, metadata: ["step": "1"])
        #expect(try SafeTensors.read(url: url).metadata == ["step": "1"])

        let restored = try Self.state(.float32, seed: 5)
        let report = try restored.loadSafetensors(url: url, strict: true)
        #expect(report.loaded == ["w", "b", "bn.running_mean", "bn.num_batches_tracked", "grad.w"])
        #expect(report.missing.isEmpty && report.unexpected.isEmpty && report.mismatched.isEmpty)
        for (name, tensor) in trained.exportTensors(includeGradients: false) {
            #expect(restored.tensor(named: name) == tensor, "\(name)")
        }
        #expect(restored.gradient(named: "w") == trained.gradient(named: "w"))

        // A double build accepts the float32 checkpoint, converting.
        let doubleState = try Self.state(.float64)
        try doubleState.loadSafetensors(url: url, strict: true)
        #expect(doubleState.tensor(named: "w")?.floats == trained.tensor(named: "w")?.floats)
    }

    @Test func strictLoadingNamesMissingUnknownAndMisshapenTensors() throws {
        let directory = try ToyLibraryFixture.temporaryDirectory()
        let state = try Self.state(.float32)
        let before = state.exportTensors(includeGradients: true).map(\.tensor)

        let partial = directory.appendingPathComponent("partial.safetensors")
        try SafeTensors.write([("w", HostTensor(shape: [2, 3], floats: [9, 9, 9, 9, 9, 9]))], to: partial)
        expectRuntimeError(containing: [partial.path, "missing", "b", "bn.running_mean", "bn.num_batches_tracked"]) {
            try state.loadSafetensors(url: partial, strict: true)
        }

        let extra = directory.appendingPathComponent("extra.safetensors")
        try SafeTensors.write(state.exportTensors(includeGradients: false) + [("head.weight", HostTensor(shape: [1], floats: [0]))], to: extra)
        expectRuntimeError(containing: [extra.path, "unexpected", "head.weight"]) {
            try state.loadSafetensors(url: extra, strict: true)
        }

        let misshapen = directory.appendingPathComponent("misshapen.safetensors")
        var tensors = state.exportTensors(includeGradients: false)
        tensors[0] = ("w", HostTensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6]))
        try SafeTensors.write(tensors, to: misshapen)
        expectRuntimeError(containing: [misshapen.path, "'w'", "[2, 3]", "[3, 2]"]) {
            try state.loadSafetensors(url: misshapen, strict: true)
        }
        #expect(state.exportTensors(includeGradients: true).map(\.tensor) == before)

        let report = try state.loadSafetensors(url: partial, strict: false)
        #expect(report.loaded == ["w"])
        #expect(report.missing == ["b", "bn.running_mean", "bn.num_batches_tracked"])
        #expect(state.tensor(named: "w")?.floats == [9, 9, 9, 9, 9, 9])
        let lenient = try state.loadSafetensors(url: misshapen, strict: false)
        #expect(lenient.mismatched.count == 1 && lenient.loaded == ["b", "bn.running_mean", "bn.num_batches_tracked"])
    }

    @Test func exposesRawArenaPointers() throws {
        let state = try Self.state(.float32)
        let params = try #require(state.pointer(to: .params))
        #expect(params.load(fromByteOffset: 6 * 4, as: Float.self) == 0.5)
        #expect(Int(bitPattern: params) % 64 == 0)
        #expect(state.byteCount(of: .params) == 32)
        #expect(state.byteCount(of: .counters) == 8)
        #expect(state.pointer(to: .inputs) == nil)
        let table = state.arenaTablePointer
        #expect(table.load(fromByteOffset: 0, as: UnsafeMutableRawPointer.self) == params)
        #expect(table.load(fromByteOffset: 32, as: UnsafeMutableRawPointer.self) == state.pointer(to: .counters))
    }
}
