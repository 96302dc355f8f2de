import Foundation

/// An error reading a dataset file; the message names the file.
public struct DatasetError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// A human-readable explanation, naming the file involved.
    public let message: String

    /// Creates an error carrying `message`.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}
