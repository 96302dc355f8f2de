/// Writes gzip files whose deflate stream is stored (uncompressed) blocks:
/// valid input for `/bin/gzip -d` built in-process, so the fuzzer can wrap a
/// mutated IDX file in gzip without running a compressor per input.
enum StoredGzip {
    /// `payload` as a gzip member: header, stored blocks of at most 65,535
    /// bytes (the last one marked final), CRC-32 and length, little-endian.
    static func wrap(_ payload: [UInt8]) -> [UInt8] {
        var output: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF]
        var start = 0
        repeat {
            let end = min(start + 0xFFFF, payload.count)
            let length = UInt16(end - start)
            output.append(end == payload.count ? 1 : 0)
            output += littleEndian(UInt32(length), bytes: 2) + littleEndian(UInt32(~length), bytes: 2)
            output += payload[start..<end]
            start = end
        } while start < payload.count
        return output + littleEndian(crc32(payload), bytes: 4)
            + littleEndian(UInt32(truncatingIfNeeded: payload.count), bytes: 4)
    }

    /// The CRC-32 gzip stores (IEEE polynomial, reflected), bit by bit: inputs are small.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    private static func littleEndian(_ value: UInt32, bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
