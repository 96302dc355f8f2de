import Foundation
import SimSiamData

/// One fuzzed input: its bytes, and whether it can only be read from a file
/// (a gzip'd IDX file goes through `/bin/gzip`, which takes a path).
struct FuzzInput {
    var bytes: [UInt8]
    var needsFile = false
}

/// A reader under fuzz: how to make inputs, how to read them through the
/// reader's real entry points, and what its rejections must say.
struct FuzzTarget<ReaderError: Error & CustomStringConvertible> {
    /// The reader's name in summaries and in the random stream's key.
    let readerName: String
    /// Words naming the parts of the format: every rejection must contain one,
    /// so that it says which field is at fault, not only that something is.
    let fieldWords: [String]
    /// The file name inputs are written to when read through a file.
    let fileName: String
    /// Makes input number `index` from its own random stream.
    let makeInput: (_ random: inout SplitMix64) -> FuzzInput
    /// Reads bytes in memory; the second argument is the source name errors must quote.
    let readData: (Data, String) throws -> Void
    /// Reads the file at the URL (named `fileName`).
    let readFile: (URL) throws -> Void
}
