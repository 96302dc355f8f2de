import Foundation
import Glibc

/// Reads and writes the safetensors format: an 8-byte little-endian header
/// length, a JSON header (`{"name": {"dtype", "shape", "data_offsets"},
/// "__metadata__": {...}}`) padded with spaces to a multiple of 8, then the
/// tensors' raw little-endian bytes. Supported dtypes: F32, F64, I64.
public enum SafeTensors {
    /// Reads and validates the file at `url`.
    /// - Throws: `RuntimeError` naming the file (and the tensor) on any defect.
    public static func read(url: URL) throws -> SafeTensorsFile {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw RuntimeError("cannot read safetensors file \(url.path): \(error.localizedDescription)")
        }
        return try decode(data, source: url.path)
    }

    /// Decodes safetensors bytes; `source` names them in errors.
    public static func decode(_ data: Data, source: String = "<memory>") throws -> SafeTensorsFile {
        try SafeTensorsDecoder(data: data, source: source).decode()
    }

    /// Encodes `tensors` (data in the given order) and `metadata`; the JSON
    /// header has sorted keys, so equal inputs give identical bytes.
    /// - Throws: `RuntimeError` for a duplicate or reserved tensor name.
    public static func encode(
        _ tensors: [(name: String, tensor: HostTensor)], metadata: [String: String] = [:]
    ) throws -> Data {
        var header: [String: Any] = [:]
        var dataOffset = 0
        for (name, tensor) in tensors {
            guard name != metadataKey else {
                throw RuntimeError("safetensors tensor name '\(metadataKey)' is reserved for metadata")
            }
            guard header[name] == nil else {
                throw RuntimeError("safetensors tensor '\(name)' is listed twice")
            }
            let byteCount = tensor.count * tensor.dtype.byteSize
            header[name] = [
                "dtype": formatName(of: tensor.dtype),
                "shape": tensor.shape,
                "data_offsets": [dataOffset, dataOffset + byteCount],
            ] as [String: Any]
            dataOffset += byteCount
        }
        if !metadata.isEmpty { header[metadataKey] = metadata }
        var headerBytes = try JSONSerialization.data(
            withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        let paddedLength = (headerBytes.count + 7) / 8 * 8
        headerBytes.append(contentsOf: [UInt8](repeating: 0x20, count: paddedLength - headerBytes.count))

        var output = Data(capacity: 8 + paddedLength + dataOffset)
        withUnsafeBytes(of: UInt64(paddedLength).littleEndian) { output.append(contentsOf: $0) }
        output.append(headerBytes)
        for (_, tensor) in tensors {
            tensor.withUnsafeRawBytes { output.append(contentsOf: $0) }
        }
        return output
    }

    /// Encodes and writes atomically: the bytes go to a temporary file in the
    /// destination's directory, which is then renamed over `url`.
    public static func write(
        _ tensors: [(name: String, tensor: HostTensor)], metadata: [String: String] = [:], to url: URL
    ) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: url)
    }

    static let metadataKey = "__metadata__"

    /// The safetensors name of `dtype` ("F32", "F64", "I64").
    public static func formatName(of dtype: HostTensor.DType) -> String {
        switch dtype {
        case .float32: "F32"
        case .float64: "F64"
        case .int64: "I64"
        }
    }

    /// The dtype a safetensors dtype name stands for, if supported.
    public static func dtype(formatName: String) -> HostTensor.DType? {
        HostTensor.DType.allCases.first { self.formatName(of: $0) == formatName }
    }
}
