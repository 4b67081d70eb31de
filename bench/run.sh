#!/usr/bin/env bash
# The benchmarks of wsc (`make bench`): figures, not pass/fail.
#
# Builds what it needs, starts ONE wsc-echo-server on 127.0.0.1 (a free
# port; stopped by its PID on exit), runs against it
#   rust-floor     target/release/examples/bench-floor (bench/floor.rs),
#                  a blocking tungstenite client: the floor;
#   c-wsc          bench/c/bench.c through include/wsc.h;
#   php-wsc        bench/php/bench.php through the Workerman-compatible
#                  PHP API (Wsc\...);
#   php-workerman  the same script on Workerman (Workerman\...), only when
#                  WORKERMAN_DIR points at a Workerman checkout;
# and prints one table: client x scenario with messages/s, CPU us/message,
# RTT p50/p99 (sequential scenario), and the ratio of messages/s to the
# Rust floor (and to Workerman when it ran). See bench/README.md.
#
# Environment:
#   BENCH_RUNS=N           runs of each client, interleaved; the table shows
#                          medians (default 1)
#   BENCH_ROUND_TRIPS=N    sequential round trips (default 20000)
#   BENCH_MESSAGES=N       messages of the window scenario (default 200000)
#   WORKERMAN_DIR=DIR      a Workerman 4 or 5 checkout (never committed here)
#   BENCH_NO_BUILD=1       skip the builds (they must exist)
#   BENCH_RESULTS=FILE     also write every RESULT line (with run=N) to FILE
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

runs="${BENCH_RUNS:-1}"
round_trips="${BENCH_ROUND_TRIPS:-20000}"
messages="${BENCH_MESSAGES:-200000}"
window=1000
# Each client stops itself after 120 s; this is the outer bound per run.
client_timeout=200
for v in runs round_trips messages; do
    if ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then
        echo "bench/run.sh: ${v} must be a positive integer, got '${!v}'" >&2
        exit 2
    fi
done
if [ "$messages" -lt "$window" ]; then
    echo "bench/run.sh: BENCH_MESSAGES must be at least the window ($window)" >&2
    exit 2
fi

say() { echo "bench/run.sh: $*" >&2; }

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- builds
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    say "building (cargo build --release --bins --lib, the bench-floor example, the C benchmark)"
    cargo build --release --bins --lib --quiet
    cargo build --release --example bench-floor --quiet
    bench/run-c.sh --build-only
    if command -v composer >/dev/null 2>&1; then
        COMPOSER_ALLOW_SUPERUSER=1 composer dump-autoload --quiet --working-dir=php
    fi
fi
floor_bin="$root/target/release/examples/bench-floor"
c_bin="$root/target/bench-c/bench"
server_bin="$root/target/release/wsc-echo-server"
for f in "$floor_bin" "$c_bin" "$server_bin" "$root/target/release/libwsc.so"; do
    if [ ! -x "$f" ]; then
        say "$f is missing (build failed?)"
        exit 2
    fi
done

clients="rust-floor c-wsc"
skipped=()
if command -v php >/dev/null 2>&1 && php -r 'exit(extension_loaded("ffi") ? 0 : 1);'; then
    clients="$clients php-wsc"
else
    skipped+=("php-wsc: skipped (no php with the FFI extension)")
fi
if [ -n "${WORKERMAN_DIR:-}" ]; then
    if [ -f "$WORKERMAN_DIR/vendor/autoload.php" ] || [ -f "$WORKERMAN_DIR/Autoloader.php" ]; then
        if [[ " $clients " == *" php-wsc "* ]]; then
            clients="$clients php-workerman"
        else
            skipped+=("php-workerman: skipped (no php with the FFI extension)")
        fi
    else
        skipped+=("php-workerman: skipped (WORKERMAN_DIR=$WORKERMAN_DIR has neither vendor/autoload.php nor Autoloader.php: run 'composer install --no-dev' in that Workerman checkout)")
    fi
else
    skipped+=("php-workerman: skipped (set WORKERMAN_DIR to a Workerman checkout to compare)")
fi

# ----------------------------------------------------------- echo server
tmp="$(mktemp -d "${TMPDIR:-/tmp}/wsc-bench.XXXXXX")"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$server_bin" --addr 127.0.0.1:0 >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
addr=""
for _ in $(seq 100); do
    addr="$(sed -n 's/^listening on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/server.out")"
    [ -n "$addr" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
if [ -z "$addr" ]; then
    say "the echo server did not report 'listening on' within 10 s: $(cat "$tmp/server.err")"
    exit 1
fi
url="ws://$addr/"
say "echo server $server_bin (PID $server_pid) on $url"

# ------------------------------------------------------------------ runs
touch "$tmp/results"
run_client() { # client run
    local client="$1" run="$2" rc=0 t0 t1
    local -a cmd
    case "$client" in
    rust-floor) cmd=("$floor_bin" "$url" "$round_trips" "$messages") ;;
    c-wsc) cmd=("$c_bin" --url "$url" --server-pid "$server_pid" "$round_trips" "$messages" "$window") ;;
    php-wsc) cmd=(php bench/php/bench.php --url "$url" --round-trips "$round_trips" --messages "$messages" --window "$window") ;;
    php-workerman) cmd=(php bench/php/bench.php --url "$url" --round-trips "$round_trips" --messages "$messages"
        --window "$window" --workerman "$WORKERMAN_DIR") ;;
    esac
    t0=$(date +%s.%N)
    timeout -k 5 "$client_timeout" "${cmd[@]}" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
    t1=$(date +%s.%N)
    grep '^RESULT ' "$tmp/out" | sed "s/\$/ run=$run/" >>"$tmp/results" || true
    local got
    got=$(grep -c '^RESULT ' "$tmp/out" || true)
    say "run $run/$runs $client: $got RESULT lines, exit code $rc, $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"
    if [ "$rc" != 0 ] || [ "$got" != 2 ]; then
        say "  $client failed or did not finish; its last messages:"
        tail -n 5 "$tmp/err" | sed 's/^/    /' >&2
        [ "$rc" = 124 ] && say "  (killed after $client_timeout s)"
    fi
}

read -r -a order <<<"$clients"
n=${#order[@]}
for ((r = 1; r <= runs; r++)); do
    # Interleaved; the starting client rotates from run to run.
    for ((i = 0; i < n; i++)); do
        run_client "${order[$(((i + r - 1) % n))]}" "$r"
    done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${BENCH_RESULTS:-}" ]; then
    cp "$tmp/results" "$BENCH_RESULTS"
fi

# ----------------------------------------------------------------- table
echo
echo "wsc benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -sr), PHP $(php -r 'echo PHP_VERSION;' 2>/dev/null || echo '-')"
echo "echo server: wsc-echo-server on $url (tungstenite, a thread per connection, own process)"
echo "load average before: $load_before   after: $load_after"
echo "seq32: $round_trips sequential 32-byte binary round trips after 1000 warm-up ones;" \
    "window64: $messages 64-byte binary messages, $window in flight"
if [ "$runs" -gt 1 ]; then
    echo "figures: medians of $runs interleaved runs"
else
    echo "figures: one run (BENCH_RUNS=N for medians of N interleaved runs)"
fi
echo "CPU: getrusage of the client process, user + system, all its threads (not the server)"
echo
awk -v clients="$clients" -v runs="$runs" '
function median(arr, key, cnt,    a, i, j, t) {
    for (i = 1; i <= cnt; i++) a[i] = arr[key, i] + 0
    for (i = 2; i <= cnt; i++) {
        t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
    }
    return (cnt % 2) ? a[(cnt + 1) / 2] : (a[cnt / 2] + a[cnt / 2 + 1]) / 2
}
/^RESULT / {
    for (k in v) delete v[k]
    for (i = 2; i <= NF; i++) {
        eq = index($i, "=")
        if (eq > 0) v[substr($i, 1, eq - 1)] = substr($i, eq + 1)
    }
    key = v["client"] SUBSEP v["scenario"]
    c = ++cnt[key]
    rate[key, c] = v["msg_per_s"]
    cpu[key, c] = v["cpu_us_per_msg"]
    if ("rtt_p50_us" in v) { p50[key, c] = v["rtt_p50_us"]; p99[key, c] = v["rtt_p99_us"]; hasrtt[key] = 1 }
}
END {
    nc = split(clients, cl, " ")
    nsc = split("seq32 window64", sc, " ")
    wm = (clients ~ /php-workerman/)
    for (s = 1; s <= nsc; s++) for (i = 1; i <= nc; i++) {
        key = cl[i] SUBSEP sc[s]
        if (cnt[key] > 0) {
            mr[key] = median(rate, key, cnt[key]); mc[key] = median(cpu, key, cnt[key])
            if (hasrtt[key]) { m50[key] = median(p50, key, cnt[key]); m99[key] = median(p99, key, cnt[key]) }
        }
    }
    hdr = sprintf("%-14s %-9s %4s %10s %10s %10s %10s %8s", "client", "scenario", "runs", "msgs/s", "CPU us/msg", "RTT p50 us", "RTT p99 us", "x floor")
    if (wm) hdr = hdr sprintf(" %8s %9s", "x wm", "CPU x wm")
    print hdr
    line = hdr; gsub(/./, "-", line); print line
    for (s = 1; s <= nsc; s++) {
        fkey = "rust-floor" SUBSEP sc[s]; wkey = "php-workerman" SUBSEP sc[s]
        for (i = 1; i <= nc; i++) {
            key = cl[i] SUBSEP sc[s]
            if (cnt[key] == 0) {
                printf "%-14s %-9s %4d %10s   (no result: the client failed, see the messages above)\n", cl[i], sc[s], 0, "-"
                continue
            }
            r50 = hasrtt[key] ? sprintf("%.1f", m50[key]) : "-"
            r99 = hasrtt[key] ? sprintf("%.1f", m99[key]) : "-"
            xf = (mr[fkey] > 0) ? sprintf("%.2f", mr[key] / mr[fkey]) : "-"
            out = sprintf("%-14s %-9s %4d %10.0f %10.2f %10s %10s %8s", cl[i], sc[s], cnt[key], mr[key], mc[key], r50, r99, xf)
            if (wm) {
                xw = (mr[wkey] > 0) ? sprintf("%.2f", mr[key] / mr[wkey]) : "-"
                cw = (mc[wkey] > 0) ? sprintf("%.2f", mc[key] / mc[wkey]) : "-"
                out = out sprintf(" %8s %9s", xw, cw)
            }
            print out
        }
    }
}' "$tmp/results"
echo
echo "x floor: messages/s divided by the Rust floor's (higher is better; 1.00 = as fast as a blocking tungstenite client)."
if [[ " $clients " == *" php-workerman "* ]]; then
    echo "x wm: messages/s divided by Workerman's; CPU x wm: CPU us/message divided by Workerman's (lower is better)."
fi
for s in "${skipped[@]}"; do
    echo "$s"
done
echo "Note: figures, not pass/fail. They are noisy when the machine is busy (load average above);"
echo "      run with BENCH_RUNS=5 or more on a quiet machine before comparing clients."
