import Foundation
import Testing
@testable import SimSiamCLI
@testable import SimSiamC

/// Every numeric flag is checked before any work starts, with a message
/// saying what is allowed (issue 18, item 6).
struct FlagCheckTests {
    /// The message `simsiamc` prints for these arguments, or nil if they parse.
    func refusal(_ arguments: [String]) -> String? {
        do {
            _ = try SimSiamCommand.parseAsRoot(arguments)
            return nil
        } catch {
            return SimSiamCommand.message(for: error)
        }
    }

    /// The message of the error running the command for these arguments raises, or "no error".
    func runMessage(_ arguments: [String]) throws -> String {
        var command = try SimSiamCommand.parseAsRoot(arguments)
        do {
            try command.run()
            return "no error"
        } catch {
            return SimSiamCommand.message(for: error)
        }
    }

    @Test(arguments: [
        (["train", "--batch", "0"], "--batch 0: must be at least 2 (training-mode batch norm"),
        (["train", "--batch", "1"], "--batch 1: must be at least 2"),
        (["train", "--lr", "-1"], "--lr -1.0: must be a finite number greater than 0"),
        (["train", "--lr", "nan"], "--lr nan: must be a finite number greater than 0"),
        (["train", "--lr", "inf"], "--lr inf: must be a finite number greater than 0"),
        (["train", "--lr", "0"], "--lr 0.0: must be a finite number greater than 0"),
        (["train", "--epochs", "0"], "--epochs 0: must be at least 1"),
        (["train", "--monitor-every", "0"], "--monitor-every 0: must be at least 1"),
        (["train", "--threads", "0"], "--threads 0: must be at least 1"),
        (["train", "--subset", "1"], "--subset 1: must be at least 2"),
        (["train", "--weight-decay", "-0.1"], "--weight-decay -0.1: must be a finite number of 0 or more"),
        (["train", "--warmup-epochs", "-1"], "--warmup-epochs -1.0: must lie in [0.0, 10.0]"),
        (["train", "--epochs", "3", "--warmup-epochs", "4"], "--warmup-epochs 4.0: must lie in [0.0, 3.0]"),
        (["train", "--crop-min-scale", "0"], "--crop-min-scale 0.0: must lie in [0.01, 1.0]"),
        (["train", "--jitter", "1.5"], "--jitter 1.5: must lie in [0.0, 1.0]"),
        (["train", "--mean", "0.5"], "--mean and --std go together"),
        (["train", "--mean", "0.5", "--std", "0"], "--std 0: must be 1 or 3 comma-separated finite numbers greater than 0"),
        (["train", "--mean", "0.1,x,0.3", "--std", "1,1,1"], "--mean 0.1,x,0.3: must be 1 or 3 comma-separated finite numbers"),
        (["train", "--mean", "0.1,0.2", "--std", "1,1"], "--mean 0.1,0.2: must be 1 value (grey) or 3 (RGB)"),
        (["ablate", "--study", "bn", "--std", "1"], "--mean and --std go together"),
        (["train", "--eta-momentum", "1"], "--eta-momentum 1.0: must lie in [0, 1)"),
        (["train", "--eta-momentum", "0.8", "--alternate-every", "10"], "--eta-momentum and --alternate-every are two different targets"),
        (["ablate", "--study", "predictor-expectation", "--eta-momentum", "0.5"], "the predictor-expectation study sets --eta-momentum itself"),
        (["ablate", "--study", "bn", "--monitor-every", "0"], "--monitor-every 0: must be at least 1"),
        (["step", "--views", "v", "--out", "o", "--momentum", "1"], "--momentum 1.0: must lie in [0.0, 0.999]"),
        (["step", "--views", "v", "--out", "o", "--lr", "-0.5"], "--lr -0.5: must be a finite number of 0 or more"),
        (["bench", "--steps", "0"], "--steps 0: must be at least 1"),
        (["bench", "--warmup", "-2"], "--warmup -2: must be at least 0"),
        (["ablate", "--study", "bn", "--lr", "nan"], "--lr nan: must be a finite number greater than 0"),
        (["ablate", "--study", "bn", "--epochs", "0"], "--epochs 0: must be at least 1"),
        (["eval", "--checkpoint", "c", "--threads", "0"], "--threads 0: must be at least 1"),
        (["peak", "--threads", "-1"], "--threads -1: must be at least 1"),
        (["eval"], "give --checkpoint FILE (a simsiamc run's) or --init FILE (a PyTorch state_dict), exactly one"),
        (["eval", "--checkpoint", "c", "--init", "i"], "give --checkpoint FILE (a simsiamc run's) or --init FILE"),
        (["eval", "--checkpoint", "c", "--workload", "tiny"], "--workload, --model, --graph and --batch go with --init; a checkpoint names its own"),
        (["eval", "--checkpoint", "c", "--batch", "8"], "--workload, --model, --graph and --batch go with --init"),
        (["eval", "--init", "i", "--workload", "w9"], "unknown workload \"w9\""),
        (["finetune", "--checkpoint", "c"], "give the label budget as --labels-per-class N or --label-fraction F, exactly one"),
        (["finetune", "--checkpoint", "c", "--labels-per-class", "5", "--label-fraction", "0.1"], "exactly one"),
        (["finetune", "--checkpoint", "c", "--label-fraction", "0"], "--label-fraction 0.0: must lie in (0, 1]"),
        (["finetune", "--checkpoint", "c", "--label-fraction", "1.5"], "--label-fraction 1.5: must lie in (0, 1]"),
        (["finetune", "--checkpoint", "c", "--label-fraction", "nan"], "--label-fraction nan: must lie in (0, 1]"),
        (["finetune", "--checkpoint", "c", "--labels-per-class", "0"], "--labels-per-class 0: must be at least 1"),
        (["finetune", "--checkpoint", "c", "--labels-per-class", "5", "--batch", "1"], "--batch 1: must be at least 2"),
        (["finetune", "--checkpoint", "c", "--labels-per-class", "5", "--lr", "0"], "--lr 0.0: must be a finite number greater than 0"),
    ])
    func badValueIsRefusedWithWhatIsAllowed(arguments: [String], expected: String) {
        let message = refusal(arguments)
        #expect(message?.contains(expected) == true, "\(arguments.joined(separator: " ")) gave: \(message ?? "no error")")
    }

    @Test func goodValuesParse() {
        #expect(refusal(["train", "--lr", "0.05", "--batch", "2", "--warmup-epochs", "10", "--jitter", "0", "--crop-min-scale", "1"]) == nil)
        #expect(refusal(["train", "--mean", "0.5, 0.4,0.3", "--std", "0.2,0.2,0.2", "--skip-bad-images", "--eval-data", "x"]) == nil)
        #expect(refusal(["step", "--views", "v", "--out", "o", "--lr", "0", "--momentum", "0"]) == nil)
        #expect(refusal(["eval", "--init", "i.safetensors", "--workload", "W1", "--labels", "l.npy", "--mean", "0.5", "--std", "0.2"]) == nil)
        #expect(refusal(["train", "--init", "i.safetensors", "--resume"]) == nil)
        #expect(refusal(["finetune", "--checkpoint", "c", "--label-fraction", "1", "--epochs", "3", "--no-augment", "--data", "d"]) == nil)
    }

    /// A file flag that names no file is refused first, with the flag and what it takes: before `step`
    /// compiles, `train` reads data or `eval` loads a model.
    @Test(arguments: [
        (["step", "--workload", "tiny", "--views", "MISSING", "--out", "o"], "--views MISSING: no such file; give a safetensors file with tensors x1 and x2"),
        (["step", "--workload", "tiny", "--params", "MISSING", "--views", "MISSING2", "--out", "o"], "--params MISSING: no such file"),
        (["eval", "--checkpoint", "MISSING"], "--checkpoint MISSING: no such file; give the checkpoint.safetensors of a `simsiamc train` run"),
        (["eval", "--init", "MISSING", "--workload", "tiny"], "--init MISSING: no such file; give a PyTorch state_dict"),
        (["finetune", "--checkpoint", "MISSING", "--labels-per-class", "1"], "--checkpoint MISSING: no such file"),
        (["train", "--init", "MISSING", "--data", "MISSING2", "--epochs", "1"], "--init MISSING: no such file"),
    ])
    func missingFileIsNamedWithItsFlag(arguments: [String], expected: String) throws {
        let missing = "/nonexistent-simsiamc-\(UUID().uuidString)"
        let message = try runMessage(arguments.map { $0.replacingOccurrences(of: "MISSING", with: missing) })
        #expect(message.contains(expected.replacingOccurrences(of: "MISSING", with: missing)), "\(message)")
    }

    /// The executable prints an error a command's run() raises as the message alone, with the usage
    /// exit status (64), not under the root command's usage as if no subcommand had been given; a
    /// flag refused while parsing still gets its subcommand's usage.
    @Test func errorsFromARunAreNotFollowedByTheRootUsage() throws {
        let missing = "/nonexistent-simsiamc-\(UUID().uuidString)"
        let plot = try CommandLineRun(arguments: ["plot", missing]).run()
        #expect(plot.status == 64 && plot.output.contains("Error: \(missing)/metrics.jsonl does not exist"), "\(plot.output)")
        #expect(!plot.output.contains("Usage:"), "\(plot.output)")
        let bench = try CommandLineRun(arguments: ["bench", "--batch", "0"]).run()
        #expect(bench.status == 64 && bench.output.contains("Usage: simsiamc bench"), "\(bench.output)")
    }

    /// `train` and `ablate` with `--precision bf16` on a CPU without AVX512_BF16 say so before they
    /// read the data, so a user does not fetch a dataset to learn that the CPU cannot run the
    /// precision. Where the CPU has the flag, the same run reaches the data and names the missing folder.
    @Test(arguments: [["train"], ["ablate", "--study", "bn"]])
    func precisionTheCPUCannotRunIsRefusedBeforeTheData(command name: [String]) throws {
        let missing = "/nonexistent-simsiamc-data-\(UUID().uuidString)"
        let message = try runMessage(name + ["--precision", "bf16", "--epochs", "1", "--data", missing, "--run-dir", missing + "/run"])
        if BF16Support.hasDPBF16(flags: BF16Support.hostFlags) {
            #expect(message.contains(missing) && !message.contains("AVX512_BF16"), "\(message)")
        } else {
            #expect(message.contains("--precision bf16 needs a CPU with AVX512_BF16") && !message.contains(missing), "\(message)")
        }
    }
}
