/// Where a read may be served: the primary always, or a replica when one has caught up (``ReplicaReads``).
public enum ReadSource: Sendable, Hashable {
    /// The server's primary: sign-in, writes, reads that are part of a write, and reads whose absences are final.
    case primary
    /// The server's replica if it is measured within the lag bound and has replayed everything the primary had
    /// written when the read began (otherwise the primary, at once and without an error). What it answers is what
    /// the primary would have answered at some moment after the read began; see docs/tweet-store.md.
    case caughtUpReplica
}
