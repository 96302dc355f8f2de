import Testing
@testable import SimSiamData

@Suite struct ViewAugmenterTests {
    let images = ImageFixtures.random(count: 40)

    @Test(arguments: [1, 3])
    func viewsAreIdenticalForAnyThreadCount(channels: Int) {
        let images = ImageFixtures.random(count: 24, channels: channels, side: 32)
        let configuration = channels == 1 ? AugmentationConfiguration.fashionMNIST : .cifar10
        let indices = Array((0..<24).reversed())
        let single = ViewAugmenter(configuration: configuration, seed: 7, threadCount: 1)
            .makeViews(images: images, indices: indices, epoch: 2)
        let parallel = ViewAugmenter(configuration: configuration, seed: 7, threadCount: 4)
            .makeViews(images: images, indices: indices, epoch: 2)
        #expect(single.x1 == parallel.x1 && single.x2 == parallel.x2)
        #expect(single.x1 != single.x2)
    }

    @Test func viewsDependOnTheImageNotTheBatch() {
        let augmenter = ViewAugmenter(configuration: .fashionMNIST, seed: 3, threadCount: 2)
        let viewSize = augmenter.floatsPerView(for: images)
        let pair = augmenter.makeViews(images: images, indices: [5, 9], epoch: 0)
        let trio = augmenter.makeViews(images: images, indices: [9, 1, 5], epoch: 0)
        #expect(pair.x1[0..<viewSize] == trio.x1[2 * viewSize..<3 * viewSize])
        #expect(pair.x2[viewSize...] == trio.x2[0..<viewSize])
    }

    @Test func seedsAndEpochsChangeTheViews() {
        let indices = Array(0..<10)
        let base = ViewAugmenter(configuration: .fashionMNIST, seed: 1).makeViews(images: images, indices: indices, epoch: 0)
        let otherSeed = ViewAugmenter(configuration: .fashionMNIST, seed: 2).makeViews(images: images, indices: indices, epoch: 0)
        let otherEpoch = ViewAugmenter(configuration: .fashionMNIST, seed: 1).makeViews(images: images, indices: indices, epoch: 1)
        #expect(base.x1 != otherSeed.x1 && base.x2 != otherSeed.x2)
        #expect(base.x1 != otherEpoch.x1)
    }

    @Test(arguments: [1, 3])
    func valuesBeforeNormalisationStayInTheUnitInterval(channels: Int) {
        let images = ImageFixtures.random(count: 30, channels: channels, side: 20, seed: 8)
        let augmenter = ViewAugmenter(
            configuration: ImageFixtures.unnormalized(channels: channels, jitterProbability: 1, brightness: 0.9, contrast: 0.9),
            seed: 5)
        let views = augmenter.makeViews(images: images, indices: Array(0..<30), epoch: 0)
        #expect((views.x1 + views.x2).allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func normalisationUsesTheConfiguredMeanAndStd() {
        let image = ImageFixtures.constant(51, channels: 3, side: 8)
        let augmenter = ViewAugmenter(configuration: .cifar10, seed: 0)
        let views = augmenter.makeViews(
            images: image, indices: [0], epoch: 0)
        for channel in 0..<3 {
            let configuration = AugmentationConfiguration.cifar10
            let expected = (Float(51) / 255 - configuration.mean[channel]) / configuration.std[channel]
            let plane = views.x1[channel * 64..<(channel + 1) * 64]
            // Jitter may have moved the (constant) value; without it, it is exact.
            if augmenter.viewParameters(imageIndex: 0, epoch: 0, view: 0, height: 8, width: 8).jitter == nil {
                #expect(plane.allSatisfy { $0 == expected })
            }
            #expect(Set(plane).count == 1)
        }
    }

    @Test func aConstantImageStaysConstantUnderCropAndFlip() {
        let image = ImageFixtures.constant(77)
        let augmenter = ViewAugmenter(configuration: ImageFixtures.unnormalized(jitterProbability: 0), seed: 12)
        for epoch in 0..<20 {
            let views = augmenter.makeViews(images: image, indices: [0], epoch: epoch)
            #expect((views.x1 + views.x2).allSatisfy { $0 == Float(77) / 255 })
        }
    }

    @Test func jitterWithProbabilityZeroLeavesTheCropUntouched() {
        let indices = Array(0..<40)
        let plain = ViewAugmenter(configuration: ImageFixtures.unnormalized(jitterProbability: 0), seed: 4)
        let views = plain.makeViews(images: images, indices: indices, epoch: 1)
        // Unit factors applied to every view: same crops, same values.
        let neutral = ViewAugmenter(
            configuration: ImageFixtures.unnormalized(jitterProbability: 1, brightness: 0, contrast: 0), seed: 4)
        let neutralViews = neutral.makeViews(images: images, indices: indices, epoch: 1)
        #expect(views.x1 == neutralViews.x1 && views.x2 == neutralViews.x2)
        // And each view is exactly the resized crop its parameters name.
        for index in [0, 17, 39] {
            let parameters = plain.viewParameters(imageIndex: index, epoch: 1, view: 1, height: 28, width: 28)
            #expect(parameters.jitter == nil)
            var expected = [Float](repeating: 0, count: 784)
            images.pixels.withUnsafeBufferPointer { source in
                expected.withUnsafeMutableBufferPointer { output in
                    BilinearResize.resizedCrop(
                        source.baseAddress! + index * 784, channels: 1, height: 28, width: 28, crop: parameters.crop,
                        outputHeight: 28, outputWidth: 28, mirrored: parameters.flipped, into: output.baseAddress!)
                }
            }
            #expect(Array(views.x2[index * 784..<(index + 1) * 784]) == expected)
        }
    }

    @Test func jitterIsAppliedAtTheConfiguredRate() {
        let augmenter = ViewAugmenter(configuration: .fashionMNIST, seed: 21)
        let jittered = (0..<2_000).filter {
            augmenter.viewParameters(imageIndex: $0, epoch: 0, view: 0, height: 28, width: 28).jitter != nil
        }
        #expect(abs(Double(jittered.count) / 2_000 - 0.8) < 0.04)
        let flipped = (0..<2_000).filter {
            augmenter.viewParameters(imageIndex: $0, epoch: 0, view: 1, height: 28, width: 28).flipped
        }
        #expect(abs(Double(flipped.count) / 2_000 - 0.5) < 0.04)
    }

    @Test(arguments: [1, 3])
    func flipMirrorsEachRow(channels: Int) {
        let side = 16
        let image = ImageFixtures.ramp(channels: channels, side: side)
        func view(flipProbability: Double) -> [Float] {
            ViewAugmenter(
                configuration: ImageFixtures.unnormalized(
                    channels: channels, cropScale: 1...1, flipProbability: flipProbability, jitterProbability: 0),
                seed: 0
            ).makeViews(images: image, indices: [0], epoch: 0).x1
        }
        let original = image.pixels.map { Float($0) / 255 }
        #expect(view(flipProbability: 0) == original)
        let mirrored = stride(from: 0, to: original.count, by: side).flatMap { original[$0..<$0 + side].reversed() }
        #expect(view(flipProbability: 1) == mirrored)
    }

    @Test func normalizedImagesAreScaledAndStandardised() {
        let augmenter = ViewAugmenter(configuration: .fashionMNIST, seed: 0, threadCount: 3)
        let output = augmenter.normalized(images: images, indices: [3, 0])
        let expected = (Array(images.image(at: 3)) + Array(images.image(at: 0))).map {
            (Float($0) / 255 - Float(0.2860)) / Float(0.3530)
        }
        #expect(output == expected)
    }

    @Test func viewsCanBeResizedToAnotherShape() {
        var configuration = AugmentationConfiguration.fashionMNIST
        configuration.outputHeight = 14
        configuration.outputWidth = 10
        let augmenter = ViewAugmenter(configuration: configuration, seed: 0)
        #expect(augmenter.floatsPerView(for: images) == 140)
        #expect(augmenter.makeViews(images: images, indices: [1, 2], epoch: 0).x1.count == 280)
    }
}
