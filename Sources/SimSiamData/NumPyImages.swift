import Foundation

/// Images and labels from NumPy arrays: `.npy` files, or `.npz` archives
/// (as numpy.savez and savez_compressed write them).
///
/// Images are uint8 (0-255), any other integer type holding 0-255, or
/// float32/float64 in [0, 1] (scaled by 255 and rounded; values within half
/// a level outside the range are clamped, further ones are an error). Layouts:
/// N x H x W is grey; N x H x W x C (NHWC) when the last dimension is 1 or 3;
/// otherwise N x C x H x W (NCHW) when the second is 1 or 3. When both could
/// be (N x 3 x W x 3), NHWC wins. Labels are a 1-d (or N x 1) integer array
/// of values 0-255.
public enum NumPyImages {
    /// Names of the image array in an .npz archive, tried in order.
    public static let imageNames = ["images", "x", "x_train", "train_images"]
    /// Names of the label array in an .npz archive, tried in order.
    public static let labelNames = ["labels", "y", "y_train", "train_labels"]
    /// Names of a held-out image array in the same archive (Keras' mnist.npz has x_test).
    public static let testImageNames = ["x_test", "test_images"]
    /// Names of the held-out labels.
    public static let testLabelNames = ["y_test", "test_labels"]
    /// Floats this far outside [0, 1] still count as 0 or 1 (half an 8-bit level).
    static let floatTolerance = 0.5 / 255

    /// Images at their own shape, CHW bytes, with labels when the arrays have them.
    public struct Split: Sendable {
        public var images: LabeledImages
        public var labelled: Bool
    }

    /// Reads `url` (.npy, or .npz by extension or zip signature): its images
    /// and labels, and a held-out split when an .npz holds one. `labelsURL`,
    /// an .npy of labels, takes the place of any labels in the archive.
    /// - Throws: `DatasetError` naming the file (and .npz entry) and the field at fault.
    public static func read(_ url: URL, labels labelsURL: URL? = nil) throws -> (train: Split, test: Split?) {
        let data = try readFile(url, kind: "NumPy", maximumBytes: NumPyFile.maximumFileBytes, mapped: true)
        return try parse(data, source: url.path, labels: try labelsURL.map { (try NumPyFile.read($0), $0.path) })
    }

    /// `read` on bytes in memory; `source` names them in errors, and
    /// `labels` is an array read elsewhere, with its source.
    public static func parse(_ data: Data, source: String, labels explicitLabels: (NumPyArray, String)? = nil) throws
        -> (train: Split, test: Split?)
    {
        guard data.starts(with: [0x50, 0x4B]) else {
            let array = try NumPyFile.parse(data, source: source)
            return (try split(images: array, source: source, labels: explicitLabels?.0, labelsSource: explicitLabels?.1 ?? ""), nil)
        }
        let archive = try ZipArchive(data, source: source)
        let names = archive.entries.filter { $0.name.hasSuffix(".npy") }.map { String($0.name.dropLast(4)) }
        func array(_ name: String) throws -> (NumPyArray, String) {
            let entry = archive.entries.first { $0.name == name + ".npy" }!
            let entrySource = "\(source):\(entry.name.prefix(80))"
            return (try NumPyFile.parse(try archive.contents(of: entry), source: entrySource), entrySource)
        }
        let imageName = imageNames.first(where: names.contains) ?? (names.count == 1 ? names[0] : nil)
        guard let imageName else {
            throw DatasetError("NumPy archive \(source) holds arrays \(names.prefix(8).map { "'\($0.prefix(40))'" }.joined(separator: ", ")), "
                + "none named 'images' or 'x': save the images as images=... (and the labels as labels=...)")
        }
        let (images, imageSource) = try array(imageName)
        var labels = explicitLabels
        if labels == nil, let name = labelNames.first(where: names.contains) { labels = try array(name) }
        let train = try split(images: images, source: imageSource, labels: labels?.0, labelsSource: labels?.1 ?? "")
        guard let testName = testImageNames.first(where: names.contains) else { return (train, nil) }
        let (testImages, testSource) = try array(testName)
        let testLabels = try testLabelNames.first(where: names.contains).map(array)
        return (train, try split(images: testImages, source: testSource, labels: testLabels?.0, labelsSource: testLabels?.1 ?? ""))
    }

    /// One split from an image array and an optional label array.
    static func split(images array: NumPyArray, source: String, labels: NumPyArray?, labelsSource: String) throws -> Split {
        let (shape, pixels) = try images(from: array, source: source)
        let count = array.shape[0]
        guard let labels else {
            return Split(images: LabeledImages(count: count, channels: shape.channels, height: shape.height, width: shape.width,
                                               pixels: pixels, labels: [UInt8](repeating: 0, count: count)), labelled: false)
        }
        let values = try self.labels(from: labels, source: labelsSource, imageCount: count, imageSource: source)
        return Split(images: LabeledImages(count: count, channels: shape.channels, height: shape.height, width: shape.width,
                                           pixels: pixels, labels: values), labelled: true)
    }

    /// The images of `array` as CHW bytes, and their shape.
    /// - Throws: `DatasetError` naming `source` and the 'shape', 'descr' or the first value out of range.
    public static func images(from array: NumPyArray, source: String) throws -> (shape: ImageShape, pixels: [UInt8]) {
        let dims = array.shape
        func fail(_ problem: String) -> DatasetError { DatasetError("NumPy file \(source) \(problem)") }
        let layout: (shape: ImageShape, channelsLast: Bool)
        switch dims.count {
        case 3: layout = (ImageShape(channels: 1, height: dims[1], width: dims[2]), false)
        case 4 where [1, 3].contains(dims[3]): layout = (ImageShape(channels: dims[3], height: dims[1], width: dims[2]), true)
        case 4 where [1, 3].contains(dims[1]): layout = (ImageShape(channels: dims[1], height: dims[2], width: dims[3]), false)
        default:
            throw fail("has 'shape' \(array.shapeDescription): images must be N x H x W (grey), N x H x W x C or N x C x H x W "
                + "with C = 1 (grey) or 3 (RGB)")
        }
        let shape = layout.shape
        guard dims[0] > 0 else { throw fail("has 'shape' \(array.shapeDescription): it holds no images") }
        guard shape.height > 0, shape.width > 0 else { throw fail("has 'shape' \(array.shapeDescription): images of zero height or width") }
        guard shape.height * shape.width <= ImageDecoder.maximumPixels else {
            throw fail("has 'shape' \(array.shapeDescription): images of more than \(ImageDecoder.maximumPixels) pixels")
        }
        var bytes = [UInt8](repeating: 0, count: array.count)
        if array.elementType == .integer(bytes: 1, signed: false) {
            bytes.withUnsafeMutableBytes { _ = array.data.copyBytes(to: $0) }
        } else {
            var problem: (index: Int, value: Double)?
            let isFloat = if case .float = array.elementType { true } else { false }
            array.forEachValue { index, value in
                if isFloat {
                    guard value >= -floatTolerance && value <= 1 + floatTolerance else {
                        problem = (index, value)
                        return false
                    }
                    bytes[index] = UInt8(min(max((value * 255).rounded(), 0), 255))
                } else {
                    guard value >= 0 && value <= 255 else {
                        problem = (index, value)
                        return false
                    }
                    bytes[index] = UInt8(value)
                }
                return true
            }
            if let (index, value) = problem {
                throw fail("has value \(describe(value)) at \(position(index, in: dims)) of its '\(array.descr)' data, outside "
                    + (isFloat ? "[0, 1]: float images must be scaled to [0, 1] (or saved as uint8 0-255)" : "0-255: integer images must be 8-bit values"))
            }
        }
        guard layout.channelsLast && shape.channels > 1 else { return (shape, bytes) }
        // HWC to CHW, image by image.
        var planar = [UInt8](repeating: 0, count: bytes.count)
        let plane = shape.height * shape.width
        for image in 0..<dims[0] {
            let base = image * shape.byteCount
            for pixel in 0..<plane {
                for channel in 0..<shape.channels {
                    planar[base + channel * plane + pixel] = bytes[base + pixel * shape.channels + channel]
                }
            }
        }
        return (shape, planar)
    }

    /// The labels in `array`, one per image.
    /// - Throws: `DatasetError` naming `source`: not integers, not 1-d, a
    ///   length that disagrees with the image count, or a value outside 0-255.
    public static func labels(from array: NumPyArray, source: String, imageCount: Int, imageSource: String) throws -> [UInt8] {
        func fail(_ problem: String) -> DatasetError { DatasetError("NumPy labels file \(source) \(problem)") }
        guard case .integer = array.elementType else {
            throw fail("has 'descr' '\(array.descr)': labels must be integers (class numbers 0, 1, ...)")
        }
        guard array.shape.count == 1 || (array.shape.count == 2 && array.shape[1] == 1) else {
            throw fail("has 'shape' \(array.shapeDescription): labels must be one number per image, shape (N,) or (N, 1)")
        }
        guard array.shape[0] == imageCount else {
            throw fail("has 'shape' \(array.shapeDescription): \(array.shape[0]) labels for the \(imageCount) images of \(imageSource)")
        }
        var labels = [UInt8](repeating: 0, count: imageCount)
        var problem: (index: Int, value: Double)?
        array.forEachValue { index, value in
            guard value >= 0 && value < Double(ImageFolder.maximumClasses) else {
                problem = (index, value)
                return false
            }
            labels[index] = UInt8(value)
            return true
        }
        if let (index, value) = problem {
            throw fail("has label \(describe(value)) at index \(index): labels must lie in 0-\(ImageFolder.maximumClasses - 1)")
        }
        return labels
    }

    /// A value read from an array, integers without a decimal point.
    static func describe(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e300 ? String(format: "%.0f", value) : "\(value)"
    }

    /// "[2, 0, 5, 7]": the index of flat element `index` in an array of `dims`.
    static func position(_ index: Int, in dims: [Int]) -> String {
        var rest = index
        var indices = [Int](repeating: 0, count: dims.count)
        for axis in dims.indices.reversed() where dims[axis] > 0 {
            indices[axis] = rest % dims[axis]
            rest /= dims[axis]
        }
        return "index [" + indices.map(String.init).joined(separator: ", ") + "]"
    }
}
