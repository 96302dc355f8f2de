/// Decodes `simsiam_symbol_t` rows (88 bytes each, every field 8 bytes wide)
/// with explicit byte offsets, so no Swift struct layout is assumed.
enum SymbolTableReader {
    static let rowBytes = 88
    private static let nameOffset = 0
    private static let arenaOffset = 8
    private static let kindOffset = 16
    private static let groupOffset = 24
    private static let elementOffsetOffset = 32
    private static let numelOffset = 40
    private static let rankOffset = 48
    private static let shapeOffset = 56
    private static let maxRank = 4

    /// Reads `count` rows starting at `table`, validating each one.
    static func read(_ table: UnsafeRawPointer, count: Int, libraryPath: String) throws -> [TensorSymbol] {
        try (0..<count).map { index in
            try readRow(table + index * rowBytes, index: index, libraryPath: libraryPath)
        }
    }

    private static func readRow(_ row: UnsafeRawPointer, index: Int, libraryPath: String) throws -> TensorSymbol {
        func int64(at offset: Int) -> Int64 { row.loadUnaligned(fromByteOffset: offset, as: Int64.self) }
        let namePointer = row.loadUnaligned(fromByteOffset: nameOffset, as: UnsafePointer<CChar>?.self)
        guard let namePointer else {
            throw RuntimeError("library \(libraryPath): symbol row \(index) has a null name")
        }
        let name = String(cString: namePointer)
        func fail(_ problem: String) -> RuntimeError {
            RuntimeError("library \(libraryPath): symbol '\(name)' (row \(index)) \(problem)")
        }
        guard let arena = TensorSymbol.Arena(rawValue: int64(at: arenaOffset)) else {
            throw fail("has unknown arena \(int64(at: arenaOffset))")
        }
        guard let kind = TensorSymbol.Kind(rawValue: int64(at: kindOffset)) else {
            throw fail("has unknown kind \(int64(at: kindOffset))")
        }
        let rank = Int(int64(at: rankOffset))
        guard (0...maxRank).contains(rank) else { throw fail("has rank \(rank), expected 0...\(maxRank)") }
        let shape = (0..<rank).map { Int(int64(at: shapeOffset + 8 * $0)) }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("has negative dimension in shape \(shape)") }
        let symbol = TensorSymbol(
            name: name, arena: arena, kind: kind,
            group: int64(at: groupOffset) >= 0 ? Int(int64(at: groupOffset)) : nil,
            offset: Int(int64(at: elementOffsetOffset)), shape: shape)
        let numel = Int(int64(at: numelOffset))
        guard numel == symbol.numel else { throw fail("has numel \(numel) but shape \(shape)") }
        guard symbol.offset >= 0 else { throw fail("has negative offset \(symbol.offset)") }
        return symbol
    }
}
