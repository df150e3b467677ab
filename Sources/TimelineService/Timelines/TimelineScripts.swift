/// The Lua that keeps a per-user timeline (a home or a profile) as a Redis list of members, newest first, without
/// repeats (``TimelineMember``).
///
/// A list, not a sorted set: a sorted set looks for the member among all of its entries before every insert (15 to 17
/// µs into a full 800-entry listpack, on the master and again on its replica), where a list takes a tweet newer than
/// its first entry (nearly every tweet) with one `LINDEX` and one `LPUSH`, and holds an 800-entry timeline in about a
/// fifth less memory (docs/performance.md). The order and the absence of repeats are kept by the scripts: every write
/// is an insert in place that does nothing for a member already there, so writes commute and may be repeated, as
/// they could with a set. A tweet older than every entry of a full timeline (``TimelineScripts/insert``'s capacity)
/// is not added, as a set would have cut it at its next trim.
///
/// Members are compared as two big-endian 32-bit numbers (Redis's `struct` library), never with Lua's `<` on
/// strings, which collates by the server's locale.
enum TimelineScripts {
    /// `newer(a, b)`: whether member `a` names a newer tweet than `b`.
    static let newer = """
        local function newer(a, b)
            local a1, a2 = struct.unpack('>I4I4', a)
            local b1, b2 = struct.unpack('>I4I4', b)
            return a1 < b1 or (a1 == b1 and a2 < b2)
        end

        """

    /// ``newer``, and the functions that write a timeline:
    ///
    /// - `place(key, member, capacity)` puts a member that is not newer than the first entry (a late one: its fan-out
    ///   ran after a newer tweet's) in its place, and returns the list's length after, or `false` when nothing was
    ///   added (already there, or older than every entry of a list of `capacity` or more). Late members nearly always
    ///   belong near the front, so it reads the first ``nearFront`` entries, then the next ``nextWindow``, then the
    ///   rest (at most the capacity and its slack), each with one `LRANGE`, and searches each in Lua (a binary search
    ///   by `LINDEX` instead walks the list once a call). `LINSERT` then finds its pivot from the front.
    /// - `insertMany(key, first, last, capacity, oldest1, oldest2, head)` writes `ARGV[first...last]` (newest first,
    ///   no repeats; `oldest1`, `oldest2`: `ARGV[last]` as `newer` reads it, worked out once by the caller; `head`: the
    ///   list's first entry, `LINDEX key 0`, which the caller has read to learn whether the list exists): those
    ///   newer than the first entry (nearly always all of them) with one `LPUSH`, the rest placed one by one, or,
    ///   more than ``mergeAbove`` of them (a rebuild into a timeline that fan-out wrote meanwhile), merged with the
    ///   list's entries in one pass and the list written again with its expiry kept. Returns the length after
    ///   (`false` when nothing was placed and no push or merge ran) and whether the list was created.
    static let insert =
        newer + """
            local function place(key, member, capacity)
                local from = 0
                for _, width in ipairs({\(nearFront), \(nextWindow), 0}) do
                    local window = redis.call('LRANGE', key, from, width > 0 and from + width - 1 or -1)
                    if #window > 0 and not newer(window[#window], member) then
                        local lo, hi = 1, #window
                        while lo < hi do
                            local mid = math.floor((lo + hi) / 2)
                            if newer(window[mid], member) then lo = mid + 1 else hi = mid end
                        end
                        if window[lo] == member then return false end
                        return redis.call('LINSERT', key, 'BEFORE', window[lo], member)
                    end
                    if width == 0 or #window < width then
                        if from + #window >= capacity then return false end
                        return redis.call('RPUSH', key, member)
                    end
                    from = from + width
                end
            end
            local function push(key, first, last)
                local size
                for top = last, first, -1000 do
                    local run = {}
                    for j = top, math.max(first, top - 999), -1 do run[#run + 1] = ARGV[j] end
                    size = redis.call('LPUSH', key, unpack(run))
                end
                return size
            end
            local function merge(key, first, last, capacity)
                local current, merged, n = redis.call('LRANGE', key, 0, -1), {}, 0
                local i, j = 1, first
                while n < capacity and (i <= #current or j <= last) do
                    local a, b = current[i], j <= last and ARGV[j] or nil
                    n = n + 1
                    if b == nil or (a ~= nil and newer(a, b)) then
                        merged[n], i = a, i + 1
                    elseif a == nil or newer(b, a) then
                        merged[n], j = b, j + 1
                    else
                        merged[n], i, j = a, i + 1, j + 1
                    end
                end
                local expiry = redis.call('PEXPIRETIME', key)
                redis.call('DEL', key)
                for s = 1, n, 1000 do
                    redis.call('RPUSH', key, unpack(merged, s, math.min(s + 999, n)))
                end
                if expiry > 0 then redis.call('PEXPIREAT', key, expiry) end
                return n
            end
            local function insertMany(key, first, last, capacity, oldest1, oldest2, head)
                local fresh = not head
                if head then
                    local h1, h2 = struct.unpack('>I4I4', head)
                    fresh = oldest1 < h1 or (oldest1 == h1 and oldest2 < h2)
                end
                if fresh then
                    if first == last then return redis.call('LPUSH', key, ARGV[first]), not head end
                    return push(key, first, last), not head
                end
                local late = first
                while late <= last and newer(ARGV[late], head) do late = late + 1 end
                local size = false
                if late > first then size = push(key, first, late - 1) end
                if last - late + 1 > \(mergeAbove) then
                    size = merge(key, late, last, capacity)
                else
                    for j = late, last do size = place(key, ARGV[j], capacity) or size end
                end
                return size, not head
            end

            """

    /// How many entries ``insert``'s `place` reads first to place a late member, and how many after those (then all
    /// the rest).
    static let nearFront = 16
    static let nextWindow = 128

    /// More late members than this in one write are merged rather than placed one by one.
    static let mergeAbove = 16

    /// Adds members to one timeline and trims it to its capacity once it is more than a slack over it. `KEYS[1]` the
    /// timeline; `ARGV[1]` the capacity, `ARGV[2]` the slack, then the members, newest first, without repeats.
    static let add =
        insert + """
            local key, capacity = KEYS[1], tonumber(ARGV[1])
            local oldest1, oldest2 = struct.unpack('>I4I4', ARGV[#ARGV])
            local size = insertMany(key, 3, #ARGV, capacity, oldest1, oldest2, redis.call('LINDEX', key, 0))
            if size and size > capacity + tonumber(ARGV[2]) then redis.call('LTRIM', key, 0, capacity - 1) end
            """

    /// Reads one timeline newest first between exclusive bounds. `KEYS[1]` the timeline; `ARGV[1]` the newest bound
    /// (entries older than it; empty: none), `ARGV[2]` the oldest bound (entries newer than it; empty: none),
    /// `ARGV[3]` the most entries (negative: all). The start is found by a binary search.
    static let page = """
        #!lua flags=no-writes
        \(newer)
        local key, below, above, limit = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
        local from, n = 0, redis.call('LLEN', key)
        if below ~= '' then
            local hi = n
            while from < hi do
                local mid = math.floor((from + hi) / 2)
                local entry = redis.call('LINDEX', key, mid)
                if entry == below or newer(entry, below) then from = mid + 1 else hi = mid end
            end
        end
        if from >= n or limit == 0 then return {} end
        local entries = redis.call('LRANGE', key, from, limit < 0 and -1 or from + limit - 1)
        if above ~= '' then
            for i = 1, #entries do
                if not newer(entries[i], above) then return {unpack(entries, 1, i - 1)} end
            end
        end
        return entries
        """
}
