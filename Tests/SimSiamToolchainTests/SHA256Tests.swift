import Foundation
import Testing

@testable import SimSiamToolchain

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func standardVectors(message: String, expected: String) {
        #expect(SHA256.hexDigest(of: message) == expected)
        #expect(SHA256.hexDigest(of: Array(message.utf8)) == expected)
        #expect(SHA256.hexDigest(of: Data(message.utf8)) == expected)
    }

    @Test func millionAs() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hexDigest(of: message) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Chunk sizes straddle the 64-byte block and the 56-byte padding boundary.
    @Test(arguments: [1, 7, 55, 56, 63, 64, 65, 1000])
    func incrementalUpdatesMatchOneShot(chunk: Int) {
        let message = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var hasher = SHA256()
        for start in stride(from: 0, to: message.count, by: chunk) {
            hasher.update(Array(message[start..<min(start + chunk, message.count)]))
        }
        #expect(hasher.hexDigest() == SHA256.hexDigest(of: message))
    }

    @Test func digestDoesNotConsumeTheHasher() {
        var hasher = SHA256()
        hasher.update("ab")
        _ = hasher.digest()
        hasher.update("c")
        #expect(hasher.hexDigest() == SHA256.hexDigest(of: "abc"))
    }
}
