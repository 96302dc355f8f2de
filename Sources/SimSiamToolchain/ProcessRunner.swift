import Foundation

/// Exit status and merged stdout+stderr of a finished child process.
public struct ProcessOutput: Sendable {
    public let status: Int32
    public let output: String
    /// The process died from signal `status` (a crashed compiler) instead of exiting.
    public var signaled = false

    public var succeeded: Bool { status == 0 }
    var lines: [String] { output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
}

/// Runs child processes to completion.
public enum ProcessRunner {
    /// Runs `executable` to completion with stdout and stderr merged into one log.
    /// `environment` entries are added to this process's environment.
    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String] = [:]) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain before waiting: a compiler whose log outgrows the pipe buffer would block forever.
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessOutput(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self),
                             signaled: process.terminationReason == .uncaughtSignal)
    }
}
