/// Limited-memory BFGS with a backtracking Armijo line search, for smooth convex objectives.
///
/// Deterministic: no randomness, and every reduction runs in a fixed order.
struct LBFGS {
    /// Curvature pairs kept for the two-loop recursion.
    var historySize = 10
    var maxIterations = 200
    /// Stop once the largest gradient component is at most this (scipy's `pgtol` default).
    var gradientTolerance = 1e-5
    /// Stop once an iteration lowers the objective by at most this fraction (scipy's `factr`
    /// x machine epsilon); smaller gains are below the noise of Float-accumulated objectives.
    var relativeDecreaseTolerance = 2.2e-9
    /// Sufficient-decrease constant of the Armijo condition.
    var armijo = 1e-4
    var maxLineSearchSteps = 30

    struct Outcome {
        var solution: [Double]
        var value: Double
        var iterations: Int
        /// True when a tolerance stopped the run, false when iterations ran out or no step
        /// along even the steepest-descent direction decreased the objective.
        var converged: Bool
    }

    /// Minimises `objective`, which returns the value at its first argument and writes the
    /// gradient into its second.
    func minimize(from start: [Double], _ objective: ([Double], inout [Double]) -> Double) -> Outcome {
        var x = start
        var gradient = [Double](repeating: 0, count: x.count)
        var value = objective(x, &gradient)
        var steps: [[Double]] = []
        var gradientChanges: [[Double]] = []
        var iterations = 0

        while iterations < maxIterations {
            if maxAbs(gradient) <= gradientTolerance { return Outcome(solution: x, value: value, iterations: iterations, converged: true) }
            var direction = searchDirection(gradient: gradient, steps: steps, gradientChanges: gradientChanges)
            var slope = dot(gradient, direction)
            if !(slope < 0) {
                // Rounding can cost the quasi-Newton direction its descent property; restart.
                steps.removeAll(); gradientChanges.removeAll()
                direction = gradient.map { -$0 }
                slope = dot(gradient, direction)
            }
            // Without curvature pairs the direction is the raw gradient; a unit-length first
            // step avoids a wild first evaluation.
            let initialStep = steps.isEmpty ? min(1, 1 / dot(direction, direction).squareRoot()) : 1
            guard let accepted = lineSearch(x: x, value: value, direction: direction, slope: slope,
                                            initialStep: initialStep, objective) else {
                if steps.isEmpty { break }
                steps.removeAll(); gradientChanges.removeAll()
                continue
            }
            iterations += 1
            let step = zip(accepted.x, x).map { $0 - $1 }
            let gradientChange = zip(accepted.gradient, gradient).map { $0 - $1 }
            let previousValue = value
            (x, value, gradient) = (accepted.x, accepted.value, accepted.gradient)
            if dot(step, gradientChange) > 1e-12 * dot(gradientChange, gradientChange) {
                steps.append(step); gradientChanges.append(gradientChange)
                if steps.count > historySize { steps.removeFirst(); gradientChanges.removeFirst() }
            }
            let scale = max(abs(previousValue), abs(value), 1)
            if previousValue - value <= relativeDecreaseTolerance * scale {
                return Outcome(solution: x, value: value, iterations: iterations, converged: true)
            }
        }
        return Outcome(solution: x, value: value, iterations: iterations,
                       converged: maxAbs(gradient) <= gradientTolerance)
    }

    /// `-H g` by the two-loop recursion, `H` scaled by the newest pair's `s.y / y.y`.
    private func searchDirection(gradient: [Double], steps: [[Double]], gradientChanges: [[Double]]) -> [Double] {
        var q = gradient
        var alphas = [Double](repeating: 0, count: steps.count)
        for i in stride(from: steps.count - 1, through: 0, by: -1) {
            let rho = 1 / dot(gradientChanges[i], steps[i])
            alphas[i] = rho * dot(steps[i], q)
            for j in q.indices { q[j] -= alphas[i] * gradientChanges[i][j] }
        }
        if let s = steps.last, let y = gradientChanges.last {
            let gamma = dot(s, y) / dot(y, y)
            for j in q.indices { q[j] *= gamma }
        }
        for i in steps.indices {
            let rho = 1 / dot(gradientChanges[i], steps[i])
            let beta = rho * dot(gradientChanges[i], q)
            for j in q.indices { q[j] += (alphas[i] - beta) * steps[i][j] }
        }
        return q.map { -$0 }
    }

    private struct Point { var x: [Double]; var value: Double; var gradient: [Double] }

    /// Backtracks from `initialStep` until the Armijo condition holds, shrinking by the
    /// minimiser of the quadratic through f(0), f'(0) and f(step), kept within [0.1, 0.5] x step.
    private func lineSearch(
        x: [Double], value: Double, direction: [Double], slope: Double, initialStep: Double,
        _ objective: ([Double], inout [Double]) -> Double
    ) -> Point? {
        var step = initialStep
        var gradient = [Double](repeating: 0, count: x.count)
        for _ in 0..<maxLineSearchSteps {
            let candidate = zip(x, direction).map { $0 + step * $1 }
            let candidateValue = objective(candidate, &gradient)
            if candidateValue <= value + armijo * step * slope {
                return Point(x: candidate, value: candidateValue, gradient: gradient)
            }
            let curvature = candidateValue - value - slope * step
            let quadraticMinimum = curvature.isFinite && curvature > 0 ? -slope * step * step / (2 * curvature) : 0.1 * step
            step = min(max(quadraticMinimum, 0.1 * step), 0.5 * step)
        }
        return nil
    }
}

private func dot(_ a: [Double], _ b: [Double]) -> Double {
    var total = 0.0
    for i in a.indices { total += a[i] * b[i] }
    return total
}

private func maxAbs(_ values: [Double]) -> Double { values.reduce(0) { max($0, abs($1)) } }
