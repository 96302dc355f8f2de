import ArgumentParser
import Testing
@testable import SimSiamCLI

/// `simsiamc help <command>`: ArgumentParser wraps a discussion at the terminal width but keeps
/// its newlines, so a newline inside a sentence leaves a ragged short line in the middle of a
/// paragraph. Paragraphs are one line in the source (Swift's `\` continuations) or break only
/// after a sentence.
@Suite struct HelpTextTests {
    @Test func discussionsBreakLinesOnlyBetweenSentencesOrParagraphs() {
        for command in SimSiamCommand.configuration.subcommands {
            let configuration = command.configuration
            for paragraph in configuration.discussion.components(separatedBy: "\n\n") {
                let lines = paragraph.split(separator: "\n", omittingEmptySubsequences: false)
                for line in lines.dropLast() where !line.hasSuffix(".") {
                    Issue.record("`simsiamc help \(configuration.commandName ?? "?")` breaks a sentence after: \(line.suffix(60))")
                }
            }
        }
        #expect(SimSiamCommand.configuration.subcommands.count == 13)
    }
}
