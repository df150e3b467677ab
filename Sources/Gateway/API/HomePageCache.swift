import NIOCore
import Synchronization
import Wire

/// Home-timeline pages this Gateway rendered a moment ago, so that the same page read again and again (a client
/// polling, a refresh storm, many devices of one account) costs one TimelineService read per ``lifetime``.
///
/// A page is served for ``lifetime`` counted from when its read was *sent*, and a delete waits as long before it
/// answers 204 (``APIHandlers/removeTweet(_:by:)``). A page that still holds a deleted tweet was read before the
/// tweet's tombstone was written, so it has expired on every Gateway by the time any client hears the 204: no
/// messages between Gateways, correct whatever order reads and deletes arrive in (docs/guarantees.md §2). The
/// lifetime is the same for every Gateway for that reason; ``Configuration`` only bounds the memory.
///
/// Only home pages are kept: profiles read the store so that a new tweet shows at once, and the public timeline is
/// one sorted set that every reader shares.
public final class HomePageCache: Sendable {
    /// How long a page is served from memory, from the moment its read was sent; how long a delete waits.
    public static let lifetime: Duration = .milliseconds(250)

    /// How much is kept.
    public struct Configuration: Sendable, Hashable {
        /// Users whose pages are kept at once (each with up to ``HomePageCache/pagesPerUser`` pages); zero turns the
        /// cache off.
        public var maxUsers: Int
        /// Larger pages are not kept. With ``maxUsers`` it bounds the memory: 512 × 2 × 64 KiB by default.
        public var maxPageBytes: Int

        /// - Parameters:
        ///   - maxUsers: 512 by default.
        ///   - maxPageBytes: 64 KiB by default (a page of 50 tweets is about 10 KiB).
        public init(maxUsers: Int = 512, maxPageBytes: Int = 64 * 1024) {
            self.maxUsers = maxUsers
            self.maxPageBytes = maxPageBytes
        }

        func validate() throws(GatewayError) {
            guard maxUsers >= 0, maxPageBytes >= 0 else {
                throw GatewayError(.invalidConfiguration, "the home page cache's bounds cannot be negative")
            }
        }
    }

    /// Pages kept for one user: the newest page and one more (the next page, or other bounds).
    static let pagesPerUser = 2

    private struct Page {
        var query: TimelineQuery
        var body: ByteBuffer
        var expiresAt: ContinuousClock.Instant
    }

    public let configuration: Configuration
    private let users: Mutex<BoundedTable<Int64, [Page]>>

    public init(configuration: Configuration) {
        self.configuration = configuration
        users = Mutex(BoundedTable(capacity: max(1, configuration.maxUsers)))
    }

    /// The page's JSON body, if a read of it was sent less than ``lifetime`` ago.
    func page(for query: TimelineQuery, now: ContinuousClock.Instant = .now) -> ByteBuffer? {
        guard configuration.maxUsers > 0 else { return nil }
        return users.withLock { table in
            table[query.userID]?.first { $0.query == query && $0.expiresAt > now }?.body
        }
    }

    /// Keeps `body` as the answer to `query`, whose read was sent at `readSentAt`; replaces the user's oldest page
    /// when they have ``pagesPerUser`` already.
    func store(
        _ body: ByteBuffer, for query: TimelineQuery, readSentAt: ContinuousClock.Instant,
        now: ContinuousClock.Instant = .now
    ) {
        let expiresAt = readSentAt + Self.lifetime
        guard configuration.maxUsers > 0, body.readableBytes <= configuration.maxPageBytes, expiresAt > now else {
            return
        }
        users.withLock { table in
            var pages = (table[query.userID] ?? []).filter { $0.query != query && $0.expiresAt > now }
            if pages.count >= Self.pagesPerUser {
                pages.removeFirst(pages.count - Self.pagesPerUser + 1)
            }
            pages.append(Page(query: query, body: body, expiresAt: expiresAt))
            table.insert(pages, for: query.userID) { $0.allSatisfy { $0.expiresAt <= now } }
        }
    }

    /// Drops `userID`'s pages: their own write (a tweet, a delete, a follow) shows on their next read through this
    /// Gateway as soon as the TimelineService has it, not a lifetime later. Best effort: a read sent before the write
    /// and answered after this call keeps its page for the rest of its lifetime.
    func forget(userID: Int64) {
        guard configuration.maxUsers > 0 else { return }
        users.withLock { $0.removeValue(for: userID) }
    }

    /// Pages held right now, expired ones included until they are swept (for tests of the memory bound).
    var count: Int {
        users.withLock { table in table.entries.values.reduce(0) { $0 + $1.count } }
    }
}
