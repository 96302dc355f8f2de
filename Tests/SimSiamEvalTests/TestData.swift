import Foundation
@testable import SimSiamEval

/// SplitMix64: a tiny seeded generator so every test sees the same data on every run.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }

    /// Standard normal by Box-Muller.
    mutating func gaussian() -> Double {
        let u = 1 - uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * uniform())
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// `count` rows around `centers[label]` with isotropic Gaussian noise of standard deviation
/// `spread`; labels cycle through the classes so every class is present.
func gaussianClusters(
    centers: [[Double]], count: Int, spread: Double, random: inout SeededRandom
) -> FeatureSet {
    let dim = centers[0].count
    var features: [Float] = []
    var labels: [Int] = []
    for row in 0..<count {
        let label = row % centers.count
        labels.append(label)
        for d in 0..<dim { features.append(Float(centers[label][d] + spread * random.gaussian())) }
    }
    return FeatureSet(features: features, labels: labels, dim: dim)
}

/// The unit vector along axis `axis` of a `dim`-dimensional space, times `length`.
func axisVector(_ axis: Int, dim: Int, length: Double) -> [Double] {
    (0..<dim).map { $0 == axis ? length : 0 }
}
