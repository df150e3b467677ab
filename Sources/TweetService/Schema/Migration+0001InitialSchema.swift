import Wire

extension Migration {
    /// Users, sessions, tweets, both halves of the follow graph, the repair queue for the half on another shard, the
    /// event outbox, and the id generator.
    static let initialSchema = Migration(
        version: 1,
        name: "initial_schema",
        sql: """
            CREATE SEQUENCE {schema}.id_sequence;

            -- Time, shard and sequence, as TweeterID describes.
            CREATE FUNCTION {schema}.next_id() RETURNS bigint LANGUAGE sql AS $$
                SELECT ((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - {epoch}) << 23)
                    | ({shard}::bigint << 10)
                    | (nextval('{schema}.id_sequence') % 1024)
            $$;

            CREATE TABLE {schema}.users (
                id bigint PRIMARY KEY,
                username text NOT NULL,
                username_key text NOT NULL UNIQUE,
                password_hash text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                followers_count bigint NOT NULL DEFAULT 0,
                following_count bigint NOT NULL DEFAULT 0,
                tweets_count bigint NOT NULL DEFAULT 0
            );

            CREATE TABLE {schema}.sessions (
                token_hash bytea PRIMARY KEY,
                user_id bigint NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
                created_at timestamptz NOT NULL DEFAULT now()
            );

            CREATE TABLE {schema}.tweets (
                id bigint PRIMARY KEY,
                user_id bigint NOT NULL REFERENCES {schema}.users (id) ON DELETE CASCADE,
                text text NOT NULL,
                in_reply_to_id bigint,
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX tweets_by_user ON {schema}.tweets (user_id, id DESC);

            -- "Who I follow", on the follower's shard.
            CREATE TABLE {schema}.following (
                follower_id bigint NOT NULL,
                followee_id bigint NOT NULL,
                edge_id bigint NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (follower_id, followee_id)
            );
            CREATE INDEX following_newest_first ON {schema}.following (follower_id, edge_id DESC);

            -- "Who follows me", on the followee's shard.
            CREATE TABLE {schema}.followers (
                followee_id bigint NOT NULL,
                follower_id bigint NOT NULL,
                edge_id bigint NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (followee_id, follower_id)
            );
            CREATE INDEX followers_newest_first ON {schema}.followers (followee_id, edge_id DESC);

            -- Follows whose followers-side row on the other shard may not match yet (written with the following row).
            CREATE TABLE {schema}.follow_repairs (
                follower_id bigint NOT NULL,
                followee_id bigint NOT NULL,
                queued_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (follower_id, followee_id)
            );

            -- Events for the TimelineService, written in the transaction of the change they describe.
            -- A relay claims rows for a while (claimed_until) and deletes them once the TimelineService has them.
            CREATE TABLE {schema}.outbox (
                id bigserial PRIMARY KEY,
                payload bytea NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                claimed_until timestamptz
            );
            """
    )
}
