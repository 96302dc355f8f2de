import Foundation

/// Times training steps of a compiled library on fixed random inputs: what `bench` reports and
/// what `tune` compares. The SGD update is part of every step, so parameters move as in training.
public final class StepTimer {
    public let library: ModelLibrary
    private let state: ModelState
    private let inputs: [[Float]]
    private let rates: [Double]
    private let weightDecay: Double

    /// Parameters from `seed` 0 and inputs from `SplitMix64(seed: 1)`, so two libraries of one graph
    /// start from the same state. The lr scales with `globalBatch` (all ranks' images; default the library's).
    public init(library: ModelLibrary, workload: Workload, globalBatch: Int? = nil) {
        self.library = library
        state = ModelState(library: library)
        state.initialize(seed: 0)
        var generator = SplitMix64(seed: 1)
        inputs = library.inputs.map { symbol in (0..<symbol.numel).map { _ in generator.nextGaussian() } }
        rates = Array(repeating: workload.baseLR * Double(globalBatch ?? library.batch) / 256, count: library.groupNames.count)
        weightDecay = workload.weightDecay
    }

    /// Runs one step and returns its wall time in seconds.
    public func step() throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try state.trainStep(inputs: inputs, groupLR: rates, weightDecay: weightDecay, momentum: 0.9)
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Runs `count` steps and returns their times.
    public func steps(_ count: Int) throws -> [Double] {
        try (0..<count).map { _ in try step() }
    }
}

extension SplitMix64 {
    /// Approximately standard normal (a sum of four uniforms): plenty for timing inputs.
    public mutating func nextGaussian() -> Float {
        var sum = 0.0
        for _ in 0..<4 { sum += nextUnit() }
        return Float((sum - 2) * 1.7320508)
    }
}

/// The median of a non-empty list.
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
