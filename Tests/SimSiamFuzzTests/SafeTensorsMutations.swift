import SimSiamData

/// Structure-aware mutations of a safetensors file: each rewrites one header
/// field, the length field, the padding or the data section with a value
/// chosen to break a particular check.
extension SafeTensorsSketch {
    enum Mutation: CaseIterable {
        case shape, offsets, dtype, name, dropField, entryValue, metadata, headerLength, headerText, padding, dataLength
    }

    /// Shapes that claim 2^60 elements or more, overflow `Int`, or are not
    /// arrays of non-negative integers at all.
    static let interestingShapes = [
        "[1152921504606846976]", "[1073741824,1073741824]", "[1048576,1048576,1048576]",
        "[4294967296,4294967296,4294967296]", "[0,4611686018427387904,4611686018427387904]",
        "[4611686018427387904,4611686018427387904,0]", "[9223372036854775807]", "[9223372036854775808]",
        "[18446744073709551616]", "[1e300]", "[-1]", "[-9223372036854775808]", "[1.5]", "[\"2\"]",
        "[null]", "[true]", "[]", "[[2]]", "{}", "null", "\"[2]\"", "[2,3]", "[3]", "[1]",
        "[" + Array(repeating: "1", count: 40).joined(separator: ",") + "]",
    ]

    /// Dtypes that are unknown, of the wrong JSON type, or carry characters
    /// that must not reach a one-line message raw.
    static let interestingDTypes = [
        "\"BF16\"", "\"\"", "\"f32\"", "\"F32 \"", "\"F32\\n\"", "\"F32\\r\\nx\"", "\"\\u2028\"", "5", "null",
        "[\"F32\"]", "\"F64\"", "\"I64\"", "\"F32\"", "\"U8\"",
    ]

    /// Names needing escapes (line breaks, NUL, NEL), reserved, empty or long.
    static let interestingNames = [
        "\"a\\nb\"", "\"\"", "\"__metadata__\"", "\"\\u2028x\"", "\"\\u0000\"", "\"\\r\"", "\"\\u0085\"",
        "\"it's\"", "\"\\u00e9\\u6f22\"", "\"" + String(repeating: "x", count: 300) + "\"",
    ]

    static let interestingEntryValues = ["[]", "null", "\"F32\"", "1", "{}", "{\"dtype\":\"F32\"}"]

    static let interestingMetadata = [
        "[]", "{\"k\":1}", "{\"k\":{\"n\":\"v\"}}", "\"text\"", "null", "{\"k\\n\":\"v\"}", "{\"k\":\"v\\nw\"}",
        "{}", "{\"k\":null}",
    ]

    /// Applies one random structural mutation.
    mutating func mutate(random: inout SplitMix64) {
        let hasEntries = !entries.isEmpty
        let entry = hasEntries ? random.nextInt(below: entries.count) : 0
        switch random.pick(Mutation.allCases) {
        case .shape where hasEntries:
            entries[entry].shape = random.pick(Self.interestingShapes)
        case .offsets where hasEntries:
            entries[entry].offsets = random.pick(interestingOffsets(for: entries[entry]))
        case .dtype where hasEntries:
            entries[entry].dtype = random.pick(Self.interestingDTypes)
        case .name where hasEntries:
            // Another entry's name makes a duplicate key.
            entries[entry].name = random.pick(Self.interestingNames + entries.map(\.name))
        case .dropField where hasEntries:
            switch random.nextInt(below: 3) {
            case 0: entries[entry].dtype = nil
            case 1: entries[entry].shape = nil
            default: entries[entry].offsets = nil
            }
        case .entryValue where hasEntries:
            entries[entry].value = random.pick(Self.interestingEntryValues)
        case .metadata:
            metadata = random.pick(Self.interestingMetadata)
        case .headerLength:
            headerLength = interestingHeaderLength(random: &random)
        case .headerText:
            headerOverride = interestingHeader(random: &random)
        case .padding:
            padding = random.pick([0x00, 0x0A, 0x09, 0xFF, 0x7B])
        case .dataLength:
            if random.chance(0.5), !data.isEmpty {
                data.removeLast(random.nextInt(in: 1...min(8, data.count)))
            } else {
                data += random.bytes(random.nextInt(in: 1...16))
            }
        default:
            // A field mutation of a file without tensors: grow the header instead.
            metadata = random.pick(Self.interestingMetadata)
        }
    }

    /// Offsets reversed, empty, overlapping another tensor, out of the data
    /// section, huge, negative, of the wrong arity or not integers.
    private func interestingOffsets(for entry: Entry) -> [String] {
        let (begin, end) = (entry.begin, entry.end)
        let other = entries.first { $0.begin != begin } ?? entry
        return [
            "[\(end),\(begin)]", "[\(begin),\(begin)]", "[0,\(data.count)]", "[\(begin),\(end + 1)]",
            "[\(begin - 1),\(end)]", "[\(other.begin),\(other.begin + end - begin)]",
            "[0,4611686018427387904]", "[4611686018427387904,4611686018427387912]",
            "[9223372036854775807,9223372036854775807]", "[-9223372036854775808,0]",
            "[18446744073709551615,0]", "[\(begin)]", "[\(begin),\(end),\(end)]", "[]", "null",
            "[\"\(begin)\",\"\(end)\"]", "[0.5,\(end)]",
        ]
    }

    /// Header lengths past the end, just off the real one, zero, or near 2^64.
    private func interestingHeaderLength(random: inout SplitMix64) -> UInt64 {
        let actual = UInt64((headerJSON.count + 7) / 8 * 8)
        return random.pick([
            UInt64.max, 1 << 63, 1 << 60, UInt64(Int64.max), 0, actual + UInt64(random.nextInt(in: 1...8)),
            actual - min(actual, UInt64(random.nextInt(in: 1...8))), actual + UInt64(data.count),
            actual + UInt64(data.count) + 1,
        ])
    }

    /// Headers that are not a JSON object, nest deeper than any parser's
    /// limit, carry invalid UTF-8, a byte-order mark, or trailing junk.
    private func interestingHeader(random: inout SplitMix64) -> [UInt8] {
        let depth = random.pick([10, 511, 512, 513, 5_000, 100_000])
        let json = headerJSON
        switch random.nextInt(below: 8) {
        case 0: return Array(String(repeating: "[", count: depth).utf8) + Array(String(repeating: "]", count: depth).utf8)
        case 1: return Array(String(repeating: "{\"a\":", count: depth).utf8) + Array("1".utf8)
            + Array(String(repeating: "}", count: depth).utf8)
        case 2: return Array(random.pick(["[]", "\"text\"", "1", "null", "", "{", "}"]).utf8)
        case 3: return [0xEF, 0xBB, 0xBF] + json
        case 4: return json + Array(random.pick([" x", "{}", "\u{0}", ",{}"]).utf8)
        case 5:
            var bytes = json
            bytes.insert(contentsOf: random.pick([[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0x80]]),
                         at: random.nextInt(in: 0...bytes.count))
            return bytes
        case 6: return Array(json.dropLast(random.nextInt(in: 1...max(1, json.count))))
        default: return json.map { $0 == UInt8(ascii: "\"") && random.chance(0.1) ? UInt8(ascii: "'") : $0 }
        }
    }
}
