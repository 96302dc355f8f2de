/// The similarity scan: a 4 x 8 register-blocked product of queries and train panels,
/// feeding each test row's running top-k.
extension KNNMonitor {
    /// Scores `rows` consecutive queries against every train panel and keeps the top `k`.
    static func scan(
        panels: TrainPanels, panelValues: UnsafePointer<Float>, queries: UnsafePointer<Float>,
        rows: Int, realRows: Int, into nearest: inout NearestNeighbours
    ) {
        let dim = panels.dim
        let width = TrainPanels.width
        let broadcasts = broadcastQueries(queries, rows: rows, dim: dim)
        broadcasts.withUnsafeBufferPointer { broadcasts in
            // Panels are taken a tile at a time so the tile stays in L2 while every query group
            // of the block runs over it: the bank streams from memory once per block.
            let panelsPerTile = max(1, panelTileBytes / (dim * width * MemoryLayout<Float>.size))
            for tileStart in stride(from: 0, to: panels.panelCount, by: panelsPerTile) {
                let tile = tileStart..<min(panels.panelCount, tileStart + panelsPerTile)
                for group in stride(from: 0, to: rows, by: testRowsPerGroup) {
                    for panel in tile {
                        let validLanes = panels.validLanes(of: panel)
                        let scores = scoreGroup(
                            broadcasts: broadcasts.baseAddress! + group * dim,
                            panel: panelValues + panel * dim * width, dim: dim)
                        func consider(_ similarities: SIMD8<Float>, row: Int) {
                            guard row < realRows else { return }
                            // Almost every panel loses to the row's current k-th neighbour; one
                            // vector maximum rejects it.
                            guard largestLane(similarities) > nearest.thresholds[row] else { return }
                            for lane in 0..<validLanes {
                                nearest.offer(row: row, similarity: similarities[lane],
                                              label: panels.labels[panel * width + lane])
                            }
                        }
                        consider(scores.0, row: group)
                        consider(scores.1, row: group + 1)
                        consider(scores.2, row: group + 2)
                        consider(scores.3, row: group + 3)
                    }
                }
            }
        }
    }

    /// Each query value repeated across four lanes, grouped `[group][dim][member]`.
    ///
    /// SSE has no broadcast-from-memory, so splatting once per block instead of once per
    /// panel takes a shuffle per multiply out of the kernel.
    private static func broadcastQueries(_ queries: UnsafePointer<Float>, rows: Int, dim: Int) -> [SIMD4<Float>] {
        var result = [SIMD4<Float>](repeating: .zero, count: rows * dim)
        for group in stride(from: 0, to: rows, by: testRowsPerGroup) {
            for member in 0..<testRowsPerGroup {
                for d in 0..<dim {
                    result[group * dim + d * testRowsPerGroup + member] =
                        SIMD4(repeating: queries[(group + member) * dim + d])
                }
            }
        }
        return result
    }

    /// Cosine similarities of a group of four queries with the eight train rows of a panel.
    @inline(__always)
    private static func scoreGroup(
        broadcasts: UnsafePointer<SIMD4<Float>>, panel: UnsafePointer<Float>, dim: Int
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        var low0 = SIMD4<Float>(), low1 = SIMD4<Float>(), low2 = SIMD4<Float>(), low3 = SIMD4<Float>()
        var high0 = SIMD4<Float>(), high1 = SIMD4<Float>(), high2 = SIMD4<Float>(), high3 = SIMD4<Float>()
        let raw = UnsafeRawPointer(panel)
        var query = broadcasts
        for d in 0..<dim {
            let low = raw.load(fromByteOffset: d * 32, as: SIMD4<Float>.self)
            let high = raw.load(fromByteOffset: d * 32 + 16, as: SIMD4<Float>.self)
            low0 = low0 + query[0] * low; high0 = high0 + query[0] * high
            low1 = low1 + query[1] * low; high1 = high1 + query[1] * high
            low2 = low2 + query[2] * low; high2 = high2 + query[2] * high
            low3 = low3 + query[3] * low; high3 = high3 + query[3] * high
            query += testRowsPerGroup
        }
        return (SIMD8(lowHalf: low0, highHalf: high0), SIMD8(lowHalf: low1, highHalf: high1),
                SIMD8(lowHalf: low2, highHalf: high2), SIMD8(lowHalf: low3, highHalf: high3))
    }

    /// The maximum of eight lanes by halving, which compiles to a few `maxps` instead of a lane loop.
    @inline(__always)
    private static func largestLane(_ lanes: SIMD8<Float>) -> Float {
        let four = pointwiseMax(lanes.lowHalf, lanes.highHalf)
        let two = pointwiseMax(four.lowHalf, four.highHalf)
        return max(two.x, two.y)
    }
}
