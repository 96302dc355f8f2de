import Foundation

/// The vector registers the tuned kernels are written for. The C is portable
/// either way (clang vector extensions split wide vectors into narrower
/// instructions), but a register tile sized for 32 AVX-512 registers spills on
/// a CPU with 16 AVX2 ones: the micro-kernel measured 20.6 GFLOP/s per core
/// on an AVX2 EPYC, against 39.8 for a 4 x 16 tile sized for it.
public enum VectorWidth: String, Sendable, CaseIterable {
    /// 64-byte vectors, 32 registers.
    case avx512
    /// 32-byte vectors, 16 registers: AVX2 CPUs, and the fallback for any other.
    case avx2

    public var bytes: Int { self == .avx512 ? 64 : 32 }

    /// This CPU's width: `avx512` when /proc/cpuinfo lists `avx512f`, else `avx2`.
    public static let host: VectorWidth = forCPU(flags: hostCPUFlags())

    /// The width for a CPU whose /proc/cpuinfo `flags` line is `flags`.
    public static func forCPU(flags: String) -> VectorWidth {
        flags.split(separator: " ").contains("avx512f") ? .avx512 : .avx2
    }

    /// This CPU's /proc/cpuinfo `flags` line, or "" where there is none.
    static func hostCPUFlags() -> String {
        // String(contentsOfFile:) stops after ~4 KiB of a /proc file; read it as a stream.
        guard let handle = FileHandle(forReadingAtPath: "/proc/cpuinfo") else { return "" }
        defer { try? handle.close() }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        return line.split(separator: ":", maxSplits: 1).last.map(String.init) ?? ""
    }
}

/// The register tile of the tuned kernels for one scalar type and vector width:
/// `rows` x `columns` of C held in 2 * `rows` vector registers (two vectors of
/// `lanes` per row), leaving registers for the operands.
public struct RegisterTile: Sendable {
    public let precision: Precision
    public let width: VectorWidth

    public init(precision: Precision, width: VectorWidth) {
        self.precision = precision
        self.width = width
    }

    /// Scalars per vector.
    public var lanes: Int { width.bytes / precision.bytes }
    /// MR: 8 rows on AVX-512 (16 of 32 registers), 4 on AVX2 (8 of 16).
    public var rows: Int { width == .avx512 ? 8 : 4 }
    /// NR: two vectors.
    public var columns: Int { 2 * lanes }
    /// The rows of the channels-last weight gradient's single-precision tile
    /// (`CONV_CL_WEIGHT_MR`): 6 on AVX2, where 12 accumulators let each source line feed
    /// 12 FMAs (in a harness W1's stride-2 dws ran 4-18% faster than with 4 rows, Zen 3); `rows`
    /// otherwise.
    public var channelsLastWeightRows: Int { width == .avx2 && precision == .float32 ? 6 : rows }
    /// The in-place weight-gradient kernel's tile: weightRows x weightColumns vector
    /// accumulators plus weightRows operand vectors and one source vector.
    public var weightRows: Int { width == .avx512 ? 4 : 2 }
    public var weightColumns: Int { 6 }
}
