import Foundation

extension TrainingData {
    /// Reads `--data` (and `--eval-data`) for a workload: the format is told
    /// by what the path holds, images are brought to the model's input shape,
    /// and the normalisation is the flags', the built-in dataset's, or
    /// computed from the training images.
    public static func load(for workload: Workload, configuration: TrainConfiguration) throws -> TrainingData {
        let dims = workload.imageShape.dims
        let shape = ImageShape(channels: dims[0], height: dims[1], width: dims[2])
        let skip = configuration.skipBadImages ?? false
        let dataset = try DatasetLoader.load(URL(fileURLWithPath: configuration.dataDirectory), shape: shape,
                                             labels: configuration.labelsFile.map(URL.init(fileURLWithPath:)), skipBadImages: skip)
        let train = dataset.train
        var test = dataset.test
        var notes = dataset.notes
        var heldOut = test.map { _ in "its held-out split" }
        if let evalPath = configuration.evalData {
            let evaluation = try DatasetLoader.load(URL(fileURLWithPath: evalPath), flag: "--eval-data", shape: shape,
                                                    labels: configuration.evalLabelsFile.map(URL.init(fileURLWithPath:)),
                                                    skipBadImages: skip)
            // A dataset with its own split contributes that; otherwise all of it is held out.
            test = evaluation.test ?? evaluation.train
            notes += evaluation.notes.map { "--eval-data: " + $0 }
            heldOut = "--eval-data \(evalPath)"
        }
        if let names = train.classNames, let split = test, let testNames = split.classNames, testNames != names {
            test = try matchClasses(split, to: names, heldOut: heldOut ?? "")
        }
        let classes = train.classNames?.count ?? largestLabel([train, test].compactMap { $0 }.filter(\.labelled)) + 1
        let unavailable: String? =
            !train.labelled ? "the training images have no labels (a flat folder of images, or arrays without labels)"
            : test == nil ? "no held-out images: put the images in train/ and test/ subfolders, or pass --eval-data"
            : !test!.labelled ? "the held-out images (\(heldOut ?? "")) have no labels" : nil

        var augmentation: AugmentationConfiguration
        var computed: (mean: [Float], std: [Float])?
        if let mean = configuration.normalizationMean, let std = configuration.normalizationStd {
            guard mean.count == shape.channels, std.count == shape.channels else {
                throw CompileError("--mean and --std need one value per channel: \(workload.name) takes \(shape.channels)-channel "
                    + "images, the run has \(mean.count) and \(std.count)")
            }
            augmentation = AugmentationConfiguration(mean: mean, std: std)
        } else if let builtin = dataset.builtinAugmentation {
            augmentation = builtin
        } else {
            let statistics = train.images.channelStatistics()
            // A channel that is constant in every image has nothing to scale; dividing by 1 leaves it centred.
            let std = statistics.std.map { $0 > 0 ? $0 : 1 }
            computed = (statistics.mean, std)
            augmentation = AugmentationConfiguration(mean: statistics.mean, std: std)
        }
        augmentation.cropScale = configuration.cropMinScale...1.0
        augmentation.brightness = configuration.jitterStrength
        augmentation.contrast = configuration.jitterStrength
        augmentation.jitterProbability = configuration.jitterProbability

        var summary = "\(dataset.source.formatName) \(dataset.source.url.path): \(train.images.count) train"
            + (test.map { " / \($0.images.count) held-out" } ?? "") + " images at \(shape)"
            + (train.labelled ? ", \(classes) classes" : ", unlabelled")
        if let names = train.classNames, names.count <= 12 { summary += " (\(names.joined(separator: ", ")))" }
        if let computed {
            notes.insert("normalisation from the training images: mean \(format(computed.mean)), std \(format(computed.std))", at: 0)
        }
        return TrainingData(train: train.images, test: unavailable == nil ? test?.images : nil, augmentation: augmentation,
                            classes: classes, evaluationUnavailable: unavailable, summary: summary, notes: notes,
                            computedNormalization: computed)
    }

    /// `split` with its labels renumbered to the training classes of the same folder names.
    private static func matchClasses(_ split: LoadedSplit, to names: [String], heldOut: String) throws -> LoadedSplit {
        let mapping = try split.classNames!.map { name in
            guard let index = names.firstIndex(of: name) else {
                throw DatasetError("held-out class folder '\(name)' (\(heldOut)) has no training class folder of that name; "
                    + "training classes: \(names.prefix(20).joined(separator: ", ")); classes are matched by folder name")
            }
            return UInt8(index)
        }
        let images = split.images
        return LoadedSplit(images: LabeledImages(count: images.count, channels: images.channels, height: images.height,
                                                 width: images.width, pixels: images.pixels, labels: images.labels.map { mapping[Int($0)] }),
                           labelled: true, classNames: names)
    }

    /// The largest label of any image in `splits`; 0 for none.
    private static func largestLabel(_ splits: [LoadedSplit]) -> Int {
        splits.map { Int($0.images.labels.max() ?? 0) }.max() ?? 0
    }

    private static func format(_ values: [Float]) -> String {
        values.map { String(format: "%.4f", $0) }.joined(separator: ",")
    }
}
