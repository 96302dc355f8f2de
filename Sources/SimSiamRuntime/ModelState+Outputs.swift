extension ModelState {
    private typealias OutputNumel = @convention(c) (Int64) -> Int64
    private typealias ReadOutput = @convention(c) (UnsafeRawPointer?, Int64, UnsafeMutableRawPointer?) -> Void

    /// Names of the training step's results besides the loss (e.g. "z1").
    public var outputNames: [String] {
        guard let count = try? library.native.function("simsiam_output_count", as: LibraryEntryPoints.Int64Getter.self)(),
              let name = try? library.native.function("simsiam_output_name", as: LibraryEntryPoints.GroupName.self)
        else { return [] }
        return (0..<count).compactMap { name($0).map { String(cString: $0) } }
    }

    /// Output `name` of the last training step, as Float.
    /// - Throws: `RuntimeError` when the library has no such output.
    public func output(named name: String) throws -> [Float] {
        guard let index = outputNames.firstIndex(of: name) else {
            throw RuntimeError("library \(library.native.path) has no output '\(name)'; it has: \(outputNames.joined(separator: ", "))")
        }
        let numel = Int(try library.native.function("simsiam_output_numel", as: OutputNumel.self)(Int64(index)))
        let read = try library.native.function("simsiam_read_output", as: ReadOutput.self)
        if library.scalarBytes == 4 {
            return [Float](unsafeUninitializedCapacity: numel) { buffer, count in
                read(arenaTablePointer, Int64(index), buffer.baseAddress)
                count = numel
            }
        }
        let doubles = [Double](unsafeUninitializedCapacity: numel) { buffer, count in
            read(arenaTablePointer, Int64(index), buffer.baseAddress)
            count = numel
        }
        return doubles.map(Float.init)
    }
}
