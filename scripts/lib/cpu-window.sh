# shellcheck shell=bash
# Where a request's CPU goes, process by process, for scripts/bench-gateway (sourced). A rate on a shared machine
# drifts by tens of per cent within minutes, and a ratio of two rates moves with it; the CPU each process spends on a
# request, read from /proc over a window inside a run, is what a change to one process is judged by
# (docs/performance.md).

# One line per process: "PID COMMAND TICKS", TICKS its user and system clock ticks so far. The command name may hold
# spaces and parentheses: it is what lies between the first "(" and the last ")".
cpu_snapshot() {
    local dir stat name fields
    for dir in /proc/[0-9]*; do
        { read -r stat <"$dir/stat"; } 2>/dev/null || continue
        name=${stat#*(}
        name=${name%)*}
        read -r -a fields <<<"${stat##*) }"
        # After the name: state is field 3, utime field 14 and stime field 15 (proc(5)).
        echo "${dir#/proc/} ${name// /_} $((fields[11] + fields[12]))"
    done
}

# Every Redis node's commands so far, masters and replicas summed: "COMMAND CALLS MICROSECONDS" lines from INFO
# commandstats (the microseconds are those spent inside each command, not reading and writing around it). Nothing
# when the cluster's addresses are not known (TWEETER_REDIS_CLUSTER, TWEETER_REDIS_REPLICA_PORTS of scripts/infra).
redis_commands_snapshot() {
    local nodes=() node port
    IFS=',' read -r -a nodes <<<"${TWEETER_REDIS_CLUSTER:-}"
    for port in ${TWEETER_REDIS_REPLICA_PORTS//,/ }; do
        nodes+=("127.0.0.1:$port")
    done
    for node in "${nodes[@]}"; do
        redis-cli -h "${node%:*}" -p "${node##*:}" info commandstats 2>/dev/null || true
    done | tr -d '\r' | awk -F'[:,=]' '
        /^cmdstat_/ { calls[$1] += $3; usec[$1] += $5 }
        END { for (name in calls) print toupper(substr(name, 9)), calls[name], usec[name] }
    '
}

# cpu_window DELAY SECONDS OUT: waits DELAY seconds, then writes to OUT the CPU seconds each command name used in the
# next SECONDS ("NAME SECONDS" lines, the largest first), to OUT.redis the Redis commands run meanwhile ("COMMAND
# CALLS MICROSECONDS" lines), and SECONDS to OUT.seconds. Only processes alive at both ends count (those that start or
# end inside the window, such as autovacuum workers, are left out), so the window belongs inside a run whose
# processes live through it (PostgreSQL's backends for pgbench's clients, wrk).
cpu_window() {
    local delay="$1" seconds="$2" out="$3" hz
    hz="$(getconf CLK_TCK)"
    sleep "$delay"
    cpu_snapshot >"$out.start"
    redis_commands_snapshot >"$out.redis.start"
    sleep "$seconds"
    cpu_snapshot >"$out.end"
    redis_commands_snapshot >"$out.redis.end"
    awk -v hz="$hz" '
        NR == FNR { start[$1 " " $2] = $3; next }
        ($1 " " $2) in start { used[$2] += $3 - start[$1 " " $2] }
        END { for (name in used) if (used[name] > 0) printf "%s %.2f\n", name, used[name] / hz }
    ' "$out.start" "$out.end" | sort -k2 -nr >"$out"
    awk '
        NR == FNR { calls[$1] = $2; usec[$1] = $3; next }
        $2 > calls[$1] { print $1, $2 - calls[$1], $3 - usec[$1] }
    ' "$out.redis.start" "$out.redis.end" | sort -k3 -nr >"$out.redis"
    echo "$seconds" >"$out.seconds"
}

# cpu_window_start RUN_SECONDS OUT: cpu_window in the background over the middle half of a run of RUN_SECONDS that
# starts now (away from its connections' set-up and its end), its PID in CPU_WINDOW_PID for the caller's clean-up.
cpu_window_start() {
    cpu_window "$(awk -v s="$1" 'BEGIN { print s / 4 }')" "$(awk -v s="$1" 'BEGIN { print s / 2 }')" "$2" &
    CPU_WINDOW_PID=$!
}

# cpu_window_finish: waits for cpu_window_start's window; one that failed only warns (its figures add to the run's).
cpu_window_finish() {
    wait "$CPU_WINDOW_PID" || warn "a CPU window failed: its figures are missing"
    CPU_WINDOW_PID=""
}

# cpu_per_request OUT RATE: the CPU of cpu_window's OUT a request at RATE requests a second, in µs by command name
# (those of 1 µs or more, the largest first) and in all. RATE is the whole run's: the window sits inside it, where the
# rate is steady. On a saturated machine the total is the rate again (all the CPU there is, over the requests); the
# split by process is what this adds.
cpu_per_request() {
    awk -v rate="$2" -v seconds="$(cat "$1.seconds")" '
        { us = $2 * 1e6 / (rate * seconds); all += us }
        us >= 1 { line = line sep sprintf("%s %.0f", $1, us); sep = ", " }
        END { printf "%s; all %.0f µs\n", line, all }
    ' "$1"
}

# redis_per_request OUT RATE: the Redis commands of cpu_window's OUT a request at RATE requests a second: calls and
# microseconds inside each command (those of 0.5 µs or more, the largest first); nothing when no command was counted.
# No total: a script's EVAL and a replica's EXEC count the commands they ran, which count again under their names.
redis_per_request() {
    [[ -s "$1.redis" ]] || return 0
    awk -v rate="$2" -v seconds="$(cat "$1.seconds")" '
        { n = rate * seconds; calls = $2 / n; us = $3 / n }
        us >= 0.5 { line = line sep sprintf("%s %.1f× %.1f µs", $1, calls, us); sep = ", " }
        END { print line }
    ' "$1.redis"
}
