import Foundation
import SimSiamData
import Testing

/// Fuzzes `IDXFile.parse` and `IDXFile.read` (plain and gzip'd files), and
/// pins the rejections of huge dimension claims and of gzip's own reports.
@Suite struct IDXFuzzTests {
    /// The CI share: fixed, and a few seconds in a debug build (one input in
    /// 16 is gzip'd and costs a `/bin/gzip` process).
    static let ciInputs = 5_000

    /// Rejections name the magic, the type code, the dimensions, or gzip.
    static let fieldWords = ["magic", "type code", "dimensions", "gzip"]

    static func target() throws -> FuzzTarget<DatasetError> {
        // One seed compressed by real gzip, so mutations also hit Huffman-coded
        // blocks, not only the stored blocks `StoredGzip` writes.
        let deflated = try gzip(IDXSketch.seeds[5].bytes)
        let mutator = ByteMutator(maximumLength: 4_096)
        return FuzzTarget(
            readerName: "idx", fieldWords: fieldWords, fileName: "input-idx3-ubyte",
            makeInput: { random in
                let bytes = mutator.mutateSketch(of: IDXSketch.seeds, structural: 0.6, random: &random)
                guard random.nextInt(below: 16) == 0 else { return FuzzInput(bytes: bytes) }
                // Valid gzip around the mutated IDX bytes, or mutated gzip bytes.
                var compressed = random.chance(0.2) ? deflated : StoredGzip.wrap(bytes)
                if random.chance(0.5) { compressed = mutator.mutate(compressed, donor: deflated, random: &random) }
                return FuzzInput(bytes: compressed, needsFile: true)
            },
            readData: { data, source in _ = try IDXFile.parse(data, source: source) },
            readFile: { url in _ = try IDXFile.read(url) })
    }

    /// `bytes` compressed by `/bin/gzip`.
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-c"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // Small inputs fit the pipe buffers, so writing all before reading cannot block.
        try input.fileHandleForWriting.write(contentsOf: bytes)
        try input.fileHandleForWriting.close()
        let compressed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](compressed)
    }

    @Test func survivesMutatedFiles() throws {
        try expectSurvivesFuzzing(Self.target(), ciInputs: Self.ciInputs)
    }

    @Test func theSeedsAreValidFilesPlainAndGzipped() throws {
        let directory = try ScratchDirectory.make()
        for (index, sketch) in IDXSketch.seeds.enumerated() {
            let array = try IDXFile.parse(Data(sketch.bytes), source: "seed")
            #expect(array.dims == sketch.dims.map(Int.init))
            let url = directory.appendingPathComponent("seed-\(index).gz")
            try Data(StoredGzip.wrap(sketch.bytes)).write(to: url)
            #expect(try IDXFile.read(url) == array)
        }
    }

    // MARK: Regressions

    @Test func dimensionsOf2To60ElementsAreAnErrorNotAnAllocation() throws {
        var sketch = IDXSketch(dims: [1 << 30, 1 << 30])
        sketch.dataLength = 16
        expectOneLineRejection(DatasetError.self, source: "huge", containing: ["dimensions", "1152921504606846976", "16"]) {
            _ = try IDXFile.parse(Data(sketch.bytes), source: "huge")
        }
        let url = try ScratchDirectory.make().appendingPathComponent("huge-idx3-ubyte.gz")
        try Data(StoredGzip.wrap(IDXSketch(dims: [1 << 20, 1 << 20, 1 << 20]).bytes)).write(to: url)
        expectOneLineRejection(DatasetError.self, source: url.path, containing: ["dimensions", "1152921504606846976"]) {
            _ = try IDXFile.read(url)
        }
    }

    @Test func dimensionsWhoseProductOverflowsAreAnError() {
        let sketch = IDXSketch(dims: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF])
        expectOneLineRejection(DatasetError.self, source: "overflow", containing: ["dimensions", "too large"]) {
            _ = try IDXFile.parse(Data(sketch.bytes), source: "overflow")
        }
    }

    /// Found by the fuzzer: gzip reports a bad CRC and a bad length on two
    /// lines, which reached the message as they were.
    @Test func gzipsSeveralComplaintsMakeOneLine() throws {
        var compressed = StoredGzip.wrap(IDXSketch.seeds[1].bytes)
        compressed[compressed.count - 8] ^= 1  // CRC
        compressed[compressed.count - 4] ^= 1  // length
        let url = try ScratchDirectory.make().appendingPathComponent("two-defects.gz")
        try Data(compressed).write(to: url)
        expectOneLineRejection(DatasetError.self, source: url.path, containing: ["gzip", "crc error", "length error"]) {
            _ = try IDXFile.read(url)
        }
    }
}
