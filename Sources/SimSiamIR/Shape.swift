/// The dimensions of a dense, row-major tensor (NCHW for images, [out, in] for
/// linear weights, [out, in, kh, kw] for convolution weights). Rank 0 is a scalar.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    /// Extent of each dimension, outermost first.
    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }
    public init(arrayLiteral elements: Int...) { self.dims = elements }

    public var rank: Int { dims.count }
    /// Number of elements (1 for a scalar).
    public var elementCount: Int { dims.reduce(1, *) }
    public subscript(axis: Int) -> Int { dims[axis] }

    /// `[256,32,28,28]`, as the IR printer and error messages show it.
    public var description: String { "[" + dims.map(String.init).joined(separator: ",") + "]" }
}

/// Where in the user's DSL code an op was created; errors and generated C cite it.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible, Codable {
    public var fileID: String
    public var line: Int

    public init(fileID: String, line: Int) {
        self.fileID = fileID
        self.line = line
    }

    public var description: String { "\(fileID):\(line)" }
}

/// A shape crosses as a plain JSON array of extents (`[256,1,28,28]`), so that
/// serialised graphs read like the IR printer's output.
extension Shape: Codable {
    public init(from decoder: any Decoder) throws {
        dims = try decoder.singleValueContainer().decode([Int].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(dims)
    }
}
