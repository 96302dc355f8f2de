import Foundation

/// An error reading a dataset file; the message names the file.
public struct DatasetError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// A human-readable explanation, naming the file involved.
    public let message: String

    /// Creates an error carrying `message`, with any line break or other
    /// control character (from a file's own bytes: an entry name, a dtype)
    /// shown as a space, so that every error is one line.
    public init(_ message: String) {
        self.message = String(message.map { $0.isNewline || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } ? " " : $0 })
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}
