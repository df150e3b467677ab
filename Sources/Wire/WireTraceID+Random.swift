import Synchronization

/// Where fresh trace ids come from: a per-process counter, scrambled with a seed drawn once from the system's random
/// source. A trace id must be unique and look random, not be secret, so this costs an atomic add and a few
/// multiplications per call, where the system generator costs a `getrandom` system call.
private let traceSequence = Atomic<UInt64>(0)
private let traceSeed: (high: UInt64, low: UInt64) = {
    var generator = SystemRandomNumberGenerator()
    return (generator.next(), generator.next())
}()

extension WireTraceID {
    /// A fresh id: unique within this process (the scrambling is a bijection of the counter), and unpredictable
    /// across processes (the seed is random).
    public static func random() -> WireTraceID {
        let count = traceSequence.wrappingAdd(1, ordering: .relaxed).oldValue
        return WireTraceID(high: scramble(traceSeed.high &+ count), low: scramble(traceSeed.low ^ count))
    }

    /// SplitMix64's finalizer: a bijection on 64 bits that spreads every input bit over the output.
    private static func scramble(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
