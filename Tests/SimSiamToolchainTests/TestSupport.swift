import Foundation
import Testing

@testable import SimSiamToolchain

/// A fresh directory per test, so builds never see another test's cache.
func makeTemporaryDirectory(_ label: String = #function) throws -> URL {
    let safe = label.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("simsiamc-toolchain-tests-\(safe)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func removeDirectory(_ url: URL) {
    try? FileManager.default.removeItem(at: url)
}

/// A translation unit exporting `int answer(void)`.
func answerSource(_ value: Int) -> String {
    "int answer(void) { return \(value); }\n"
}

typealias AnswerFunction = @convention(c) () -> Int32

/// Loads the library and calls its `answer()`.
func callAnswer(in path: String) throws -> Int32 {
    let library = try LoadedLibrary(path: path)
    return try library.function("answer", as: AnswerFunction.self)()
}

/// The process-wide compiler; every cache test builds with it.
func resolvedCompiler() throws -> CCompiler {
    try CompilerProbe.resolve(environment: ProcessInfo.processInfo.environment)
}

/// Files in `directory` whose names show an unfinished publish.
func leftoverTemporaries(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
}
