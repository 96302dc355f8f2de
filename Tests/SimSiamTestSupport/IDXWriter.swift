/// IDX files as Fashion-MNIST ships them, for tests that need one on disk.
public enum IDXWriter {
    /// IDX bytes: magic 00 00 <type> <rank>, big-endian dimensions, then `data`.
    public static func bytes(dims: [Int], data: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(dims.count)]
        for dimension in dims {
            bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: dimension >> $0) }
        }
        return bytes + data
    }
}
