import ArgumentParser

/// `simsiamc`: compile SimSiam training to native code and run it.
public struct SimSiamCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "simsiamc",
        abstract: "Compile SimSiam self-supervised training to OpenMP C and run it.",
        subcommands: [TrainCommand.self, AblateCommand.self, EvalCommand.self, FinetuneCommand.self, PlotCommand.self, CompileCommand.self, VerifyCommand.self, CheckGradientsCommand.self, StepCommand.self, BenchCommand.self, PeakCommand.self, TuneCommand.self, GenerateCommand.self])

    public init() {}
}
