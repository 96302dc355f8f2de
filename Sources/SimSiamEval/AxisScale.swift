import Foundation

/// An axis range widened to round tick values (1, 2 or 5 x a power of ten), after
/// Heckbert's "nice numbers for graph labels" (Graphics Gems, 1990).
struct AxisScale: Equatable {
    let lower: Double
    let upper: Double
    let step: Double

    /// Covers `lower ... upper` with about `targetTicks` ticks; a zero-width range is padded
    /// so a constant series still gets an axis around it.
    init(covering lower: Double, _ upper: Double, targetTicks: Int = 6) {
        var (low, high) = (min(lower, upper), max(lower, upper))
        if !low.isFinite || !high.isFinite { (low, high) = (0, 1) }
        if high - low <= abs(high) * 1e-12 {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        let step = Self.niceStep(near: (high - low) / Double(max(targetTicks - 1, 1)))
        self.step = step
        self.lower = (low / step).rounded(.down) * step
        self.upper = (high / step).rounded(.up) * step
    }

    /// Keeps exactly `lower ... upper` (a caller-fixed axis) with round ticks inside it.
    init(fixed lower: Double, _ upper: Double, targetTicks: Int = 6) {
        let padded = AxisScale(covering: lower, upper, targetTicks: targetTicks)
        self.step = padded.step
        (self.lower, self.upper) = lower < upper ? (lower, upper) : (padded.lower, padded.upper)
    }

    /// Tick values from the first multiple of `step` at or above `lower` up to `upper`.
    var ticks: [Double] {
        let first = (lower / step - 1e-9).rounded(.up)
        let last = (upper / step + 1e-9).rounded(.down)
        guard first <= last else { return [] }
        return (Int(first)...Int(last)).map { Double($0) * step }
    }

    /// `value` as a tick label, with just enough decimals for the step.
    func label(_ value: Double) -> String {
        let decimals = max(0, Int(-(log10(step) + 1e-9).rounded(.down)))
        let cleaned = abs(value) < step * 1e-9 ? 0 : value
        return String(format: "%.\(decimals)f", cleaned)
    }

    /// The 1, 2 or 5 x 10^k closest to `value` (on a log-ish scale).
    static func niceStep(near value: Double) -> Double {
        let magnitude = pow(10, log10(value).rounded(.down))
        let fraction = value / magnitude
        return (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * magnitude
    }
}
