#!/usr/bin/env bash
# Runs a cargo-fuzz (libFuzzer) target of wsc for a bounded time and prints
# the executions and the corpus size. Not part of `make test`'s Rust suite:
# `make test` runs server_bytes, deflate_bytes and protocol_bytes for 60 s
# each in its long stage (`make test-fuzz`); `make fuzz` runs all four for
# FUZZ_SECONDS (default 600) each.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  how long each target runs (default 60)
#   TARGET   server_bytes (default), proxy_bytes, deflate_bytes and/or
#            protocol_bytes (the sans-I/O protocol layer); "all" for the four
# Environment:
#   FUZZ_JOBS=N     libFuzzer -fork=N workers (default 1: one process)
#   FUZZ_ARGS="..." extra libFuzzer flags (e.g. -max_len=65536)
#
# Stable Rust only: cargo-fuzz passes nightly flags (-Zsanitizer=address,
# sanitizer coverage); RUSTC_BOOTSTRAP=1 lets the stable compiler accept
# them. cargo-fuzz itself is installed from crates.io when missing.
#
# The seed corpus (fuzz/corpus/TARGET/, committed, small) is read; the
# inputs libFuzzer adds go to fuzz/target/corpus/TARGET/ (not committed).
# A crash leaves its input in fuzz/artifacts/TARGET/ and this script exits
# 1 after printing how to reproduce it; every crash becomes a regression
# test in tests/hostile_server.rs.
set -uo pipefail

seconds="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(server_bytes)
elif [ "${targets[0]}" = all ]; then
    targets=(server_bytes proxy_bytes deflate_bytes protocol_bytes)
fi
case "$seconds" in
'' | *[!0-9]*)
    echo "scripts/fuzz.sh: SECONDS must be a number, not '$seconds'" >&2
    exit 2
    ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz (crates.io)"
    cargo install cargo-fuzz --locked || exit 2
fi

export RUSTC_BOOTSTRAP=1
jobs="${FUZZ_JOBS:-1}"
status=0
summary=()

for target in "${targets[@]}"; do
    seed="corpus/$target"
    work="target/corpus/$target"
    log="target/fuzz-$target.log"
    mkdir -p "$work" target
    if [ ! -d "$seed" ]; then
        echo "scripts/fuzz.sh: no seed corpus $seed (targets: $(ls fuzz_targets | sed -n 's/\.rs$//p' | tr '\n' ' '))" >&2
        exit 2
    fi
    echo "==> building $target"
    if ! cargo fuzz build --release --debug-assertions "$target" >"$log.build" 2>&1; then
        tail -n 40 "$log.build"
        echo "scripts/fuzz.sh: the build of $target failed" >&2
        exit 2
    fi
    echo "==> fuzzing $target for ${seconds}s (log: fuzz/$log)"
    fork=()
    if [ "$jobs" -gt 1 ]; then
        fork=(-fork="$jobs" -ignore_crashes=0)
    fi
    # -timeout: one input over 30 s is a hang (the target's own deadline
    # is 10 s per input); -detect_leaks=0: the target keeps a process-wide
    # context and server thread on purpose; leaks per connection are what
    # tests/leak.rs and tests/c/test_leak.c measure.
    # shellcheck disable=SC2086
    timeout --kill-after=30 $((seconds + 300)) \
        cargo fuzz run --release --debug-assertions "$target" "$work" "$seed" -- \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -detect_leaks=0 \
        -print_final_stats=1 "${fork[@]}" ${FUZZ_ARGS:-} >"$log" 2>&1
    rc=$?
    execs="$(grep -E '^stat::number_of_executed_units:' "$log" | tail -n 1 | awk '{print $2}')"
    if [ -z "$execs" ]; then
        # -fork mode prints no final stats; take the last status line.
        execs="$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')"
    fi
    corpus_files="$(find "$work" "$seed" -type f | wc -l)"
    corpus_bytes="$(cat "$work"/* "$seed"/* 2>/dev/null | wc -c)"
    cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')"
    # libFuzzer's own corpus (distinct features), e.g. "1989/439Kb".
    corp="$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1 | awk '{print $2}')"
    line="$target: ${execs:-?} executions in ${seconds}s, corpus ${corp:-?} (libFuzzer; $corpus_files files, $corpus_bytes bytes on disk, seed $(find "$seed" -type f | wc -l)), coverage ${cov:-?} edges"
    if [ "$rc" -ne 0 ]; then
        status=1
        line="$line, FAILED (exit $rc)"
        grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written|deadly signal|timeout' "$log" | head -n 20
        artifact="$(grep -oE 'artifacts/[^ ]+' "$log" | tail -n 1)"
        if [ -n "$artifact" ]; then
            echo "reproduce: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --release --debug-assertions $target $artifact)"
            echo "input (hex): $(od -An -tx1 -v "$artifact" | tr -d ' \n' | head -c 2000)"
        fi
    fi
    summary+=("$line")
done

echo "==> fuzz summary"
printf '%s\n' "${summary[@]}"
exit "$status"
