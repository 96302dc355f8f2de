import Foundation

extension CollapseMonitor {
    /// The effective rank (Roy and Vetterli, 2007) of the batch of l2-normalised rows, centred
    /// per channel: `exp(H)`, with `H` the entropy of the singular values divided by their sum.
    ///
    /// It sees the dimensional collapse that ``std(of:count:dim:)`` misses when `z` ends in a
    /// batch norm: that BN fixes every channel's batch variance, so `z` cannot shrink to a
    /// point, but all rows can still line up along a few directions. Healthy outputs score
    /// in the hundreds; rows along one line score 1; identical rows score 0. It ignores scale:
    /// rows crowded around one point with a small isotropic scatter still score high, which
    /// is the collapse ``std(of:count:dim:)`` sees.
    ///
    /// - Parameters:
    ///   - z: row-major `[count, dim]` batch of projector (or predictor) outputs.
    /// - Returns: a value in `0...min(count, dim)`, or NaN when `count < 2`.
    public static func effectiveRank(of z: [Float], count: Int, dim: Int) -> Double {
        precondition(dim > 0 && count >= 0 && z.count == count * dim,
                     "z holds \(z.count) values, expected \(count) x \(dim)")
        guard count >= 2 else { return .nan }
        let centred = centredNormalizedRows(z, count: count, dim: dim)
        // The count x count Gram matrix has the same non-zero eigenvalues as the covariance,
        // and is the smaller of the two for the workloads' batches.
        var gram = [Double](repeating: 0, count: count * count)
        for i in 0..<count {
            for j in i..<count {
                var dot = 0.0
                for d in 0..<dim { dot += centred[i * dim + d] * centred[j * dim + d] }
                gram[i * count + j] = dot
                gram[j * count + i] = dot
            }
        }
        let eigenvalues = SymmetricEigenvalues.of(gram, n: count)
        // Eigenvalues below 1e-12 of the largest are the solver's round-off, not directions.
        let floor = 1e-12 * (eigenvalues.max() ?? 0)
        let singularValues = eigenvalues.map { $0 > floor ? $0.squareRoot() : 0 }
        let sum = singularValues.reduce(0, +)
        guard sum > 1e-12 else { return 0 }
        let entropy = singularValues.reduce(0.0) { total, value in
            let share = value / sum
            return share > 0 ? total - share * Foundation.log(share) : total
        }
        return Foundation.exp(entropy)
    }
}
