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
