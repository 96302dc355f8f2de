/// A zeroed, 64-byte aligned heap allocation freed when the object dies.
final class AlignedBuffer {
    static let alignment = 64

    let pointer: UnsafeMutableRawPointer
    /// The usable size requested (the allocation may be rounded up).
    let byteCount: Int

    init(byteCount: Int) {
        self.byteCount = byteCount
        let allocated = max(Self.alignment, (byteCount + Self.alignment - 1) / Self.alignment * Self.alignment)
        pointer = .allocate(byteCount: allocated, alignment: Self.alignment)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: allocated)
    }

    deinit {
        pointer.deallocate()
    }
}
