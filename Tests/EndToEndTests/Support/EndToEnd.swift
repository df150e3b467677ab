import Testing

/// The parent of every end-to-end suite. Each test starts a whole system of real processes; on a two-core machine
/// several at once starve each other, and the one timing claim these tests make (a correct sign-in within 2 s during
/// a flood) would measure the neighbours instead of the system. So they run one at a time.
@Suite(.serialized)
enum EndToEnd {}
