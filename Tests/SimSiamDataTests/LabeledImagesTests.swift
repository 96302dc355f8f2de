import Testing
@testable import SimSiamData

@Suite struct LabeledImagesTests {
    @Test func defaultsToOneChannel() {
        let images = LabeledImages(count: 2, height: 1, width: 2, pixels: [1, 2, 3, 4], labels: [0, 1])
        #expect(images.channels == 1 && images.pixelsPerImage == 2)
        #expect(Array(images.image(at: 1)) == [3, 4])
    }

    @Test func slicesColourImagesWhole() {
        let images = LabeledImages(
            count: 2, channels: 3, height: 1, width: 2, pixels: (0..<12).map { UInt8($0) }, labels: [0, 1])
        #expect(images.pixelsPerImage == 6)
        #expect(Array(images.image(at: 1)) == [6, 7, 8, 9, 10, 11])
    }
}
