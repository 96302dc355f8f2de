import Foundation

/// An array read from a NumPy `.npy` file or `.npz` entry: its element type,
/// its shape (C order) and its raw little-endian elements.
public struct NumPyArray: Sendable {
    /// The element types read: integers and floats.
    public enum ElementType: Sendable, Equatable {
        case integer(bytes: Int, signed: Bool)
        case float(bytes: Int)

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .integer(let bytes, _), .float(let bytes): bytes
            }
        }
    }

    /// The dtype as the header spells it, e.g. `|u1` or `<f4`.
    public let descr: String
    /// The element type `descr` names.
    public let elementType: ElementType
    /// The dimensions, outermost first.
    public let shape: [Int]
    /// `count * elementType.size` bytes, little-endian.
    public let data: Data

    /// Number of elements: the product of `shape` (1 for a 0-d array).
    public var count: Int { shape.reduce(1, *) }

    /// Python's spelling of the shape, e.g. `(60000, 28, 28)`.
    public var shapeDescription: String { PythonLiteral.tuple(shape.map(PythonLiteral.integer)).description }

    /// The dtypes read, by their `descr`: every integer and float width,
    /// little-endian or single-byte. (`=` is native order, little-endian here.)
    static func elementType(descr: String) -> ElementType? {
        guard descr.count >= 3, let order = descr.first, "<|=".contains(order) else { return nil }
        let kind = descr.dropFirst().first!
        guard let size = Int(descr.dropFirst(2)) else { return nil }
        switch (kind, size) {
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): return .integer(bytes: size, signed: false)
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): return .integer(bytes: size, signed: true)
        case ("f", 4), ("f", 8): return .float(bytes: size)
        default: return nil
        }
    }

    /// Calls `body` with every element as a Double, in order, until it returns false.
    func forEachValue(_ body: (Int, Double) throws -> Bool) rethrows {
        try data.withUnsafeBytes { raw in
            let size = elementType.size
            for index in 0..<count {
                let offset = index * size
                let value: Double
                switch elementType {
                case .integer(1, false): value = Double(raw[offset])
                case .integer(1, true): value = Double(Int8(bitPattern: raw[offset]))
                case .integer(2, false): value = Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
                case .integer(2, true): value = Double(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
                case .integer(4, false): value = Double(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                case .integer(4, true): value = Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
                case .integer(_, false): value = Double(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                case .integer: value = Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
                case .float(4):
                    value = Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
                case .float:
                    value = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                }
                guard try body(index, value) else { return }
            }
        }
    }
}

/// Reads NumPy's `.npy` format (versions 1, 2 and 3): the magic `\x93NUMPY`,
/// a version, a header length, a header that is a Python dict literal with
/// 'descr', 'fortran_order' and 'shape', then the elements.
public enum NumPyFile {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// The longest header read; numpy itself refuses more than 10,000 bytes unless told otherwise.
    static let maximumHeaderLength = 65_536
    /// The largest .npy or .npz file read.
    public static let maximumFileBytes = 1 << 40

    /// Reads the .npy file at `url` (memory-mapped, so a large file is not copied).
    /// - Throws: `DatasetError` naming the file and the field at fault.
    public static func read(_ url: URL) throws -> NumPyArray {
        try parse(try readFile(url, kind: "NumPy", maximumBytes: maximumFileBytes, mapped: true), source: url.path)
    }

    /// Parses .npy bytes; `source` names them in errors (a file, or an .npz entry).
    /// - Throws: `DatasetError` naming `source` and the field: magic, version,
    ///   header length, header, 'descr', 'fortran_order', 'shape' or data.
    public static func parse(_ data: Data, source: String) throws -> NumPyArray {
        func fail(_ problem: String) -> DatasetError { DatasetError("NumPy file \(source) \(problem)") }
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 8, bytes.starts(with: magic) else {
            throw fail("has bad magic: a .npy file starts with \\x93NUMPY (is it a .npz archive, or another format?)")
        }
        let major = bytes[6]
        guard (1...3).contains(major) else { throw fail("has format version \(major).\(bytes[7]); versions 1, 2 and 3 are read") }
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else { throw fail("is truncated inside the header length") }
        let headerLength = bytes[8..<8 + lengthBytes].reversed().reduce(0) { $0 << 8 | Int($1) }
        let headerStart = 8 + lengthBytes
        guard headerLength <= maximumHeaderLength else {
            throw fail("has a header length of \(headerLength) bytes, more than the \(maximumHeaderLength) read")
        }
        guard data.count >= headerStart + headerLength else {
            throw fail("is truncated: the header length says \(headerLength) bytes, the file has \(data.count - headerStart) after it")
        }
        let header = [UInt8](data.dropFirst(headerStart).prefix(headerLength))
        let literal: PythonLiteral
        do {
            literal = try PythonLiteral.parse(header)
        } catch {
            throw fail("has an unreadable header: \(error.message)")
        }
        guard case .dictionary(let dictionary) = literal else { throw fail("has a header that is not a dict") }
        func field(_ key: String) throws -> PythonLiteral {
            guard let value = dictionary.first(where: { $0.key == key })?.value else {
                throw fail("has no '\(key)' in its header")
            }
            return value
        }
        guard case .string(let descr) = try field("descr") else {
            throw fail("has 'descr' \(try field("descr").description.prefix(80)): structured arrays are not read; save a plain array")
        }
        guard let elementType = NumPyArray.elementType(descr: descr) else {
            throw fail("has 'descr' '\(descr.prefix(40))': only little-endian integer (u1 ... i8) and float (f4, f8) arrays are read")
        }
        guard case .boolean(let fortranOrder) = try field("fortran_order") else {
            throw fail("has 'fortran_order' \(try field("fortran_order").description.prefix(40)), not True or False")
        }
        guard !fortranOrder else {
            throw fail("has 'fortran_order' True: save the array in C order (np.ascontiguousarray) and try again")
        }
        guard case .tuple(let dimensions) = try field("shape") else {
            throw fail("has 'shape' \(try field("shape").description.prefix(80)), not a tuple")
        }
        var shape: [Int] = []
        var count = elementType.size, overflow = false
        for dimension in dimensions {
            guard case .integer(let value) = dimension, value >= 0 else {
                throw fail("has 'shape' \(PythonLiteral.tuple(dimensions).description.prefix(80)): dimensions must be integers of 0 or more")
            }
            shape.append(value)
            let (product, overflowed) = count.multipliedReportingOverflow(by: value)
            (count, overflow) = (product, overflow || overflowed)
        }
        let shapeText = PythonLiteral.tuple(shape.map(PythonLiteral.integer)).description
        let available = data.count - headerStart - headerLength
        guard !overflow else { throw fail("has 'shape' \(shapeText), too large to address") }
        guard available >= count else {
            throw fail("is truncated: 'shape' \(shapeText) of '\(descr)' needs \(count) data bytes, the file has \(available)")
        }
        guard available == count else {
            throw fail("has \(available - count) unexpected bytes after the \(count) data bytes of 'shape' \(shapeText)")
        }
        return NumPyArray(descr: descr, elementType: elementType, shape: shape, data: data.dropFirst(headerStart + headerLength))
    }
}
