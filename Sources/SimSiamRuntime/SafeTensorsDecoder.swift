import Foundation

/// Validates and decodes one safetensors byte buffer.
struct SafeTensorsDecoder {
    let data: Data
    let source: String

    private struct Entry {
        let name: String
        let dtype: HostTensor.DType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    func decode() throws -> SafeTensorsFile {
        guard data.count >= 8 else {
            throw fail("is too short (\(data.count) bytes) to hold the 8-byte header length")
        }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("declares a \(headerLength)-byte header but only \(data.count - 8) bytes follow")
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = data.subdata(in: data.startIndex + 8..<data.startIndex + dataStart)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw fail("has a header that is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw fail("has a header that is not a JSON object") }

        let metadata = try decodeMetadata(header[SafeTensors.metadataKey])
        let dataSize = data.count - dataStart
        // Sorted names: a dictionary's order changes from run to run, and with
        // several bad tensors the message would too.
        let entries = try header.keys.sorted().filter { $0 != SafeTensors.metadataKey }
            .map { try decodeEntry(name: $0, header[$0]!, dataSize: dataSize) }
            .sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }
        let tensors = data.withUnsafeBytes { raw in
            entries.map { entry in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[dataStart + entry.begin..<dataStart + entry.end])
                return (name: entry.name, tensor: HostTensor(shape: entry.shape, dtype: entry.dtype, copying: bytes))
            }
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    private func decodeMetadata(_ value: Any?) throws -> [String: String] {
        guard let value else { return [:] }
        guard let metadata = value as? [String: Any] else { throw fail("has '__metadata__' that is not an object") }
        return try metadata.mapValues { entry in
            guard let text = entry as? String else { throw fail("has a non-string '__metadata__' value") }
            return text
        }
    }

    private func decodeEntry(name: String, _ value: Any, dataSize: Int) throws -> Entry {
        func tensorFail(_ problem: String) -> RuntimeError { fail("tensor \(quoted(name)) \(problem)") }
        guard let fields = value as? [String: Any] else { throw tensorFail("is not a JSON object") }
        guard let dtypeName = fields["dtype"] as? String else { throw tensorFail("has no dtype") }
        guard let dtype = SafeTensors.dtype(formatName: dtypeName) else {
            throw tensorFail("has unsupported dtype \(quoted(dtypeName)) (supported: F32, F64, I64; convert it first, e.g. with `tensor.float()` in PyTorch)")
        }
        guard let shape = integers(fields["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
            throw tensorFail("has no valid shape (an array of non-negative integers)")
        }
        guard let offsets = integers(fields["data_offsets"]), offsets.count == 2 else {
            throw tensorFail("has no valid data_offsets (two integers)")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw tensorFail("has data_offsets [\(begin), \(end)] outside the \(dataSize)-byte data section")
        }
        var expectedBytes = dtype.byteSize
        for dimension in shape {
            let (product, overflow) = expectedBytes.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw tensorFail("has a shape \(shape) too large to address") }
            expectedBytes = product
        }
        guard end - begin == expectedBytes else {
            throw tensorFail(
                "has \(end - begin) data bytes but shape \(shape) of \(dtypeName) needs \(expectedBytes)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    private func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        // Foundation on Linux bridges JSON 0 and 1 as Bool too, so booleans
        // cannot be told apart here; `as? Int` rejects 1.5 and strings.
        let numbers = array.compactMap { $0 as? Int }
        return numbers.count == array.count ? numbers : nil
    }

    /// `text` in single quotes with control characters and line separators
    /// escaped (`\n`, `\u{2028}`): names and dtypes come from the file, and a
    /// raw line break would split the one-line message.
    private func quoted(_ text: String) -> String {
        let escaped = text.unicodeScalars.map { scalar in
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: scalar.escaped(asASCII: true)
            default: String(scalar)
            }
        }
        return "'" + escaped.joined() + "'"
    }

    private func fail(_ problem: String) -> RuntimeError {
        RuntimeError("safetensors file \(source) \(problem)")
    }
}
