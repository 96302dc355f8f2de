import Foundation
import Testing
@testable import SimSiamEval

@Suite("Linear probe")
struct LinearProbeTests {
    @Test("linearly separable clusters are classified perfectly")
    func separable() {
        var random = SeededRandom(seed: 11)
        let centers = (0..<4).map { axisVector($0, dim: 12, length: 6) }
        let train = gaussianClusters(centers: centers, count: 800, spread: 0.5, random: &random)
        let test = gaussianClusters(centers: centers, count: 400, spread: 0.5, random: &random)
        let result = LinearProbe.evaluate(train: train, test: test, classes: 4, options: .init(threads: 2))
        #expect(result.testAccuracy == 1)
        #expect(result.trainAccuracy == 1)
        #expect(result.trainLoss < 0.05)
    }

    @Test("overlapping classes land at the Bayes rate")
    func bayesRate() {
        // Two unit-variance Gaussians at -1 and +1 along the first axis, four noise axes: the
        // Bayes classifier thresholds x0 at 0 and is right with probability Phi(1) = 0.8413.
        var random = SeededRandom(seed: 12)
        let centers = [[-1.0, 0, 0, 0, 0], [1.0, 0, 0, 0, 0]]
        let train = gaussianClusters(centers: centers, count: 20_000, spread: 1, random: &random)
        let test = gaussianClusters(centers: centers, count: 20_000, spread: 1, random: &random)
        let result = LinearProbe.evaluate(train: train, test: test, classes: 2, options: .init(threads: 2))
        // 0.012 is about 4.5 standard errors of a 20,000-row accuracy.
        #expect(abs(result.testAccuracy - 0.8413) < 0.012, "accuracy \(result.testAccuracy)")
        // The Bayes posterior is sigmoid(2 x0), whose cross-entropy E[log(1 + e^{-2z})] with
        // z ~ N(1, 1) is 0.3563.
        #expect(abs(result.trainLoss - 0.3563) < 0.01, "loss \(result.trainLoss)")
        #expect(result.converged)
    }

    @Test("the result does not depend on the thread count")
    func deterministic() {
        var random = SeededRandom(seed: 13)
        let centers = (0..<3).map { _ in (0..<9).map { _ in random.gaussian() } }
        let train = gaussianClusters(centers: centers, count: 2_500, spread: 1.2, random: &random)
        let test = gaussianClusters(centers: centers, count: 500, spread: 1.2, random: &random)
        let one = LinearProbe.evaluate(train: train, test: test, classes: 3, options: .init(threads: 1))
        let three = LinearProbe.evaluate(train: train, test: test, classes: 3, options: .init(threads: 3))
        #expect(one.trainLoss == three.trainLoss)
        #expect(one.testAccuracy == three.testAccuracy)
        #expect(one.iterations == three.iterations)
    }

    @Test("the loss gradient matches central finite differences", arguments: [(7, 37), (19, 2_100)])
    func gradientMatchesFiniteDifferences(dim: Int, count: Int) {
        // dim 7 exercises only the scalar tail, dim 19 the 8-lane body and the tail; 2,100 rows
        // span three summation chunks and a partial four-row tile.
        var random = SeededRandom(seed: 14)
        let classes = 3
        let features = (0..<(count * dim)).map { _ in Float(random.gaussian()) }
        let labels = (0..<count).map { _ in random.below(classes) }
        let objective = SoftmaxObjective(
            features: features, labels: labels, dim: dim, classes: classes, l2: 0.05, threads: 2)
        let parameters = (0..<objective.parameterCount).map { _ in 0.3 * random.gaussian() }
        var gradient: [Double] = []
        _ = objective.evaluate(parameters, gradient: &gradient)

        let h = 1e-3
        var scratch: [Double] = []
        for index in parameters.indices {
            var plus = parameters, minus = parameters
            plus[index] += h
            minus[index] -= h
            let numeric = (objective.evaluate(plus, gradient: &scratch) - objective.evaluate(minus, gradient: &scratch)) / (2 * h)
            // Logits are Float, so the difference quotient carries ~1e-4 of rounding noise.
            #expect(abs(numeric - gradient[index]) < 1e-3 + 1e-2 * abs(numeric), "parameter \(index)")
        }
    }

    @Test("L-BFGS finds the minimum of the Rosenbrock function")
    func rosenbrock() {
        var solver = LBFGS()
        solver.gradientTolerance = 1e-8
        solver.relativeDecreaseTolerance = 0
        let outcome = solver.minimize(from: [-1.2, 1]) { x, gradient in
            let (a, b) = (1 - x[0], x[1] - x[0] * x[0])
            gradient = [-2 * a - 400 * x[0] * b, 200 * b]
            return a * a + 100 * b * b
        }
        #expect(abs(outcome.solution[0] - 1) < 1e-5 && abs(outcome.solution[1] - 1) < 1e-5, "\(outcome.solution)")
        #expect(outcome.converged)
    }

    @Test("standardisation uses the train statistics and leaves constant features finite")
    func standardization() {
        let train = FeatureSet(features: [1, 5, 3, 5], labels: [0, 1], dim: 2)
        let test = FeatureSet(features: [5, 5], labels: [0], dim: 2)
        let standardizer = Standardizer(fitting: train)
        #expect(standardizer.apply(to: train) == [-1, 0, 1, 0])
        #expect(standardizer.apply(to: test) == [3, 0])
    }
}
