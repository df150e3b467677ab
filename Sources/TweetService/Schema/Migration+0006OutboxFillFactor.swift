extension Migration {
    /// The outbox's pages are filled to 40 % only, so that the relay's claim (an update of every row it takes) finds
    /// room for the row's new version on the row's own page. Full pages made every claim a cross-page update: a lock
    /// record for the old version, the new version on another page and a new entry in the primary key's index, three
    /// WAL records a row where a same-page (HOT) update writes one (`docs/tweet-store.md`, "Events"). The outbox is a
    /// queue that the relay keeps short, so the space costs little. New pages only: pages written before it fill
    /// up as before until their rows are deleted and vacuumed.
    static let outboxFillFactor = Migration(
        version: 6,
        name: "outbox_fill_factor",
        sql: "ALTER TABLE {schema}.outbox SET (fillfactor = 40);"
    )
}
