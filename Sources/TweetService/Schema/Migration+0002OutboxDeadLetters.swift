extension Migration {
    /// Outbox rows that can never be delivered (undecodable, or larger than the TimelineService accepts), kept for
    /// people to look at instead of blocking the rows behind them.
    static let outboxDeadLetters = Migration(
        version: 2,
        name: "outbox_dead_letters",
        sql: """
            CREATE TABLE {schema}.outbox_dead_letters (
                id bigint PRIMARY KEY,
                payload bytea NOT NULL,
                created_at timestamptz NOT NULL,
                reason text NOT NULL,
                failed_at timestamptz NOT NULL DEFAULT now()
            );
            """
    )
}
