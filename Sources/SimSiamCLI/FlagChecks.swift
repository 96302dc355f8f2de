import ArgumentParser
import Foundation
import SimSiamC

/// Checks of flag values, so that a bad value is refused before any work starts, with a
/// message saying what is allowed: ranges of numeric flags, and files that must exist.
///
/// Numeric options parse with `.unconditional`, so `--lr -1` reaches these
/// checks instead of being taken for a flag named `-1`.
enum FlagCheck {
    /// A finite number greater than zero (learning rates).
    static func positive(_ value: Double?, _ flag: String) throws {
        guard let value else { return }
        guard value.isFinite, value > 0 else { throw ValidationError("\(flag) \(value): must be a finite number greater than 0") }
    }

    /// A finite number of zero or more (weight decay, warm-up, jitter).
    static func nonNegative(_ value: Double?, _ flag: String) throws {
        guard let value else { return }
        guard value.isFinite, value >= 0 else { throw ValidationError("\(flag) \(value): must be a finite number of 0 or more") }
    }

    /// A finite number in `range`.
    static func within(_ value: Double?, _ range: ClosedRange<Double>, _ flag: String, _ meaning: String) throws {
        guard let value else { return }
        guard value.isFinite, range.contains(value) else {
            throw ValidationError("\(flag) \(value): must lie in [\(range.lowerBound), \(range.upperBound)] (\(meaning))")
        }
    }

    /// A file that exists (`path` nil: the flag was not given), checked first thing in `run()`, before
    /// a command compiles or loads anything, so that a mistyped path is the first thing said, with the
    /// flag and what it takes. Exit status 1, as `finetune --checkpoint`'s check always had.
    static func existingFile(_ path: String?, _ flag: String, _ expected: String) throws {
        guard let path else { return }
        guard FileManager.default.fileExists(atPath: path) else { throw CompileError("\(flag) \(path): no such file; give \(expected)") }
    }

    /// What `--checkpoint` takes.
    static let trainCheckpoint = "the checkpoint.safetensors of a `simsiamc train` run"
    /// What `--init` takes.
    static let stateDict = "a PyTorch state_dict saved as safetensors"

    /// A count of at least `minimum`.
    static func atLeast(_ value: Int?, _ minimum: Int, _ flag: String, _ why: String = "") throws {
        guard let value else { return }
        guard value >= minimum else {
            throw ValidationError("\(flag) \(value): must be at least \(minimum)" + (why.isEmpty ? "" : " (\(why))"))
        }
    }
}
