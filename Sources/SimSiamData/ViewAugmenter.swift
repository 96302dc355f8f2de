import Dispatch
import Foundation

/// Makes SimSiam's two augmented views of each image: RandomResizedCrop,
/// horizontal flip, optional brightness/contrast jitter in random order,
/// then per-channel normalisation; float32, NCHW.
///
/// Reproducible: view `v` of image `i` in epoch `e` draws from the stream
/// hashed from (seed, e, i, v), so the output is the same for any thread
/// count and any batch composition.
public struct ViewAugmenter: Sendable {
    /// What to do to each view.
    public let configuration: AugmentationConfiguration
    /// The seed every random stream derives from.
    public let seed: UInt64
    /// Number of images processed at once.
    public let threadCount: Int

    /// Keeps view streams apart from other streams derived from the same seed (e.g. the sampler's).
    static let streamDomain: UInt64 = 0x5649_4557  // "VIEW"

    /// Creates an augmenter; `threadCount` defaults to the active processor count.
    public init(
        configuration: AugmentationConfiguration, seed: UInt64,
        threadCount: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        precondition(threadCount > 0, "threadCount must be positive")
        self.configuration = configuration
        self.seed = seed
        self.threadCount = threadCount
    }

    /// The (height, width) of the views made from `images`.
    public func outputShape(for images: LabeledImages) -> (height: Int, width: Int) {
        (configuration.outputHeight ?? images.height, configuration.outputWidth ?? images.width)
    }

    /// Floats in one view of an image of `images`: channels x output height x output width.
    public func floatsPerView(for images: LabeledImages) -> Int {
        let shape = outputShape(for: images)
        return images.channels * shape.height * shape.width
    }

    /// The random choices of view `view` (0 or 1) of image `imageIndex` in `epoch`.
    public func viewParameters(
        imageIndex: Int, epoch: Int, view: Int, height: Int, width: Int
    ) -> ViewParameters {
        var generator = SplitMix64(seed: seed).derived(Self.streamDomain)
            .derived(epoch).derived(imageIndex).derived(view)
        return ViewParameters.draw(height: height, width: width, configuration: configuration, using: &generator)
    }

    /// Writes view 0 of each image `indices[k]` to `x1` and view 1 to `x2`,
    /// at offset `k * floatsPerView(for: images)`; both buffers hold exactly
    /// `indices.count` views.
    public func makeViews(
        images: LabeledImages, indices: [Int], epoch: Int,
        into x1: UnsafeMutableBufferPointer<Float>, _ x2: UnsafeMutableBufferPointer<Float>
    ) {
        let viewSize = floatsPerView(for: images)
        precondition(x1.count == indices.count * viewSize && x2.count == indices.count * viewSize,
            "makeViews needs buffers of \(indices.count) x \(viewSize) floats")
        checkCompatible(images, indices: indices)
        let outputs = SendableBuffers(views: [x1, x2])
        images.pixels.withUnsafeBufferPointer { pixels in
            let source = SendablePixels(base: pixels.baseAddress!)
            forEachImage(count: indices.count) { position in
                for view in 0..<2 {
                    let output = outputs.views[view].baseAddress! + position * viewSize
                    renderView(images: images, source: source.base, imageIndex: indices[position], epoch: epoch,
                        view: view, into: UnsafeMutableBufferPointer(start: output, count: viewSize))
                }
            }
        }
    }

    /// The two views of each image `indices[k]`, each `indices.count` x channels x height x width.
    public func makeViews(images: LabeledImages, indices: [Int], epoch: Int) -> (x1: [Float], x2: [Float]) {
        let count = indices.count * floatsPerView(for: images)
        var x2 = [Float](repeating: 0, count: count)
        let x1 = [Float](unsafeUninitializedCapacity: count) { x1, initialized in
            x2.withUnsafeMutableBufferPointer { x2 in
                makeViews(images: images, indices: indices, epoch: epoch, into: x1, x2)
            }
            initialized = count
        }
        return (x1, x2)
    }

    /// Un-augmented images `indices[k]` at their own size, scaled to [0, 1] and
    /// normalised, for evaluation (kNN bank, linear probe); NCHW.
    public func normalized(images: LabeledImages, indices: [Int]) -> [Float] {
        checkCompatible(images, indices: indices)
        let size = images.pixelsPerImage
        let planeSize = images.height * images.width
        return [Float](unsafeUninitializedCapacity: indices.count * size) { output, initialized in
            let destination = SendableBuffers(views: [output])
            images.pixels.withUnsafeBufferPointer { pixels in
                let source = SendablePixels(base: pixels.baseAddress!)
                forEachImage(count: indices.count) { position in
                    let image = source.base + indices[position] * size
                    let out = destination.views[0].baseAddress! + position * size
                    for index in 0..<size {
                        out[index] = Float(image[index]) / 255
                    }
                    normalize(UnsafeMutableBufferPointer(start: out, count: size), planeSize: planeSize)
                }
            }
            initialized = indices.count * size
        }
    }

    /// One view: crop and resize (mirrored if drawn), jitter, normalise.
    private func renderView(
        images: LabeledImages, source: UnsafePointer<UInt8>, imageIndex: Int, epoch: Int, view: Int,
        into output: UnsafeMutableBufferPointer<Float>
    ) {
        let (outputHeight, outputWidth) = outputShape(for: images)
        let parameters = viewParameters(
            imageIndex: imageIndex, epoch: epoch, view: view, height: images.height, width: images.width)
        BilinearResize.resizedCrop(
            source + imageIndex * images.pixelsPerImage, channels: images.channels,
            height: images.height, width: images.width, crop: parameters.crop,
            outputHeight: outputHeight, outputWidth: outputWidth, mirrored: parameters.flipped,
            into: output.baseAddress!)
        let planeSize = outputHeight * outputWidth
        parameters.jitter?.apply(to: output, channels: images.channels, planeSize: planeSize)
        normalize(output, planeSize: planeSize)
    }

    /// `(value - mean[c]) / std[c]` on each channel plane, as torchvision's `Normalize`.
    private func normalize(_ image: UnsafeMutableBufferPointer<Float>, planeSize: Int) {
        for channel in 0..<configuration.channels {
            let mean = configuration.mean[channel]
            let std = configuration.std[channel]
            for index in channel * planeSize..<(channel + 1) * planeSize {
                image[index] = (image[index] - mean) / std
            }
        }
    }

    /// Runs `body(position)` for every position in 0..<count, split into
    /// contiguous chunks over up to `threadCount` threads.
    private func forEachImage(count: Int, _ body: @Sendable (Int) -> Void) {
        let chunks = min(threadCount, count)
        guard chunks > 1 else {
            for position in 0..<count { body(position) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for position in count * chunk / chunks..<count * (chunk + 1) / chunks {
                body(position)
            }
        }
    }

    private func checkCompatible(_ images: LabeledImages, indices: [Int]) {
        precondition(images.channels == configuration.channels,
            "augmentation normalises \(configuration.channels) channel(s) but images have \(images.channels)")
        precondition(indices.allSatisfy { (0..<images.count).contains($0) }, "image index out of range")
    }
}

/// Output buffers shared by the workers; each writes a disjoint range.
private struct SendableBuffers: @unchecked Sendable {
    let views: [UnsafeMutableBufferPointer<Float>]
}

/// The read-only source pixels shared by the workers.
private struct SendablePixels: @unchecked Sendable {
    let base: UnsafePointer<UInt8>
}
