extension LabeledImages {
    /// Per-channel mean and (population) standard deviation of the pixels
    /// scaled to [0, 1]: the normalisation torchvision recipes compute for a
    /// new dataset. Summed in Double in a fixed order, so equal images give
    /// bit-identical statistics (a resumed run compares them).
    public func channelStatistics() -> (mean: [Float], std: [Float]) {
        let plane = height * width
        var sums = [Double](repeating: 0, count: channels), squares = [Double](repeating: 0, count: channels)
        pixels.withUnsafeBufferPointer { pixels in
            for image in 0..<count {
                for channel in 0..<channels {
                    // Integer sums per plane are exact; one Double add per plane keeps the order fixed.
                    var sum = 0, square = 0
                    for value in pixels[(image * channels + channel) * plane..<(image * channels + channel + 1) * plane] {
                        sum += Int(value)
                        square += Int(value) * Int(value)
                    }
                    sums[channel] += Double(sum)
                    squares[channel] += Double(square)
                }
            }
        }
        let samples = Double(count * plane)
        let mean = sums.map { $0 / samples / 255 }
        let std = zip(squares, mean).map { square, mean in (max(square / samples / 65_025 - mean * mean, 0)).squareRoot() }
        return (mean.map(Float.init), std.map(Float.init))
    }
}
