/// The l2-normalised train features regrouped for the similarity kernel.
///
/// Panel `p` holds train rows `8p ..< 8p + 8` transposed to `[dim][8]`, so one aligned
/// 8-lane load yields feature `d` of eight train rows; the kernel broadcasts a test value
/// against it. Rows past the end of the set are zero and are never offered as neighbours.
struct TrainPanels {
    static let width = 8

    let values: [Float]
    let labels: [Int32]
    let count: Int
    let dim: Int
    var panelCount: Int { (count + Self.width - 1) / Self.width }

    init(normalizedRows rows: [Float], labels: [Int], dim: Int) {
        let count = labels.count
        let panelCount = (count + Self.width - 1) / Self.width
        var values = [Float](repeating: 0, count: panelCount * dim * Self.width)
        for row in 0..<count {
            let panel = row / Self.width, lane = row % Self.width
            let panelStart = panel * dim * Self.width
            for d in 0..<dim { values[panelStart + d * Self.width + lane] = rows[row * dim + d] }
        }
        self.values = values
        self.labels = labels.map { Int32($0) }
        self.count = count
        self.dim = dim
    }

    /// How many lanes of `panel` are real train rows.
    func validLanes(of panel: Int) -> Int { min(Self.width, count - panel * Self.width) }
}
