import Foundation
import SimSiamTestSupport

/// Writes small IDX files (plain or gzip'd) into a fresh temporary directory.
struct IDXFixtures {
    let directory: URL

    /// One directory per test process, removed when the process exits.
    private static let root: URL = {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("simsiam-data-tests-\(ProcessInfo.processInfo.processIdentifier)")
        atexit { try? FileManager.default.removeItem(at: IDXFixtures.root) }
        return root
    }()

    init() throws {
        directory = Self.root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// IDX bytes: magic 00 00 <type> <rank>, big-endian dims, then `data`.
    static func idxBytes(dims: [Int], data: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
        IDXWriter.bytes(dims: dims, data: data, type: type)
    }

    @discardableResult
    func write(_ bytes: [UInt8], name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// Writes `bytes` to `name` and compresses it to `name.gz` with /bin/gzip.
    @discardableResult
    func writeGzip(_ bytes: [UInt8], name: String) throws -> URL {
        let plain = try write(bytes, name: name)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-f", plain.path]
        try process.run()
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "gzip failed")
        return directory.appendingPathComponent(name + ".gz")
    }

    /// A dataset split with `count` 2x3 images and the given labels.
    func writeSplit(prefix: String, imageCount: Int, labels: [UInt8], compressed: Bool) throws {
        let pixels = (0..<imageCount * 6).map { UInt8($0 % 256) }
        let images = Self.idxBytes(dims: [imageCount, 2, 3], data: pixels)
        let labelBytes = Self.idxBytes(dims: [labels.count], data: labels)
        if compressed {
            try writeGzip(images, name: "\(prefix)-images-idx3-ubyte")
            try writeGzip(labelBytes, name: "\(prefix)-labels-idx1-ubyte")
        } else {
            try write(images, name: "\(prefix)-images-idx3-ubyte")
            try write(labelBytes, name: "\(prefix)-labels-idx1-ubyte")
        }
    }
}
