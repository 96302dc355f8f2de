import Foundation
import SimSiamTestSupport
@testable import SimSiamC

/// Runs the `simsiamc` executable as a user would, for the tests that need a
/// separate process: killing it, or limiting the file sizes it may write.
struct CommandLineRun {
    var arguments: [String]
    /// Extra environment (the cache directory, the thread count).
    var environment: [String: String] = [:]
    /// Largest file the process may write, in bytes (`prlimit --fsize`); nil for no limit.
    var fileSizeLimit: Int? = nil
    /// Runs this program with `arguments` instead of simsiamc (e.g. mpirun, whose arguments name simsiamc).
    var executable: String? = nil

    struct Outcome {
        var status: Int32
        var killed: Bool
        var output: String
    }

    /// Starts the process; `watch` sees each line of output and every ~1 ms
    /// tick, and returns true to have the process SIGKILLed at that moment.
    func run(watch: (_ line: String?) -> Bool = { _ in false }) throws -> Outcome {
        let process = Process()
        let executable = self.executable ?? productsDirectory.appendingPathComponent("simsiamc").path
        if let fileSizeLimit {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
            process.arguments = ["--fsize=\(fileSizeLimit)", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let reader = LineCollector(pipe.fileHandleForReading)
        try process.run()
        var killed = false, seen = 0
        while process.isRunning {
            let lines = reader.lines
            for line in lines[seen...] where !killed && watch(line) { killed = true }
            seen = lines.count
            if !killed && watch(nil) { killed = true }
            if killed {
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(1000)
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, killed: killed, output: reader.waitForEnd())
    }
}

/// Collects a pipe's output line by line on a background thread.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []
    private var partial = ""
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                lock.withLock {
                    partial += String(decoding: data, as: UTF8.self)
                    let pieces = partial.split(separator: "\n", omittingEmptySubsequences: false)
                    collected += pieces.dropLast().map(String.init)
                    partial = String(pieces.last ?? "")
                }
            }
            done.signal()
        }
    }

    var lines: [String] { lock.withLock { collected } }

    func waitForEnd() -> String {
        done.wait()
        return lock.withLock { (collected + [partial]).joined(separator: "\n") }
    }
}

/// Fashion-MNIST-shaped IDX files (28x28 grey, 10 classes) with a learnable
/// pattern per class, so W1 trains on them in seconds through the CLI.
enum SyntheticFashionMNIST {
    static func write(to directory: URL, train: Int, test: Int) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (prefix, count, seed) in [("train", train, UInt64(1)), ("t10k", test, UInt64(2))] {
            var random = TestRandom(seed: seed)
            var pixels: [UInt8] = [], labels: [UInt8] = []
            for index in 0..<count {
                let label = index % 10
                // Class c lights a band of rows at 2c..2c+5 and column band by parity.
                for y in 0..<28 {
                    for x in 0..<28 {
                        let on = (y >= 2 * label && y < 2 * label + 6) || (label % 2 == 0 && x < 6)
                        pixels.append(UInt8(min(255, (on ? 180 : 20) + random.uniform(0, 60))))
                    }
                }
                labels.append(UInt8(label))
            }
            try idx(dims: [count, 28, 28], pixels).write(to: directory.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
            try idx(dims: [count], labels).write(to: directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
        }
    }

    static func idx(dims: [Int], _ data: [UInt8]) -> Data { Data(IDXWriter.bytes(dims: dims, data: data)) }
}
