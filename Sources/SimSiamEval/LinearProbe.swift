/// Linear evaluation of frozen features: multinomial logistic regression on standardised
/// features, fitted to convergence with L-BFGS (the "second-order solver" route to a linear
/// probe; SGD on SimSiam features needs very large learning rates).
public enum LinearProbe {
    /// Settings of the probe's fit.
    public struct Options: Sendable {
        /// Penalty `l2 / 2 * |W|^2` added to the mean cross-entropy; biases are not penalised.
        ///
        /// The default 1e-4 is weak on standardised features (per-feature unit variance): it
        /// keeps the optimum finite, and so the fit unique and deterministic, on linearly
        /// separable features, while barely trading off data fit.
        public var l2: Double
        /// Upper bound on L-BFGS iterations (accepted steps).
        public var maxIterations: Int
        /// Curvature pairs L-BFGS keeps.
        public var history: Int
        /// Converged once the largest gradient component is at most this.
        public var gradientTolerance: Double
        /// Worker threads for the loss and gradient; results do not depend on it.
        public var threads: Int

        /// Options with the documented defaults.
        public init(
            l2: Double = 1e-4, maxIterations: Int = 200, history: Int = 10,
            gradientTolerance: Double = 1e-5, threads: Int = defaultThreadCount
        ) {
            self.l2 = l2
            self.maxIterations = maxIterations
            self.history = history
            self.gradientTolerance = gradientTolerance
            self.threads = threads
        }
    }

    /// What the fitted probe scores.
    public struct Result: Sendable, CustomStringConvertible {
        /// Top-1 accuracy on the test set.
        public var testAccuracy: Double
        /// Top-1 accuracy on the train set it was fitted to.
        public var trainAccuracy: Double
        /// Mean cross-entropy on the train set at the solution, without the L2 penalty.
        public var trainLoss: Double
        /// L-BFGS iterations taken.
        public var iterations: Int
        /// Whether a tolerance ended the fit (rather than `maxIterations` or a failed line search).
        public var converged: Bool

        public var description: String {
            let test = (testAccuracy * 1000).rounded() / 10, train = (trainAccuracy * 1000).rounded() / 10
            return "linear probe: test \(test)%, train \(train)%, train loss \(trainLoss), "
                + "\(iterations) iterations\(converged ? "" : " (not converged)")"
        }
    }

    /// Fits the probe on `train` and scores it on `test`.
    ///
    /// Features are standardised with the train set's mean and population standard deviation,
    /// and the fit starts from zero weights, so the result is a function of the inputs alone.
    public static func evaluate(
        train: FeatureSet, test: FeatureSet, classes: Int, options: Options = Options()
    ) -> Result {
        precondition(train.dim == test.dim, "train dim \(train.dim) != test dim \(test.dim)")
        precondition(train.count > 0 && test.count > 0, "the probe needs train and test rows")
        precondition(classes > 0, "classes must be positive")
        precondition(test.labels.allSatisfy { $0 < classes }, "a test label is >= classes (\(classes))")
        let standardizer = Standardizer(fitting: train)
        let objective = SoftmaxObjective(
            features: standardizer.apply(to: train), labels: train.labels, dim: train.dim,
            classes: classes, l2: options.l2, threads: options.threads)
        let solver = LBFGS(
            historySize: options.history, maxIterations: options.maxIterations,
            gradientTolerance: options.gradientTolerance)
        let outcome = solver.minimize(from: [Double](repeating: 0, count: objective.parameterCount)) {
            objective.evaluate($0, gradient: &$1)
        }
        let weights = outcome.solution.map(Float.init)
        let penalty = outcome.solution[0..<(classes * train.dim)].reduce(0) { $0 + $1 * $1 }
        return Result(
            testAccuracy: accuracy(
                weights: weights, features: standardizer.apply(to: test), labels: test.labels,
                dim: test.dim, classes: classes, threads: options.threads),
            trainAccuracy: accuracy(
                weights: weights, features: objective.features, labels: train.labels,
                dim: train.dim, classes: classes, threads: options.threads),
            trainLoss: outcome.value - 0.5 * options.l2 * penalty,
            iterations: outcome.iterations,
            converged: outcome.converged)
    }

    /// Fraction of rows whose largest logit is their label (the lowest class wins a tie).
    static func accuracy(
        weights: [Float], features: [Float], labels: [Int], dim: Int, classes: Int, threads: Int
    ) -> Double {
        let rowsPerChunk = 1024
        let chunks = (labels.count + rowsPerChunk - 1) / rowsPerChunk
        var correctPerChunk = [Int](repeating: 0, count: chunks)
        let tile = LogitTile(dim: dim, classes: classes)
        features.withUnsafeBufferPointer { features in
            weights.withUnsafeBufferPointer { weights in
                correctPerChunk.withUnsafeMutableBufferPointer { correctPerChunk in
                    forEachChunk(chunks, threads: threads) { chunk in
                        var logits = [Float](repeating: 0, count: LogitTile.rows * classes)
                        let end = min(labels.count, (chunk + 1) * rowsPerChunk)
                        for first in stride(from: chunk * rowsPerChunk, to: end, by: LogitTile.rows) {
                            let members = min(LogitTile.rows, end - first)
                            tile.logits(
                                rows: tile.rowPointers(features: features.baseAddress!, first: first, members: members),
                                weights: weights.baseAddress!, into: &logits)
                            for member in 0..<members {
                                var best = 0
                                for c in 1..<classes where logits[member * classes + c] > logits[member * classes + best] {
                                    best = c
                                }
                                if best == labels[first + member] { correctPerChunk[chunk] += 1 }
                            }
                        }
                    }
                }
            }
        }
        return Double(correctPerChunk.reduce(0, +)) / Double(labels.count)
    }
}
