# shellcheck shell=bash
# pgbench doing the row insert of tweet creation, for scripts/bench-gateway (sourced; uses its WORK, WRITER_IDS,
# WRITER_SHARD, CONNECTIONS, SECONDS_PER_RUN and TWEETER_PG_URLS). Sets PGBENCH_TPS, PGBENCH_P50, PGBENCH_P99,
# PGBENCH_ERRORS, PG_COUNTS_DRAINED (pg_counts once the tweets' outbox drained, before pgbench) and PGBENCH_PG_COST
# (pg_cost of one pgbench transaction).
#
# The statement is the one TweetStore.create runs, into the writers' shard, each client writing as one of the writers
# in turn (as wrk's requests do): the author's tweets_count + 1, the tweet with a fresh next_id() and the outbox row
# that refers to it, in one transaction.
# The outbox rows are written claimed for a day so that the running relay leaves them alone (delivering them would
# charge pgbench's run with our fan-out); they and pgbench's tweets are deleted afterwards.

# PostgreSQL's own counts, summed over the primaries: WAL bytes, WAL records, committed transactions, WAL flushes
# (`wal_sync`: fdatasync calls, by backends that commit and by the WAL writer). Unlike rates and CPU time, which drift
# by tens of per cent within minutes on a shared machine, they depend only on the statements run (flushes also on how
# commits happen to group): what a change to the store's statements is judged by first.
pg_counts() {
    local url urls bytes records commits syncs total_bytes=0 total_records=0 total_commits=0 total_syncs=0
    IFS=',' read -r -a urls <<< "$TWEETER_PG_URLS"
    for url in "${urls[@]}"; do
        read -r bytes records commits syncs < <(psql -X -qtA -F ' ' "$url" -c "SELECT
            (SELECT wal_bytes::bigint FROM pg_stat_wal), (SELECT wal_records FROM pg_stat_wal),
            (SELECT sum(xact_commit)::bigint FROM pg_stat_database), (SELECT wal_sync FROM pg_stat_wal)")
        total_bytes=$((total_bytes + bytes)); total_records=$((total_records + records))
        total_commits=$((total_commits + commits)); total_syncs=$((total_syncs + syncs))
    done
    echo "$total_bytes $total_records $total_commits $total_syncs"
}
# pg_cost BEFORE AFTER COUNT: what COUNT requests cost PostgreSQL each, from two pg_counts.
pg_cost() {
    awk -v before="$1" -v after="$2" -v n="$3" 'BEGIN {
        split(before, b, " "); split(after, a, " ")
        if (n <= 0) { print "n/a"; exit }
        printf "%.0f WAL bytes, %.1f WAL records, %.2f commits, %.3f WAL flushes", (a[1] - b[1]) / n, (a[2] - b[2]) / n,
            (a[3] - b[3]) / n, (a[4] - b[4]) / n
    }'
}

# run_pgbench_tweets [SECONDS [CPU_OUT]]: SECONDS defaults to SECONDS_PER_RUN; with CPU_OUT, the CPU of the run's
# middle half by process goes there (cpu_window_start of cpu-window.sh).
run_pgbench_tweets() {
    local seconds="${1:-$SECONDS_PER_RUN}" cpu_out="${2:-}" shard="$WRITER_SHARD" server schema url urls authors
    authors="$(IFS=,; echo "${WRITER_IDS[*]}")"
    IFS=',' read -r -a urls <<< "$TWEETER_PG_URLS"
    server=$(( shard * ${#urls[@]} / 1024 ))
    url="${urls[$server]}"
    schema="$(printf 'shard_%04d' "$shard")"
    cat >"$WORK/pgbench.sql" <<SQL
WITH author AS (
    UPDATE $schema.users SET tweets_count = tweets_count + 1
    WHERE id = (ARRAY[$authors]::bigint[])[:client_id % ${#WRITER_IDS[@]} + 1]
    RETURNING id, username, followers_count
),
inserted AS (
    INSERT INTO $schema.tweets (id, user_id, text, in_reply_to_id, created_at)
    SELECT fresh.id, author.id, 'pgbench tweet ' || :client_id, NULL,
        to_timestamp(((fresh.id >> 23) + 1767225600000) / 1000.0)
    FROM author CROSS JOIN LATERAL (SELECT $schema.next_id() AS id) fresh
    RETURNING id
),
event AS (
    INSERT INTO $schema.outbox (tweet_id, author_username, author_followers, claimed_until)
    SELECT inserted.id, author.username, author.followers_count, now() + interval '1 day' FROM inserted CROSS JOIN author
)
SELECT inserted.id, author.username FROM inserted CROSS JOIN author;
SQL
    # The tweets run's events must not be relayed and fanned out during pgbench's run: wait until the shard's outbox
    # is empty, then a few seconds for the fan-out of its last batches.
    for _ in $(seq 1 120); do
        [[ "$(psql -X -qtA "$url" -c "SELECT count(*) FROM $schema.outbox")" == 0 ]] && break
        sleep 1
    done
    sleep 5
    PG_COUNTS_DRAINED="$(pg_counts)"
    section "pgbench: the tweet row insert into $schema (server $((server + 1))), $CONNECTIONS clients"
    rm -rf "$WORK/pgbench-log"
    mkdir -p "$WORK/pgbench-log"
    [[ -z "$cpu_out" ]] || cpu_window_start "$seconds" "$cpu_out"
    pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$seconds" -l --log-prefix="$WORK/pgbench-log/tx" \
        -f "$WORK/pgbench.sql" "$url" | tee "$WORK/pgbench.out"
    [[ -z "$cpu_out" ]] || cpu_window_finish
    PGBENCH_PG_COST="$(pg_cost "$PG_COUNTS_DRAINED" "$(pg_counts)" \
        "$(awk '/^number of transactions actually processed:/ { print $6 }' "$WORK/pgbench.out")")"
    PGBENCH_TPS="$(awk '/^tps = / { printf "%.2f", $3 }' "$WORK/pgbench.out")"
    PGBENCH_ERRORS="$(awk '/failed transactions:/ { print "failed " $5 }' "$WORK/pgbench.out")"
    [[ "$PGBENCH_ERRORS" == "failed 0" ]] && PGBENCH_ERRORS=""
    # Per-transaction log lines: client, transaction, latency in µs, script, epoch s, µs.
    cat "$WORK"/pgbench-log/tx.* | awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n >"$WORK/pgbench.latencies"
    percentile() {
        awk -v q="$1" '{ v[NR] = $1 } END { i = int(NR * q); if (i < 1) i = 1; printf "%.2fms", v[i] / 1000 }' \
            "$WORK/pgbench.latencies"
    }
    PGBENCH_P50="$(percentile 0.50)"
    PGBENCH_P99="$(percentile 0.99)"
    psql -X -q "$url" -c "DELETE FROM $schema.outbox WHERE claimed_until > now() + interval '1 hour'" \
        -c "WITH gone AS (DELETE FROM $schema.tweets WHERE user_id = ANY(ARRAY[$authors]::bigint[])
                AND text LIKE 'pgbench tweet %' RETURNING user_id),
            counts AS (SELECT user_id, count(*) AS n FROM gone GROUP BY user_id)
            UPDATE $schema.users u SET tweets_count = tweets_count - counts.n FROM counts WHERE u.id = counts.user_id" \
        >/dev/null
}
