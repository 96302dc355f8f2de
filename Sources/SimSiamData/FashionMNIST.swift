import Foundation

/// The Fashion-MNIST dataset in IDX files, as Debian's
/// `dataset-fashion-mnist` installs it.
public enum FashionMNIST {
    /// Which half of the dataset to read: 60,000 training images (`train-*`)
    /// or 10,000 test images (`t10k-*`).
    public typealias Split = DatasetSplit

    /// Where `dataset-fashion-mnist` installs the files.
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
    /// Number of classes; labels are 0..<classCount.
    public static let classCount = 10
    /// The class names, by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Reads the images and labels of `split` from `directory`, preferring
    /// `<prefix>-images-idx3-ubyte.gz` and falling back to the uncompressed name.
    /// - Throws: `DatasetError` for a missing or malformed file, images that
    ///   are not 3-dimensional, a count mismatch, or a label out of range.
    public static func load(directory: URL = defaultDirectory, split: Split) throws -> LabeledImages {
        let imagesURL = file(in: directory, named: "\(split.filePrefix)-images-idx3-ubyte")
        let labelsURL = file(in: directory, named: "\(split.filePrefix)-labels-idx1-ubyte")
        let images = try IDXFile.read(imagesURL)
        let labels = try IDXFile.read(labelsURL)
        guard images.dims.count == 3 else {
            throw DatasetError("image file \(imagesURL.path) has dimensions \(images.dims), expected [count, height, width]")
        }
        guard labels.dims.count == 1 else {
            throw DatasetError("label file \(labelsURL.path) has dimensions \(labels.dims), expected [count]")
        }
        guard images.dims[0] == labels.dims[0] else {
            throw DatasetError(
                "image file \(imagesURL.path) holds \(images.dims[0]) images but label file "
                    + "\(labelsURL.path) holds \(labels.dims[0]) labels")
        }
        if let index = labels.bytes.firstIndex(where: { Int($0) >= classCount }) {
            throw DatasetError(
                "label file \(labelsURL.path) has label \(labels.bytes[index]) at index \(index), "
                    + "expected 0..<\(classCount)")
        }
        return LabeledImages(
            count: images.dims[0], height: images.dims[1], width: images.dims[2],
            pixels: images.bytes, labels: labels.bytes)
    }

    /// `<name>.gz` in `directory`, or `<name>` when only the uncompressed file exists.
    private static func file(in directory: URL, named name: String) -> URL {
        let compressed = directory.appendingPathComponent(name + ".gz")
        let plain = directory.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: compressed.path) && FileManager.default.fileExists(atPath: plain.path) {
            return plain
        }
        return compressed
    }
}

extension DatasetSplit {
    /// The file-name prefix Fashion-MNIST uses for this split.
    fileprivate var filePrefix: String { self == .train ? "train" : "t10k" }
}
