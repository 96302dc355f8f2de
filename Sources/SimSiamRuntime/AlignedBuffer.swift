#if canImport(Glibc)
import Glibc
#endif

/// A zeroed, 64-byte aligned heap allocation freed when the object dies.
///
/// Large buffers (the arenas) are 2 MB aligned and, on Linux, asked to be backed
/// by transparent huge pages: the kernels stream tensors of tens of megabytes,
/// which 4 KB pages spread over more TLB entries than the CPU has.
final class AlignedBuffer {
    static let alignment = 64
    static let hugePage = 2 << 20

    let pointer: UnsafeMutableRawPointer
    /// The usable size requested (the allocation may be rounded up).
    let byteCount: Int

    init(byteCount: Int) {
        self.byteCount = byteCount
        let alignment = byteCount >= 4 * Self.hugePage ? Self.hugePage : Self.alignment
        let allocated = max(alignment, (byteCount + alignment - 1) / alignment * alignment)
        pointer = .allocate(byteCount: allocated, alignment: alignment)
        #if canImport(Glibc)
        if alignment == Self.hugePage { _ = madvise(pointer, allocated, Int32(MADV_HUGEPAGE)) }
        #endif
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: allocated)
    }

    deinit {
        pointer.deallocate()
    }
}
