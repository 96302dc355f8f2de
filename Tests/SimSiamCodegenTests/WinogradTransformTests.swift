import Testing
@testable import SimSiamCodegen

/// The Winograd matrices against the direct 3x3 correlation, in double: a wrong
/// coefficient in any of B^T, A^T or G changes the tile.
struct WinogradTransformTests {
    @Test(arguments: [WinogradTransform.f2x2, WinogradTransform.f4x4])
    func tileEqualsDirectCorrelation(transform: WinogradTransform) {
        let (m, n) = (transform.m, transform.n)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        let d = (0..<n).map { _ in (0..<n).map { _ in random() } }
        let g = (0..<3).map { _ in (0..<3).map { _ in random() } }
        let gMatrix = transform.gNumerators.enumerated().map { i, row in row.map { Double($0) / Double(transform.gDenominators[i]) } }
        func product(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
            a.map { row in (0..<b[0].count).map { j in row.indices.reduce(0) { $0 + row[$1] * b[$1][j] } } }
        }
        func transposed(_ a: [[Double]]) -> [[Double]] { (0..<a[0].count).map { j in a.map { $0[j] } } }
        let bt = transform.bt.map { $0.map(Double.init) }, at = transform.at.map { $0.map(Double.init) }
        let u = product(product(gMatrix, g), transposed(gMatrix))
        let v = product(product(bt, d), transposed(bt))
        let y = product(product(at, zip(u, v).map { zip($0, $1).map(*) }), transposed(at))
        for i in 0..<m {
            for j in 0..<m {
                let direct = (0..<3).reduce(0.0) { sum, a in sum + (0..<3).reduce(0.0) { $0 + d[i + a][j + $1] * g[a][$1] } }
                #expect(abs(y[i][j] - direct) < 1e-12, "F(\(m)x\(m), 3x3) tile (\(i), \(j)): \(y[i][j]) != \(direct)")
            }
        }
    }

    /// F(4x4, 3x3)'s copy of the runtime carries the tile in every name, so that it and
    /// F(2x2, 3x3)'s can sit in one C file; F(2x2, 3x3)'s names stay as `winograd.h` writes them.
    @Test func runtimeNamesCarryTheTile() {
        let text = "#ifndef SIMSIAM_WINOGRAD_H\nstatic void conv_wino(const conv_wino_plan_t* p) { wino_input_1d(v, WINO_N); } /* winograd.h */"
        #expect(WinogradTransform.f4x4.named(text)
                == "#ifndef SIMSIAM_WINOGRAD4_H\nstatic void conv_wino4(const conv_wino4_plan_t* p) { wino4_input_1d(v, WINO4_N); } /* winograd.h */")
        #expect(WinogradTransform.f2x2.named(text) == text)
    }

    @Test func emittedTransformsUseEveryCoefficient() {
        let c = WinogradTransform.f4x4.cFunctions
        #expect(c.contains("o[0] = 2 * d[0] - 3 * d[s] - 4 * d[2 * s] + 3 * d[3 * s] + 2 * d[4 * s];"))
        #expect(c.contains("y[3 * ys] = m[s] - m[2 * s] + m[3 * s] - 8 * m[4 * s] + m[5 * s];"))
        #expect(c.contains("u[3 * us] = (-4 * g[0] - 2 * g[s] - g[2 * s]) / 30;"))
        #expect(c.contains("g[0] = u[0] / 2 + u[s] / 6 - u[2 * s] / 6 - 4 * u[3 * s] / 30 + u[4 * s] / 30;"))
    }
}
