import SimSiamData

/// A valid file held as its parts, so that mutations can target the format's
/// fields (header values, chunk lengths, checksums fixed up or not).
protocol FileSketch {
    var bytes: [UInt8] { get }
    mutating func mutate(random: inout SplitMix64)
}

extension CIFARSketch: FileSketch {}
extension IDXSketch: FileSketch {}
extension PNGSketch: FileSketch {}
extension JPEGSketch: FileSketch {}
extension NpySketch: FileSketch {}
extension NpzSketch: FileSketch {}

extension ByteMutator {
    /// One of `seeds`, changed by one to three structure-aware mutations with
    /// probability `structural`; inputs that got none, and 30% of those that
    /// did, then get byte-level mutations spliced with another seed.
    func mutateSketch<Sketch: FileSketch>(of seeds: [Sketch], structural: Double, random: inout SplitMix64) -> [UInt8] {
        var sketch = random.pick(seeds)
        let isStructural = random.chance(structural)
        if isStructural {
            for _ in 0..<random.nextInt(in: 1...3) { sketch.mutate(random: &random) }
        }
        var bytes = sketch.bytes
        if !isStructural || random.chance(0.3) {
            bytes = mutate(bytes, donor: random.pick(seeds).bytes, random: &random)
        }
        return bytes
    }
}
