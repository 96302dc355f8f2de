/// Detects representation collapse in SimSiam (paper, figure 2).
///
/// If the outputs `z` collapse to a constant vector, the spread of the l2-normalised `z`
/// across a batch drops to 0; when they are spread like an isotropic Gaussian each channel
/// of `z / |z|` has standard deviation about `1 / sqrt(dim)`.
public enum CollapseMonitor {
    /// Mean over channels of the per-channel standard deviation of the l2-normalised rows.
    ///
    /// Uses the unbiased (n - 1) standard deviation, matching `z.std(dim=0)` in PyTorch as the
    /// SimSiam code calls it. Rows are normalised like `F.normalize` (norm clamped at 1e-12).
    ///
    /// - Parameters:
    ///   - z: row-major `[count, dim]` batch of projector (or predictor) outputs.
    /// - Returns: the statistic, or NaN when `count < 2`, where the unbiased std is undefined
    ///   (as in PyTorch).
    public static func std(of z: [Float], count: Int, dim: Int) -> Double {
        precondition(dim > 0 && count >= 0 && z.count == count * dim,
                     "z holds \(z.count) values, expected \(count) x \(dim)")
        guard count >= 2 else { return .nan }
        let centred = centredNormalizedRows(z, count: count, dim: dim)
        var squaredDeviations = [Double](repeating: 0, count: dim)
        for row in 0..<count {
            for d in 0..<dim { squaredDeviations[d] += centred[row * dim + d] * centred[row * dim + d] }
        }
        let stds = squaredDeviations.map { ($0 / Double(count - 1)).squareRoot() }
        return stds.reduce(0, +) / Double(dim)
    }

    /// The rows of `z` l2-normalised (as `F.normalize`), in Double, minus their per-channel
    /// mean over the batch: what both monitors measure the spread of.
    static func centredNormalizedRows(_ z: [Float], count: Int, dim: Int) -> [Double] {
        var centred = l2NormalizedRows(z, count: count, dim: dim).map(Double.init)
        for d in 0..<dim {
            var mean = 0.0
            for row in 0..<count { mean += centred[row * dim + d] }
            mean /= Double(count)
            for row in 0..<count { centred[row * dim + d] -= mean }
        }
        return centred
    }

    /// The value `std(of:count:dim:)` takes for healthy, isotropic outputs: `1 / sqrt(dim)`.
    public static func healthyReference(dim: Int) -> Double { 1 / Double(dim).squareRoot() }
}
