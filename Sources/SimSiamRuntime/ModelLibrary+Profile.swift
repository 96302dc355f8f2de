/// Time spent in one kernel of a profiling build since the last reset.
public struct KernelProfile: Sendable, Equatable {
    public let name: String
    public let calls: Int
    public let seconds: Double
    /// Useful floating-point operations per call (0 for memory-bound kernels).
    public let flopsPerCall: Double

    /// Achieved GFLOP/s, or nil for kernels without a FLOP count.
    public var gigaflopsPerSecond: Double? {
        flopsPerCall > 0 && seconds > 0 ? flopsPerCall * Double(calls) / seconds / 1e9 : nil
    }
}

extension ModelLibrary {
    private typealias ProfileEntry = @convention(c) (
        Int64, UnsafeMutablePointer<UnsafePointer<CChar>?>?, UnsafeMutablePointer<Int64>?,
        UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?
    ) -> Void
    private typealias ProfileReset = @convention(c) () -> Void

    /// Whether the library was compiled with `--profile` (it then times every kernel call).
    public var isProfiling: Bool { native.hasSymbol("simsiam_profile_count") }

    /// Per-kernel times accumulated since the last `resetProfile()`.
    /// - Throws: `RuntimeError` when the library was not compiled for profiling.
    public func profile() throws -> [KernelProfile] {
        let count = try native.function("simsiam_profile_count", as: LibraryEntryPoints.Int64Getter.self)()
        let entry = try native.function("simsiam_profile_entry", as: ProfileEntry.self)
        return (0..<count).map { index in
            var name: UnsafePointer<CChar>?
            var calls: Int64 = 0
            var seconds = 0.0, flops = 0.0
            entry(index, &name, &calls, &seconds, &flops)
            return KernelProfile(name: name.map { String(cString: $0) } ?? "kernel\(index)", calls: Int(calls),
                                 seconds: seconds, flopsPerCall: flops)
        }
    }

    /// Zeroes the per-kernel times.
    public func resetProfile() throws {
        try native.function("simsiam_profile_reset", as: ProfileReset.self)()
    }
}
