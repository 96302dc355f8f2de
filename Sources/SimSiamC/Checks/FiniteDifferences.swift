/// How a finite-difference check probes each trainable tensor.
///
/// A probe is one directional derivative of the loss, measured by central
/// differences (two training steps) and compared with the same component of
/// the analytic gradient. Element probes look at single entries, evenly
/// spread over the tensor; direction probes move the whole tensor along a
/// random unit vector, so they reach every element: a wrong gradient in a
/// corner of a large tensor shows up there, where a few sampled elements
/// may miss it.
public struct GradientProbes: Sendable, Hashable {
    /// Single elements probed per tensor (all of them when the tensor is smaller).
    public var elementsPerTensor: Int
    /// Random unit directions probed per tensor.
    public var directionsPerTensor: Int
    /// The finite-difference step h: the loss is evaluated at x ± h·d.
    public var step: Double
    /// Seed of the random directions.
    public var directionSeed: UInt64

    public init(elementsPerTensor: Int = 8, directionsPerTensor: Int = 4, step: Double = 1e-6, directionSeed: UInt64 = 13) {
        self.elementsPerTensor = elementsPerTensor
        self.directionsPerTensor = directionsPerTensor
        self.step = step
        self.directionSeed = directionSeed
    }

    /// Probes of a tensor with `count` elements.
    public func probes(count: Int) -> Int { min(count, elementsPerTensor) + directionsPerTensor }
}

/// One trainable tensor's gradient against finite differences.
public struct TensorGradientError: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    /// Directional derivatives compared.
    public let probes: Int
    /// max |finite difference - analytic| over the probes, relative to
    /// max(`scale`, `floor`).
    public let error: Double
    /// max |analytic| over the probes.
    public let scale: Double
    /// The smallest scale an error is taken relative to (0 for none): a
    /// fraction of the model's largest gradient element.
    public let floor: Double
    /// Probes that first came out above the tolerance and were measured
    /// again one-sided, away from a ReLU kink, and if need be with steps of
    /// h/10 and h/100 (`FiniteDifferences.check`).
    public let remeasured: Int
}

/// Central finite differences of the loss against the gradients a training
/// step computes, for every trainable tensor of a loaded model.
public enum FiniteDifferences {
    /// max|a - b| / max(max|b|, floor): the relative error the gradient
    /// tolerances are stated in. All probes of a tensor share one scale, since
    /// each is one component of the same gradient in some basis; max|a - b|
    /// when the scale is zero.
    public static func relativeError(_ a: [Double], _ b: [Double], floor: Double = 0) -> Double {
        precondition(a.count == b.count, "sizes differ: \(a.count) vs \(b.count)")
        let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        let scale = max(b.map(abs).max() ?? 0, floor)
        return scale == 0 ? difference : difference / scale
    }

    /// Compares every trainable tensor's gradient (one step on `inputs`) with
    /// central finite differences of the loss, probing as `probes` says.
    /// Leaves every parameter as it found it; BN running statistics move.
    ///
    /// With a `tolerance`, a probe above it is measured again one-sided before
    /// it counts (`oneSidedDerivative`): ReLU makes the loss piecewise smooth,
    /// and a probe whose [-h, h] holds a kink measures an average of two
    /// slopes. In a whole model at batch 4 a few hundred thousand ReLU inputs
    /// make that happen to about one probe in 300 (W1), with errors up to 6e-3.
    /// - Parameter floor: errors are relative to at least this fraction of the
    ///   largest gradient element of the model. Finite differences resolve a
    ///   gradient only down to their rounding noise, and some tensors have
    ///   none at all (a bias right before a batch norm): without a floor their
    ///   error would be noise divided by about 1e-17.
    /// - Parameter progress: called after each tensor with its result, its
    ///   index and the number of tensors (a check of a large model takes minutes).
    /// - Throws: what a training step throws.
    public static func check(_ state: ModelState, inputs: [[Float]], probes: GradientProbes = GradientProbes(), tolerance: Double? = nil,
                             floor: Double = 0,
                             progress: (TensorGradientError, _ index: Int, _ total: Int) -> Void = { _, _, _ in }) throws
        -> [TensorGradientError]
    {
        let baseLoss = try state.lossAndGradients(inputs)
        let trainable = state.library.symbols.filter { $0.kind == .trainable }
        // Read all gradients first: every probe's step overwrites GRADS.
        var analytic: [String: [Double]] = [:]
        for symbol in trainable {
            analytic[symbol.name] = state.gradient(named: symbol.name)!.doubles
        }
        let largest = analytic.values.lazy.flatMap { $0 }.reduce(0) { max($0, abs($1)) }
        let floorScale = floor * largest
        var random = XorShiftRandom(seed: probes.directionSeed)
        var results: [TensorGradientError] = []
        for (position, symbol) in trainable.enumerated() {
            let original = state.tensor(named: symbol.name)!.doubles
            let gradient = analytic[symbol.name]!
            let h = probes.step
            func loss(at t: Double, along direction: [(index: Int, weight: Double)]) throws -> Double {
                var values = original
                for (index, weight) in direction { values[index] += t * weight }
                try state.setTensor(named: symbol.name, HostTensor(shape: symbol.shape, doubles: values))
                defer { try? state.setTensor(named: symbol.name, HostTensor(shape: symbol.shape, doubles: original)) }
                return try state.lossAndGradients(inputs)
            }
            var directions: [[(index: Int, weight: Double)]] = []
            let elements = min(original.count, probes.elementsPerTensor)
            for probe in 0..<elements {
                directions.append([(probe * original.count / elements, 1)])  // evenly spread, first element included
            }
            for _ in 0..<probes.directionsPerTensor {
                let raw = random.array(original.count)
                let norm = raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
                directions.append(raw.enumerated().map { (index: $0.offset, weight: $0.element / norm) })
            }
            let expected = directions.map { direction in direction.reduce(0) { $0 + gradient[$1.index] * $1.weight } }
            let ends = try directions.map { direction in (plus: try loss(at: h, along: direction), minus: try loss(at: -h, along: direction)) }
            var numeric = ends.map { ($0.plus - $0.minus) / (2 * h) }
            var remeasured = 0
            if let tolerance {
                let scale = max(expected.map(abs).max() ?? 0, floorScale)
                func passes(_ probe: Int) -> Bool { abs(numeric[probe] - expected[probe]) <= tolerance * scale }
                for probe in numeric.indices where !passes(probe) {
                    let direction = directions[probe]
                    numeric[probe] = try oneSidedDerivative(step: h, at: (minus: ends[probe].minus, zero: baseLoss, plus: ends[probe].plus)) {
                        try loss(at: $0, along: direction)
                    }
                    remeasured += 1
                    // Two kinks in [-h, h] (a ReLU and a max-pool window whose maximum changes hands,
                    // say) defeat the one-sided difference; smaller steps leave them outside. A wrong
                    // gradient is wrong at every step, so the closest of these measurements still shows it.
                    for smaller in [h / 10, h / 100] where !passes(probe) {
                        let central = (try loss(at: smaller, along: direction) - (try loss(at: -smaller, along: direction))) / (2 * smaller)
                        if abs(central - expected[probe]) < abs(numeric[probe] - expected[probe]) { numeric[probe] = central }
                    }
                }
            }
            let result = TensorGradientError(name: symbol.name, shape: symbol.shape, probes: numeric.count,
                                             error: relativeError(numeric, expected, floor: floorScale),
                                             scale: expected.map(abs).max() ?? 0, floor: floorScale, remeasured: remeasured)
            results.append(result)
            progress(result, position, trainable.count)
        }
        return results
    }

    /// The derivative at 0 of a function with at most one kink in [-h, h],
    /// from the side without it: second-order one-sided differences over
    /// 0, h/2, h on each side, the side whose second difference is smaller
    /// (a kink there bends it by the slope change times the distance; a smooth
    /// side bends by h²/4 f''). A wrong gradient stays wrong this way: both
    /// sides are then honest derivatives that disagree with it. `known` holds
    /// f(-h), f(0) and f(h), so the cost is two more evaluations (at ±h/2),
    /// and about eight times the rounding noise of the central difference.
    static func oneSidedDerivative(step h: Double, at known: (minus: Double, zero: Double, plus: Double),
                                   _ f: (Double) throws -> Double) throws -> Double {
        let (halfRight, halfLeft) = (try f(h / 2), try f(-h / 2))
        let f0 = known.zero
        let bendRight = abs(known.plus - 2 * halfRight + f0), bendLeft = abs(known.minus - 2 * halfLeft + f0)
        return bendLeft <= bendRight ? (3 * f0 - 4 * halfLeft + known.minus) / h : (-3 * f0 + 4 * halfRight - known.plus) / h
    }
}
