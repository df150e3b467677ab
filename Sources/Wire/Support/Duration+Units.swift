extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    /// Whole milliseconds, saturating to fit a frame's 32-bit timeout field.
    var clampedMilliseconds: UInt32 {
        UInt32(clamping: nanoseconds / 1_000_000)
    }
}
