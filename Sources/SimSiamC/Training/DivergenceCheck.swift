import Foundation

/// A parameter or BN buffer whose largest magnitude is past its bound (or not
/// finite): the run diverged although the loss may still look fine.
public struct OversizedTensor: Sendable, Equatable, CustomStringConvertible {
    /// PyTorch state_dict name, e.g. `backbone.bn1.running_var`.
    public var name: String
    /// max |value| over the tensor (NaN when it holds a NaN).
    public var largest: Double
    public var bound: Double
    /// What the bound is for: "parameters", "BN running means", "BN running variances".
    public var boundName: String
    /// Other tensors past their bounds at the same time.
    public var others: Int

    public var description: String {
        "\(name) holds |value| up to \(String(format: "%.3g", largest)) (bound \(String(format: "%.0e", bound)) for \(boundName))"
            + (others > 0 ? ", and \(others) more tensor\(others == 1 ? "" : "s") are past their bounds" : "")
    }
}

/// Divergence that produces no NaN in the loss: with a huge lr, SGD can blow up
/// the weights ahead of a batch norm while the BN output, and so the loss, stay
/// finite; only the running statistics (3.8e32 after `--lr 1e6` in issue 18's
/// run) and a kNN at chance show it. A NaN ahead of a BN + ReLU hides from the
/// loss too: the variance is clamped with fmax (NaN -> 0) and the ReLU maps NaN
/// to 0, while the running mean keeps it. Checked on the state after every
/// epoch, before it is saved.
enum DivergenceCheck {
    // The bounds and what runs showed (max |parameter|, max running_var, max
    // |running_mean| at the end of the run; W1 on 2048 images, batch 64, 2 epochs,
    // unless said otherwise):
    //   default lr 0.12, one full W1 epoch (batch 256)   0.99   4.8     1.2   kNN 70.2%
    //   default lr 0.12                                  1.01   3.1     1.5   kNN 64.9%
    //   lr 10 (83x)                                      1.13   98      3.2   kNN 64.8%
    //   lr 100                                           5.4    4.2e4   52    kNN 49.3%
    //   lr 1e4                                           18     1.5e5   155   kNN 55.4%
    //   lr 1e3                                           flagged after epoch 2: running_var 7.0e6
    //   tiny synthetic runs of the tests                 1.02   1.01    0.74
    // Healthy runs stay within a few units, and BN leaves the scale of the weights
    // ahead of it to the lr and weight decay, so that is the first thing a too-large
    // step inflates. The bounds sit 3 orders (parameters, means) and 5 orders
    // (variances, the square of an activation scale) above healthy values, so a
    // variant or a workload with larger activations is not flagged, and far below
    // where a blown-up run goes (3.8e32 running variances at --lr 1e6) and where
    // float32 overflows (3.4e38). The runs at lr 100 and 1e4 degrade (kNN 49-55%)
    // without crossing them: worse runs, not diverged ones.

    /// max |w| of any parameter (weights, biases, BN gamma and beta).
    static let parameterBound = 1e3
    /// max |running_mean|: an activation's scale.
    static let runningMeanBound = 1e3
    /// max running_var: the square of an activation's scale.
    static let runningVarBound = 1e6

    /// The tensor furthest past its bound (relative to the bound), or nil when all are within.
    static func oversized(in state: ModelState) -> OversizedTensor? {
        var found: [(tensor: OversizedTensor, ratio: Double)] = []
        for symbol in state.library.symbols {
            let bound: Double, boundName: String
            switch symbol.kind {
            case .trainable, .frozen: (bound, boundName) = (parameterBound, "parameters")
            case .runningMean: (bound, boundName) = (runningMeanBound, "BN running means")
            case .runningVar: (bound, boundName) = (runningVarBound, "BN running variances")
            case .numBatchesTracked, .input: continue
            }
            guard let values = state.tensor(named: symbol.name)?.doubles else { continue }
            // A NaN counts as past the bound, and as the worst.
            var largest = 0.0
            for value in values {
                if value.isNaN { largest = .nan; break }
                largest = max(largest, abs(value))
            }
            guard !(largest <= bound) else { continue }
            let tensor = OversizedTensor(name: symbol.name, largest: largest, bound: bound, boundName: boundName, others: 0)
            found.append((tensor, largest.isNaN ? .infinity : largest / bound))
        }
        guard var worst = found.max(by: { $0.ratio < $1.ratio })?.tensor else { return nil }
        worst.others = found.count - 1
        return worst
    }

    /// Whether a kNN top-1 is at chance: at most 1/classes + 0.5 points.
    static func isAtChance(_ knnTop1: Double, classes: Int) -> Bool {
        knnTop1 <= 1 / Double(max(classes, 1)) + 0.005
    }

    /// Whether z has collapsed to a few dimensions: an effective rank under 2% of its width.
    /// The per-dimension std misses this partial collapse (it stayed at 0.044 of 0.0442 while
    /// W1 at lr 0.24 fell from rank 104 to 2.5 and its kNN from 79.9% to 74.7%, docs/long-runs.md);
    /// healthy W1 runs dip to rank 23-28 of 512 and recover, the collapsing one sat under 8 from
    /// epoch 11 on.
    static func isRankCollapsed(_ effectiveRank: Double, dim: Int) -> Bool {
        effectiveRank < 0.02 * Double(dim)
    }
}
