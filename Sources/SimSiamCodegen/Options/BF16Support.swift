/// Which CPUs can run a bfloat16 build, decided from the CPU's flags when the C is generated
/// (never from a probe of the machine that happens to run the compiler later).
public enum BF16Support {
    /// The /proc/cpuinfo flag of `vdpbf16ps` (AMD Zen 4 and later, Intel Cooper Lake and later).
    public static let avx512Flag = "avx512_bf16"

    /// Whether a CPU whose /proc/cpuinfo `flags` line is `flags` has `vdpbf16ps`.
    public static func hasDPBF16(flags: String) -> Bool {
        flags.split(separator: " ").contains(Substring(avx512Flag))
    }

    /// This CPU's flags, read once.
    public static let hostFlags: String = VectorWidth.hostCPUFlags()

    /// Why `options` cannot be generated for a CPU with `flags`, or nil when they can: bfloat16
    /// operands need float32 tuned kernels, and the real kernels need AVX512_BF16 and AVX-512
    /// tiles. AMX (`tdpbf16ps`) is not implemented: an AMX CPU runs the AVX512_BF16 kernels.
    public static func problem(_ options: CodegenOptions, flags: String = hostFlags) -> String? {
        guard options.operands.isBF16 else { return nil }
        let name = options.trainingPrecision.rawValue
        if options.kernels != .tuned {
            return "--precision \(name) rounds the operands of the tuned GEMM kernels; drop --kernels reference"
        }
        guard options.operands == .bf16 else { return nil }
        if !hasDPBF16(flags: flags) {
            return "--precision bf16 needs a CPU with AVX512_BF16 (vdpbf16ps; /proc/cpuinfo flag \(avx512Flag)), and this one has none; "
                + "--precision bf16-emulated computes the same numbers with float32 instructions, more slowly (for tests), "
                + "or train in float32"
        }
        if options.vectorWidth != .avx512 {
            return "--precision bf16 runs 16-lane AVX-512 tiles; drop --vector-width \(options.vectorWidth.rawValue) (or use --precision bf16-emulated)"
        }
        return nil
    }
}
