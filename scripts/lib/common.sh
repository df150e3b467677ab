# shellcheck shell=bash disable=SC2034  # variables here are read by the scripts that source this file
# Shared helpers for the Tweeter dev/test scripts. Source it, don't run it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
#
# Provides:
#   TWEETER_ROOT          absolute path of the repository
#   TWEETER_DATA_DIR      where local servers keep their data (see below)
#   TWEETER_PG_BIN        PostgreSQL 15 binaries
#   log / warn / die / section
#   tweeter_install_deps [PACKAGE...]
#                         apt-get install whatever is missing (the PACKAGEs too: tools only one script needs)
#   wait_for_port HOST PORT TIMEOUT_SECONDS
#   pid_alive PID, wait_pid_gone PID TIMEOUT_SECONDS
#   as_pg_user CMD...     run CMD as the OS user that owns the PostgreSQL data

if [[ -n "${__TWEETER_COMMON_SOURCED:-}" ]]; then
    return 0
fi
__TWEETER_COMMON_SOURCED=1

# --------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------
# All diagnostics go to stderr so that stdout stays machine-readable
# (`scripts/infra env` is meant to be eval'ed).

log()  { printf '[tweeter] %s\n' "$*" >&2; }
warn() { printf '[tweeter] WARNING: %s\n' "$*" >&2; }
die()  { printf '[tweeter] ERROR: %s\n' "$*" >&2; exit 1; }

section() {
    printf '\n==================== %s ====================\n' "$*" >&2
}

# --------------------------------------------------------------------------
# Paths and configuration
# --------------------------------------------------------------------------

# Repository root: this file lives in <root>/scripts/lib/.
TWEETER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"

TWEETER_PG_BIN="${TWEETER_PG_BIN:-/usr/lib/postgresql/15/bin}"

# PostgreSQL refuses to run as root, so when we are root the servers run as
# this OS user (created by the Debian postgresql-common package).
TWEETER_PG_OS_USER="${TWEETER_PG_OS_USER:-postgres}"

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Run a command as the PostgreSQL OS user (or as ourselves when not root).
# We cd to / first so that the command never starts in a directory the
# postgres user cannot read (initdb/pg_ctl complain about that).
as_pg_user() {
    if is_root; then
        (cd / && runuser -u "$TWEETER_PG_OS_USER" -- "$@")
    else
        (cd / && "$@")
    fi
}

# Can the PostgreSQL OS user reach (search) directory $1?  `test -x` on a
# directory goes through full path resolution, so it also fails when any
# ancestor directory is not traversable.
pg_user_can_traverse() {
    is_root || return 0
    id -u "$TWEETER_PG_OS_USER" >/dev/null 2>&1 || return 0
    as_pg_user test -x "$1"
}

# TWEETER_DATA_DIR:
#   * if set in the environment, it is used as is;
#   * otherwise <repo>/.data, unless the postgres user cannot traverse the
#     repository path (e.g. it lives under a 0700 home directory). In that case
#     we fall back to a stable per-repository directory under /tmp.
# The choice depends only on the repository path and its permissions, so every
# invocation (up, down, env, status) picks the same directory.
TWEETER_DATA_DIR_FALLBACK=0
if [[ -z "${TWEETER_DATA_DIR:-}" ]]; then
    if pg_user_can_traverse "$TWEETER_ROOT"; then
        TWEETER_DATA_DIR="$TWEETER_ROOT/.data"
    else
        __hash="$(printf '%s' "$TWEETER_ROOT" | sha256sum | cut -c1-12)"
        TWEETER_DATA_DIR="/tmp/tweeter-data-$(id -u)-${__hash}"
        TWEETER_DATA_DIR_FALLBACK=1
        unset __hash
    fi
fi
export TWEETER_DATA_DIR

# --------------------------------------------------------------------------
# Dependencies
# --------------------------------------------------------------------------

# Is a Debian package installed (not merely known / half-configured)?
deb_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# Install, via apt-get, only the packages that are missing. `apt-get update`
# only runs when something actually has to be installed. Arguments are more
# packages that only the calling script needs (scripts/scaling: haproxy, wrk).
tweeter_install_deps() {
    local wanted=(redis-server redis-tools libhiredis-dev libpq-dev libssl-dev libjemalloc-dev
                  pkg-config openssl curl "$@")
    # The web pages' browser tests (scripts/check-pages): headless Chromium driven through WebDriver by Debian's
    # Python Selenium.
    wanted+=(chromium chromium-driver python3-selenium)
    # Any PostgreSQL 15 server installation will do; only pull the package in
    # when the binary is absent.
    if [[ ! -x "$TWEETER_PG_BIN/postgres" ]]; then
        wanted+=(postgresql-15)
    fi

    local missing=() pkg
    for pkg in "${wanted[@]}"; do
        deb_installed "$pkg" || missing+=("$pkg")
    done

    if [[ ${#missing[@]} -eq 0 ]]; then
        log "dependencies: all present"
        return 0
    fi

    log "dependencies: installing ${missing[*]}"
    local sudo=()
    if ! is_root; then
        command -v sudo >/dev/null 2>&1 \
            || die "need root (or sudo) to install: ${missing[*]}"
        sudo=(sudo)
    fi
    # Wait for a concurrent apt/dpkg run instead of failing on its lock.
    local apt_opts=(-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get "${apt_opts[@]}" update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get "${apt_opts[@]}" install -y -q --no-install-recommends "${missing[@]}"

    for pkg in "${missing[@]}"; do
        deb_installed "$pkg" || die "package $pkg still not installed"
    done
    [[ -x "$TWEETER_PG_BIN/postgres" ]] || die "$TWEETER_PG_BIN/postgres not found after install"
}

# --------------------------------------------------------------------------
# Processes and ports
# --------------------------------------------------------------------------

# Is PID alive? Zombies count as dead: in containers PID 1 may never reap the
# daemons we started, so `kill -0` alone would report them alive forever.
pid_alive() {
    local pid="$1" state
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/stat" ]] || return 1
    # Field 3 of /proc/PID/stat is the state; field 2 "(comm)" may contain
    # spaces, so strip everything up to the last ')'.
    state="$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
    [[ -n "$state" && "$state" != "Z" && "$state" != "X" ]]
}

# Short command name of PID (e.g. "postgres", "redis-server").
pid_comm() {
    cat "/proc/$1/comm" 2>/dev/null || true
}

# Wait until PID is gone. Returns 1 on timeout.
wait_pid_gone() {
    local pid="$1" timeout="$2" waited=0
    while pid_alive "$pid"; do
        (( waited >= timeout * 10 )) && return 1
        sleep 0.1
        waited=$((waited + 1))
    done
    return 0
}

# Does something accept TCP connections on HOST:PORT right now?
port_open() {
    local host="$1" port="$2"
    timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

# wait_for_port HOST PORT TIMEOUT_SECONDS -- returns 1 on timeout.
wait_for_port() {
    local host="$1" port="$2" timeout="$3"
    local deadline=$((SECONDS + timeout))
    until port_open "$host" "$port"; do
        (( SECONDS >= deadline )) && return 1
        sleep 0.2
    done
    return 0
}

# Print the last lines of a log file (used when a server fails to start).
show_log_tail() {
    local file="$1" lines="${2:-40}"
    if [[ -r "$file" ]]; then
        printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
        tail -n "$lines" "$file" >&2 || true
        printf -- '----- end of %s -----\n' "$file" >&2
    else
        printf -- '(no log file at %s)\n' "$file" >&2
    fi
}
