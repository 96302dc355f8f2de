import Foundation

/// Decompresses gzip files by running `/bin/gzip -dc`.
enum Gzip {
    static let executable = URL(fileURLWithPath: "/bin/gzip")

    /// Whether `data` starts with the gzip magic bytes 0x1f 0x8b.
    static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// The decompressed contents of the gzip file at `url`.
    /// - Throws: `DatasetError` naming the file when gzip fails (e.g. truncated).
    static func decompress(fileAt url: URL) throws -> Data {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["-dc", url.path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw DatasetError("cannot run \(executable.path) to decompress \(url.path): \(error.localizedDescription)")
        }
        // Read the pipe before waiting, or a large output blocks gzip forever.
        let decompressed = output.fileHandleForReading.readDataToEndOfFile()
        let log = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            // gzip reports each defect on its own line (a bad CRC and a bad
            // length both, say); joined, they keep the message on one line.
            let reason = String(decoding: log, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
            throw DatasetError("cannot decompress \(url.path): gzip exited with status \(process.terminationStatus): \(reason)")
        }
        return decompressed
    }
}
