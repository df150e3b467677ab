import Testing

/// Faults injected into the real processes and servers while traffic runs through the public API; after each is
/// healed, ``Invariants`` must hold again: nothing acknowledged is lost, nothing deleted comes back, every view agrees
/// with PostgreSQL. One fault per test; they share the servers, so they run one at a time.
///
/// (A Redis master killed during fan-out is the lead engineer's test, not here.)
@Suite("Faults", .serialized)
struct FaultInjectionTests {}
