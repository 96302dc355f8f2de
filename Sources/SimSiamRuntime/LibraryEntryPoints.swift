/// The C entry points of docs/library-abi.md, as Swift function types.
enum LibraryEntryPoints {
    typealias Int64Getter = @convention(c) () -> Int64
    typealias ArenaNumel = @convention(c) (Int64) -> Int64
    typealias Symbols = @convention(c) () -> UnsafeRawPointer?
    typealias GroupName = @convention(c) (Int64) -> UnsafePointer<CChar>?
    typealias Initialize = @convention(c) (UnsafeRawPointer?, UInt64) -> Void
    typealias TrainStep = @convention(c) (
        UnsafeRawPointer?, UnsafePointer<UnsafeRawPointer?>?, UnsafePointer<Double>?,
        Double, Double, UnsafeMutablePointer<Double>?
    ) -> Void
    typealias Features = @convention(c) (UnsafeRawPointer?, UnsafeRawPointer?, UnsafeMutableRawPointer?) -> Void
}
