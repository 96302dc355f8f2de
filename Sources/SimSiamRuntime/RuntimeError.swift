import Foundation

/// An error raised by the runtime: loading a library, binding its ABI,
/// moving tensors in and out of its arenas, or reading and writing
/// safetensors files. The message names the file, symbol or tensor involved.
public struct RuntimeError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// A human-readable explanation of what went wrong.
    public let message: String

    /// Creates an error carrying `message`.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}
