/// Copies `rows` with each row scaled to unit l2 norm.
///
/// Norms below `1e-12` are clamped like `torch.nn.functional.normalize`, so a zero row
/// stays zero instead of becoming NaN.
func l2NormalizedRows(_ rows: [Float], count: Int, dim: Int) -> [Float] {
    var result = rows
    result.withUnsafeMutableBufferPointer { buffer in
        for row in 0..<count {
            let start = row * dim
            var sumOfSquares = 0.0
            for i in start..<(start + dim) { sumOfSquares += Double(buffer[i]) * Double(buffer[i]) }
            let scale = Float(1 / max(sumOfSquares.squareRoot(), 1e-12))
            for i in start..<(start + dim) { buffer[i] *= scale }
        }
    }
    return result
}

/// Dot product of two `length`-long Float vectors, eight lanes at a time.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ length: Int) -> Float {
    var lanes = SIMD8<Float>()
    var i = 0
    while i + 8 <= length {
        lanes += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var total = lanes.sum()
    while i < length {
        total += a[i] * b[i]
        i += 1
    }
    return total
}

/// `y += alpha * x` over `length` Floats.
@inline(__always)
func addScaled(_ x: UnsafePointer<Float>, times alpha: Float, to y: UnsafeMutablePointer<Float>, _ length: Int) {
    let alphaLanes = SIMD8<Float>(repeating: alpha)
    var i = 0
    while i + 8 <= length {
        let sum = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            + alphaLanes * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: sum, as: SIMD8<Float>.self)
        i += 8
    }
    while i < length {
        y[i] += alpha * x[i]
        i += 1
    }
}
