import Foundation

/// The per-image targets of the paper's "expectation over augmentations" variant
/// (Chen & He 2021, section 5.2): eta_x, kept across epochs by the trainer, is a
/// moving average of the network's outputs for image x,
/// eta_x^t = m * eta_x^{t-1} + (1 - m) * F_theta_t(T'(x)).
///
/// The graph (`SimSiamVariant.Targets.movingAverage`) takes eta_x^{t-1} of the
/// batch's images as its input "eta" and forms each view's target from it and the
/// other view's output, m * eta + (1 - m) * sg(z_other); after the step, the
/// bank stores the mean of the two targets, m * eta + (1 - m) * (z1 + z2) / 2,
/// with z1, z2 the step's outputs (computed by theta_t, before the update). So
/// every visit of an image (once per epoch) moves its eta once, as a memory bank
/// does, and symmetrisation counts as two samples of T'(x).
struct TargetBank {
    /// Images, output dimension and m.
    let count: Int, dim: Int, momentum: Float
    /// count x dim, row-major: eta_x of image x (its index in the training subset).
    private(set) var values: [Float]

    init(count: Int, dim: Int, momentum: Double) {
        self.count = count
        self.dim = dim
        self.momentum = Float(momentum)
        values = [Float](repeating: 0, count: count * dim)
    }

    /// The rows of `indices`, in order: the graph's "eta" input.
    func gather(_ indices: [Int]) -> [Float] {
        var rows = [Float](repeating: 0, count: indices.count * dim)
        for (row, index) in indices.enumerated() {
            rows[row * dim..<(row + 1) * dim] = values[index * dim..<(index + 1) * dim]
        }
        return rows
    }

    /// eta_x <- m * eta_x + (1 - m) * (z1_x + z2_x) / 2 for the images of one step.
    mutating func update(_ indices: [Int], z1: [Float], z2: [Float]) {
        let fresh = (1 - momentum) / 2
        for (row, index) in indices.enumerated() {
            for j in 0..<dim {
                let target = index * dim + j, source = row * dim + j
                values[target] = momentum * values[target] + fresh * (z1[source] + z2[source])
            }
        }
    }

    /// eta_x <- (z1_x + z2_x) / 2: the start, from the randomly initialised network.
    mutating func assign(_ indices: [Int], z1: [Float], z2: [Float]) {
        for (row, index) in indices.enumerated() {
            for j in 0..<dim { values[index * dim + j] = (z1[row * dim + j] + z2[row * dim + j]) / 2 }
        }
    }

    /// The bank's file beside a checkpoint: the state a resumed run needs besides the model's.
    static func url(besides checkpoint: URL) -> URL {
        checkpoint.deletingLastPathComponent().appendingPathComponent("eta-bank.safetensors")
    }

    /// Writes the bank with the training position it belongs to ("epoch:step"), so that a
    /// resumed run can tell it from the bank of another checkpoint.
    func write(to url: URL, position: Checkpoint.Position) throws {
        try SafeTensors.write([("eta", HostTensor(shape: [count, dim], floats: values))],
                              metadata: ["momentum": String(momentum), "position": Self.positionTag(position)], to: url)
    }

    static func positionTag(_ position: Checkpoint.Position) -> String { "\(position.epoch):\(position.step)" }

    /// The bank written by `write(to:position:)` at `position`, which must have this bank's shape.
    /// - Throws: `CompileError` naming the file when it is missing, of another shape, or of another position
    ///   (a run killed between writing its checkpoint and its bank).
    mutating func read(from url: URL, position: Checkpoint.Position) throws {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CompileError("--resume: \(url.path) is missing; a moving-average run keeps its per-image targets there "
                + "beside the checkpoint. Start the run again without --resume, or in another --run-dir")
        }
        let file = try SafeTensors.read(url: url)
        let saved = file.metadata["position"] ?? "none"
        guard saved == Self.positionTag(position) else {
            throw CompileError("--resume: \(url.path) holds the targets of epoch:step \(saved), the checkpoint is at "
                + "\(Self.positionTag(position)); the run stopped between writing the two. Start again without --resume")
        }
        let tensor = file.tensor(named: "eta")
        guard let tensor, tensor.shape == [count, dim], tensor.dtype == .float32 else {
            throw CompileError("--resume: \(url.path) holds no float32 eta of shape [\(count), \(dim)]; "
                + "it belongs to another run: start again without --resume")
        }
        values = tensor.floats
    }
}
