import Foundation

/// Weighted k-nearest-neighbour classifier used to monitor representation quality during
/// self-supervised training (InstDisc; lightly's `knn_predict`; the SimSiam kNN monitor).
///
/// Both sets are l2-normalised, so similarity is cosine similarity. Each test row takes its
/// `k` most similar train rows; neighbour `j` votes for its class with weight
/// `exp(similarity_j / temperature)`, and the class with the largest summed weight wins
/// (the lowest class index on an exact tie).
public enum KNNMonitor {
    /// Top-1 accuracy of the weighted kNN vote of `test` against the `train` bank.
    ///
    /// - Parameters:
    ///   - classes: number of classes; every label must be below it.
    ///   - k: neighbours per test row; clamped to the train count.
    ///   - temperature: softness of the vote; small values let the closest neighbours dominate.
    ///   - threads: worker threads; the result does not depend on it.
    public static func accuracy(
        train: FeatureSet, test: FeatureSet, classes: Int,
        k: Int = 200, temperature: Double = 0.1, threads: Int = defaultThreadCount
    ) -> Double {
        precondition(test.count > 0, "kNN accuracy needs at least one test row")
        let predicted = predictions(
            train: train, test: test, classes: classes, k: k, temperature: temperature, threads: threads)
        let correct = zip(predicted, test.labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        return Double(correct) / Double(test.count)
    }

    /// The predicted class of every test row, in test order (see ``accuracy(train:test:classes:k:temperature:threads:)``).
    public static func predictions(
        train: FeatureSet, test: FeatureSet, classes: Int,
        k: Int = 200, temperature: Double = 0.1, threads: Int = defaultThreadCount
    ) -> [Int] {
        precondition(train.dim == test.dim, "train dim \(train.dim) != test dim \(test.dim)")
        precondition(train.count > 0, "kNN needs a non-empty train bank")
        precondition(k > 0 && temperature > 0 && classes > 0, "k, temperature and classes must be positive")
        precondition(train.labels.allSatisfy { $0 < classes }, "a train label is >= classes (\(classes))")
        if test.count == 0 { return [] }

        let panels = TrainPanels(
            normalizedRows: l2NormalizedRows(train.features, count: train.count, dim: train.dim),
            labels: train.labels, dim: train.dim)
        // Padding the test rows to whole kernel groups keeps the kernel free of edge cases.
        let paddedTestCount = (test.count + testRowsPerGroup - 1) / testRowsPerGroup * testRowsPerGroup
        var queries = l2NormalizedRows(test.features, count: test.count, dim: test.dim)
        queries += [Float](repeating: 0, count: (paddedTestCount - test.count) * test.dim)

        let neighbours = min(k, train.count)
        let blocks = (paddedTestCount + testRowsPerBlock - 1) / testRowsPerBlock
        var predicted = [Int](repeating: 0, count: test.count)
        queries.withUnsafeBufferPointer { queries in
            panels.values.withUnsafeBufferPointer { panelValues in
                predicted.withUnsafeMutableBufferPointer { predicted in
                    forEachChunk(blocks, threads: threads) { block in
                        let firstRow = block * testRowsPerBlock
                        let rows = min(testRowsPerBlock, paddedTestCount - firstRow)
                        var nearest = NearestNeighbours(rows: rows, k: neighbours)
                        scan(panels: panels, panelValues: panelValues.baseAddress!,
                             queries: queries.baseAddress! + firstRow * test.dim, rows: rows,
                             realRows: min(rows, test.count - firstRow), into: &nearest)
                        for row in 0..<min(rows, test.count - firstRow) {
                            predicted[firstRow + row] = vote(
                                nearest, row: row, classes: classes, temperature: temperature)
                        }
                    }
                }
            }
        }
        return predicted
    }

    /// Test rows sharing one pass over the train bank; bounds how often the bank is streamed.
    static let testRowsPerBlock = 64
    /// Bytes of train panels scored by every query group before moving on; well inside L2.
    static let panelTileBytes = 256 * 1024
    /// Test rows the kernel scores against one panel at once (4 x 8 accumulators fit SSE registers).
    static let testRowsPerGroup = 4

    /// The class with the largest `exp(similarity / temperature)` total among the row's neighbours.
    private static func vote(_ nearest: NearestNeighbours, row: Int, classes: Int, temperature: Double) -> Int {
        var weights = [Double](repeating: 0, count: classes)
        let base = row * nearest.k
        for j in 0..<nearest.count(of: row) {
            weights[Int(nearest.labels[base + j])] += exp(Double(nearest.similarities[base + j]) / temperature)
        }
        var best = 0
        for c in 1..<max(classes, 1) where weights[c] > weights[best] { best = c }
        return best
    }
}
