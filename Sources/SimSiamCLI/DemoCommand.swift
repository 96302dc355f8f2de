import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc demo`: compile W1 and train a few steps on Fashion-MNIST, printing the loss.
/// A first look at the whole pipeline on real data; the full trainer comes next.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Compile a workload and train it for a few steps on Fashion-MNIST.")

    @OptionGroup var options: WorkloadOptions

    @Option(help: "Training steps to run.")
    var steps: Int = 8

    @Option(help: "Directory with the Fashion-MNIST IDX files.")
    var data: String = FashionMNIST.defaultDirectory.path

    @Option(help: "Seed for initialisation and batch sampling.")
    var seed: UInt64 = 0

    func validate() throws {
        guard options.resolvedWorkload.name == Workload.fmnistResNetMini.name || options.resolvedWorkload.name == Workload.tiny.name
        else { throw ValidationError("demo trains on 28x28 grey Fashion-MNIST: use --workload fmnist-resnet-mini") }
    }

    func run() throws {
        options.applyThreads()
        let workload = options.resolvedWorkload
        let batch = options.resolvedBatch
        let compiled = try Compiler.compile(workload, batch: batch)
        print(compiled.summary)
        let images = try FashionMNIST.load(directory: URL(fileURLWithPath: data), split: .train)
        print("data:    \(images.count) training images from \(data)")
        let state = ModelState(library: compiled.library)
        state.initialize(seed: seed)
        let lr = workload.baseLR * Double(batch) / 256
        var views = SimpleViews(images: images, seed: seed, imageShape: compiled.library.inputs[0].shape)
        for step in 1...steps {
            let (x1, x2) = views.nextBatch(batch)
            let start = Date()
            let loss = try state.trainStep(inputs: [x1, x2], groupLR: Array(repeating: lr, count: compiled.library.groupNames.count),
                                           weightDecay: workload.weightDecay, momentum: 0.9)
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "step %3d/%d  loss %+.4f  %.2f s  %.0f samples/s", step, steps, loss, seconds, Double(batch) / seconds))
        }
    }
}

/// Two views per image from random shifts (up to 3 pixels) and flips,
/// normalised with the Fashion-MNIST mean and std: a stand-in until the
/// spec's augmentation pipeline lands.
struct SimpleViews {
    let images: LabeledImages
    var generator: UInt64
    let height: Int, width: Int

    init(images: LabeledImages, seed: UInt64, imageShape: [Int]) {
        self.images = images
        self.generator = seed &+ 0x9E37_79B9_7F4A_7C15
        self.height = imageShape[2]
        self.width = imageShape[3]
    }

    mutating func random(_ bound: Int) -> Int {
        generator = generator &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((generator >> 33) % UInt64(bound))
    }

    mutating func view(of index: Int, into output: inout [Float]) {
        let dy = random(7) - 3, dx = random(7) - 3, flip = random(2) == 1
        let pixels = images.height * images.width
        for y in 0..<height {
            for x in 0..<width {
                let sy = y + dy, sx0 = x + dx
                let sx = flip ? width - 1 - sx0 : sx0
                var value: Float = 0
                if sy >= 0, sy < images.height, sx >= 0, sx < images.width {
                    value = Float(images.pixels[index * pixels + sy * images.width + sx]) / 255
                }
                output.append((value - 0.2860) / 0.3530)
            }
        }
    }

    mutating func nextBatch(_ batch: Int) -> ([Float], [Float]) {
        var x1: [Float] = [], x2: [Float] = []
        x1.reserveCapacity(batch * height * width)
        x2.reserveCapacity(batch * height * width)
        for _ in 0..<batch {
            let index = random(images.count)
            view(of: index, into: &x1)
            view(of: index, into: &x2)
        }
        return (x1, x2)
    }
}
