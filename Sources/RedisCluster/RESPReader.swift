import CHiredis
import NIOCore

/// Bounds on what the reader keeps in memory for one reply.
///
/// hiredis 0.14 has no limits of its own: it buffers a bulk string until all of its announced length has arrived
/// and allocates an array's pointer vector as soon as it reads the element count, so `*2147483647\r\n` alone would
/// ask for 16 GiB. With these limits the memory held for the reply in progress is at most about
/// `maxReplyBytes` (wire bytes, buffered or already parsed into strings) plus 56 bytes per announced element.
public struct RESPReaderLimits: Sendable, Hashable {
    /// The largest reply, in bytes on the wire. Default 64 MiB.
    public var maxReplyBytes: Int
    /// The most array elements one reply may announce, summed over all nesting levels. Default 1 Mi.
    public var maxReplyElements: Int

    /// Creates limits; both must be positive.
    public init(maxReplyBytes: Int = 64 << 20, maxReplyElements: Int = 1 << 20) {
        precondition(maxReplyBytes > 0 && maxReplyElements > 0, "RESP reader limits must be positive")
        self.maxReplyBytes = maxReplyBytes
        self.maxReplyElements = min(maxReplyElements, Int(Int32.max))
    }
}

/// What the array hook needs; hiredis hands it to every read task through the reader's `privdata`.
private struct ArrayElementBudget {
    var limit: Int
    var used: Int
    var refused: Bool
    var createArray: @convention(c) (UnsafePointer<redisReadTask>?, Int32) -> UnsafeMutableRawPointer?
}

/// Counts the elements of each array against the reply's budget before hiredis allocates them; returning `nil`
/// makes hiredis stop with an out-of-memory error, which ``RESPReader`` reports as ``RedisError/Code/replyTooLarge``.
private let budgetedCreateArray: @convention(c) (UnsafePointer<redisReadTask>?, Int32) -> UnsafeMutableRawPointer? = {
    task, elements in
    guard let task, let privdata = task.pointee.privdata else { return nil }
    let budget = privdata.assumingMemoryBound(to: ArrayElementBudget.self)
    if task.pointee.parent == nil {
        budget.pointee.used = 0
    }
    budget.pointee.used += Int(elements)
    guard budget.pointee.used <= budget.pointee.limit else {
        budget.pointee.refused = true
        return nil
    }
    return budget.pointee.createArray(task, elements)
}

/// hiredis's RESP2 reader behind a Swift interface: feed it bytes as they come, take out complete replies.
///
/// Not thread-safe: one connection's handler owns it on that connection's event loop. After it throws, the stream
/// cannot be resynchronised and the connection must close.
final class RESPReader {
    private let reader: UnsafeMutablePointer<redisReader>
    private let functions: UnsafeMutablePointer<redisReplyObjectFunctions>
    private let budget: UnsafeMutablePointer<ArrayElementBudget>
    private let limits: RESPReaderLimits
    private let allocator: ByteBufferAllocator
    /// Bytes fed since the reader was made, and the position in that stream where the last complete reply ended:
    /// their difference is the size of the reply in progress.
    private var bytesFed = 0
    private var endOfLastReply = 0

    init(limits: RESPReaderLimits = RESPReaderLimits(), allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        guard let reader = redisReaderCreate() else {
            fatalError("hiredis could not allocate a reader")
        }
        self.reader = reader
        self.limits = limits
        self.allocator = allocator
        functions = .allocate(capacity: 1)
        functions.initialize(to: reader.pointee.fn.pointee)
        budget = .allocate(capacity: 1)
        budget.initialize(
            to: ArrayElementBudget(
                limit: limits.maxReplyElements, used: 0, refused: false, createArray: functions.pointee.createArray
            )
        )
        functions.pointee.createArray = budgetedCreateArray
        reader.pointee.fn = functions
        reader.pointee.privdata = UnsafeMutableRawPointer(budget)
    }

    deinit {
        // Frees the partial reply too, through `functions.freeObject`, so the functions go after the reader.
        redisReaderFree(reader)
        functions.deallocate()
        budget.deallocate()
    }

    /// Appends bytes to the reader's buffer; parse them with ``next()``.
    func feed(_ bytes: ByteBuffer) throws(RedisError) {
        let status = bytes.withUnsafeReadableBytes { raw in
            redisReaderFeed(reader, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
        guard status == REDIS_OK else { throw currentError() }
        bytesFed += bytes.readableBytes
    }

    /// The next complete reply, or `nil` until more bytes arrive.
    ///
    /// - Throws: ``RedisError/Code/protocolError`` for bytes that are not RESP2 (or nesting deeper than hiredis's
    ///   7 levels), ``RedisError/Code/replyTooLarge`` when the reply in progress exceeds the limits.
    func next() throws(RedisError) -> RedisValue? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw currentError() }
        guard let raw else {
            let inProgress = bytesFed - endOfLastReply
            guard inProgress <= limits.maxReplyBytes else {
                throw RedisError(
                    .replyTooLarge, "a reply exceeds \(limits.maxReplyBytes) bytes (\(inProgress) buffered so far)"
                )
            }
            return nil
        }
        defer { freeReplyObject(raw) }
        endOfLastReply = bytesFed - (reader.pointee.len - reader.pointee.pos)
        return value(of: raw.assumingMemoryBound(to: redisReply.self))
    }

    private func value(of reply: UnsafePointer<redisReply>) -> RedisValue {
        let reply = reply.pointee
        switch reply.type {
        case REDIS_REPLY_STATUS:
            return .simpleString(Self.text(reply))
        case REDIS_REPLY_ERROR:
            return .error(Self.text(reply))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(reply.integer))
        case REDIS_REPLY_STRING:
            return .bulkString(allocator.buffer(bytes: UnsafeRawBufferPointer(start: reply.str, count: reply.len)))
        case REDIS_REPLY_ARRAY:
            let elements = UnsafeBufferPointer(start: reply.element, count: reply.elements)
            return .array(elements.map { element in element.map { value(of: $0) } ?? .null })
        default:
            return .null
        }
    }

    private static func text(_ reply: redisReply) -> String {
        String(decoding: UnsafeRawBufferPointer(start: reply.str, count: reply.len), as: UTF8.self)
    }

    private func currentError() -> RedisError {
        if budget.pointee.refused {
            return RedisError(.replyTooLarge, "a reply announces more than \(limits.maxReplyElements) array elements")
        }
        let message = withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return .protocolError("hiredis: \(message)")
    }
}
