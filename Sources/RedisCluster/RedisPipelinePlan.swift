/// The progress of one pipeline through a cluster, without any I/O: which commands still wait for a reply, which
/// node each goes to next, and what the redirects so far have taught.
///
/// A pipeline runs in rounds. Each round, ``batches(in:)`` groups the waiting commands by node, in the caller's
/// order, prefixing `ASKING` to every command that an `ASK` redirect sent to a migration target; the client writes
/// each batch at once and hands the replies to ``record(_:for:into:)``. Commands that got `MOVED`, `ASK` or `TRYAGAIN`
/// wait for the next round; the others have their result.
struct RedisPipelinePlan {
    /// One node's share of one round.
    struct Batch {
        var node: RedisNodeAddress
        /// Positions in the caller's pipeline, ascending.
        var positions: [Int] = []
        /// What to write: the commands at `positions`, each preceded by `ASKING` when it follows an `ASK`.
        var commands: [RedisCommand] = []
        /// For each position, whether its command is preceded by `ASKING`.
        var asking: [Bool] = []
    }

    /// What a batch's replies ask of the client before the next round.
    struct Feedback {
        /// Slots that `MOVED` replies reassigned; the client's map is stale.
        var moved: [(HashSlot, RedisNodeAddress)] = []
        /// Some command got `TRYAGAIN`: pause before the next round.
        var mustPause = false
        /// The highest number of redirects any command has had so far.
        var redirects = 0
    }

    private static let asking = RedisCommand("ASKING")

    private let commands: [RedisCommand]
    private let slots: [HashSlot?]
    private let maxRedirects: Int
    private let followsRedirects: Bool
    private var results: [RedisValue?]
    private var askTargets: [Int: RedisNodeAddress] = [:]
    private var redirectCounts: [Int]

    /// - Parameters:
    ///   - commands: the pipeline, in the caller's order.
    ///   - maxRedirects: how often one command may be redirected before the pipeline fails.
    ///   - followsRedirects: `false` for a standalone server, whose `MOVED` replies are results like other errors.
    /// - Throws: ``RedisError/Code/crossSlot`` when one command's keys hash to different slots.
    init(commands: [RedisCommand], maxRedirects: Int, followsRedirects: Bool) throws(RedisError) {
        self.commands = commands
        var slots: [HashSlot?] = []
        slots.reserveCapacity(commands.count)
        for command in commands {
            slots.append(try command.slot())
        }
        self.slots = slots
        self.maxRedirects = maxRedirects
        self.followsRedirects = followsRedirects
        results = Array(repeating: nil, count: commands.count)
        redirectCounts = Array(repeating: 0, count: commands.count)
    }

    /// Whether every command has its reply.
    var isComplete: Bool { !results.contains(nil) }

    /// The replies in the caller's order; complete once ``isComplete`` is.
    var replies: [RedisValue] { results.map { $0 ?? .null } }

    /// The waiting commands grouped by the node each goes to now: its `ASK` target if it has one, else the owner
    /// of its slot; a command without keys, or whose slot no node claims, goes to `fallback`, which will redirect
    /// it if needed.
    func batches(in topology: RedisClusterTopology, fallback: RedisNodeAddress) -> [Batch] {
        var batches: [Batch] = []
        var batchIndex: [RedisNodeAddress: Int] = [:]
        for position in results.indices where results[position] == nil {
            let askTarget = askTargets[position]
            let node = askTarget ?? slots[position].flatMap { topology.node(serving: $0) } ?? fallback
            let index: Int
            if let known = batchIndex[node] {
                index = known
            } else {
                index = batches.count
                batchIndex[node] = index
                batches.append(Batch(node: node))
            }
            batches[index].positions.append(position)
            batches[index].asking.append(askTarget != nil)
            if askTarget != nil {
                batches[index].commands.append(Self.asking)
            }
            batches[index].commands.append(commands[position])
        }
        return batches
    }

    /// Takes the replies to `batch`, one per written command, `ASKING` included.
    ///
    /// - Throws: ``RedisError/Code/tooManyRedirects`` when a command has been redirected more than allowed;
    ///   ``RedisError/Code/protocolError`` when the reply count does not match.
    mutating func record(_ replies: [RedisValue], for batch: Batch, into feedback: inout Feedback) throws(RedisError) {
        guard replies.count == batch.commands.count else {
            throw .protocolError("\(batch.node) sent \(replies.count) replies to \(batch.commands.count) commands")
        }
        var replyIndex = 0
        for (position, asked) in zip(batch.positions, batch.asking) {
            // The reply to ASKING itself is `OK`; the command's reply follows it.
            replyIndex += asked ? 2 : 1
            let reply = replies[replyIndex - 1]
            guard followsRedirects, case .error(let text) = reply,
                let redirect = RedisRedirect(errorMessage: text, from: batch.node)
            else {
                results[position] = reply
                askTargets[position] = nil
                continue
            }
            redirectCounts[position] += 1
            feedback.redirects = max(feedback.redirects, redirectCounts[position])
            guard redirectCounts[position] <= maxRedirects else {
                throw RedisError(
                    .tooManyRedirects,
                    "\(commands[position].name) was redirected \(redirectCounts[position]) times; last: \(text)"
                )
            }
            switch redirect {
            case .moved(let slot, let node):
                askTargets[position] = nil
                feedback.moved.append((slot, node))
            case .ask(_, let node):
                askTargets[position] = node
            case .tryAgain:
                feedback.mustPause = true
            }
        }
    }

    /// Puts the commands of a batch that could not be sent back to wait for the next round, which goes to the
    /// slot owners again.
    ///
    /// - Throws: `error` when one of them has used up its redirects.
    mutating func retry(_ batch: Batch, after error: RedisError) throws(RedisError) {
        for position in batch.positions {
            redirectCounts[position] += 1
            askTargets[position] = nil
            guard redirectCounts[position] <= maxRedirects else { throw error }
        }
    }
}
