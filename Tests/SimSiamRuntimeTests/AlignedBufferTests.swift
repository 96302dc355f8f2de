import Testing
@testable import SimSiamRuntime

@Suite struct AlignedBufferTests {
    @Test func smallBuffersAreCacheLineAlignedAndZeroed() {
        let buffer = AlignedBuffer(byteCount: 1000)
        #expect(Int(bitPattern: buffer.pointer) % AlignedBuffer.alignment == 0)
        let bytes = buffer.pointer.bindMemory(to: UInt8.self, capacity: 1000)
        #expect((0..<1000).allSatisfy { bytes[$0] == 0 })
    }

    @Test func arenasAreHugePageAlignedAndZeroed() {
        let count = 5 * AlignedBuffer.hugePage + 12
        let buffer = AlignedBuffer(byteCount: count)
        #expect(Int(bitPattern: buffer.pointer) % AlignedBuffer.hugePage == 0)
        let bytes = buffer.pointer.bindMemory(to: UInt8.self, capacity: count)
        #expect(stride(from: 0, to: count, by: 4093).allSatisfy { bytes[$0] == 0 } && bytes[count - 1] == 0)
    }
}
