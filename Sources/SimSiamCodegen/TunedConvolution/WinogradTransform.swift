import Foundation

/// The matrices of a Winograd convolution F(m x m, 3x3), and the C of their 1D
/// transforms. An n = m + 2 window d and a 3x3 kernel g give the m x m output
/// tile `A^T [(G g G^T) . (B^T d B)] A`; every transform is separable, so the C
/// applies each matrix to columns, then rows.
struct WinogradTransform {
    /// Output tile size.
    let m: Int
    /// B^T, n x n.
    let bt: [[Int]]
    /// A^T, m x n.
    let at: [[Int]]
    /// G, n x 3: row i is `gNumerators[i] / gDenominators[i]`.
    let gNumerators: [[Int]]
    let gDenominators: [Int]

    /// Input tile size.
    var n: Int { m + 2 }

    /// What the C names of this transform's runtime carry after `wino` (`conv_wino4_run`,
    /// `wino4_input_1d`, `WINO4_M`): nothing for F(2x2, 3x3), the tile for the others.
    var cSuffix: String { m == 2 ? "" : "\(m)" }

    /// `text` (C written for F(2x2, 3x3)'s names) with this transform's names: `conv_wino`,
    /// `wino_`, `WINO_` and the include guard `SIMSIAM_WINOGRAD_H` gain `cSuffix`.
    func named(_ text: String) -> String {
        guard !cSuffix.isEmpty else { return text }
        return text
            .replacingOccurrences(of: #"\b(conv_)?wino_"#, with: "$1wino\(cSuffix)_", options: .regularExpression)
            .replacingOccurrences(of: #"\bconv_wino\b"#, with: "conv_wino\(cSuffix)", options: .regularExpression)
            .replacingOccurrences(of: #"\bWINO_"#, with: "WINO\(cSuffix)_", options: .regularExpression)
            .replacingOccurrences(of: "SIMSIAM_WINOGRAD_H", with: "SIMSIAM_WINOGRAD\(cSuffix)_H")
    }

    /// Points 0, 1, -1 and infinity.
    static let f2x2 = WinogradTransform(
        m: 2,
        bt: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
        at: [[1, 1, 1, 0], [0, 1, -1, -1]],
        gNumerators: [[1, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 1]], gDenominators: [1, 2, 2, 1])

    /// Points 0, 1, -1, 1/2, -2 and infinity: in float32 about half the rounding error of Lavin &
    /// Gray's 0, +-1, +-2 (Barabasz et al., "Error analysis and improving the accuracy of Winograd
    /// convolution for deep neural networks", 2020); A^T and B^T scaled to integers, G takes the
    /// scale.
    static let f4x4 = WinogradTransform(
        m: 4,
        bt: [[2, -3, -4, 3, 2, 0], [0, -2, 1, 5, 2, 0], [0, 2, -5, 1, 2, 0],
             [0, -2, -1, 2, 1, 0], [0, 1, -2, -1, 2, 0], [0, 2, -3, -4, 3, 2]],
        at: [[1, 1, 1, 8, 1, 0], [0, 1, -1, 4, -2, 0], [0, 1, 1, 2, 4, 0], [0, 1, -1, 1, -8, 1]],
        gNumerators: [[1, 0, 0], [1, 1, 1], [-1, 1, -1], [-4, -2, -1], [1, -2, 4], [0, 0, 1]],
        gDenominators: [2, 6, 6, 30, 30, 2])

    /// The five 1D transforms: `wino_input_1d` (B^T), `wino_output_1d` (A^T) and
    /// `wino_gradient_1d` (A) on vectors of the tensors' scalars; `wino_kernel_1d` (G) and
    /// `wino_kernel_gradient_1d` (G^T) on vectors of eight doubles (`lanes_t`).
    var cFunctions: String {
        let g = gNumerators
        let input = (0..<n).map { i in assignment("o", i, "os", (0..<n).map { (bt[i][$0], "d", $0) }) }
        let output = (0..<m).map { i in assignment("y", i, "ys", (0..<n).map { (at[i][$0], "m", $0) }) }
        let gradient = (0..<n).map { j in assignment("z", j, "zs", (0..<m).map { (at[$0][j], "y", $0) }) }
        let kernel = (0..<n).map { i -> String in
            let sum = combination((0..<3).map { (g[i][$0], "g", $0) })
            let terms = g[i].filter { $0 != 0 }.count
            let value = gDenominators[i] == 1 ? sum : (terms > 1 ? "(\(sum)) / \(gDenominators[i])" : "\(sum) / \(gDenominators[i])")
            return "  \(element("u", i, "us")) = \(value);"
        }
        let kernelGradient = (0..<3).map { a -> String in
            var text = ""
            for i in 0..<n where g[i][a] != 0 {
                let magnitude = abs(g[i][a]) == 1 ? element("u", i, "s") : "\(abs(g[i][a])) * \(element("u", i, "s"))"
                let term = gDenominators[i] == 1 ? magnitude : "\(magnitude) / \(gDenominators[i])"
                text += text.isEmpty ? (g[i][a] < 0 ? "-" + term : term) : (g[i][a] < 0 ? " - " : " + ") + term
            }
            return "  \(element("g", a, "gs")) = \(text);"
        }
        return """
            /* o[i * os] = (B^T d)[i] for the \(n) values d[j * s]. */
            static inline void wino_input_1d(const vec_t* d, int64_t s, vec_t* o, int64_t os) {
            \(input.joined(separator: "\n"))
            }

            /* y[i * ys] = (A^T m)[i] for the \(n) values m[j * s]. */
            static inline void wino_output_1d(const vec_t* m, int64_t s, vec_t* y, int64_t ys) {
            \(output.joined(separator: "\n"))
            }

            /* z[j * zs] = (A y)[j] for the \(m) values y[i * s]: the output transform, transposed. */
            static inline void wino_gradient_1d(const vec_t* y, int64_t s, vec_t* z, int64_t zs) {
            \(gradient.joined(separator: "\n"))
            }

            /* u[i * us] = (G g)[i] for the 3 values g[j * s] (eight kernels, in double). */
            static inline void wino_kernel_1d(const lanes_t* g, int64_t s, lanes_t* u, int64_t us) {
            \(kernel.joined(separator: "\n"))
            }

            /* g[a * gs] = (G^T u)[a] for the \(n) values u[i * s] (eight kernels, in double). */
            static inline void wino_kernel_gradient_1d(const lanes_t* u, int64_t s, lanes_t* g, int64_t gs) {
            \(kernelGradient.joined(separator: "\n"))
            }

            """
    }

    /// `name[i * stride]`, written as C people write it.
    private func element(_ name: String, _ i: Int, _ stride: String) -> String {
        i == 0 ? "\(name)[0]" : i == 1 ? "\(name)[\(stride)]" : "\(name)[\(i) * \(stride)]"
    }

    /// `a * x[0] - x[s] + ...` over the non-zero coefficients.
    private func combination(_ terms: [(coefficient: Int, name: String, index: Int)]) -> String {
        var text = ""
        for term in terms where term.coefficient != 0 {
            let operand = element(term.name, term.index, "s")
            let magnitude = abs(term.coefficient) == 1 ? operand : "\(abs(term.coefficient)) * \(operand)"
            text += text.isEmpty ? (term.coefficient < 0 ? "-" + magnitude : magnitude)
                                 : (term.coefficient < 0 ? " - " : " + ") + magnitude
        }
        return text
    }

    private func assignment(_ name: String, _ i: Int, _ stride: String, _ terms: [(Int, String, Int)]) -> String {
        "  \(element(name, i, stride)) = \(combination(terms.map { (coefficient: $0.0, name: $0.1, index: $0.2) }));"
    }
}
