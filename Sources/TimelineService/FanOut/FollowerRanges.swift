/// How one fan-out job splits an author's followers into pages that run at once, from where the pages begin
/// (``ListFollowerPageBounds``): the job does the first page itself and queues the others.
///
/// With bounds b₁ > b₂ > … > bₙ (the edges at ranks `chunk`, 2 × `chunk`, … after the cursor c), page 1 is the edges
/// below c down to b₁, page k those below bₖ₋₁ down to bₖ, and the last those below bₙ to the end. The ranges cover
/// every edge below c with no gap whatever changes after the bounds were read: a follow added inside a range is read
/// by that range's job (which goes on past a page when it must), and an unfollow only makes a page read into the next
/// range (writes are idempotent). When the bounds stopped at their most (`isComplete` false), the rest is another
/// splitting job instead of a last range.
struct FollowerRanges: Equatable {
    /// The lower edge of the first range, which the splitting job does itself (`Int64.min`: to the end).
    let firstUntil: Int64
    /// The jobs for the other ranges, in order.
    let queued: [FanOutJob]

    init(tweetID: Int64, authorID: Int64, after cursor: Int64?, bounds: [Int64], isComplete: Bool, remove: Bool) {
        func range(_ cursor: Int64, until: Int64) -> FanOutJob {
            FanOutJob(
                .followerRange(tweetID: tweetID, authorID: authorID, cursor: cursor, until: until, remove: remove))
        }
        guard let last = bounds.last else {
            firstUntil = .min
            queued = []
            return
        }
        firstUntil = bounds[0]
        var jobs = zip(bounds, bounds.dropFirst()).map { range($0, until: $1) }
        jobs.append(
            isComplete
                ? range(last, until: .min)
                : FanOutJob(.followerChunk(tweetID: tweetID, authorID: authorID, cursor: last, remove: remove)))
        queued = jobs
    }
}
