import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc finetune`: RQ4, a checkpoint's backbone fine-tuned on few labels, against the same
/// network from scratch and the linear probe on the same labels.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a checkpoint's backbone with few labels; compare with training from scratch and the linear probe.",
        discussion: """
            Compiles a supervised graph (the checkpoint's backbone with train-mode BN, a Linear classifier, softmax \
            cross-entropy) through the same compiler, and trains it with SGD (momentum 0.9, cosine lr, weight decay) on \
            a labelled subset of the training split chosen by --seed: the backbone from the checkpoint, then the same \
            network from its random initialisation with the same labels, steps and lr. The linear probe is fitted on the \
            checkpoint's frozen features of the same labels, and on their raw pixels. Test top-1 of all four on the held-out split goes to \
            <run-dir>/finetune.json. The data flags replace the checkpoint run's, as for `eval`.
            """)

    @Option(help: "A checkpoint written by `simsiamc train` (its model and data are the defaults).")
    var checkpoint: String

    @Option(parsing: .unconditional, help: "Labelled images per class (the same number for every class).")
    var labelsPerClass: Int?

    @Option(parsing: .unconditional, help: "Fraction of each class's training images that keep their label, in (0, 1]; 0.01 is 1%.")
    var labelFraction: Double?

    @Option(parsing: .unconditional, help: "Epochs over the labelled images, for each of the two trained networks.")
    var epochs: Int = 30

    @Option(parsing: .unconditional, help: "Images per step (at least 2: train-mode batch norm).")
    var batch: Int = 64

    @Option(parsing: .unconditional, help: "Initial learning rate, cosine-decayed to 0 (not scaled by the batch).")
    var lr: Double = 0.05

    @Option(parsing: .unconditional, help: "Weight decay.")
    var weightDecay: Double = 5e-4

    @Option(parsing: .unconditional, help: "Seed of the label subset, initialisation, batch order and augmentation.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "OpenMP threads (default: all cores).")
    var threads: Int?

    @Flag(help: "No augmentation (default: random resized crop of 80-100% of the area and horizontal flip).")
    var noAugment = false

    @Flag(help: "Do not train the from-scratch baseline.")
    var skipScratch = false

    @Flag(help: "Do not fit the linear probes (on frozen features and on raw pixels).")
    var skipProbe = false

    @Option(help: "Directory for finetune.json (default: runs/finetune).")
    var runDir: String = "runs/finetune"

    @OptionGroup(title: "Data") var data: DataOptions

    func validate() throws {
        guard (labelsPerClass == nil) != (labelFraction == nil) else {
            throw ValidationError("give the label budget as --labels-per-class N or --label-fraction F, exactly one")
        }
        try FlagCheck.atLeast(labelsPerClass, 1, "--labels-per-class")
        if let labelFraction, !(labelFraction > 0 && labelFraction <= 1) {
            throw ValidationError("--label-fraction \(labelFraction): must lie in (0, 1] (0.01 keeps 1% of each class's labels)")
        }
        try FlagCheck.atLeast(epochs, 1, "--epochs")
        try FlagCheck.atLeast(batch, 2, "--batch", "training-mode batch norm needs at least 2 samples")
        try FlagCheck.positive(lr, "--lr")
        try FlagCheck.nonNegative(weightDecay, "--weight-decay")
        try FlagCheck.atLeast(threads, 1, "--threads")
    }

    func run() throws {
        if let threads { setenv("OMP_NUM_THREADS", String(threads), 1) }
        try FlagCheck.existingFile(checkpoint, "--checkpoint", FlagCheck.trainCheckpoint)
        let url = URL(fileURLWithPath: checkpoint)
        var (saved, _) = try Checkpoint.read(url)
        try data.override(&saved.configuration)
        let model = try LoadedModel.restore(name: saved.configuration.workload, record: saved.configuration.model).workload
        let trainingData = try TrainingData.load(for: model, configuration: saved.configuration)
        if let reason = trainingData.evaluationUnavailable {
            throw CompileError("finetune needs labelled images and a held-out split; \(trainingData.summary): \(reason). "
                               + "Give labelled --data (class folders, IDX or CIFAR files, or --labels) and --eval-data")
        }
        say("checkpoint: \(checkpoint): \(model.name) after \(saved.position.epoch) epoch(s)")
        say("data:    \(trainingData.summary)")
        let budget: LabelBudget = labelsPerClass.map { .perClass($0) } ?? .fraction(labelFraction!)
        let recipe = FinetuneRecipe(epochs: epochs, batch: batch, lr: lr, weightDecay: weightDecay, seed: seed, augment: !noAugment)
        var study = FinetuneStudy(checkpoint: url, budget: budget, recipe: recipe)
        study.skipScratch = skipScratch
        study.skipProbe = skipProbe
        let directory = URL(fileURLWithPath: runDir)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let report = try study.run(model: model, checkpointEpoch: saved.position.epoch, data: trainingData, note: say) { event in
            switch event {
            case .epochEnd(let run, let epoch, let epochs, let loss, let accuracy, let lr, let seconds):
                say("\(run) " + String(format: "epoch %d/%d  loss %.4f  train top-1 %.2f%%  lr %.4g  %.1f s",
                                         epoch + 1, epochs, loss, 100 * accuracy, lr, seconds))
            }
        }
        let output = directory.appendingPathComponent("finetune.json")
        try report.write(to: output)
        say(report.table)
        say("wrote \(output.path)")
    }
}
