import Foundation
import SimSiamData
import SimSiamRuntime
import Testing

/// Fuzzes `SafeTensors.decode` and `SafeTensors.read(url:)`, and pins the
/// rejections of huge size claims and of names that would break a message.
@Suite struct SafeTensorsFuzzTests {
    /// The CI share: fixed, and a few seconds in a debug build.
    static let ciInputs = 5_000

    /// Rejections name the header, its metadata or a tensor's field.
    static let fieldWords = ["header", "__metadata__", "dtype", "shape", "data_offsets", "JSON object"]

    static func target() throws -> FuzzTarget<RuntimeError> {
        // The real writer's bytes join the seeds, so byte-level mutations also
        // start from exactly what the project writes.
        let written = try [UInt8](
            SafeTensors.encode(
                [("w", HostTensor(shape: [2, 2], floats: [1, 2, 3, 4])), ("n", HostTensor(shape: [], int64s: [7]))],
                metadata: ["epoch": "1"]))
        let mutator = ByteMutator(maximumLength: 4_096)
        return FuzzTarget(
            readerName: "safetensors", fieldWords: fieldWords, fileName: "input.safetensors",
            makeInput: { random in
                let seeds = SafeTensorsSketch.seeds(random: &random)
                var sketch = random.pick(seeds)
                let structural = random.chance(0.6)
                if structural {
                    for _ in 0..<random.nextInt(in: 1...3) { sketch.mutate(random: &random) }
                }
                var bytes = random.chance(0.1) ? written : sketch.bytes
                if !structural || random.chance(0.3) {
                    bytes = mutator.mutate(bytes, donor: random.pick(seeds.map(\.bytes) + [written]), random: &random)
                }
                return FuzzInput(bytes: bytes)
            },
            readData: { data, source in _ = try SafeTensors.decode(data, source: source) },
            readFile: { url in _ = try SafeTensors.read(url: url) })
    }

    @Test func survivesMutatedFiles() throws {
        try expectSurvivesFuzzing(Self.target(), ciInputs: Self.ciInputs)
    }

    @Test func theSeedsAreValidFiles() throws {
        var random = SplitMix64(seed: 3)
        for sketch in SafeTensorsSketch.seeds(random: &random) {
            _ = try SafeTensors.decode(Data(sketch.bytes), source: "seed")
        }
    }

    // MARK: Regressions

    /// A file whose header is `header` (padded) and whose data section is `dataBytes` zeros.
    static func file(header: String, dataBytes: Int, headerLength: UInt64? = nil) -> Data {
        var sketch = SafeTensorsSketch(entries: [], data: [UInt8](repeating: 0, count: dataBytes))
        sketch.headerOverride = Array(header.utf8)
        sketch.headerLength = headerLength
        return Data(sketch.bytes)
    }

    @Test func aShapeOf2To60ElementsIsAnErrorNotAnAllocation() {
        let small = Self.file(header: #"{"w":{"dtype":"F32","shape":[1152921504606846976],"data_offsets":[0,4]}}"#, dataBytes: 4)
        expectOneLineRejection(RuntimeError.self, source: "huge", containing: ["'w'", "shape", "4611686018427387904"]) {
            _ = try SafeTensors.decode(small, source: "huge")
        }
        let claimed = Self.file(
            header: #"{"w":{"dtype":"F64","shape":[1073741824,1073741824],"data_offsets":[0,9223372036854775807]}}"#,
            dataBytes: 8)
        expectOneLineRejection(RuntimeError.self, source: "huge", containing: ["'w'", "data_offsets", "8-byte data section"]) {
            _ = try SafeTensors.decode(claimed, source: "huge")
        }
    }

    @Test func aShapeWhoseByteCountOverflowsIsAnError() {
        let data = Self.file(
            header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}"#, dataBytes: 4)
        expectOneLineRejection(RuntimeError.self, source: "overflow", containing: ["'w'", "shape", "too large"]) {
            _ = try SafeTensors.decode(data, source: "overflow")
        }
    }

    @Test func aHeaderLengthNear2To64IsAnError() throws {
        let url = try ScratchDirectory.make().appendingPathComponent("length.safetensors")
        try Self.file(header: "{}", dataBytes: 0, headerLength: .max).write(to: url)
        expectOneLineRejection(RuntimeError.self, source: url.path, containing: ["18446744073709551615-byte header"]) {
            _ = try SafeTensors.read(url: url)
        }
    }

    @Test func aHeaderNestedDeeperThanTheParserAllowsIsInvalidJSON() {
        let nested = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let data = Self.file(header: nested, dataBytes: 0)
        expectOneLineRejection(RuntimeError.self, source: "deep", containing: ["header", "JSON"]) {
            _ = try SafeTensors.decode(data, source: "deep")
        }
    }

    /// Found by the fuzzer: a tensor name or dtype with a line break reached the message raw.
    @Test func lineBreaksInNamesAndDTypesAreEscaped() {
        let name = Self.file(header: #"{"a\nb":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#, dataBytes: 2)
        expectOneLineRejection(RuntimeError.self, source: "names", containing: [#"'a\nb'"#, "BF16"]) {
            _ = try SafeTensors.decode(name, source: "names")
        }
        let dtype = Self.file(header: #"{"w":{"dtype":"F32\u2028x","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4)
        expectOneLineRejection(RuntimeError.self, source: "dtypes", containing: ["'w'", #"'F32\u{2028}x'"#]) {
            _ = try SafeTensors.decode(dtype, source: "dtypes")
        }
    }

    /// Found by the fuzzer: the same file gave different messages from run to
    /// run, because the tensors were checked in dictionary order.
    @Test func ofSeveralBadTensorsTheFirstByNameIsReported() {
        let entries = "abcdefgh".map { #""\#($0)":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}"# }
        let data = Self.file(header: "{" + entries.joined(separator: ",") + "}", dataBytes: 2)
        expectOneLineRejection(RuntimeError.self, source: "several", containing: ["tensor 'a'", "dtype"]) {
            _ = try SafeTensors.decode(data, source: "several")
        }
    }
}
