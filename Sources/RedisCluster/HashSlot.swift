/// One of the 16384 slots a Redis Cluster splits its keyspace into.
///
/// A key's slot is `CRC16(key) mod 16384` (CRC16/XMODEM), except that when the key has a hash tag only the tag is
/// hashed, so that related keys such as `{user1000}.following` and `{user1000}.followers` share a node. The tag is
/// the bytes between the first `{` and the first `}` after it, if there is at least one byte between them;
/// otherwise the whole key is hashed. These are the rules of the Redis Cluster specification, byte for byte.
public struct HashSlot: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The number of slots in every Redis Cluster.
    public static let count = 16384

    /// The slot number, `0..<16384`.
    public let rawValue: UInt16

    /// The slot with this number; `nil` outside `0..<16384`.
    public init?(rawValue: Int) {
        guard (0..<Self.count).contains(rawValue) else { return nil }
        self.rawValue = UInt16(rawValue)
    }

    /// The slot that serves `key`.
    public init(key: some Collection<UInt8>) {
        rawValue = Self.crc16(Self.hashedPart(of: key)) & UInt16(Self.count - 1)
    }

    /// The slot that serves the UTF-8 bytes of `key`.
    public init(key: String) {
        self.init(key: Array(key.utf8))
    }

    /// `count` hash tags spread evenly over the slot space: tag `i` (`prefix` `i`.`attempt`) has its slot in
    /// `[i * 16384 / count, (i + 1) * 16384 / count)`, so that on a cluster whose masters own equal contiguous slot
    /// ranges (as `redis-cli --cluster create` makes them) each master serves its share of the keys tagged with them.
    public static func spreadTags(prefix: String, count: Int) -> [String] {
        (0..<count).map { index in
            let slots = (index * Self.count / count)..<((index + 1) * Self.count / count)
            var attempt = 0
            while true {
                let tag = "\(prefix)\(index).\(attempt)"
                if slots.contains(Int(HashSlot(key: tag).rawValue)) {
                    return tag
                }
                attempt += 1
            }
        }
    }

    /// The bytes that are hashed for `key`: its hash tag when it has a non-empty one, else all of it.
    static func hashedPart<Key: Collection<UInt8>>(of key: Key) -> Key.SubSequence {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return key[...] }
        let tagStart = key.index(after: open)
        guard let close = key[tagStart...].firstIndex(of: UInt8(ascii: "}")), close != tagStart else {
            return key[...]
        }
        return key[tagStart..<close]
    }

    /// CRC16/XMODEM (polynomial 0x1021, initial value 0, no reflection): `"123456789"` gives `0x31C3`.
    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ crc16Table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let crc16Table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }

    public static func < (lhs: HashSlot, rhs: HashSlot) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String { String(rawValue) }
}
