/// Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations.
///
/// Jacobi is slower than a tridiagonal QR for large matrices, but it is short, needs no
/// LAPACK, and is accurate for the positive semi-definite Gram matrices it serves here
/// (a few hundred rows, once per epoch).
enum SymmetricEigenvalues {
    /// The eigenvalues of the row-major `n x n` symmetric `matrix`, in no particular order.
    ///
    /// Sweeps until the off-diagonal mass is below `1e-14` of the total, or `maxSweeps`.
    static func of(_ matrix: [Double], n: Int, maxSweeps: Int = 30) -> [Double] {
        precondition(matrix.count == n * n, "expected \(n) x \(n) values, got \(matrix.count)")
        var a = matrix
        let total = a.reduce(0) { $0 + $1 * $1 }
        guard total > 0 else { return [Double](repeating: 0, count: n) }
        for _ in 0..<maxSweeps {
            var offDiagonal = 0.0
            for p in 0..<n { for q in (p + 1)..<n { offDiagonal += a[p * n + q] * a[p * n + q] } }
            if offDiagonal <= 1e-14 * total { break }
            for p in 0..<n {
                for q in (p + 1)..<n where a[p * n + q] != 0 {
                    rotate(&a, n: n, p: p, q: q)
                }
            }
        }
        return (0..<n).map { a[$0 * n + $0] }
    }

    /// Zeroes `a[p][q]` with the rotation in the (p, q) plane: `a = Jᵀ a J`.
    private static func rotate(_ a: inout [Double], n: Int, p: Int, q: Int) {
        let apq = a[p * n + q]
        let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
        let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
        let c = 1 / (t * t + 1).squareRoot()
        let s = t * c
        for k in 0..<n {
            let akp = a[k * n + p], akq = a[k * n + q]
            a[k * n + p] = c * akp - s * akq
            a[k * n + q] = s * akp + c * akq
        }
        for k in 0..<n {
            let apk = a[p * n + k], aqk = a[q * n + k]
            a[p * n + k] = c * apk - s * aqk
            a[q * n + k] = s * apk + c * aqk
        }
    }
}
