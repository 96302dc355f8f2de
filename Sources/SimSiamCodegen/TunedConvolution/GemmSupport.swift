import Foundation

/// The C that every tuned kernel shares, as the generated translation unit holds it: the
/// `#define`s that configure the C runtime in `CRuntime/` for one register tile, then each
/// runtime file pasted in whole, under a `/* ===== from CRuntime/<file> ===== */` banner.
///
/// The runtime is a register-tiled GEMM micro-kernel and its drivers (`gemm.h`), convolutions
/// read in place (`conv_gemm.h`), channels-last convolutions (`conv_channels_last.h`) and
/// Winograd convolutions (`winograd.h`); `CRuntime/README.md` says what each file needs.
/// Layer kernels only say how to read their operands (`pack_a`, `pack_b`) and where results
/// go (`store`), or fill a plan struct for a convolution driver.
///
/// The files are pasted, not `#include`d, so the generated C stays one self-contained file
/// (the build cache keys on its text, and `Generated/` shows all of it). A file's own
/// `#include "other.h"` lines, which let a C editor or compiler open it on its own, become
/// comments: the file they name is pasted earlier.
enum GemmSupport {
    /// The runtime files in paste order: each needs only the ones before it.
    static let files = ["gemm.h", "gemm_bf16.h", "conv_gemm.h", "conv_channels_last.h", "winograd_common.h", "winograd.h"]
    /// The files only bfloat16 builds paste.
    static let bf16Files: Set<String> = ["gemm_bf16.h"]

    /// The shared C for `tile`: its macros, the runtime files, and `winograd.h` once per transform
    /// of `winograd` (each listed once, as `ConvWinograd.transforms` gives them; F(2x2, 3x3)
    /// always), each after its transform functions (generated from the
    /// transform's matrices, `ConvWinograd.source`). Builds with bfloat16 operands also get
    /// `gemm_bf16.h`, its micro-kernel `vdpbf16ps` or the emulation.
    static func source(_ tile: RegisterTile, operands: MatmulOperands = .native, winograd: [WinogradTransform] = []) -> String {
        var parts = [macros(tile)]
        if operands.isBF16 {
            parts.append("""
                #define GEMM_BF16_DPBF16 \(operands == .bf16 ? 1 : 0)    /* \(operands == .bf16 ? "bfloat16 operands: vdpbf16ps (AVX512_BF16)" : "bfloat16 operands, EMULATED: vdpbf16ps's arithmetic in float32 instructions") */

                """)
        }
        for file in files where operands.isBF16 || !bf16Files.contains(file) {
            guard file == "winograd.h" else {
                parts.append("/* ===== from CRuntime/\(file) ===== */\n" + pasted(file))
                continue
            }
            for transform in [WinogradTransform.f2x2] + winograd.filter({ $0.m != 2 }) {
                parts.append(ConvWinograd.source(transform, pasted: pasted(file)))
            }
        }
        return parts.joined(separator: "\n")
    }

    /// The `#define`s the runtime files read, for `tile`:
    /// - `GEMM_REAL`: the scalar type, `float` or `double` (`Precision.cType`);
    /// - `GEMM_LANES`: scalars per vector register (`RegisterTile.lanes`); `vec_t` is one
    ///   register, and the micro-kernels' tile is `GEMM_MR` x `GEMM_NR` = 2 * `GEMM_LANES`;
    /// - `GEMM_MR`: register tile rows (`RegisterTile.rows`: 8 on AVX-512, 4 on AVX2);
    /// - `CONV_WEIGHT_ROWS`, `CONV_WEIGHT_COLS`: the vector accumulators of `conv_weight_gemm`
    ///   (`RegisterTile.weightRows` x `weightColumns`);
    /// - `CONV_CL_WEIGHT_MR`: the rows of `conv_cl_weight_gemm`'s tile
    ///   (`RegisterTile.channelsLastWeightRows`).
    static func macros(_ tile: RegisterTile) -> String {
        """
        /* ===== C runtime configuration: \(tile.width.rawValue) register tiles of \(tile.precision.cType) ===== */
        #define GEMM_REAL \(tile.precision.cType)
        #define GEMM_LANES \(tile.lanes)        /* scalars per \(tile.width.bytes)-byte vector */
        #define GEMM_MR \(tile.rows)            /* register tile: GEMM_MR x GEMM_NR = 2 * GEMM_LANES */
        #define CONV_WEIGHT_ROWS \(tile.weightRows)   /* conv_weight_gemm's tile of vector accumulators */
        #define CONV_WEIGHT_COLS \(tile.weightColumns)
        #define CONV_CL_WEIGHT_MR \(tile.channelsLastWeightRows)   /* conv_cl_weight_gemm's tile rows */

        """
    }

    /// A runtime file's text with its `#include "..."` lines replaced by a note: every file
    /// it includes is pasted before it (`files` is in dependency order).
    static func pasted(_ file: String) -> String {
        let earlier = files.prefix { $0 != file }
        return CRuntimeFiles.text(file).split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("#include \""), let name = line.split(separator: "\"").dropFirst().first.map(String.init) else {
                return String(line)
            }
            precondition(earlier.contains(name), "CRuntime/\(file) includes \(name), which is not pasted before it")
            return "/* #include \"\(name)\": pasted above */"
        }.joined(separator: "\n")
    }
}

/// The files of `Sources/SimSiamCodegen/CRuntime`, a SwiftPM resource copied next to the
/// executable (`simsiamc_SimSiamCodegen.resources`) and read through `Bundle.module`.
enum CRuntimeFiles {
    /// The folder that holds the files.
    static var directory: URL {
        guard let url = Bundle.module.url(forResource: "CRuntime", withExtension: nil) else {
            fatalError("simsiamc's resource bundle has no CRuntime folder (\(Bundle.module.bundlePath)); rebuild the package")
        }
        return url
    }

    private static let texts: [String: String] = Dictionary(uniqueKeysWithValues: GemmSupport.files.map { file in
        let url = directory.appendingPathComponent(file)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            fatalError("cannot read the C runtime file \(url.path); rebuild the package")
        }
        return (file, text)
    })

    /// The text of one runtime file, read once per process.
    static func text(_ file: String) -> String {
        guard let text = texts[file] else { preconditionFailure("\(file) is not a C runtime file") }
        return text
    }
}
