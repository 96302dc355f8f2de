/// The `k` most similar training rows seen so far for each test row of one block.
///
/// Each row keeps a min-heap on similarity, so the weakest kept neighbour is at the root
/// and `threshold(row)` lets the scan reject almost every candidate with one comparison.
struct NearestNeighbours {
    let k: Int
    private(set) var similarities: [Float]
    private(set) var labels: [Int32]
    private var filled: [Int]
    /// Similarity a candidate must beat; `-infinity` until the row holds `k` neighbours.
    private(set) var thresholds: [Float]

    init(rows: Int, k: Int) {
        self.k = k
        similarities = Array(repeating: 0, count: rows * k)
        labels = Array(repeating: 0, count: rows * k)
        filled = Array(repeating: 0, count: rows)
        thresholds = Array(repeating: -.infinity, count: rows)
    }

    /// Number of neighbours held for `row` (fewer than `k` only when the train set is smaller).
    func count(of row: Int) -> Int { filled[row] }

    /// Keeps the candidate if it beats the row's weakest neighbour; ties keep the earlier one.
    mutating func offer(row: Int, similarity: Float, label: Int32) {
        guard similarity > thresholds[row] else { return }
        let base = row * k
        if filled[row] < k {
            similarities[base + filled[row]] = similarity
            labels[base + filled[row]] = label
            filled[row] += 1
            if filled[row] == k {
                for node in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(base: base, from: node) }
                thresholds[row] = similarities[base]
            }
        } else {
            similarities[base] = similarity
            labels[base] = label
            siftDown(base: base, from: 0)
            thresholds[row] = similarities[base]
        }
    }

    private mutating func siftDown(base: Int, from start: Int) {
        var node = start
        while true {
            let left = 2 * node + 1
            guard left < k else { return }
            var smallest = left
            let right = left + 1
            if right < k && similarities[base + right] < similarities[base + left] { smallest = right }
            guard similarities[base + smallest] < similarities[base + node] else { return }
            similarities.swapAt(base + node, base + smallest)
            labels.swapAt(base + node, base + smallest)
            node = smallest
        }
    }
}
