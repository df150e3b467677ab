/// A dictionary that never holds more than a fixed number of entries: the memory bound behind the rate limiter and
/// the token cache.
///
/// When it is full, an insert first drops every stale entry (one a fresh lookup would not miss: an expired token, a
/// bucket that has refilled). If that frees too little, it drops the entries that matter least (the fullest buckets,
/// so that a client being limited keeps its empty one), or any when the caller gives no order, down to seven eighths
/// of the capacity. Either way the next sweep is at least capacity/8 inserts away, so an insert costs O(1) amortized however
/// many distinct keys clients send.
struct BoundedTable<Key: Hashable, Value> {
    let capacity: Int
    private(set) var entries: [Key: Value] = [:]

    init(capacity: Int) {
        precondition(capacity > 0, "a bounded table needs room for at least one entry")
        self.capacity = capacity
    }

    var count: Int { entries.count }

    subscript(key: Key) -> Value? {
        entries[key]
    }

    /// Stores `value` under `key`, making room first if the table is full.
    ///
    /// - Parameters:
    ///   - isStale: whether an entry may go without loss; asked only while making room.
    ///   - evictFirst: when stale entries do not free enough, how readily an entry may go (the highest go first);
    ///     without it, any entries go.
    mutating func insert(
        _ value: Value, for key: Key, isStale: (Value) -> Bool, evictFirst: ((Value) -> Double)? = nil
    ) {
        if entries[key] == nil, entries.count >= capacity {
            makeRoom(isStale: isStale, evictFirst: evictFirst)
        }
        entries[key] = value
    }

    mutating func removeValue(for key: Key) {
        entries.removeValue(forKey: key)
    }

    private mutating func makeRoom(isStale: (Value) -> Bool, evictFirst: ((Value) -> Double)?) {
        entries = entries.filter { !isStale($0.value) }
        let target = capacity - max(1, capacity / 8)
        guard entries.count > target else { return }
        let excess = entries.count - target
        let doomed =
            if let evictFirst {
                entries.map { (key: $0.key, rank: evictFirst($0.value)) }.sorted { $0.rank > $1.rank }.prefix(excess)
                    .map(\.key)
            } else {
                Array(entries.keys.prefix(excess))
            }
        for key in doomed {
            entries.removeValue(forKey: key)
        }
    }
}
