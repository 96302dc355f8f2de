/// The emitted C of the two reference workloads at their reference batch
/// sizes: what `Generated/` holds and a test keeps current.
public enum ReferenceSources {
    public static let workloads: [Workload] = [.fmnistResNetMini, .cifarResNet18]

    /// Generated/ is the code of the reference machine (AVX-512), whatever CPU runs `generate`.
    public static let options = CodegenOptions(vectorWidth: .avx512)

    public static func all() throws -> [GeneratedC] {
        try workloads.map { try Lowering.lower($0.makeModel(), name: $0.name, batch: $0.defaultBatch, options: options).generated }
    }
}

extension GeneratedC {
    /// File name -> contents: `<stem>.c` and `<stem>.h`.
    public var files: [(name: String, text: String)] {
        [(baseName + ".c", source), (baseName + ".h", header)]
    }
}
