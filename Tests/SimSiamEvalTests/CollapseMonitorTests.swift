import Foundation
import Testing
@testable import SimSiamEval

@Suite("Collapse monitor")
struct CollapseMonitorTests {
    @Test("a collapsed batch of identical rows scores zero")
    func identicalRows() {
        let row: [Float] = [0.3, -1.2, 4, 0.5]
        let batch = Array([[Float]](repeating: row, count: 32).joined())
        #expect(CollapseMonitor.std(of: batch, count: 32, dim: 4) == 0)
    }

    @Test("isotropic Gaussian rows score about 1/sqrt(dim)", arguments: [64, 128, 2048])
    func gaussianRows(dim: Int) {
        var random = SeededRandom(seed: UInt64(dim))
        let count = 512
        let batch = (0..<(count * dim)).map { _ in Float(random.gaussian()) }
        let value = CollapseMonitor.std(of: batch, count: count, dim: dim)
        let healthy = CollapseMonitor.healthyReference(dim: dim)
        #expect(abs(value - healthy) < 0.1 * healthy, "\(value) vs \(healthy)")
    }

    @Test("rows are normalised before the spread is measured")
    func scaleInvariant() {
        var random = SeededRandom(seed: 3)
        let (count, dim) = (16, 8)
        let batch = (0..<(count * dim)).map { _ in Float(random.gaussian()) }
        let rescaled = batch.enumerated().map { $0.element * Float(1 + $0.offset / dim) }
        let a = CollapseMonitor.std(of: batch, count: count, dim: dim)
        let b = CollapseMonitor.std(of: rescaled, count: count, dim: dim)
        #expect(abs(a - b) < 1e-6)
    }

    @Test("the unbiased standard deviation is used, as torch's z.std(dim=0)")
    func unbiased() {
        // Rows (1, 0) and (0, 1): each channel holds {1, 0}; the n - 1 std is sqrt(0.5).
        let value = CollapseMonitor.std(of: [1, 0, 0, 1], count: 2, dim: 2)
        #expect(abs(value - 0.5.squareRoot()) < 1e-9)
        #expect(CollapseMonitor.std(of: [1, 0], count: 1, dim: 2).isNaN)
    }
}

@Suite("Collapse monitor: effective rank")
struct EffectiveRankTests {
    @Test("Jacobi finds the eigenvalues of a rotated diagonal matrix")
    func eigenvalues() {
        // Q diag(5, 2, 0.5) Qᵀ with Q a rotation about the z axis then the x axis.
        let (c1, s1, c2, s2) = (0.6, 0.8, 0.28, 0.96)
        let q: [[Double]] = [[c1, -s1 * c2, s1 * s2], [s1, c1 * c2, -c1 * s2], [0, s2, c2]]
        let diagonal = [5.0, 2.0, 0.5]
        var matrix = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { matrix[i * 3 + j] += q[i][k] * diagonal[k] * q[j][k] } } }
        let found = SymmetricEigenvalues.of(matrix, n: 3).sorted(by: >)
        for (value, expected) in zip(found, diagonal) { #expect(abs(value - expected) < 1e-10, "\(found)") }
    }

    @Test("identical rows have rank 0; rows along one line have rank 1")
    func degenerate() {
        let row: [Float] = [0.3, -1.2, 4, 0.5]
        let identical = Array([[Float]](repeating: row, count: 16).joined())
        #expect(CollapseMonitor.effectiveRank(of: identical, count: 16, dim: 4) == 0)
        let scales: [Float] = (0..<16).map { (i: Int) -> Float in
            let magnitude = Float(i + 1)
            return i % 3 == 0 ? -magnitude : magnitude
        }
        let line: [Float] = scales.flatMap { scale in row.map { $0 * scale } }
        #expect(abs(CollapseMonitor.effectiveRank(of: line, count: 16, dim: 4) - 1) < 1e-6)
    }

    @Test("isotropic Gaussian rows have nearly full rank; k equal directions have rank about k")
    func spread() {
        var random = SeededRandom(seed: 11)
        let (count, dim) = (256, 32)
        let gaussian = (0..<(count * dim)).map { _ in Float(random.gaussian()) }
        let full = CollapseMonitor.effectiveRank(of: gaussian, count: count, dim: dim)
        #expect(full > 0.9 * Double(dim) && full <= Double(dim), "\(full)")
        // Each row is ± one of 4 orthogonal axes, balanced: 4 equal singular values.
        let axes = (0..<count).flatMap { i -> [Float] in
            var row = [Float](repeating: 0, count: dim)
            row[i % 4] = (i / 4) % 2 == 0 ? 1 : -1
            return row
        }
        #expect(abs(CollapseMonitor.effectiveRank(of: axes, count: count, dim: dim) - 4) < 1e-6)
    }
}
