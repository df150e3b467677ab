import NIOCore
import Wire

/// How a change is stored in a shard's outbox: the Wire encoding of a ``TimelineEvent`` whose id and shard the relay
/// fills in from the row when it sends it.
enum OutboxPayload {
    /// The `bytea` text for a change, to pass as a statement parameter.
    static func bytea(for change: TimelineEvent.Change) -> String {
        let buffer = TimelineEvent(id: 0, shard: 0, change: change).payload()
        return Array(buffer.readableBytesView).byteaLiteral
    }

    /// The event in an outbox row.
    static func event(rowID: Int64, shard: Int, byteaText: String) throws -> TimelineEvent {
        guard byteaText.hasPrefix("\\x"), let bytes = [UInt8](hex: byteaText.dropFirst(2)) else {
            throw WireError(.internal, reason: "corrupt_outbox_row", "outbox row \(rowID) is not bytea hex")
        }
        var event = try TimelineEvent(payload: ByteBuffer(bytes: bytes))
        event.id = rowID
        event.shard = UInt16(shard)
        return event
    }
}
