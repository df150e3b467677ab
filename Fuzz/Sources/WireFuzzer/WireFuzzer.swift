// libFuzzer entry point for the Wire framing and payload codec. The checks themselves live in the root package's
// `WireFuzzChecks` module, so that its tests replay the seed corpus through exactly the same checks
// (`docs/fuzzing.md`). A thrown `WireError` is an expected outcome; a crash, a trap, a sanitizer report or a
// `WireFuzzFailure` (turned into a `fatalError` here, so that libFuzzer saves the input) is a bug.
import NIOCore
import WireFuzzChecks

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try WireFuzzChecks.check(ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size)))
    } catch {
        fatalError("WireFuzzer: \(error)")
    }
    return 0
}

// MARK: - Entry point

/// SwiftPM (tools version 5.5 and later) links every executable with `--defsym main=WireFuzzer_main`, expecting the
/// compiler to emit `WireFuzzer_main` as the module's entry point. Under `-parse-as-library` (which libFuzzer needs)
/// there is no such entry point, so the link fails, and libFuzzer's own `main` cannot be used. This function is that
/// entry point: it does exactly what libFuzzer's `main` does.
@_cdecl("WireFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzz)
}

/// libFuzzer's driver (`compiler-rt/lib/fuzzer/FuzzerDriver.cpp`).
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt
