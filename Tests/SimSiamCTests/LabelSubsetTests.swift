import Foundation
import Testing
@testable import SimSiamC

/// The labelled subset of fine-tuning: balanced, deterministic in the seed, and refused with the flag's name when impossible.
@Suite struct LabelSubsetTests {
    /// 3 classes of unequal size: 10, 7 and 13 images, interleaved.
    static let labels: [UInt8] = (0..<30).map { (index: Int) -> UInt8 in
        if index >= 21 { return 2 }
        return index % 3 == 2 && index >= 14 ? 0 : UInt8(index % 3)
    }

    func counts(_ indices: [Int]) -> [Int] {
        (0..<3).map { label in indices.count { Self.labels[$0] == label } }
    }

    @Test func perClassIsBalancedDeterministicAndNested() throws {
        let available = (0..<3).map { label in Self.labels.count { $0 == label } }
        let a = try LabelSubset.select(labels: Self.labels, classes: 3, budget: .perClass(4), seed: 5)
        #expect(counts(a) == [4, 4, 4])
        #expect(a == a.sorted() && Set(a).count == a.count)
        #expect(try LabelSubset.select(labels: Self.labels, classes: 3, budget: .perClass(4), seed: 5) == a)
        #expect(try LabelSubset.select(labels: Self.labels, classes: 3, budget: .perClass(4), seed: 6) != a)
        // A larger budget keeps the smaller one's images: budgets compare on the same labels.
        let larger = try LabelSubset.select(labels: Self.labels, classes: 3, budget: .perClass(6), seed: 5)
        #expect(Set(a).isSubset(of: Set(larger)))
        let all = try LabelSubset.select(labels: Self.labels, classes: 3, budget: .perClass(available.min()!), seed: 5)
        #expect(counts(all) == Array(repeating: available.min()!, count: 3))
    }

    @Test func fractionIsStratified() throws {
        let available = (0..<3).map { label in Self.labels.count { $0 == label } }
        let half = try LabelSubset.select(labels: Self.labels, classes: 3, budget: .fraction(0.5), seed: 1)
        #expect(counts(half) == available.map { Int((0.5 * Double($0)).rounded()) })
        // Every class keeps at least one label, however small the fraction.
        #expect(counts(try LabelSubset.select(labels: Self.labels, classes: 3, budget: .fraction(0.001), seed: 1)) == [1, 1, 1])
        #expect(try LabelSubset.select(labels: Self.labels, classes: 3, budget: .fraction(1), seed: 1) == Array(0..<30))
    }

    @Test func impossibleBudgetsNameTheFlag() throws {
        let smallest = (0..<3).map { label in Self.labels.count { $0 == label } }.min()!
        #expect(throws: CompileError.self) { try LabelSubset.select(labels: Self.labels, classes: 3, budget: .perClass(smallest + 1), seed: 0) }
        do {
            _ = try LabelSubset.select(labels: Self.labels, classes: 3, budget: .perClass(smallest + 1), seed: 0)
        } catch {
            #expect("\(error)".contains("--labels-per-class \(smallest + 1)") && "\(error)".contains("at most \(smallest)"))
        }
        for bad in [0.0, -0.1, 1.5] {
            #expect(throws: CompileError.self) { try LabelSubset.select(labels: Self.labels, classes: 3, budget: .fraction(bad), seed: 0) }
        }
    }

    @Test func gatherKeepsImagesWithTheirLabels() {
        let images = TrainerTests.syntheticImages(count: 9, seed: 4)
        let picked = LabelSubset.gather(images, [7, 2])
        #expect(picked.count == 2 && picked.labels == [images.labels[7], images.labels[2]])
        #expect(Array(picked.pixels[0..<64]) == Array(images.pixels[(7 * 64)..<(8 * 64)]))
    }
}
