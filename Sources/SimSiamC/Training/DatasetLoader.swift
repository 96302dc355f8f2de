import Foundation

/// One split as read, at the model's input shape, before normalisation.
struct LoadedSplit {
    var images: LabeledImages
    var labelled: Bool
    /// Class names by label (class folders, or a built-in dataset's), if known.
    var classNames: [String]?
}

/// Everything read from one `--data` (or `--eval-data`) path.
struct LoadedDataset {
    var source: DatasetSource
    var train: LoadedSplit
    var test: LoadedSplit?
    /// The dataset's own normalisation when it is a built-in one read at its own shape.
    var builtinAugmentation: AugmentationConfiguration?
    /// What reading did: conversions, skipped and ignored files.
    var notes: [String] = []
}

/// Reads whatever `--data` points at and brings its images to the model's input shape.
enum DatasetLoader {
    /// - Parameters:
    ///   - path: a directory (Fashion-MNIST, CIFAR-10, a folder of images) or a .npy/.npz file.
    ///   - shape: the model's input shape; other sizes and channel counts are converted.
    ///   - labels: an .npy of labels for .npy images (`--labels`).
    ///   - skipBadImages: leave out and count images that do not decode, instead of stopping.
    /// - Throws: `DatasetError` naming the file and field at fault; for a path
    ///   holding nothing recognised, the message of the workload's own dataset
    ///   (where to get Fashion-MNIST or CIFAR-10) or a list of what is read.
    static func load(_ path: URL, flag: String = "--data", shape: ImageShape, labels: URL?, skipBadImages: Bool) throws -> LoadedDataset {
        guard let source = try DatasetSource.detect(path, flag: flag) else { return try fallback(path, flag: flag, shape: shape) }
        switch source {
        case .fashionMNIST(let directory):
            return try builtin(source, shape: shape, native: AugmentationConfiguration.fashionMNIST, names: FashionMNIST.classNames,
                               train: FashionMNIST.load(directory: directory, split: .train),
                               test: FashionMNIST.load(directory: directory, split: .test))
        case .cifar10(let directory):
            return try builtin(source, shape: shape, native: AugmentationConfiguration.cifar10, names: CIFAR10.classNames,
                               train: CIFAR10.load(directory: directory, split: .train),
                               test: CIFAR10.load(directory: directory, split: .test))
        case .imageFolder(let directory):
            return try imageFolder(directory, source: source, shape: shape, skipBadImages: skipBadImages)
        case .numpy(let file):
            let (train, test) = try NumPyImages.read(file, labels: labels)
            var notes: [String] = []
            func converted(_ split: NumPyImages.Split, _ name: String) -> LoadedSplit {
                if split.images.shape != shape {
                    notes.append("converted the \(split.images.count) \(name) images from \(split.images.shape) to \(shape)")
                }
                return LoadedSplit(images: ImageResampler.convert(split.images, to: shape), labelled: split.labelled)
            }
            return LoadedDataset(source: source, train: converted(train, "training"), test: test.map { converted($0, "held-out") },
                                 notes: notes)
        }
    }

    /// Fashion-MNIST or CIFAR-10: exactly as read at their own shape (with
    /// their published normalisation), converted otherwise.
    private static func builtin(_ source: DatasetSource, shape: ImageShape, native: AugmentationConfiguration, names: [String],
                                train: LabeledImages, test: LabeledImages) throws -> LoadedDataset {
        if train.shape == shape {
            return LoadedDataset(source: source, train: LoadedSplit(images: train, labelled: true, classNames: names),
                                 test: LoadedSplit(images: test, labelled: true, classNames: names), builtinAugmentation: native)
        }
        return LoadedDataset(
            source: source, train: LoadedSplit(images: ImageResampler.convert(train, to: shape), labelled: true, classNames: names),
            test: LoadedSplit(images: ImageResampler.convert(test, to: shape), labelled: true, classNames: names),
            notes: ["converted every image from \(train.shape) to \(shape)"])
    }

    private static func imageFolder(_ directory: URL, source: DatasetSource, shape: ImageShape,
                                    skipBadImages: Bool) throws -> LoadedDataset {
        let folders = ImageFolder.splitFolders(directory)
        var notes: [String] = []
        func read(_ folder: URL, _ name: String) throws -> LoadedSplit {
            let (layout, ignored) = try ImageFolder.scan(folder)
            let (images, skipped, statistics) = try ImageFolder.load(layout, shape: shape, skipBadImages: skipBadImages)
            if let summary = statistics.summary { notes.append("\(name): \(summary)") }
            if !skipped.isEmpty {
                let shown = skipped.prefix(3).map(\.message).joined(separator: "; ")
                notes.append("\(name): skipped \(skipped.count) image file(s) that did not decode (--skip-bad-images): \(shown)"
                    + (skipped.count > 3 ? "; and \(skipped.count - 3) more" : ""))
            }
            if ignored > 0 { notes.append("\(name): ignored \(ignored) file(s) that are not .png, .jpg or .jpeg") }
            guard case .classes(let classes) = layout else { return LoadedSplit(images: images, labelled: false) }
            return LoadedSplit(images: images, labelled: true, classNames: classes.map(\.name))
        }
        let train = try read(folders.train, folders.test == nil ? "images" : "train/")
        let test = try folders.test.map { try read($0, $0.lastPathComponent + "/") }
        return LoadedDataset(source: source, train: train, test: test, notes: notes)
    }

    /// A path that holds no recognised dataset. A directory (or the default
    /// Fashion-MNIST location) gets the workload's own dataset reader's word
    /// on which file is missing and where to get it; a path that does not
    /// exist, or another workload, the list of formats read.
    private static func fallback(_ path: URL, flag: String, shape: ImageShape) throws -> LoadedDataset {
        let exists = FileManager.default.fileExists(atPath: path.path)
        if exists || path.standardizedFileURL == FashionMNIST.defaultDirectory.standardizedFileURL {
            if shape == ImageShape(channels: 1, height: 28, width: 28) {
                _ = try FashionMNIST.load(directory: path, split: .train)
            } else if shape == ImageShape(channels: 3, height: 32, width: 32) {
                _ = try CIFAR10.load(directory: path, split: .train)
            }
        }
        throw DatasetError("\(flag) \(path.path) \(exists ? "holds no dataset" : "does not exist"): pass a folder of .png/.jpg images "
            + "(one subfolder per class, optionally under train/ and test/), a .npy or .npz file, "
            + "or a directory of Fashion-MNIST IDX or CIFAR-10 binary files")
    }
}
