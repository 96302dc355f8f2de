import SimSiamData

/// A safetensors file as the fuzzer edits it: each header field is kept as
/// JSON text, so a structure-aware mutation can put any JSON value (or none)
/// where the reader expects a dtype, a shape or an offset pair, and the
/// header length, padding and data section can each be made to lie.
struct SafeTensorsSketch {
    /// One tensor's header entry; a nil field is left out of the JSON.
    struct Entry {
        /// The name as a JSON string literal, quotes included.
        var name: String
        var dtype: String?
        var shape: String?
        var offsets: String?
        /// Replaces the whole `{dtype, shape, data_offsets}` object when set.
        var value: String?
        /// The entry's valid data offsets, for mutations relative to them.
        let begin: Int
        let end: Int
    }

    var entries: [Entry]
    /// The `__metadata__` value as JSON text; nil leaves it out.
    var metadata: String?
    /// Replaces the rendered header bytes when set (may be invalid UTF-8).
    var headerOverride: [UInt8]?
    /// Replaces the 8-byte header length when set.
    var headerLength: UInt64?
    /// The byte that pads the header to a multiple of 8 (a space in valid files).
    var padding: UInt8 = 0x20
    var data: [UInt8]

    /// A valid file holding `tensors` with random data, contiguous in listing order.
    static func valid(
        _ tensors: [(name: String, dtype: String, shape: [Int])], metadata: [String: String]? = nil,
        random: inout SplitMix64
    ) -> SafeTensorsSketch {
        var entries: [Entry] = []
        var offset = 0
        for (name, dtype, shape) in tensors {
            let byteCount = shape.reduce(dtype == "F32" ? 4 : 8, *)
            entries.append(
                Entry(
                    name: "\"\(name)\"", dtype: "\"\(dtype)\"", shape: "\(shape)".replacingSpaces(),
                    offsets: "[\(offset),\(offset + byteCount)]", begin: offset, end: offset + byteCount))
            offset += byteCount
        }
        let metadataText = metadata.map { pairs in
            "{" + pairs.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",") + "}"
        }
        return SafeTensorsSketch(entries: entries, metadata: metadataText, data: random.bytes(offset))
    }

    /// The seeds: valid files with every dtype, a scalar, an empty tensor,
    /// metadata, and no tensors at all.
    static func seeds(random: inout SplitMix64) -> [SafeTensorsSketch] {
        [
            valid([("w", "F32", [2, 3]), ("b", "F64", [2]), ("step", "I64", [])], metadata: ["format": "pt"], random: &random),
            valid([("x", "F32", [4])], random: &random),
            valid([("empty", "F32", [0, 5]), ("y", "I64", [1])], random: &random),
            valid([], metadata: ["a": "b"], random: &random),
            valid([], random: &random),
        ]
    }

    /// The header JSON as written before padding.
    var headerJSON: [UInt8] {
        if let headerOverride { return headerOverride }
        var members = entries.map { entry in
            let value = entry.value ?? "{" + [("dtype", entry.dtype), ("shape", entry.shape), ("data_offsets", entry.offsets)]
                .compactMap { key, text in text.map { "\"\(key)\":\($0)" } }
                .joined(separator: ",") + "}"
            return "\(entry.name):\(value)"
        }
        if let metadata { members.insert("\"__metadata__\":\(metadata)", at: 0) }
        return Array(("{" + members.joined(separator: ",") + "}").utf8)
    }

    /// The file's bytes: length, padded header, data.
    var bytes: [UInt8] {
        var header = headerJSON
        while header.count % 8 != 0 { header.append(padding) }
        let length = headerLength ?? UInt64(header.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + header + data
    }
}

extension String {
    /// Swift's array description without spaces, as compact JSON.
    fileprivate func replacingSpaces() -> String { filter { $0 != " " } }
}
