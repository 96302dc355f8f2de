import SimSiamC
import Foundation
let w = Workload.named(CommandLine.arguments[1])!
let p = try Lowering.lower(w.makeModel(), name: w.name, batch: Int(CommandLine.arguments[2])!)
try p.generated.source.write(toFile: "/tmp/gen/\(p.generated.baseName).c", atomically: true, encoding: .utf8)
try p.generated.header.write(toFile: "/tmp/gen/\(p.generated.baseName).h", atomically: true, encoding: .utf8)
print(p.autodiff, p.generated.kernelCount, p.seconds)
print(Printer.print(p.training).prefix(3000))
