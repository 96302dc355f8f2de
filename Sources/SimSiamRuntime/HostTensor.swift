import Foundation

/// A tensor held in Swift memory: a shape and its values in row-major order.
public struct HostTensor: Sendable, Equatable {
    /// Element type of a host tensor.
    public enum DType: String, Sendable, CaseIterable {
        case float32, float64, int64

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .float32: 4
            case .float64, .int64: 8
            }
        }
    }

    /// The values, typed.
    public enum Storage: Sendable, Equatable {
        case float32([Float])
        case float64([Double])
        case int64([Int64])
    }

    /// The dimensions (empty for a scalar).
    public let shape: [Int]
    /// The values.
    public let storage: Storage

    /// A tensor of `Float` values; `values.count` must equal the shape's product.
    public init(shape: [Int], floats values: [Float]) {
        self.init(shape: shape, storage: .float32(values))
    }

    /// A tensor of `Double` values; `values.count` must equal the shape's product.
    public init(shape: [Int], doubles values: [Double]) {
        self.init(shape: shape, storage: .float64(values))
    }

    /// A tensor of `Int64` values; `values.count` must equal the shape's product.
    public init(shape: [Int], int64s values: [Int64]) {
        self.init(shape: shape, storage: .int64(values))
    }

    /// A tensor from typed storage; the value count must equal the shape's product.
    public init(shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
        precondition(
            HostTensor.elementCount(of: shape) == count,
            "HostTensor shape \(shape) needs \(HostTensor.elementCount(of: shape)) values, got \(count)")
    }

    /// A tensor of `dtype` copied from little-endian raw bytes
    /// (`bytes.count` must be the shape's product times the element size).
    public init(shape: [Int], dtype: DType, copying bytes: UnsafeRawBufferPointer) {
        let count = HostTensor.elementCount(of: shape)
        precondition(bytes.count == count * dtype.byteSize, "byte count does not match shape \(shape)")
        func copy<T>(_: T.Type) -> [T] {
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0, let source = bytes.baseAddress {
                    UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: source, byteCount: bytes.count)
                }
                initialized = count
            }
        }
        switch dtype {
        case .float32: self.init(shape: shape, storage: .float32(copy(Float.self)))
        case .float64: self.init(shape: shape, storage: .float64(copy(Double.self)))
        case .int64: self.init(shape: shape, storage: .int64(copy(Int64.self)))
        }
    }

    /// The element type.
    public var dtype: DType {
        switch storage {
        case .float32: .float32
        case .float64: .float64
        case .int64: .int64
        }
    }

    /// Number of elements.
    public var count: Int {
        switch storage {
        case .float32(let values): values.count
        case .float64(let values): values.count
        case .int64(let values): values.count
        }
    }

    /// The values as `Float` (converted when stored otherwise).
    public var floats: [Float] {
        switch storage {
        case .float32(let values): values
        case .float64(let values): values.map { Float($0) }
        case .int64(let values): values.map { Float($0) }
        }
    }

    /// The values as `Double` (converted when stored otherwise).
    public var doubles: [Double] {
        switch storage {
        case .float32(let values): values.map { Double($0) }
        case .float64(let values): values
        case .int64(let values): values.map { Double($0) }
        }
    }

    /// The values as `Int64`: floating-point values are truncated toward
    /// zero and clamped to the `Int64` range; NaN becomes 0.
    public var int64s: [Int64] {
        switch storage {
        case .float32(let values): values.map { HostTensor.truncatedInt64(Double($0)) }
        case .float64(let values): values.map(HostTensor.truncatedInt64)
        case .int64(let values): values
        }
    }

    private static func truncatedInt64(_ value: Double) -> Int64 {
        if value.isNaN { return 0 }
        if value >= 0x1p63 { return .max }
        if value < -0x1p63 { return .min }
        return Int64(value)
    }

    /// The tensor converted to `dtype` (itself when it already has it).
    public func converted(to dtype: DType) -> HostTensor {
        if dtype == self.dtype { return self }
        switch dtype {
        case .float32: return HostTensor(shape: shape, floats: floats)
        case .float64: return HostTensor(shape: shape, doubles: doubles)
        case .int64: return HostTensor(shape: shape, int64s: int64s)
        }
    }

    /// Calls `body` with the values' bytes (host order, little-endian here).
    public func withUnsafeRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .float32(let values): try values.withUnsafeBytes(body)
        case .float64(let values): try values.withUnsafeBytes(body)
        case .int64(let values): try values.withUnsafeBytes(body)
        }
    }

    /// The product of `shape` (1 for a scalar).
    public static func elementCount(of shape: [Int]) -> Int {
        shape.reduce(1, *)
    }
}

#if _endian(big)
#error("HostTensor and SafeTensors copy raw bytes and assume a little-endian host")
#endif
