/// Deterministic pseudo-random numbers (xorshift64) for gradient checks:
/// random inputs, batch-norm affine parameters and probe directions, the
/// same on every machine for a given seed.
public struct XorShiftRandom: Sendable {
    public var state: UInt64

    /// Any seed works, 0 included (the state is forced odd, never zero).
    public init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    /// Uniform in [0, 1), 53 random bits.
    public mutating func next() -> Double {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Double(state >> 11) / Double(1 << 53)
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * next() }

    /// `count` values uniform in [low, high).
    public mutating func array(_ count: Int, _ low: Double = -1, _ high: Double = 1) -> [Double] {
        (0..<count).map { _ in uniform(low, high) }
    }
}
