import Foundation

/// Mean cross-entropy of multinomial logistic regression plus an L2 penalty on the weights:
/// `f(W, b) = mean_i [logsumexp(W x_i + b) - (W x_i + b)_{y_i}] + (l2 / 2) * |W|^2`.
///
/// Parameters are one flat vector: the weights row-major `[classes, dim]`, then the `classes`
/// biases (unpenalised, as in scikit-learn). Rows are summed in fixed chunks reduced in chunk
/// order, so the value and gradient do not depend on the thread count.
struct SoftmaxObjective {
    let features: [Float]
    let labels: [Int]
    let count: Int
    let dim: Int
    let classes: Int
    let l2: Double
    let threads: Int

    var parameterCount: Int { classes * dim + classes }

    /// Rows per unit of parallel work; fixed so the summation order is too.
    static let rowsPerChunk = 1024

    init(features: [Float], labels: [Int], dim: Int, classes: Int, l2: Double, threads: Int) {
        precondition(labels.allSatisfy { $0 < classes }, "a label is >= classes (\(classes))")
        self.features = features
        self.labels = labels
        self.count = labels.count
        self.dim = dim
        self.classes = classes
        self.l2 = l2
        self.threads = threads
    }

    /// The objective at `parameters`, writing its gradient into `gradient`.
    func evaluate(_ parameters: [Double], gradient: inout [Double]) -> Double {
        let weights = parameters.map(Float.init)
        let chunks = (count + Self.rowsPerChunk - 1) / Self.rowsPerChunk
        var chunkLosses = [Double](repeating: 0, count: chunks)
        var chunkGradients = [Float](repeating: 0, count: chunks * parameterCount)
        let gradientScale = Float(1 / Double(max(count, 1)))
        features.withUnsafeBufferPointer { features in
            weights.withUnsafeBufferPointer { weights in
                chunkLosses.withUnsafeMutableBufferPointer { chunkLosses in
                    chunkGradients.withUnsafeMutableBufferPointer { chunkGradients in
                        forEachChunk(chunks, threads: threads) { chunk in
                            let rows = chunk * Self.rowsPerChunk ..< min(count, (chunk + 1) * Self.rowsPerChunk)
                            chunkLosses[chunk] = accumulate(
                                rows: rows, features: features.baseAddress!, weights: weights.baseAddress!,
                                gradientScale: gradientScale,
                                gradient: chunkGradients.baseAddress! + chunk * parameterCount)
                        }
                    }
                }
            }
        }

        gradient = [Double](repeating: 0, count: parameterCount)
        var loss = 0.0
        for chunk in 0..<chunks {
            loss += chunkLosses[chunk]
            let base = chunk * parameterCount
            for i in 0..<parameterCount { gradient[i] += Double(chunkGradients[base + i]) }
        }
        var penalty = 0.0
        for i in 0..<(classes * dim) {
            penalty += parameters[i] * parameters[i]
            gradient[i] += l2 * parameters[i]
        }
        return loss / Double(max(count, 1)) + 0.5 * l2 * penalty
    }

    /// Summed cross-entropy of `rows`, adding `gradientScale` x their loss gradient into `gradient`.
    private func accumulate(
        rows: Range<Int>, features: UnsafePointer<Float>, weights: UnsafePointer<Float>,
        gradientScale: Float, gradient: UnsafeMutablePointer<Float>
    ) -> Double {
        let tile = LogitTile(dim: dim, classes: classes)
        var loss = 0.0
        var logits = [Float](repeating: 0, count: LogitTile.rows * classes)
        var logitGradients = [Float](repeating: 0, count: LogitTile.rows * classes)
        for first in stride(from: rows.lowerBound, to: rows.upperBound, by: LogitTile.rows) {
            let members = min(LogitTile.rows, rows.upperBound - first)
            let rowPointers = tile.rowPointers(features: features, first: first, members: members)
            tile.logits(rows: rowPointers, weights: weights, into: &logits)
            for member in 0..<members {
                let label = labels[first + member]
                var largest = -Double.infinity
                for c in 0..<classes { largest = max(largest, Double(logits[member * classes + c])) }
                var partition = 0.0
                for c in 0..<classes { partition += exp(Double(logits[member * classes + c]) - largest) }
                let logPartition = largest + log(partition)
                loss += logPartition - Double(logits[member * classes + label])
                for c in 0..<classes {
                    let probability = exp(Double(logits[member * classes + c]) - logPartition)
                    logitGradients[member * classes + c] =
                        gradientScale * Float(probability - (c == label ? 1 : 0))
                }
            }
            for member in members..<LogitTile.rows {
                for c in 0..<classes { logitGradients[member * classes + c] = 0 }
            }
            tile.accumulateWeightGradient(rows: rowPointers, logitGradients: logitGradients, into: gradient)
        }
        return loss
    }
}
