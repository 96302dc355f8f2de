/// The SplitMix64 generator (Steele, Lea & Flood, 2014): tiny, fast and good
/// enough for augmentation. Streams are derived from keys by hashing, so the
/// numbers an image receives depend only on (seed, epoch, image, view), never
/// on which thread or batch processes it.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The generator's whole state.
    public private(set) var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The SplitMix64 output function: a strong 64-bit bit mixer.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent generator for sub-stream `key` of this one; this one is unchanged.
    /// Chaining `derived(_:)` hashes a tuple of keys into one stream.
    public func derived(_ key: UInt64) -> SplitMix64 {
        // Mixing the key before combining keeps nearby keys (image 7, image 8) far apart.
        SplitMix64(seed: Self.mix(state ^ Self.mix(key &+ Self.golden)))
    }

    /// An independent generator for sub-stream `key`; negative keys are fine.
    public func derived(_ key: Int) -> SplitMix64 {
        derived(UInt64(bitPattern: Int64(key)))
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= Self.golden
        return Self.mix(state)
    }

    /// A double uniform in [0, 1), with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A double uniform in [lower, upper); exactly `lower` when the bounds are equal.
    public mutating func nextUniform(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * nextUnit()
    }

    /// An integer uniform in 0..<bound, unbiased (Lemire's multiply-and-reject).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }
}
