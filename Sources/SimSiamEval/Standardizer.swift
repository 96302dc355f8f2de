/// Per-feature affine map `(x - mean) / std` fitted on one feature set and applied to others,
/// so the probe sees test features on the train set's scale.
struct Standardizer {
    let mean: [Float]
    /// `1 / std`, or 1 for a constant feature: centring already zeroes it, and dividing by
    /// zero would turn it into NaN.
    let inverseStd: [Float]

    /// Fits population mean and standard deviation per column of `set`, in two passes so
    /// features with a large offset keep their variance.
    init(fitting set: FeatureSet) {
        let dim = set.dim
        let n = Double(max(set.count, 1))
        var sum = [Double](repeating: 0, count: dim)
        var squaredDeviations = [Double](repeating: 0, count: dim)
        set.features.withUnsafeBufferPointer { rows in
            for row in 0..<set.count {
                for d in 0..<dim { sum[d] += Double(rows[row * dim + d]) }
            }
            for row in 0..<set.count {
                for d in 0..<dim {
                    let deviation = Double(rows[row * dim + d]) - sum[d] / n
                    squaredDeviations[d] += deviation * deviation
                }
            }
        }
        mean = sum.map { Float($0 / n) }
        inverseStd = zip(sum, squaredDeviations).map { sum, squaredDeviations in
            let std = (squaredDeviations / n).squareRoot()
            return std > 1e-12 * max(1, abs(sum / n)) ? Float(1 / std) : 1
        }
    }

    /// The row-major features of `set` after standardisation.
    func apply(to set: FeatureSet) -> [Float] {
        precondition(set.dim == mean.count, "feature dim \(set.dim) != fitted dim \(mean.count)")
        var result = set.features
        let dim = set.dim
        result.withUnsafeMutableBufferPointer { values in
            for row in 0..<set.count {
                for d in 0..<dim {
                    values[row * dim + d] = (values[row * dim + d] - mean[d]) * inverseStd[d]
                }
            }
        }
        return result
    }
}
