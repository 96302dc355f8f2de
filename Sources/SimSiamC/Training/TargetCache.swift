/// The cached targets of multi-step alternation (Chen & He 2021, section 5):
/// before the first step of a block of k steps, the views of all k batches
/// and their targets eta = F_theta_t(view) are computed with the network of
/// that time t and kept; the k steps then train on them unchanged. Blocks are
/// laid out from the epoch's first step, so a block never spans two epochs.
struct TargetCache {
    /// One step's inputs: its two views and the targets for them.
    struct Entry {
        var batch: PreparedBatch
        /// F_theta_t(x1), F_theta_t(x2), [batch, d] row-major.
        var eta1: [Float], eta2: [Float]
    }

    /// k, at most an epoch's steps.
    let blockLength: Int
    let stepsPerEpoch: Int
    /// The steps the cache holds; empty before the first fill.
    private(set) var block: Range<Int> = 0..<0
    private var entries: [Entry] = []

    init(blockLength: Int, stepsPerEpoch: Int) {
        self.blockLength = max(1, min(blockLength, stepsPerEpoch))
        self.stepsPerEpoch = stepsPerEpoch
    }

    /// The block of `step`: [k * floor(step / k), that + k), cut at the epoch's end.
    func block(containing step: Int) -> Range<Int> {
        let start = step / blockLength * blockLength
        return start..<min(start + blockLength, stepsPerEpoch)
    }

    /// Whether `step` is the last of its block, where an interrupt may stop the run
    /// without losing a cache that a resumed run could not recompute from the same network.
    func endsBlock(_ step: Int) -> Bool { step + 1 == block(containing: step).upperBound }

    /// The entry of `step`, first filling the cache for its block with `fill`
    /// (called once per block, before any of the block's steps, with the
    /// block's steps in order) when `step` is outside the current block.
    /// `refreshed` says whether this call filled it.
    mutating func entry(for step: Int, fill: (Range<Int>) throws -> [Entry]) rethrows -> (entry: Entry, refreshed: Bool) {
        var refreshed = false
        if !block.contains(step) {
            let next = self.block(containing: step)
            entries = []  // the old block's memory goes before the new one is allocated
            entries = try fill(next)
            precondition(entries.count == next.count, "fill returned \(entries.count) entries for \(next.count) steps")
            block = next
            refreshed = true
        }
        return (entries[step - block.lowerBound], refreshed)
    }
}
