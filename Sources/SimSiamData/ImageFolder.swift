import Dispatch
import Foundation

/// A folder of PNG and JPEG images: one subfolder per class (torchvision's
/// ImageFolder layout; classes numbered in sorted name order), or the images
/// themselves, unlabelled.
public enum ImageFolder {
    /// The most classes a label byte can number.
    public static let maximumClasses = 256

    /// One class: its folder's name and its image files, sorted.
    public struct ClassFolder: Sendable, Equatable {
        public var name: String
        public var url: URL
        public var files: [URL]
    }

    /// What a folder holds.
    public enum Layout: Sendable, Equatable {
        /// One subfolder per class.
        case classes([ClassFolder])
        /// Image files directly in the folder, without labels.
        case unlabelled([URL])

        /// The image files, in load order, with their labels (0 when unlabelled).
        public var files: [(url: URL, label: UInt8)] {
            switch self {
            case .classes(let folders):
                return folders.enumerated().flatMap { label, folder in folder.files.map { ($0, UInt8(label)) } }
            case .unlabelled(let files):
                return files.map { ($0, 0) }
            }
        }
    }

    /// Names of the held-out subfolder next to train/, tried in order.
    public static let testFolderNames = ["test", "val"]

    /// The training and held-out folders of `directory`: its train/ and test/
    /// (or val/) subfolders when it has a train/ subfolder, else itself and none.
    public static func splitFolders(_ directory: URL) -> (train: URL, test: URL?) {
        func isFolder(_ url: URL) -> Bool {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        let train = directory.appendingPathComponent("train")
        guard isFolder(train) else { return (directory, nil) }
        let test = testFolderNames.map { directory.appendingPathComponent($0) }.first(where: isFolder)
        return (train, test)
    }

    /// Whether `url` names a PNG or JPEG file by its extension.
    public static func isImageFile(_ url: URL) -> Bool {
        ImageDecoder.fileExtensions.contains(url.pathExtension.lowercased())
    }

    /// How `directory` is laid out; hidden entries are ignored, and so are
    /// files with other extensions (counted in `ignored`).
    /// - Throws: `DatasetError` naming the folder: missing, empty, holding both
    ///   images and subfolders, an empty class folder, or too many classes.
    public static func scan(_ directory: URL) throws -> (layout: Layout, ignored: Int) {
        let entries = try listing(directory)
        let folders = entries.filter(\.isDirectory).map(\.url)
        let files = entries.filter { !$0.isDirectory }.map(\.url)
        let images = files.filter(isImageFile)
        if !folders.isEmpty && !images.isEmpty {
            throw DatasetError("folder \(directory.path) holds both image files (\(images[0].lastPathComponent), ...) and subfolders "
                + "(\(folders[0].lastPathComponent), ...): put every image in a class subfolder, or move the subfolders out")
        }
        if !images.isEmpty { return (.unlabelled(images), files.count - images.count) }
        guard !folders.isEmpty else {
            throw DatasetError("folder \(directory.path) holds no .png, .jpg or .jpeg files and no class subfolders")
        }
        guard folders.count <= maximumClasses else {
            throw DatasetError("folder \(directory.path) has \(folders.count) class subfolders; at most \(maximumClasses) classes are supported")
        }
        var ignored = files.count
        var classes: [ClassFolder] = []
        for folder in folders {
            var visited: Set<String> = []
            let contents = try recursiveFiles(folder, visited: &visited)
            let classImages = contents.filter(isImageFile)
            ignored += contents.count - classImages.count
            guard !classImages.isEmpty else {
                throw DatasetError("class folder \(folder.path) holds no .png, .jpg or .jpeg files: add its images or remove it "
                    + "(every subfolder of \(directory.path) is a class)")
            }
            classes.append(ClassFolder(name: folder.lastPathComponent, url: folder, files: classImages))
        }
        return (.classes(classes), ignored)
    }

    /// The images of `layout` decoded on all cores and converted to `shape`
    /// (see `ImageResampler`). With `skipBadImages`, a file that does not
    /// decode is left out and listed in `skipped`; otherwise the first such
    /// file, in load order, is the error.
    public static func load(
        _ layout: Layout, shape: ImageShape, skipBadImages: Bool, threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws -> (images: LabeledImages, skipped: [DatasetError], statistics: ConversionStatistics) {
        let files = layout.files
        var pixels = [UInt8](repeating: 0, count: files.count * shape.byteCount)
        var outcomes = [Result<ImageShape, DatasetError>](repeating: .success(shape), count: files.count)
        pixels.withUnsafeMutableBufferPointer { pixels in
            outcomes.withUnsafeMutableBufferPointer { outcomes in
                let shared = SharedOutputs(pixels: pixels, outcomes: outcomes)
                let chunks = max(1, min(threads, files.count))
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    for index in files.count * chunk / chunks..<files.count * (chunk + 1) / chunks {
                        shared.outcomes[index] = Result {
                            let image = try ImageDecoder.read(files[index].url)
                            ImageResampler.convert(image, to: shape, into: UnsafeMutableBufferPointer(
                                rebasing: shared.pixels[index * shape.byteCount..<(index + 1) * shape.byteCount]))
                            return ImageShape(channels: image.channels, height: image.height, width: image.width)
                        }.mapError { $0 as? DatasetError ?? DatasetError("\(files[index].url.path): \($0)") }
                    }
                }
            }
        }
        var kept: [Int] = [], skipped: [DatasetError] = [], statistics = ConversionStatistics(target: shape)
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .success(let original):
                kept.append(index)
                statistics.record(original)
            case .failure(let error):
                guard skipBadImages else {
                    throw DatasetError(error.message + "; pass --skip-bad-images to leave such files out")
                }
                skipped.append(error)
            }
        }
        if case .classes(let folders) = layout {
            let keptLabels = Set(kept.map { files[$0].label })
            if let empty = folders.indices.first(where: { !keptLabels.contains(UInt8($0)) }) {
                throw DatasetError("class folder \(folders[empty].url.path) has no readable image: all "
                    + "\(folders[empty].files.count) of its files were skipped as bad")
            }
        }
        if kept.count < files.count {
            var compacted = [UInt8](repeating: 0, count: kept.count * shape.byteCount)
            for (position, index) in kept.enumerated() {
                compacted[position * shape.byteCount..<(position + 1) * shape.byteCount] =
                    pixels[index * shape.byteCount..<(index + 1) * shape.byteCount]
            }
            pixels = compacted
        }
        let images = LabeledImages(count: kept.count, channels: shape.channels, height: shape.height, width: shape.width,
                                   pixels: pixels, labels: kept.map { files[$0].label })
        return (images, skipped, statistics)
    }

    /// The non-hidden entries of `directory`, sorted by name.
    private static func listing(_ directory: URL) throws -> [(url: URL, isDirectory: Bool)] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw DatasetError("cannot list folder \(directory.path): \(error.localizedDescription)")
        }
        return names.filter { !$0.hasPrefix(".") }.sorted().map { name in
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            return (url, isDirectory.boolValue)
        }
    }

    /// Every non-hidden file under `directory`, depth first in sorted order.
    /// A folder reached twice (a symbolic link back up the tree) is read once,
    /// so a link loop cannot recurse without end.
    private static func recursiveFiles(_ directory: URL, visited: inout Set<String>) throws -> [URL] {
        guard visited.insert(directory.resolvingSymlinksInPath().path).inserted else { return [] }
        return try listing(directory).flatMap { entry in
            entry.isDirectory ? try recursiveFiles(entry.url, visited: &visited) : [entry.url]
        }
    }
}

/// What loading did to the images: their original sizes and channel counts.
public struct ConversionStatistics: Sendable, Equatable {
    /// The shape every image was brought to.
    public let target: ImageShape
    /// Images read.
    public private(set) var count = 0
    /// Images whose height or width differed from the target's (resized).
    public private(set) var resized = 0
    /// Images whose channel count differed from the target's (converted).
    public private(set) var recoloured = 0
    /// The smallest and largest original height and width.
    public private(set) var heights: ClosedRange<Int>?
    public private(set) var widths: ClosedRange<Int>?

    /// Statistics of nothing yet, for images brought to `target`.
    public init(target: ImageShape) {
        self.target = target
    }

    mutating func record(_ original: ImageShape) {
        count += 1
        if original.height != target.height || original.width != target.width { resized += 1 }
        if original.channels != target.channels { recoloured += 1 }
        heights = heights.map { min($0.lowerBound, original.height)...max($0.upperBound, original.height) } ?? original.height...original.height
        widths = widths.map { min($0.lowerBound, original.width)...max($0.upperBound, original.width) } ?? original.width...original.width
    }

    /// "resized 37 of 200 images (sizes 20x24 to 64x64) to 32x32; converted 12 from grey to RGB", or nil when nothing changed.
    public var summary: String? {
        var parts: [String] = []
        if resized > 0, let heights, let widths {
            parts.append("resized \(resized) of \(count) images (heights \(heights.lowerBound)-\(heights.upperBound), "
                + "widths \(widths.lowerBound)-\(widths.upperBound)) to \(target.height)x\(target.width)")
        }
        if recoloured > 0 {
            parts.append("converted \(recoloured) \(target.channels == 1 ? "from RGB to grey" : "from grey to RGB")")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

/// The output buffers the decoding workers share; each writes disjoint indices.
private struct SharedOutputs: @unchecked Sendable {
    let pixels: UnsafeMutableBufferPointer<UInt8>
    let outcomes: UnsafeMutableBufferPointer<Result<ImageShape, DatasetError>>
}
