#!/usr/bin/env bash
# Builds the Wire fuzzer and runs it.
#
#   Fuzz/run.sh [seconds] [more libFuzzer flags...]      e.g. Fuzz/run.sh 300, Fuzz/run.sh 0 -runs=5000000
#
# The checked-in seeds (Fuzz/corpus) are copied into a scratch corpus (.build-fuzz/corpus, git-ignored) that
# libFuzzer grows; the checked-in corpus stays small. Crashing inputs land in fuzz-artifacts/ (git-ignored).
# See docs/fuzzing.md.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
seconds="${1:-60}"
shift || true

scratch="$repo/.build-fuzz"
# SwiftPM can keep a stale list of the parent package's source files (a file added to Sources/Wire is then missing from
# the build); touching this manifest makes it re-read the package graph. Costs ~20 s.
touch Fuzz/Package.swift
(
    cd Fuzz
    swift build -c release --scratch-path "$scratch" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
)
fuzzer="$(cd Fuzz && swift build -c release --scratch-path "$scratch" --show-bin-path \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)/WireFuzzer"

mkdir -p "$scratch/corpus" fuzz-artifacts
cp Fuzz/corpus/* "$scratch/corpus/"

# SWIFT_BACKTRACE=enable=no: a Swift trap goes straight to libFuzzer's deadly-signal handler, which saves the input.
SWIFT_BACKTRACE=enable=no "$fuzzer" "$scratch/corpus" \
    -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 -artifact_prefix=fuzz-artifacts/ "$@"
