#!/usr/bin/env bash
# Builds and runs the C benchmark (bench/c/bench.c) against
# target/release/libwsc.so. Prints a table of figures and RESULT lines;
# no pass/fail. Arguments go to the benchmark:
#   bench/run-c.sh [--url ws://127.0.0.1:PORT/ [--server-pid PID]]
#                  [round_trips [window_messages [window]]]   (20000 200000 1000)
# Without --url the benchmark starts target/release/wsc-echo-server itself
# (and stops it by PID).
#   bench/run-c.sh --build-only   builds target/bench-c/bench and exits
#                                 (bench/run.sh uses this)
# Assumes `cargo build --release` ran (the Makefile does it first).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

build_only=0
if [ "${1:-}" = "--build-only" ]; then
    build_only=1
    shift
fi

for f in target/release/libwsc.so target/release/wsc-echo-server; do
    if [ ! -e "$f" ]; then
        echo "bench/run-c.sh: $f is missing; run 'cargo build --release' first" >&2
        exit 2
    fi
done

out="$root/target/bench-c"
mkdir -p "$out"
"${CC:-cc}" -std=c11 -O2 -g -Wall -Wextra -Werror -Wpedantic -pthread -I include \
    -o "$out/bench" bench/c/bench.c \
    -L target/release -lwsc "-Wl,-rpath,$root/target/release"

if [ "$build_only" = 1 ]; then
    exit 0
fi
WSC_ECHO_SERVER="$root/target/release/wsc-echo-server" exec "$out/bench" "$@"
