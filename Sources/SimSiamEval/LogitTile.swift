/// The two matrix products of the linear probe, four feature rows at a time.
///
/// Working on four rows per pass loads each weight vector once for all four rows and
/// touches each gradient vector once per four rows instead of once per row, which is what
/// keeps the probe arithmetic-bound instead of load/store-bound.
struct LogitTile {
    static let rows = 4
    typealias RowPointers = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>)

    let dim: Int
    let classes: Int

    /// Pointers to rows `first ..< first + members`; a short tile repeats its last row, whose
    /// extra copies callers ignore and give zero gradient.
    func rowPointers(features: UnsafePointer<Float>, first: Int, members: Int) -> RowPointers {
        func row(_ member: Int) -> UnsafePointer<Float> { features + (first + min(member, members - 1)) * dim }
        return (row(0), row(1), row(2), row(3))
    }

    /// `logits[member * classes + c] = weights_c . x_member + bias_c`; `weights` is the
    /// probe's flat parameter vector (weights then biases).
    func logits(rows: RowPointers, weights: UnsafePointer<Float>, into logits: inout [Float]) {
        let vectorEnd = dim / 8 * 8
        for c in 0..<classes {
            let w = weights + c * dim
            var sum0 = SIMD8<Float>(), sum1 = SIMD8<Float>(), sum2 = SIMD8<Float>(), sum3 = SIMD8<Float>()
            var d = 0
            while d < vectorEnd {
                let weightLanes = load8(w + d)
                sum0 = sum0 + weightLanes * load8(rows.0 + d)
                sum1 = sum1 + weightLanes * load8(rows.1 + d)
                sum2 = sum2 + weightLanes * load8(rows.2 + d)
                sum3 = sum3 + weightLanes * load8(rows.3 + d)
                d += 8
            }
            var total = (horizontalSum(sum0), horizontalSum(sum1), horizontalSum(sum2), horizontalSum(sum3))
            while d < dim {
                total.0 += w[d] * rows.0[d]
                total.1 += w[d] * rows.1[d]
                total.2 += w[d] * rows.2[d]
                total.3 += w[d] * rows.3[d]
                d += 1
            }
            let bias = weights[classes * dim + c]
            logits[c] = total.0 + bias
            logits[classes + c] = total.1 + bias
            logits[2 * classes + c] = total.2 + bias
            logits[3 * classes + c] = total.3 + bias
        }
    }

    /// Adds `sum_member logitGradients[member, c] * x_member` to weight row `c` of `gradient`,
    /// and the column sums to the bias entries.
    func accumulateWeightGradient(
        rows: RowPointers, logitGradients: [Float], into gradient: UnsafeMutablePointer<Float>
    ) {
        let vectorEnd = dim / 8 * 8
        for c in 0..<classes {
            let g = (logitGradients[c], logitGradients[classes + c],
                     logitGradients[2 * classes + c], logitGradients[3 * classes + c])
            let lanes = (SIMD8(repeating: g.0), SIMD8(repeating: g.1), SIMD8(repeating: g.2), SIMD8(repeating: g.3))
            let target = gradient + c * dim
            var d = 0
            while d < vectorEnd {
                let update = lanes.0 * load8(rows.0 + d) + lanes.1 * load8(rows.1 + d)
                    + lanes.2 * load8(rows.2 + d) + lanes.3 * load8(rows.3 + d)
                store8(load8(target + d) + update, to: target + d)
                d += 8
            }
            while d < dim {
                target[d] += g.0 * rows.0[d] + g.1 * rows.1[d] + g.2 * rows.2[d] + g.3 * rows.3[d]
                d += 1
            }
            gradient[classes * dim + c] += g.0 + g.1 + g.2 + g.3
        }
    }
}

@inline(__always)
func load8(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ value: SIMD8<Float>, to pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
}

/// Sum of eight lanes by halving; the stdlib's `sum()` may compile to a lane-by-lane loop.
@inline(__always)
func horizontalSum(_ lanes: SIMD8<Float>) -> Float {
    let four = lanes.lowHalf + lanes.highHalf
    let two = four.lowHalf + four.highHalf
    return two.x + two.y
}
