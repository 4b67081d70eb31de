#!/usr/bin/env bash
# Builds and runs the C benchmark (bench/c/bench.c) against
# target/release/libwsc.so and target/release/wsc-echo-server (which the
# benchmark starts and stops by PID). Prints a table of figures; no
# pass/fail. Arguments go to the benchmark:
#   bench/run-c.sh [round_trips [window_messages [window]]]   (20000 200000 1000)
# Assumes `cargo build --release` ran (the Makefile does it first).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

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

WSC_ECHO_SERVER="$root/target/release/wsc-echo-server" exec "$out/bench" "$@"
