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

# cpu_window DELAY SECONDS OUT: waits DELAY seconds, then writes to OUT the CPU seconds each command name used in the
# next SECONDS ("NAME SECONDS" lines, the largest first), and SECONDS to OUT.seconds. Only processes alive at both
# ends count (those that start or end inside the window, such as autovacuum workers, are left out), so the window
# belongs inside a run whose processes live through it (PostgreSQL's backends for pgbench's clients, wrk).
cpu_window() {
    local delay="$1" seconds="$2" out="$3" hz
    hz="$(getconf CLK_TCK)"
    sleep "$delay"
    cpu_snapshot >"$out.start"
    sleep "$seconds"
    cpu_snapshot >"$out.end"
    awk -v hz="$hz" '
        NR == FNR { start[$1 " " $2] = $3; next }
        ($1 " " $2) in start { used[$2] += $3 - start[$1 " " $2] }
        END { for (name in used) if (used[name] > 0) printf "%s %.2f\n", name, used[name] / hz }
    ' "$out.start" "$out.end" | sort -k2 -nr >"$out"
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
