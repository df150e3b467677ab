extension Migration {
    /// Sessions expire: each row gets the instant after which its token is refused. Sessions that exist already get
    /// the default lifetime (30 days) from the migration; new rows always say their own expiry, so the column keeps
    /// no default. The index finds one user's sessions, to sweep the expired ones when that user signs in.
    static let sessionExpiry = Migration(
        version: 3,
        name: "session_expiry",
        sql: """
            ALTER TABLE {schema}.sessions ADD COLUMN expires_at timestamptz NOT NULL DEFAULT now() + interval '30 days';
            ALTER TABLE {schema}.sessions ALTER COLUMN expires_at DROP DEFAULT;
            CREATE INDEX sessions_by_user ON {schema}.sessions (user_id, expires_at);
            """
    )
}
