import SimSiamIR

/// Which algorithms can run a convolution node's pass at all (shape, stride, vector and panel
/// widths), apart from what they would cost (`ConvPlanner.swift`): what `KernelPlanner.validate`
/// accepts and `simsiamc tune` times.
extension KernelEmitter {
    /// Why `conv_wino` cannot run a 3x3 convolution reading `channels` channels, or nil when it can:
    /// F(2x2, 3x3) and F(4x4, 3x3) are written for 3x3 kernels at stride 1, padding 1, and transform
    /// whole vectors of input channels.
    func winogradApplies(kernel k: Int, stride s: Int, padding pad: Int, channels: Int) -> String? {
        if k != 3 || s != 1 || pad != 1 {
            return "Winograd needs a 3x3 kernel at stride 1, padding 1 (this is \(k)x\(k), stride \(s), padding \(pad))"
        }
        if channels % tile.lanes != 0 {
            return "Winograd reads input channels in whole \(tile.lanes)-lane vectors (\(tile.width.rawValue), \(precision.rawValue)); \(channels) is not a multiple of \(tile.lanes)"
        }
        return nil
    }

    /// Why `conv_wino_weight` cannot run, or nil: as `winogradApplies`, with input channels in whole
    /// GEMM panels and output channels in whole vectors.
    func winogradWeightApplies(kernel k: Int, stride s: Int, padding pad: Int, channels: Int, outputs: Int) -> String? {
        if let problem = winogradApplies(kernel: k, stride: s, padding: pad, channels: channels) { return problem }
        if channels % tile.columns != 0 {
            return "Winograd's dw needs input channels in whole \(tile.columns)-column panels; \(channels) is not a multiple of \(tile.columns)"
        }
        if outputs % tile.lanes != 0 {
            return "Winograd's dw needs output channels in whole \(tile.lanes)-lane vectors; \(outputs) is not a multiple of \(tile.lanes)"
        }
        return nil
    }

    /// Why `algorithm` cannot run this convolution node's pass, or nil when it can.
    func convAlgorithmProblem(_ algorithm: ConvAlgorithm) -> String? {
        guard let pass = convPass, let (s, pad) = convGeometry else { return "\(name) is not a convolution" }
        let w = pass == .dw ? shape(result: 0) : shape(operand: 1)
        let (outputs, channels, k) = (w[0], w[1], w[2])
        switch (algorithm, pass) {
        case (.inPlace, _): return nil
        case (.packed, .dx): return "there is no packed dx kernel (dx runs in-place, channels-last or winograd)"
        case (.packed, _): return nil
        case (.channelsLast, .dw) where channels % tile.columns != 0:
            return "the channels-last dw needs input channels in whole \(tile.columns)-column tiles (\(tile.width.rawValue), \(precision.rawValue)); \(channels) is not a multiple of \(tile.columns)"
        case (.channelsLast, _): return nil
        case (.winograd, .forward), (.winograd4x4, .forward): return winogradApplies(kernel: k, stride: s, padding: pad, channels: channels)
        case (.winograd, .dx), (.winograd4x4, .dx): return winogradApplies(kernel: k, stride: s, padding: pad, channels: outputs)
        case (.winograd, .dw), (.winograd4x4, .dw):
            return winogradWeightApplies(kernel: k, stride: s, padding: pad, channels: channels, outputs: outputs)
        }
    }
}
