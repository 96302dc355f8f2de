/// Brings one image to another shape: grey and RGB convert to the target's
/// channel count, then the largest centred crop with the target's aspect
/// ratio is resampled to the target's size (area averaging along an axis
/// that shrinks, so large photos do not alias; bilinear along one that grows).
/// An image already of the target's size is copied unchanged.
public enum ImageResampler {
    /// Converts `source`, CHW of `from`, into `output`, CHW of `to`.
    public static func convert(
        _ source: UnsafeBufferPointer<UInt8>, from: ImageShape, to: ImageShape, into output: UnsafeMutableBufferPointer<UInt8>
    ) {
        precondition(source.count == from.byteCount && output.count == to.byteCount, "ImageResampler: buffer sizes disagree")
        precondition([1, 3].contains(from.channels) && [1, 3].contains(to.channels), "ImageResampler handles grey and RGB")
        let sourcePlane = from.height * from.width
        let targetPlane = to.height * to.width
        // Channel conversion first, at the source size; then each plane is resized.
        var converted = [UInt8](repeating: 0, count: to.channels * sourcePlane)
        if from.channels == to.channels {
            converted = Array(source)
        } else if from.channels == 1 {
            for channel in 0..<3 { converted.replaceSubrange(channel * sourcePlane..<(channel + 1) * sourcePlane, with: source) }
        } else {
            for index in 0..<sourcePlane {
                converted[index] = luma(source[index], source[sourcePlane + index], source[2 * sourcePlane + index])
            }
        }
        if from.height == to.height && from.width == to.width {
            _ = output.initialize(from: converted)
            return
        }
        let (rows, columns) = taps(from: from, to: to)
        var horizontal = [Float](repeating: 0, count: from.height * to.width)
        for channel in 0..<to.channels {
            let plane = channel * sourcePlane
            for y in 0..<from.height {
                for x in 0..<to.width {
                    var sum: Float = 0
                    for tap in columns[x] { sum += tap.weight * Float(converted[plane + y * from.width + tap.index]) }
                    horizontal[y * to.width + x] = sum
                }
            }
            for y in 0..<to.height {
                for x in 0..<to.width {
                    var sum: Float = 0
                    for tap in rows[y] { sum += tap.weight * horizontal[tap.index * to.width + x] }
                    output[channel * targetPlane + y * to.width + x] = UInt8(min(max(sum.rounded(), 0), 255))
                }
            }
        }
    }

    /// Converts one decoded (HWC) image to `shape`, CHW, into `output`.
    public static func convert(_ image: DecodedImage, to shape: ImageShape, into output: UnsafeMutableBufferPointer<UInt8>) {
        let plane = image.height * image.width
        var planar = [UInt8](repeating: 0, count: image.pixels.count)
        for index in 0..<plane {
            for channel in 0..<image.channels { planar[channel * plane + index] = image.pixels[index * image.channels + channel] }
        }
        planar.withUnsafeBufferPointer { source in
            convert(source, from: ImageShape(channels: image.channels, height: image.height, width: image.width),
                    to: shape, into: output)
        }
    }

    /// Every image of `images` converted to `shape`.
    public static func convert(_ images: LabeledImages, to shape: ImageShape) -> LabeledImages {
        guard images.shape != shape else { return images }
        var pixels = [UInt8](repeating: 0, count: images.count * shape.byteCount)
        images.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { output in
                for index in 0..<images.count {
                    convert(UnsafeBufferPointer(rebasing: source[index * images.pixelsPerImage..<(index + 1) * images.pixelsPerImage]),
                            from: images.shape, to: shape,
                            into: UnsafeMutableBufferPointer(rebasing: output[index * shape.byteCount..<(index + 1) * shape.byteCount]))
                }
            }
        }
        return LabeledImages(count: images.count, channels: shape.channels, height: shape.height, width: shape.width,
                             pixels: pixels, labels: images.labels)
    }

    /// Grey from RGB with ITU-R 601-2 luma weights in PIL's fixed point (its "L" mode), so
    /// that images converted here match images a user converted with PIL.
    static func luma(_ red: UInt8, _ green: UInt8, _ blue: UInt8) -> UInt8 {
        let weighted: UInt32 = UInt32(red) * 19_595 + UInt32(green) * 38_470 + UInt32(blue) * 7_471
        return UInt8((weighted + 0x8000) >> 16)
    }

    /// One source sample's share in an output sample.
    struct Tap {
        var index: Int
        var weight: Float
    }

    /// The taps of every output row and column: the centred crop with the target's aspect ratio.
    static func taps(from: ImageShape, to: ImageShape) -> (rows: [[Tap]], columns: [[Tap]]) {
        // The crop is fractional: its edges fall between pixels, which the area weights honour.
        let height = Double(from.height), width = Double(from.width)
        let targetAspect = Double(to.width) / Double(to.height)
        let wider = width / height > targetAspect
        let cropWidth: Double = wider ? height * targetAspect : width
        let cropHeight: Double = wider ? height : width / targetAspect
        let rows = axisTaps(count: from.height, start: (height - cropHeight) / 2, length: cropHeight, outputs: to.height)
        let columns = axisTaps(count: from.width, start: (width - cropWidth) / 2, length: cropWidth, outputs: to.width)
        return (rows, columns)
    }

    /// Taps for `outputs` samples covering source positions [start, start + length) of `count`.
    static func axisTaps(count: Int, start: Double, length: Double, outputs: Int) -> [[Tap]] {
        let scale = length / Double(outputs)
        return (0..<outputs).map { output in
            if scale >= 1 {
                // Area: each source pixel weighs by how much of it the output's interval covers.
                let low = start + Double(output) * scale, high = low + scale
                var taps: [Tap] = []
                for index in max(0, Int(low.rounded(.down)))..<min(count, Int(high.rounded(.up))) {
                    let overlap = min(high, Double(index + 1)) - max(low, Double(index))
                    if overlap > 1e-9 { taps.append(Tap(index: index, weight: Float(overlap / scale))) }
                }
                return taps
            }
            // Bilinear with pixel centres at half-integers (PyTorch's align_corners=False).
            let centre = min(max(start + (Double(output) + 0.5) * scale - 0.5, 0), Double(count - 1))
            let lower = Int(centre.rounded(.down)), upper = min(lower + 1, count - 1)
            let fraction = Float(centre - Double(lower))
            return upper == lower ? [Tap(index: lower, weight: 1)]
                : [Tap(index: lower, weight: 1 - fraction), Tap(index: upper, weight: fraction)]
        }
    }
}
