import Foundation

/// How many inputs each reader gets and from which seed. The defaults are the
/// fixed CI share; `SIMSIAMC_FUZZ_INPUTS` and `SIMSIAMC_FUZZ_SEED` scale a run
/// up for a long campaign or move it to fresh inputs, and
/// `SIMSIAMC_FUZZ_FIRST` starts at a given input, so that
/// `SIMSIAMC_FUZZ_FIRST=i SIMSIAMC_FUZZ_INPUTS=1` replays input `i` alone.
struct FuzzSettings: Sendable {
    /// Inputs per reader.
    let inputs: Int
    /// Root of every input's random stream: the same seed gives the same inputs.
    let seed: UInt64
    /// Index of the first input.
    var firstInput = 0

    /// The seed CI uses, so every run of the CI share feeds identical inputs.
    static let defaultSeed: UInt64 = 0x18_F022

    /// Reads the overrides from the environment.
    /// - Throws: `FuzzSettingsError` for a value that does not parse (a count
    ///   must be positive, an index non-negative; the seed may be hexadecimal
    ///   with a `0x` prefix), so a typo in a long campaign's command fails
    ///   loudly instead of running the CI share.
    static func fromEnvironment(defaultInputs: Int) throws -> FuzzSettings {
        let environment = ProcessInfo.processInfo.environment
        var inputs = defaultInputs
        if let text = environment["SIMSIAMC_FUZZ_INPUTS"] {
            guard let value = Int(text), value > 0 else {
                throw FuzzSettingsError(variable: "SIMSIAMC_FUZZ_INPUTS", value: text)
            }
            inputs = value
        }
        var seed = defaultSeed
        if let text = environment["SIMSIAMC_FUZZ_SEED"] {
            let parsed = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
            guard let parsed else { throw FuzzSettingsError(variable: "SIMSIAMC_FUZZ_SEED", value: text) }
            seed = parsed
        }
        var settings = FuzzSettings(inputs: inputs, seed: seed)
        if let text = environment["SIMSIAMC_FUZZ_FIRST"] {
            guard let value = Int(text), value >= 0 else {
                throw FuzzSettingsError(variable: "SIMSIAMC_FUZZ_FIRST", value: text)
            }
            settings.firstInput = value
        }
        return settings
    }
}

/// A fuzz setting in the environment that does not parse.
struct FuzzSettingsError: Error, CustomStringConvertible {
    let variable: String
    let value: String
    var description: String { "\(variable)=\(value) is not a valid count, seed or index" }
}
