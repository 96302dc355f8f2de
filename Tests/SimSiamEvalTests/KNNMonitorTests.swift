import Foundation
import Testing
@testable import SimSiamEval

@Suite("kNN monitor")
struct KNNMonitorTests {
    @Test("three well-separated clusters are classified perfectly")
    func separatedClusters() {
        var random = SeededRandom(seed: 1)
        let centers = (0..<3).map { axisVector($0, dim: 16, length: 10) }
        let train = gaussianClusters(centers: centers, count: 300, spread: 0.5, random: &random)
        let test = gaussianClusters(centers: centers, count: 61, spread: 0.5, random: &random)
        #expect(KNNMonitor.accuracy(train: train, test: test, classes: 3, threads: 2) == 1)
    }

    // Query (1, 0). Class 0 has one neighbour at cosine 1; class 1 has two at cosine 0.8;
    // a class-1 point at cosine -1 falls outside k = 3.
    // T = 0.1: class 0 scores e^10 = 22026, class 1 scores 2 e^8 = 5962 -> class 0.
    // T = 1:   class 0 scores e^1 = 2.72,   class 1 scores 2 e^0.8 = 4.45 -> class 1 (majority).
    static let weightingTrain = FeatureSet(
        features: [1, 0, 0.8, 0.6, 0.8, -0.6, -1, 0], labels: [0, 1, 1, 1], dim: 2)
    static let weightingQuery = FeatureSet(features: [3, 0], labels: [0], dim: 2)

    @Test("a sharp temperature lets one close neighbour outvote two farther ones")
    func weightingOverridesMajority() {
        let sharp = KNNMonitor.predictions(
            train: Self.weightingTrain, test: Self.weightingQuery, classes: 2, k: 3, temperature: 0.1, threads: 1)
        let soft = KNNMonitor.predictions(
            train: Self.weightingTrain, test: Self.weightingQuery, classes: 2, k: 3, temperature: 1, threads: 1)
        #expect(sharp == [0])
        #expect(soft == [1])
    }

    @Test("k above the train count votes with every train row")
    func kLargerThanTrainSet() {
        // One class-0 row at cosine 1, two class-1 rows at cosine -1. With T = 100 the vote is
        // nearly a plain count, so class 1 wins only if all three rows were kept.
        let train = FeatureSet(features: [1, 0, -1, 0, -2, 0], labels: [0, 1, 1], dim: 2)
        let query = FeatureSet(features: [1, 0], labels: [1], dim: 2)
        #expect(KNNMonitor.predictions(train: train, test: query, classes: 2, k: 200, temperature: 100, threads: 1) == [1])
        #expect(KNNMonitor.predictions(train: train, test: query, classes: 2, k: 200, temperature: 0.1, threads: 1) == [0])
    }

    @Test("the blocked kernel agrees with a brute-force reference, for any thread count")
    func matchesBruteForce() {
        // Sizes that are not multiples of the kernel's 4 x 8 tile or 64-row block.
        var random = SeededRandom(seed: 7)
        let dim = 37, classes = 5
        let centers = (0..<classes).map { _ in (0..<dim).map { _ in random.gaussian() } }
        let train = gaussianClusters(centers: centers, count: 1003, spread: 1.5, random: &random)
        let test = gaussianClusters(centers: centers, count: 150, spread: 1.5, random: &random)

        let expected = bruteForcePredictions(train: train, test: test, classes: classes, k: 50, temperature: 0.1)
        for threads in [1, 2, 3] {
            let predicted = KNNMonitor.predictions(
                train: train, test: test, classes: classes, k: 50, temperature: 0.1, threads: threads)
            #expect(predicted == expected, "threads \(threads)")
        }
        let accuracy = KNNMonitor.accuracy(train: train, test: test, classes: classes, k: 50, threads: 2)
        #expect(accuracy > 0.3 && accuracy < 1, "noisy clusters should be neither trivial nor hopeless")
    }

    @Test("byte labels and integer labels give the same answer")
    func byteLabels() {
        let bytes = FeatureSet(features: Self.weightingTrain.features, labels: [UInt8(0), 1, 1, 1], dim: 2)
        #expect(bytes.labels == Self.weightingTrain.labels)
    }

    /// Straightforward O(test x train) kNN in Double: sort every similarity, vote with the top k.
    private func bruteForcePredictions(
        train: FeatureSet, test: FeatureSet, classes: Int, k: Int, temperature: Double
    ) -> [Int] {
        func unit(_ set: FeatureSet, _ row: Int) -> [Double] {
            let values = (0..<set.dim).map { Double(set.features[row * set.dim + $0]) }
            let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return values.map { $0 / norm }
        }
        let trainRows = (0..<train.count).map { unit(train, $0) }
        return (0..<test.count).map { row in
            let query = unit(test, row)
            let similarities = trainRows.map { zip($0, query).reduce(0) { $0 + $1.0 * $1.1 } }
            let nearest = similarities.indices.sorted { similarities[$0] > similarities[$1] }.prefix(k)
            var scores = [Double](repeating: 0, count: classes)
            for index in nearest { scores[train.labels[index]] += exp(similarities[index] / temperature) }
            return scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
        }
    }
}
