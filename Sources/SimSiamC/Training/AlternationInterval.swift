/// How many SGD steps multi-step alternation (Chen & He 2021, section 5) holds
/// its cached targets eta_x = F_theta_t(T'(x)) fixed before computing them
/// again with the network of that time: `--alternate-every K|epoch`.
public enum AlternationInterval: Codable, Sendable, Equatable, CustomStringConvertible {
    /// k SGD steps; k = 1 is SimSiam up to how the targets are computed.
    case steps(Int)
    /// Every batch of an epoch (the paper's "1-epoch").
    case epoch

    /// Parses "10" or "epoch"; nil for anything else (including k < 1).
    public init?(argument: String) {
        if argument == "epoch" {
            self = .epoch
        } else if let steps = Int(argument), steps >= 1 {
            self = .steps(steps)
        } else {
            return nil
        }
    }

    /// The block length in an epoch of `batchesPerEpoch` steps. Blocks restart at
    /// every epoch so that a checkpoint at an epoch's end holds no cache: a k
    /// longer than an epoch is one epoch.
    public func steps(batchesPerEpoch: Int) -> Int {
        switch self {
        case .steps(let k): min(k, batchesPerEpoch)
        case .epoch: batchesPerEpoch
        }
    }

    /// The flag's value: "10" or "epoch".
    public var argument: String {
        switch self {
        case .steps(let k): "\(k)"
        case .epoch: "epoch"
        }
    }

    public var description: String {
        switch self {
        case .steps(let k): k == 1 ? "1 step" : "\(k) steps"
        case .epoch: "1 epoch"
        }
    }
}
