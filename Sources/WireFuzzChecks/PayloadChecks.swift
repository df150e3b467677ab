import NIOCore
import Wire

/// Every method of the protocol. Add new methods here: their request and response types are then decoded from frames
/// that name the method and from every raw input. (`FuzzCorpusTests` checks that no method is missing.)
let methods: [MethodDecoder] = [
    MethodDecoder(HealthCheck.self),
    MethodDecoder(ReadMetrics.self),
    // TweetService
    MethodDecoder(CreateUser.self),
    MethodDecoder(Authenticate.self),
    MethodDecoder(ResolveToken.self),
    MethodDecoder(RevokeToken.self),
    MethodDecoder(GetUsers.self),
    MethodDecoder(GetUserByUsername.self),
    MethodDecoder(Follow.self),
    MethodDecoder(Unfollow.self),
    MethodDecoder(ListFollowers.self),
    MethodDecoder(ListFollowing.self),
    MethodDecoder(ListFollowerIDs.self),
    MethodDecoder(ListFollowingIDs.self),
    MethodDecoder(ListFirstFollowerPages.self),
    MethodDecoder(ExtendHomeLifetime.self),
    MethodDecoder(CreateTweet.self),
    MethodDecoder(GetTweets.self),
    MethodDecoder(DeleteTweet.self),
    MethodDecoder(ListUserTweets.self),
    MethodDecoder(ListRecentTweets.self),
    // TimelineService
    MethodDecoder(DeliverEvents.self),
    MethodDecoder(ReadPublicTimeline.self),
    MethodDecoder(ReadHomeTimeline.self),
    MethodDecoder(ReadQueueStats.self),
    MethodDecoder(ReadFanOutDelay.self),
]

/// Messages that travel only inside others, decoded from raw inputs on their own too.
let nestedMessages: [MessageDecoder] = [
    MessageDecoder(TimelineEvent.self)
]

/// The request and response types of every method, and the nested messages, each once (many methods share them).
let methodMessages: [MessageDecoder] = {
    var seen = Set<ObjectIdentifier>()
    return (methods.flatMap { method in [method.request, method.response] } + nestedMessages)
        .filter { seen.insert($0.type).inserted }
}()

struct MessageDecoder: Sendable {
    let type: ObjectIdentifier
    let decode: @Sendable (ByteBuffer) throws(WireFuzzFailure) -> Void

    init<Message: WireMessage & Equatable>(_: Message.Type) {
        type = ObjectIdentifier(Message.self)
        decode = { (payload: ByteBuffer) throws(WireFuzzFailure) in try roundTrip(Message.self, payload) }
    }
}

struct MethodDecoder: Sendable {
    let id: UInt16
    let request: MessageDecoder
    let response: MessageDecoder

    init<Method: WireMethod>(_: Method.Type) where Method.Request: Equatable, Method.Response: Equatable {
        id = Method.id.rawValue
        request = MessageDecoder(Method.Request.self)
        response = MessageDecoder(Method.Response.self)
    }
}

/// Decodes a frame's payload as the control messages, as the request and the response of the method its header names
/// (what a server and a client do with it), as the generic shapes, and by a program.
func decodePayload(_ payload: ByteBuffer, method: WireMethodID, program: UInt64) throws(WireFuzzFailure) {
    try decodeControlMessagesAndShapes(payload)
    for decoder in methods where decoder.id == method.rawValue {
        try decoder.request.decode(payload)
        try decoder.response.decode(payload)
    }
    try run(program, on: payload)
}

/// Decodes raw bytes as every message type.
func decodeRawPayload(_ payload: ByteBuffer, program: UInt64) throws(WireFuzzFailure) {
    try decodeControlMessagesAndShapes(payload)
    for decoder in methodMessages {
        try decoder.decode(payload)
    }
    try run(program, on: payload)
}

func decodeControlMessagesAndShapes(_ payload: ByteBuffer) throws(WireFuzzFailure) {
    try roundTrip(WireHello.self, payload)
    try roundTrip(WireChallenge.self, payload)
    try roundTrip(WireAuthenticate.self, payload)
    try roundTrip(WireHelloAck.self, payload)
    try roundTrip(WireErrorPayload.self, payload)
    try roundTrip(WireGoAway.self, payload)
    try roundTrip(HealthCheck.Response.self, payload)
    try roundTrip(WireEmpty.self, payload)
    try roundTrip(Scalars.self, payload)
    try roundTrip(Collections.self, payload)
    try roundTrip(Nested.self, payload)
    try roundTrip(Tree.self, payload)
}

/// Decodes `payload` as `Message`; when that works, the message must survive an encode/decode round trip.
func roundTrip<Message: WireMessage & Equatable>(_: Message.Type, _ payload: ByteBuffer) throws(WireFuzzFailure) {
    let message: Message
    do {
        message = try Message(payload: payload)
        if trace { print("  as \(Message.self): \(message)") }
    } catch {
        if trace { print("  as \(Message.self): \(error)") }
        return
    }
    let again: Message
    do {
        again = try Message(payload: message.payload())
    } catch {
        throw WireFuzzFailure("\(Message.self) decodes, but its re-encoding does not: \(error)", payload)
    }
    try check(again == message, "\(Message.self) changes in an encode/decode round trip", payload)
}

/// Runs up to 16 `WireReader` calls chosen by the nibbles of `program`, stopping at the first error (malformed input:
/// expected).
func run(_ program: UInt64, on payload: ByteBuffer) throws(WireFuzzFailure) {
    var reader = WireReader(buffer: payload)
    var program = program
    for _ in 0..<16 {
        let before = reader.remainingBytes
        do {
            try step(Int(program & 0xF), &reader)
        } catch {
            return
        }
        try check(reader.remainingBytes <= before, "a WireReader call moved the reader backwards", payload)
        program >>= 4
    }
}

/// One `WireReader` call of a program.
private func step(_ instruction: Int, _ reader: inout WireReader) throws(WireError) {
    switch instruction {
    case 0: _ = try reader.read(UInt8.self)
    case 1: _ = try reader.read(UInt16.self)
    case 2: _ = try reader.read(UInt32.self)
    case 3: _ = try reader.read(UInt64.self)
    case 4: _ = try reader.read(Bool.self)
    case 5: _ = try reader.read(String.self)
    case 6: _ = try reader.read(String.self, maxBytes: 8)
    case 7: _ = try reader.readBytes()
    case 8: _ = try reader.read([UInt64].self)
    case 9:
        _ = try reader.readArray { (reader: inout WireReader) throws(WireError) in try reader.read(UInt8.self) }
    case 10:
        // Elements that take no bytes: the count is still bounded by the remaining bytes.
        _ = try reader.readArray(minimumElementSize: 0) { (_: inout WireReader) throws(WireError) in 0 }
    case 11:
        _ = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.read(String.self) }
    case 12: _ = try reader.read(WireEmpty.self)
    case 13: _ = try reader.read([WireHello].self)
    case 14:
        _ = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.readBytes() }
    default:
        _ = try reader.readArray(minimumElementSize: 4) { (reader: inout WireReader) throws(WireError) in
            try reader.read(String.self)
        }
    }
}
