/// Bilinear resampling with PyTorch's `align_corners=False` convention:
/// output pixel centres map back to source coordinates
/// `src = (dst + 0.5) * inSize / outSize - 0.5`, clamped at 0 below and
/// to the last pixel above.
enum BilinearResize {
    /// Where one output coordinate samples its source axis: between `lower`
    /// and `upper` (absolute source indices), `fraction` of the way to `upper`.
    struct Tap {
        var lower: Int
        var upper: Int
        var fraction: Float
    }

    /// Taps for `outputCount` outputs sampling `count` source pixels starting at `start`.
    static func taps(start: Int, count: Int, outputCount: Int, into taps: UnsafeMutableBufferPointer<Tap>) {
        let scale = Float(count) / Float(outputCount)
        for index in 0..<outputCount {
            let source = max(scale * (Float(index) + 0.5) - 0.5, 0)
            let lower = min(Int(source), count - 1)
            let upper = min(lower + 1, count - 1)
            taps[index] = Tap(lower: start + lower, upper: start + upper, fraction: source - Float(lower))
        }
    }

    /// Samples `crop` of one CHW byte image into `outputHeight` x `outputWidth`
    /// floats per channel, scaled to [0, 1]; `mirrored` writes each row right to
    /// left, i.e. flips the result horizontally.
    static func resizedCrop(
        _ image: UnsafePointer<UInt8>, channels: Int, height: Int, width: Int, crop: CropRect,
        outputHeight: Int, outputWidth: Int, mirrored: Bool, into output: UnsafeMutablePointer<Float>
    ) {
        withUnsafeTemporaryAllocation(of: Tap.self, capacity: outputHeight + outputWidth) { buffer in
            let rowTaps = UnsafeMutableBufferPointer(rebasing: buffer[0..<outputHeight])
            let columnTaps = UnsafeMutableBufferPointer(rebasing: buffer[outputHeight...])
            taps(start: crop.top, count: crop.height, outputCount: outputHeight, into: rowTaps)
            taps(start: crop.left, count: crop.width, outputCount: outputWidth, into: columnTaps)
            for channel in 0..<channels {
                let plane = image + channel * height * width
                let outputPlane = output + channel * outputHeight * outputWidth
                for y in 0..<outputHeight {
                    let row = rowTaps[y]
                    let upperRow = plane + row.lower * width
                    let lowerRow = plane + row.upper * width
                    let outputRow = outputPlane + y * outputWidth
                    for x in 0..<outputWidth {
                        let column = columnTaps[x]
                        // Interpolate as a + (b - a) * t so that equal neighbours give
                        // exactly their value: a constant image stays constant.
                        let topLeft = Float(upperRow[column.lower])
                        let topRight = Float(upperRow[column.upper])
                        let bottomLeft = Float(lowerRow[column.lower])
                        let bottomRight = Float(lowerRow[column.upper])
                        let top = topLeft + (topRight - topLeft) * column.fraction
                        let bottom = bottomLeft + (bottomRight - bottomLeft) * column.fraction
                        // Divide (not multiply by 1/255) to match torchvision's ToTensor bit for bit.
                        let value = (top + (bottom - top) * row.fraction) / 255
                        outputRow[mirrored ? outputWidth - 1 - x : x] = value
                    }
                }
            }
        }
    }
}
