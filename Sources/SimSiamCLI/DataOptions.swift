import ArgumentParser
import Foundation
import SimSiamC

/// Where a run's images come from: `--data` and the flags that go with it.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The dataset: a folder of .png/.jpg images (one subfolder per class, optionally under train/ and test/; or "
            + "the images alone, unlabelled), a .npy/.npz file, or a directory of Fashion-MNIST IDX or CIFAR-10 binary files. "
            + "Images of another size or channel count are converted to the model's input.",
        discussion: "Default: Debian's dataset-fashion-mnist location for 1x28x28 workloads; other workloads need --data.",
        valueName: "path"))
    var data: String?

    @Option(help: ArgumentHelp(
        "Held-out images for the kNN monitor and the evaluation, in any --data format (default: the dataset's test/ "
            + "split, or an .npz's x_test).", valueName: "path"))
    var evalData: String?

    @Option(help: ArgumentHelp("Labels for .npy images: an .npy of integers, one per image.", valueName: "file.npy"))
    var labels: String?

    @Option(help: ArgumentHelp("Labels for .npy --eval-data images.", valueName: "file.npy"))
    var evalLabels: String?

    @Flag(help: "Leave out image files that do not decode, and count them, instead of stopping at the first.")
    var skipBadImages = false

    @Option(help: ArgumentHelp(
        "Per-channel normalisation mean, comma-separated, on the [0, 1] scale (default: Fashion-MNIST's or CIFAR-10's "
            + "constants for those datasets, else computed from the training images). Needs --std.", valueName: "m[,m,m]"))
    var mean: String?

    @Option(help: ArgumentHelp("Per-channel normalisation standard deviation, comma-separated. Needs --mean.", valueName: "s[,s,s]"))
    var std: String?

    func validate() throws {
        guard (mean == nil) == (std == nil) else { throw ValidationError("--mean and --std go together: give both, or neither") }
        _ = try Self.values(mean, "--mean", positive: false)
        _ = try Self.values(std, "--std", positive: true)
    }

    /// Sets the configuration's data fields from the flags.
    func apply(to configuration: inout TrainConfiguration) throws {
        configuration.evalData = evalData
        configuration.labelsFile = labels
        configuration.evalLabelsFile = evalLabels
        configuration.skipBadImages = skipBadImages ? true : nil
        configuration.normalizationMean = try Self.values(mean, "--mean", positive: false)
        configuration.normalizationStd = try Self.values(std, "--std", positive: true)
    }

    /// Replaces a stored run's data fields by the flags given (`eval --checkpoint`); the others stay the run's.
    func override(_ configuration: inout TrainConfiguration) throws {
        if let data { configuration.dataDirectory = data }
        if let evalData { (configuration.evalData, configuration.evalLabelsFile) = (evalData, evalLabels) }
        if let evalLabels { configuration.evalLabelsFile = evalLabels }
        if let labels { configuration.labelsFile = labels }
        if skipBadImages { configuration.skipBadImages = true }
        if let mean = try Self.values(mean, "--mean", positive: false), let std = try Self.values(std, "--std", positive: true) {
            (configuration.normalizationMean, configuration.normalizationStd) = (mean, std)
        }
    }

    /// `--data`, or the default for `workload`.
    /// - Throws: `CompileError` when the workload has no default dataset.
    func resolvedData(for workload: Workload) throws -> String {
        if let data { return data }
        let dims = workload.imageShape.dims
        guard dims == [1, 28, 28] else {
            throw CompileError("--data is needed for \(workload.name), which takes \(dims.map(String.init).joined(separator: "x")) "
                + "images: a folder of images, a .npy/.npz file, or CIFAR-10's binary batches (\(CIFAR10.downloadURL))")
        }
        return FashionMNIST.defaultDirectory.path
    }

    /// "0.5,0.4,0.3" as numbers: finite, and positive for --std.
    static func values(_ text: String?, _ flag: String, positive: Bool) throws -> [Float]? {
        guard let text else { return nil }
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0!.isFinite && (!positive || $0! > 0) }) else {
            throw ValidationError("\(flag) \(text): must be 1 or 3 comma-separated finite numbers\(positive ? " greater than 0" : "")")
        }
        guard [1, 3].contains(values.count) else {
            throw ValidationError("\(flag) \(text): must be 1 value (grey) or 3 (RGB), one per channel")
        }
        return values.map { $0! }
    }
}
