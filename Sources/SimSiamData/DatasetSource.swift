import Foundation

/// What `--data` points at, told apart by what is there.
public enum DatasetSource: Sendable, Equatable {
    /// Fashion-MNIST's IDX files (train-images-idx3-ubyte[.gz], ...) in a directory.
    case fashionMNIST(URL)
    /// CIFAR-10's binary batches in a directory (or its cifar-10-batches-bin/).
    case cifar10(URL)
    /// A folder of PNG and JPEG images: class subfolders, optionally under
    /// train/ and test/ (or val/), or the images themselves.
    case imageFolder(URL)
    /// A NumPy .npy or .npz file.
    case numpy(URL)

    /// The format's name in summaries.
    public var formatName: String {
        switch self {
        case .fashionMNIST: "Fashion-MNIST IDX files"
        case .cifar10: "CIFAR-10 binary batches"
        case .imageFolder: "image folder"
        case .numpy(let url): url.pathExtension.lowercased() == "npz" ? "NumPy .npz archive" : "NumPy .npy array"
        }
    }

    /// The path.
    public var url: URL {
        switch self {
        case .fashionMNIST(let url), .cifar10(let url), .imageFolder(let url), .numpy(let url): url
        }
    }

    /// The source `path` holds, or nil when the path does not exist or holds
    /// nothing recognised (the caller then says what it expected).
    /// - Parameter flag: the flag that gave the path, for the error (`--data`, `--eval-data`).
    /// - Throws: `DatasetError` for a file that is neither .npy nor .npz.
    public static func detect(_ path: URL, flag: String = "--data") throws -> DatasetSource? {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path.path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else {
            let head = (try? FileHandle(forReadingFrom: path)).flatMap { handle in
                defer { try? handle.close() }
                return try? handle.read(upToCount: 6)
            } ?? Data()
            if ["npy", "npz"].contains(path.pathExtension.lowercased()) || head.starts(with: NumPyFile.magic)
                || head.starts(with: [0x50, 0x4B, 0x03, 0x04])
            {
                return .numpy(path)
            }
            throw DatasetError("\(flag) \(path.path) is a file but not a NumPy .npy or .npz file; "
                + "pass a folder of images, a .npy/.npz file, or a directory of Fashion-MNIST or CIFAR-10 files")
        }
        func exists(_ name: String, in directory: URL = path) -> Bool {
            manager.fileExists(atPath: directory.appendingPathComponent(name).path)
        }
        let idx = ["train-images-idx3-ubyte", "t10k-images-idx3-ubyte"]
        if idx.contains(where: { exists($0) || exists($0 + ".gz") }) { return .fashionMNIST(path) }
        let batches = path.appendingPathComponent(CIFAR10.archiveDirectoryName)
        if ["data_batch_1.bin", "test_batch.bin"].contains(where: { exists($0) || exists($0, in: batches) }) {
            return .cifar10(path)
        }
        let entries = (try? manager.contentsOfDirectory(atPath: path.path))?.filter { !$0.hasPrefix(".") } ?? []
        let hasImagesOrFolders = entries.contains { name in
            let url = path.appendingPathComponent(name)
            var isFolder: ObjCBool = false
            return ImageFolder.isImageFile(url) || (manager.fileExists(atPath: url.path, isDirectory: &isFolder) && isFolder.boolValue)
        }
        return hasImagesOrFolders ? .imageFolder(path) : nil
    }
}
