import Foundation

/// The CIFAR-10 dataset in its binary format
/// (`cifar-10-binary.tar.gz`, unpacked into `cifar-10-batches-bin/`).
/// Each file is a run of 3,073-byte records: one label byte, then the
/// 3x32x32 image channel-major (all red, all green, all blue), rows top first.
public enum CIFAR10 {
    /// Which half of the dataset to read: 50,000 training images
    /// (`data_batch_1.bin` ... `data_batch_5.bin`) or 10,000 test images (`test_batch.bin`).
    public typealias Split = DatasetSplit

    /// Where to download the binary version.
    public static let downloadURL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    /// The directory the archive unpacks into; `load` looks there too.
    public static let archiveDirectoryName = "cifar-10-batches-bin"
    /// Number of classes; labels are 0..<classCount.
    public static let classCount = 10
    /// The class names, by label.
    public static let classNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]
    /// Colour channels of every image.
    public static let channels = 3
    /// Height and width of every image.
    public static let side = 32
    /// Bytes of one record: the label byte and the pixels.
    public static let recordLength = 1 + channels * side * side

    /// The batch files of `split`, in the order their images are concatenated.
    public static func fileNames(for split: Split) -> [String] {
        switch split {
        case .train: (1...5).map { "data_batch_\($0).bin" }
        case .test: ["test_batch.bin"]
        }
    }

    /// Reads every batch file of `split` from `directory` (or from its
    /// `cifar-10-batches-bin` subdirectory when the files are there instead).
    /// - Throws: `DatasetError` naming the file: missing (with where to get
    ///   it), empty, a size that is not a whole number of records, or a label
    ///   out of range.
    public static func load(directory: URL, split: Split) throws -> LabeledImages {
        let names = fileNames(for: split)
        let folder = resolvedDirectory(directory, holding: names[0])
        var pixels: [UInt8] = []
        var labels: [UInt8] = []
        for name in names {
            let url = folder.appendingPathComponent(name)
            let records = try read(url)
            pixels.reserveCapacity(pixels.count + records.pixels.count)
            pixels += records.pixels
            labels += records.labels
        }
        return LabeledImages(
            count: labels.count, channels: channels, height: side, width: side, pixels: pixels, labels: labels)
    }

    /// Reads and checks one batch file.
    static func read(_ url: URL) throws -> (pixels: [UInt8], labels: [UInt8]) {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DatasetError(
                "CIFAR-10 file \(url.path) does not exist; download \(downloadURL), unpack it and "
                    + "pass --data DIR, the directory holding data_batch_1.bin ... data_batch_5.bin and test_batch.bin")
        }
        // The length is checked before reading, so a huge file that is not
        // whole records is rejected without allocating its size.
        if let size = try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize {
            try checkLength(size, source: url.path)
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DatasetError("cannot read CIFAR-10 file \(url.path): \(error.localizedDescription)")
        }
        return try parse(data, source: url.path)
    }

    /// Splits the records in `data` into labels and CHW pixels; `source` names them in errors.
    static func parse(_ data: Data, source: String) throws -> (pixels: [UInt8], labels: [UInt8]) {
        try checkLength(data.count, source: source)
        let count = data.count / recordLength
        let imageLength = recordLength - 1
        var labels = [UInt8](repeating: 0, count: count)
        var pixels = [UInt8](repeating: 0, count: count * imageLength)
        data.withUnsafeBytes { raw in
            pixels.withUnsafeMutableBytes { destination in
                for record in 0..<count {
                    let start = record * recordLength
                    labels[record] = raw[start]
                    destination.baseAddress!.advanced(by: record * imageLength)
                        .copyMemory(from: raw.baseAddress!.advanced(by: start + 1), byteCount: imageLength)
                }
            }
        }
        if let record = labels.firstIndex(where: { Int($0) >= classCount }) {
            throw DatasetError(
                "CIFAR-10 file \(source) has label \(labels[record]) in record \(record), expected 0..<\(classCount)")
        }
        return (pixels, labels)
    }

    /// Throws unless `byteCount` is a positive whole number of records.
    private static func checkLength(_ byteCount: Int, source: String) throws {
        guard byteCount > 0 else { throw DatasetError("CIFAR-10 file \(source) is empty") }
        guard byteCount % recordLength == 0 else {
            throw DatasetError(
                "CIFAR-10 file \(source) has \(byteCount) bytes, not a multiple of the "
                    + "\(recordLength)-byte record (1 label byte + 3x32x32 pixels); is it truncated?")
        }
    }

    /// `directory`, or its `cifar-10-batches-bin` subdirectory when only that holds `probe`,
    /// so that both the unpack target and the batches folder work as --data.
    private static func resolvedDirectory(_ directory: URL, holding probe: String) -> URL {
        let nested = directory.appendingPathComponent(archiveDirectoryName)
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: directory.appendingPathComponent(probe).path)
            && fileManager.fileExists(atPath: nested.appendingPathComponent(probe).path)
        {
            return nested
        }
        return directory
    }
}
