import Foundation
import Testing
@testable import SimSiamData

@Suite struct RandomResizedCropTests {
    let scale = 0.2...1.0
    let ratio = (3.0 / 4.0)...(4.0 / 3.0)

    @Test(arguments: [(28, 28), (32, 32), (20, 40)])
    func cropsHonourScaleRatioAndImageBounds(height: Int, width: Int) {
        var generator = SplitMix64(seed: 11)
        let area = Double(height * width)
        for _ in 0..<5_000 {
            let crop = RandomResizedCrop.parameters(
                height: height, width: width, scale: scale, ratio: ratio, using: &generator)
            #expect(crop.top >= 0 && crop.left >= 0 && crop.height > 0 && crop.width > 0)
            #expect(crop.top + crop.height <= height && crop.left + crop.width <= width)
            // The sides are the drawn sqrt(area * ratio) and sqrt(area / ratio), each
            // rounded by at most half a pixel; the drawn area and ratio lie in bounds.
            let (w, h) = (Double(crop.width), Double(crop.height))
            #expect((w - 0.5) * (h - 0.5) <= area * scale.upperBound)
            #expect((w + 0.5) * (h + 0.5) >= area * scale.lowerBound)
            #expect((w - 0.5) / (h + 0.5) <= ratio.upperBound)
            #expect((w + 0.5) / (h - 0.5) >= ratio.lowerBound)
        }
    }

    @Test func onALargeImageAreaAndRatioSpanTheirRanges() {
        var generator = SplitMix64(seed: 5)
        let side = 2_000
        var fractions: [Double] = []
        var logRatios: [Double] = []
        for _ in 0..<4_000 {
            let crop = RandomResizedCrop.parameters(height: side, width: side, scale: scale, ratio: ratio, using: &generator)
            fractions.append(Double(crop.width * crop.height) / Double(side * side))
            logRatios.append(log(Double(crop.width) / Double(crop.height)))
        }
        #expect(fractions.allSatisfy { $0 >= 0.199 && $0 <= 1.0 })
        #expect(fractions.min()! < 0.21 && fractions.max()! > 0.9)
        #expect(logRatios.allSatisfy { $0 >= log(0.75) - 0.002 && $0 <= log(4.0 / 3.0) + 0.002 })
        // Log-ratio is uniform on a symmetric interval: mean near 0.
        #expect(abs(logRatios.reduce(0, +) / Double(logRatios.count)) < 0.01)
    }

    @Test func fallsBackToTheCentralCropClampedToTheRatio() {
        var generator = SplitMix64(seed: 1)
        // An area fraction above 1 never fits, so every attempt fails.
        let wide = RandomResizedCrop.parameters(height: 20, width: 40, scale: 2...3, ratio: ratio, using: &generator)
        #expect(wide == CropRect(top: 0, left: 6, height: 20, width: 27))  // round(20 * 4/3) = 27
        let tall = RandomResizedCrop.parameters(height: 40, width: 20, scale: 2...3, ratio: ratio, using: &generator)
        #expect(tall == CropRect(top: 6, left: 0, height: 27, width: 20))  // round(20 / 0.75) = 27, (40 - 27) // 2 = 6
        let square = RandomResizedCrop.parameters(height: 9, width: 9, scale: 2...3, ratio: ratio, using: &generator)
        #expect(square == CropRect(top: 0, left: 0, height: 9, width: 9))
    }

    @Test func aFullScaleSquareCropIsTheWholeImage() {
        var generator = SplitMix64(seed: 2)
        for _ in 0..<100 {
            let crop = RandomResizedCrop.parameters(height: 28, width: 28, scale: 1...1, ratio: 1...1, using: &generator)
            #expect(crop == CropRect(top: 0, left: 0, height: 28, width: 28))
        }
    }
}
