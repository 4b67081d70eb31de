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
# RTT p50/p99 (sequential scenarios), the time to open the connections,
# RSS per idle connection, idle CPU, and the ratio of messages/s to the
# Rust floor (and to Workerman when it ran). See bench/README.md.
#
# Scenarios: seq32 and window64 (one process per client: "basic"), mib1
# (1 MiB round trips), conns500 (500 connections x 10 rounds), idle1000 and
# idle10000 (idle connections: RSS each, open time, idle CPU, one echo
# round); each of the last four in a process of its own.
#
# Environment:
#   BENCH_RUNS=N           runs of each client, interleaved; the table shows
#                          medians (default 1)
#   BENCH_SCENARIOS="..."  which groups to run (default: basic mib1 conns idle push wss)
#   BENCH_PUSH_MESSAGES=N  messages per server-push case (default 1000000)
#   BENCH_WSS_CONNS=N      wss connections opened at once in the wss group
#                          (default 1000; bench/wss.rs, through Debian's nginx)
#   BENCH_ROUND_TRIPS=N    sequential round trips (default 20000)
#   BENCH_MESSAGES=N       messages of the window scenario (default 200000)
#   BENCH_MIB_ROUND_TRIPS=N  1 MiB round trips (default 200)
#   BENCH_CONNS=N BENCH_ROUNDS=N  the many-connections scenario (500, 10)
#   BENCH_IDLE="N ..."     idle connection counts (default "1000 10000")
#   BENCH_IDLE_SECONDS=S   idle time measured (default 3)
#   WORKERMAN_DIR=DIR      a Workerman 4 or 5 checkout (never committed here);
#                          without it, vendor/workerman/workerman when
#                          composer.json's require-dev is installed
#                          (make php-dev-deps)
#   BENCH_NO_BUILD=1       skip the builds (they must exist)
#   BENCH_RESULTS=FILE     also write every RESULT line (with run=N) to FILE
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

runs="${BENCH_RUNS:-1}"
round_trips="${BENCH_ROUND_TRIPS:-20000}"
messages="${BENCH_MESSAGES:-200000}"
mib_round_trips="${BENCH_MIB_ROUND_TRIPS:-200}"
conns="${BENCH_CONNS:-500}"
rounds="${BENCH_ROUNDS:-10}"
idle_seconds="${BENCH_IDLE_SECONDS:-3}"
read -r -a idle_counts <<<"${BENCH_IDLE:-1000 10000}"
read -r -a groups <<<"${BENCH_SCENARIOS:-basic mib1 conns idle push wss}"
push_messages="${BENCH_PUSH_MESSAGES:-1000000}"
# The server-push cases: connections, message size, json_decode or not.
push_cases=("1 100 0" "1 100 1" "100 200 0" "100 200 1")
push_name() { echo "push$1x$2$([ "$3" = 1 ] && echo j)"; }
wss_conns="${BENCH_WSS_CONNS:-1000}"
# The wss group runs on its own (bench-wss, after the table), not per client.
run_wss=0
table_groups=()
for g in "${groups[@]}"; do
    if [ "$g" = wss ]; then run_wss=1; else table_groups+=("$g"); fi
done
window=1000
# Each client stops itself after 120 s; this is the outer bound per run.
client_timeout=200
for v in runs round_trips messages mib_round_trips conns rounds idle_seconds push_messages; do
    if ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then
        echo "bench/run.sh: ${v} must be a positive integer, got '${!v}'" >&2
        exit 2
    fi
done
if [ "$messages" -lt "$window" ]; then
    echo "bench/run.sh: BENCH_MESSAGES must be at least the window ($window)" >&2
    exit 2
fi

for v in "${idle_counts[@]}"; do
    if ! [[ "$v" =~ ^[1-9][0-9]*$ ]]; then
        echo "bench/run.sh: BENCH_IDLE must list positive integers, got '$v'" >&2
        exit 2
    fi
done
for g in "${groups[@]}"; do
    case "$g" in
    basic | mib1 | conns | idle | push | wss) ;;
    *)
        echo "bench/run.sh: BENCH_SCENARIOS lists basic, mib1, conns, idle, push, wss; got '$g'" >&2
        exit 2
        ;;
    esac
done

say() { echo "bench/run.sh: $*" >&2; }

# Open files: the echo server and every client hold one fd per connection
# (10,000 in idle10000). The soft limit goes up to the hard limit for this
# script and everything it starts (libwsc raises its own process's soft
# limit too, Workerman does not).
want_fds=$((conns + 64))
for v in "${idle_counts[@]}"; do
    [ $((v + 64)) -gt "$want_fds" ] && want_fds=$((v + 64))
done
hard_fds="$(ulimit -Hn)"
if [ "$hard_fds" != unlimited ] && [ "$(ulimit -Sn)" != "$hard_fds" ]; then
    ulimit -Sn "$hard_fds" || say "cannot raise the open-files soft limit to the hard limit ($hard_fds)"
fi
fd_limit="$(ulimit -Sn)"
[ "$fd_limit" = unlimited ] && fd_limit=$((1 << 30))
if [ "$fd_limit" -lt "$want_fds" ]; then
    say "the open-files limit is $fd_limit (hard $hard_fds): scenarios with more than $((fd_limit - 64)) connections are skipped; raise it (ulimit -Hn as root, or LimitNOFILE=) to run them"
fi

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- builds
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    say "building (cargo build --release --bins --lib, the bench-floor example, the C benchmark)"
    cargo build --release --bins --lib --quiet
    cargo build --release --example bench-floor --quiet
    [ "$run_wss" = 1 ] && cargo build --release --example bench-wss --quiet
    bench/run-c.sh --build-only
    if command -v composer >/dev/null 2>&1; then
        COMPOSER_ALLOW_SUPERUSER=1 composer dump-autoload --quiet
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
# Workerman: WORKERMAN_DIR, else composer.json's require-dev when it is
# installed (make php-dev-deps: vendor/workerman/workerman; the repository
# root's vendor/autoload.php loads it).
workerman_from=""
if [ -z "${WORKERMAN_DIR:-}" ] && [ -f "$root/vendor/workerman/workerman/src/Worker.php" ] &&
    [ -f "$root/vendor/autoload.php" ]; then
    WORKERMAN_DIR="$root"
    workerman_from="composer.json's require-dev (vendor/workerman/workerman)"
fi
if [ -n "${WORKERMAN_DIR:-}" ]; then
    [ -z "$workerman_from" ] && workerman_from="WORKERMAN_DIR=$WORKERMAN_DIR"
    say "Workerman from $workerman_from"
    if [ -f "$WORKERMAN_DIR/vendor/autoload.php" ] || [ -f "$WORKERMAN_DIR/Autoloader.php" ]; then
        if [[ " $clients " == *" php-wsc "* ]]; then
            clients="$clients php-workerman"
            wm_version="$(WM="$WORKERMAN_DIR" php -r '
                $d = getenv("WM");
                require is_file("$d/vendor/autoload.php") ? "$d/vendor/autoload.php" : "$d/Autoloader.php";
                echo defined("Workerman\\Worker::VERSION") ? Workerman\Worker::VERSION : "?";' 2>/dev/null || echo '?')"
        else
            skipped+=("php-workerman: skipped (no php with the FFI extension)")
        fi
    else
        skipped+=("php-workerman: skipped (WORKERMAN_DIR=$WORKERMAN_DIR has neither vendor/autoload.php nor Autoloader.php: run 'composer install --no-dev' in that Workerman checkout)")
    fi
else
    skipped+=("php-workerman: skipped (Workerman not found: install composer.json's require-dev with 'make php-dev-deps', or set WORKERMAN_DIR to a Workerman checkout)")
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
# The server's thread count (a thread per connection): after a scenario
# with thousands of connections, wait (at most 20 s) until their threads
# are gone, so that the next client does not meet the last one's.
server_threads() { sed -n 's/^Threads:[[:space:]]*//p' "/proc/$server_pid/status" 2>/dev/null || echo 0; }
settle_server() {
    local i
    for ((i = 0; i < 200; i++)); do
        [ "$(server_threads)" -le 64 ] && return 0
        sleep 0.1
    done
    say "the echo server still has $(server_threads) threads after 20 s"
}

scenario_names=()
for g in "${table_groups[@]}"; do
    case "$g" in
    basic) scenario_names+=(seq32 window64) ;;
    mib1) scenario_names+=(mib1) ;;
    conns) scenario_names+=("conns$conns") ;;
    idle) for v in "${idle_counts[@]}"; do scenario_names+=("idle$v"); done ;;
    push) for v in "${push_cases[@]}"; do
        # shellcheck disable=SC2086
        scenario_names+=("$(push_name $v)")
    done ;;
    esac
done

run_client() { # client group run [idle count | push case]
    local client="$1" group="$2" run="$3" count="${4:-}" rc=0 t0 t1 expect=1 label="$2"
    local -a cmd args
    local php=(php bench/php/bench.php --url "$url")
    [ "$client" = php-workerman ] && php+=(--workerman "$WORKERMAN_DIR")
    case "$group" in
    basic)
        expect=2
        case "$client" in
        rust-floor) cmd=("$floor_bin" "$url" "$round_trips" "$messages") ;;
        c-wsc) cmd=("$c_bin" --url "$url" --server-pid "$server_pid" "$round_trips" "$messages" "$window") ;;
        php-*) cmd=("${php[@]}" --round-trips "$round_trips" --messages "$messages" --window "$window") ;;
        esac
        ;;
    mib1)
        case "$client" in
        rust-floor) cmd=("$floor_bin" "$url" mib1 "$mib_round_trips") ;;
        c-wsc) cmd=("$c_bin" --url "$url" --scenario mib1 --count "$mib_round_trips") ;;
        php-*) cmd=("${php[@]}" --scenario mib1 --count "$mib_round_trips") ;;
        esac
        ;;
    conns)
        label="conns$conns"
        case "$client" in
        rust-floor) cmd=("$floor_bin" "$url" conns "$conns" "$rounds") ;;
        c-wsc) cmd=("$c_bin" --url "$url" --scenario conns --conns "$conns" --rounds "$rounds") ;;
        php-*) cmd=("${php[@]}" --scenario conns --conns "$conns" --rounds "$rounds") ;;
        esac
        ;;
    idle)
        label="idle$count"
        if [ $((count + 64)) -gt "$fd_limit" ]; then
            echo "NORESULT client=$client scenario=$label reason=the open-files limit ($fd_limit) is too low for $count connections" >>"$tmp/results"
            return
        fi
        case "$client" in
        rust-floor) cmd=("$floor_bin" "$url" idle "$count" "$idle_seconds") ;;
        c-wsc) cmd=("$c_bin" --url "$url" --scenario idle --conns "$count" --idle-seconds "$idle_seconds") ;;
        php-*) cmd=("${php[@]}" --scenario idle --conns "$count" --idle-seconds "$idle_seconds") ;;
        esac
        ;;
    push)
        local pc ps pj
        read -r pc ps pj <<<"$count"
        label="$(push_name "$pc" "$ps" "$pj")"
        case "$client" in
        rust-floor)
            echo "NORESULT client=$client scenario=$label reason=not measured (the floor is an echo client)" >>"$tmp/results"
            return
            ;;
        c-wsc)
            if [ "$pj" = 1 ]; then
                echo "NORESULT client=$client scenario=$label reason=not measured (json_decode is PHP's)" >>"$tmp/results"
                return
            fi
            cmd=("$c_bin" --url "$url" --scenario push --conns "$pc" --size "$ps" --count "$push_messages")
            ;;
        php-*) cmd=("${php[@]}" --scenario push --conns "$pc" --size "$ps" --count "$push_messages") ;;
        esac
        [ "$pj" = 1 ] && cmd+=(--json)
        ;;
    esac
    t0=$(date +%s.%N)
    timeout -k 5 "$client_timeout" "${cmd[@]}" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
    t1=$(date +%s.%N)
    grep -E '^(NO)?RESULT ' "$tmp/out" | sed "s/\$/ run=$run/" >>"$tmp/results" || true
    local got
    got=$(grep -c '^RESULT ' "$tmp/out" || true)
    say "run $run/$runs $client $label: $got RESULT lines, exit code $rc, $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"
    if [ "$rc" != 0 ] || [ "$got" != "$expect" ]; then
        say "  $client failed or did not finish; its last messages:"
        grep -v 'select exceeded the maximum' "$tmp/err" | tail -n 5 | sed 's/^/    /' >&2
        local warned
        warned=$(grep -c 'select exceeded the maximum' "$tmp/err" "$tmp/out" | awk -F: '{s+=$2} END{print s+0}')
        [ "$warned" -gt 0 ] && say "  ($warned warnings 'select exceeded the maximum number of connections 1024')"
        [ "$rc" = 124 ] && say "  (killed after $client_timeout s)"
        if [ "$got" = 0 ] && ! grep -q '^NORESULT ' "$tmp/out"; then
            local why="exit code $rc"
            [ "$rc" = 124 ] && why="killed after $client_timeout s"
            echo "NORESULT client=$client scenario=$label reason=$why, see the messages above run=$run" >>"$tmp/results"
        fi
    fi
    settle_server
}

read -r -a order <<<"$clients"
n=${#order[@]}
for ((r = 1; r <= runs; r++)); do
    for g in "${table_groups[@]}"; do
        # Interleaved; the starting client rotates from run to run.
        for ((i = 0; i < n; i++)); do
            client="${order[$(((i + r - 1) % n))]}"
            if [ "$g" = idle ]; then
                for v in "${idle_counts[@]}"; do
                    run_client "$client" idle "$r" "$v"
                done
            elif [ "$g" = push ]; then
                for v in "${push_cases[@]}"; do
                    run_client "$client" push "$r" "$v"
                done
            else
                run_client "$client" "$g" "$r"
            fi
        done
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
echo "mib1: $mib_round_trips sequential 1 MiB binary round trips after 5 warm-up ones;" \
    "conns$conns: $conns connections opened at once, then $rounds sequential 64-byte round trips on each, all at once"
echo "idleN: N connections opened at once after a warm-up one (open s: until all are open), RSS they add" \
    "(KiB/conn), CPU while idle for $idle_seconds s (idle CPU%), then one 32-byte echo round (msgs/s, CPU)"
echo "open-files limit: $fd_limit; rust-floor: blocking tungstenite, a thread per connection in conns$conns," \
    "one thread opening and holding the idle ones"
if [ "$runs" -gt 1 ]; then
    echo "figures: medians of $runs interleaved runs"
else
    echo "figures: one run (BENCH_RUNS=N for medians of N interleaved runs)"
fi
echo "CPU: getrusage of the client process, user + system, all its threads (not the server)"
if [[ " $clients " == *" php-workerman "* ]]; then
    echo "php-workerman: Workerman $wm_version from $workerman_from"
fi
echo
awk -v clients="$clients" -v runs="$runs" -v scenarios="${scenario_names[*]}" '
function median(arr, key, cnt,    a, i, j, t) {
    for (i = 1; i <= cnt; i++) a[i] = arr[key, i] + 0
    for (i = 2; i <= cnt; i++) {
        t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
    }
    return (cnt % 2) ? a[(cnt + 1) / 2] : (a[cnt / 2] + a[cnt / 2 + 1]) / 2
}
/^NORESULT / {
    c = $2; sub(/^client=/, "", c); sc_ = $3; sub(/^scenario=/, "", sc_)
    r = $0; sub(/^.* reason=/, "", r); sub(/ run=[0-9]+$/, "", r)
    why[c SUBSEP sc_] = r
    next
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
    if ("open_s" in v) { opn[key, c] = v["open_s"]; hasopen[key] = 1 }
    if ("rss_kib_per_conn" in v) { rss[key, c] = v["rss_kib_per_conn"]; icpu[key, c] = v["idle_cpu_pct"]; hasrss[key] = 1 }
    if ("peak_rss_kib" in v) { peak[key, c] = v["peak_rss_kib"]; haspeak[key] = 1 }
}
END {
    nc = split(clients, cl, " ")
    nsc = split(scenarios, sc, " ")
    wm = (clients ~ /php-workerman/)
    for (s = 1; s <= nsc; s++) for (i = 1; i <= nc; i++) {
        key = cl[i] SUBSEP sc[s]
        if (cnt[key] > 0) {
            mr[key] = median(rate, key, cnt[key]); mc[key] = median(cpu, key, cnt[key])
            if (hasrtt[key]) { m50[key] = median(p50, key, cnt[key]); m99[key] = median(p99, key, cnt[key]) }
            if (hasopen[key]) mo[key] = median(opn, key, cnt[key])
            if (hasrss[key]) { mrss[key] = median(rss, key, cnt[key]); mic[key] = median(icpu, key, cnt[key]) }
            if (haspeak[key]) { anypeak = 1; mpeak[key] = median(peak, key, cnt[key]) }
        }
    }
    hdr = sprintf("%-14s %-12s %4s %10s %10s %10s %10s %7s %8s %9s %8s", "client", "scenario", "runs", "msgs/s", "CPU us/msg", "RTT p50 us", "RTT p99 us", "open s", "KiB/conn", "idle CPU%", "x floor")
    if (anypeak) hdr = hdr sprintf(" %8s", "peak MiB")
    if (wm) hdr = hdr sprintf(" %8s %9s", "x wm", "CPU x wm")
    if (wm && anypeak) hdr = hdr sprintf(" %8s", "RSS x wm")
    print hdr
    line = hdr; gsub(/./, "-", line); print line
    for (s = 1; s <= nsc; s++) {
        fkey = "rust-floor" SUBSEP sc[s]; wkey = "php-workerman" SUBSEP sc[s]
        for (i = 1; i <= nc; i++) {
            key = cl[i] SUBSEP sc[s]
            if (cnt[key] == 0) {
                r = (key in why) ? why[key] : "the client failed, see the messages above"
                printf "%-14s %-12s %4d %10s   (no result: %s)\n", cl[i], sc[s], 0, "-", r
                continue
            }
            r50 = hasrtt[key] ? sprintf("%.1f", m50[key]) : "-"
            r99 = hasrtt[key] ? sprintf("%.1f", m99[key]) : "-"
            ro = hasopen[key] ? sprintf("%.2f", mo[key]) : "-"
            rk = hasrss[key] ? sprintf("%.1f", mrss[key]) : "-"
            ri = hasrss[key] ? sprintf("%.2f", mic[key]) : "-"
            xf = (mr[fkey] > 0) ? sprintf("%.2f", mr[key] / mr[fkey]) : "-"
            rt = (mr[key] < 100) ? sprintf("%.1f", mr[key]) : sprintf("%.0f", mr[key])
            out = sprintf("%-14s %-12s %4d %10s %10.2f %10s %10s %7s %8s %9s %8s", cl[i], sc[s], cnt[key], rt, mc[key], r50, r99, ro, rk, ri, xf)
            if (anypeak) out = out sprintf(" %8s", haspeak[key] ? sprintf("%.1f", mpeak[key] / 1024) : "-")
            if (wm) {
                xw = (mr[wkey] > 0) ? sprintf("%.2f", mr[key] / mr[wkey]) : "-"
                cw = (mc[wkey] > 0) ? sprintf("%.2f", mc[key] / mc[wkey]) : "-"
                out = out sprintf(" %8s %9s", xw, cw)
            }
            if (wm && anypeak) out = out sprintf(" %8s", (haspeak[key] && mpeak[wkey] > 0) ? sprintf("%.2f", mpeak[key] / mpeak[wkey]) : "-")
            print out
        }
    }
}' "$tmp/results"
echo
echo "x floor: messages/s divided by the Rust floor's (higher is better; 1.00 = as fast as a blocking tungstenite client)."
echo "open s: seconds until all connections of the scenario were open; KiB/conn: RSS added per idle connection;"
echo "idle CPU%: CPU of the client process while the connections idle (100 = one core)."
if [[ " ${table_groups[*]} " == *" push "* ]]; then
    echo "pushCxB[j]: C connections receive $push_messages server-pushed B-byte JSON text messages in all (j: onMessage"
    echo "also json_decode()s each); msgs/s and CPU from the connects to the last message; peak MiB: the client"
    echo "process's peak RSS (VmHWM)."
fi
if [[ " $clients " == *" php-workerman "* ]]; then
    echo "x wm: messages/s divided by Workerman's; CPU x wm: CPU us/message divided by Workerman's (lower is better)."
    [[ " ${table_groups[*]} " == *" push "* ]] && echo "RSS x wm: peak RSS divided by Workerman's (lower is better)."
fi
for s in "${skipped[@]}"; do
    echo "$s"
done
if [ "$run_wss" = 1 ]; then
    echo
    say "wss: $wss_conns wss:// connections at once through nginx (bench/wss.rs)"
    timeout --kill-after=10 "$client_timeout" nice -n 0 "$root/target/release/examples/bench-wss" "$wss_conns" 300 ||
        echo "wss: (no result: bench-wss failed, see the messages above)"
    echo "full: every connect a full TLS handshake (resumption off); open/reconnect: with TLS session resumption."
    echo "CPU per connect: this process's CPU (nginx and the echo server are other processes) / connections."
fi
echo "Note: figures, not pass/fail. They are noisy when the machine is busy (load average above);"
echo "      run with BENCH_RUNS=5 or more on a quiet machine before comparing clients."
