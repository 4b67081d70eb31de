#!/usr/bin/env bash
# Runs the other-language examples as tests, against target/release:
#   examples/epoll_client.c    built with -std=c11 -Wall -Wextra -Werror
#                              -Wpedantic (plain, and with ASan+UBSan, which
#                              runs), then run against the echo server
#   examples/python_client.py  python3 + ctypes; its wsc_event declaration
#                              is also compared field by field with the
#                              header's (offsetof/sizeof from a C program)
# Each also runs against a refused port and a refused handshake (exit 1,
# an "error:" line). The echo server (target/release/wsc-echo-server on
# 127.0.0.1, a free port) is started here and stopped by its PID; every
# run has a time limit. Prints "N passed, M failed" last; exits non-zero
# when anything failed.
# Usage: tests/examples/run.sh          (after `cargo build --release`)
set -u

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

lib="$root/target/release/libwsc.so"
server="$root/target/release/wsc-echo-server"
for f in "$lib" "$server" include/wsc.h; do
    if [ ! -e "$f" ]; then
        echo "tests/examples/run.sh: $f is missing; run 'cargo build --release' first" >&2
        exit 2
    fi
done
for tool in "${CC:-cc}" python3 timeout; do
    if ! command -v "$tool" >/dev/null; then
        echo "tests/examples/run.sh: $tool is not installed" >&2
        exit 2
    fi
done

cc="${CC:-cc}"
work="$(mktemp -d -t wsc-examples.XXXXXX)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        for _ in $(seq 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
failures=()
pass() { passed=$((passed + 1)); printf 'ok    %s\n' "$1"; }
fail() {
    failed=$((failed + 1))
    failures+=("$1")
    printf 'FAIL  %s: %s\n' "$1" "$2"
    if [ -n "${3:-}" ] && [ -f "$3" ]; then sed 's/^/      | /' "$3" | tail -n 40; fi
}

# --- the echo server, by PID ---------------------------------------------
: >"$work/server.out"
"$server" --addr 127.0.0.1:0 >"$work/server.out" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 100); do # at most 10 s
    port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/server.out")"
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "tests/examples/run.sh: the echo server did not start:" >&2
    cat "$work/server.out" >&2
    exit 1
fi
url="ws://127.0.0.1:$port"
# A loopback port nobody listens on (bound, then released).
closed_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

# run NAME EXPECTED_EXIT EXPECTED_OUTPUT_FILE_OR_EMPTY MUST_MATCH_REGEX CMD...
# Runs CMD (60 s limit); checks its exit code, then either its whole
# stdout against the expected file (and an empty stderr), or that a line
# of its output matches the regex.
run() {
    local name="$1" want_rc="$2" want_out="$3" regex="$4"
    shift 4
    local base rc
    base="$work/$(printf '%s' "$name" | tr -c 'A-Za-z0-9_' '_')"
    timeout --kill-after=5 60 "$@" >"$base.out" 2>"$base.err"
    rc=$?
    cat "$base.out" "$base.err" >"$base.all"
    if [ "$rc" -ne "$want_rc" ]; then
        fail "$name" "exit code $rc, expected $want_rc" "$base.all"
    elif [ -n "$want_out" ] && ! diff -u "$want_out" "$base.out" >"$base.diff"; then
        fail "$name" "unexpected output" "$base.diff"
    elif [ -n "$want_out" ] && [ -s "$base.err" ]; then
        fail "$name" "unexpected output on stderr" "$base.err"
    elif [ -n "$regex" ] && ! grep -Eq "$regex" "$base.all"; then
        fail "$name" "no line matches /$regex/" "$base.all"
    else
        pass "$name"
    fi
}

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"

# --- C: examples/epoll_client.c --------------------------------------------
cflags=(-std=c11 -Wall -Wextra -Werror -Wpedantic -I include)
ldflags=(-L target/release -lwsc "-Wl,-rpath,$root/target/release")
c_ok=1
if "$cc" "${cflags[@]}" -O2 -o "$work/epoll_client" examples/epoll_client.c "${ldflags[@]}" \
    >"$work/cc.log" 2>&1; then
    pass "epoll_client.c compiles with ${cflags[*]}"
else
    fail "epoll_client.c compiles with ${cflags[*]}" "compiler errors" "$work/cc.log"
    c_ok=0
fi
if "$cc" "${cflags[@]}" -g -fsanitize=address,undefined -fno-omit-frame-pointer \
    -fno-sanitize-recover=undefined -o "$work/epoll_client_asan" examples/epoll_client.c \
    "${ldflags[@]}" >"$work/cc-asan.log" 2>&1; then
    pass "epoll_client.c compiles with ASan+UBSan"
else
    fail "epoll_client.c compiles with ASan+UBSan" "compiler errors" "$work/cc-asan.log"
    c_ok=0
fi
if [ "$c_ok" -eq 1 ]; then
    cat >"$work/epoll.expected" <<EOF
wsc $version
connected
open: HTTP/1.1 101 Switching Protocols
sent: hello
echo: hello
sent: epoll
echo: epoll
closing
closed: 1000 clean
ok
EOF
    run "epoll_client echo" 0 "$work/epoll.expected" "" "$work/epoll_client" "$url/"
    cat >"$work/epoll3.expected" <<EOF
wsc $version
connected
open: HTTP/1.1 101 Switching Protocols
sent: one
echo: one
sent: two words
echo: two words
sent: ünïcödé
echo: ünïcödé
closing
closed: 1000 clean
ok
EOF
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
        run "epoll_client echo (ASan+UBSan)" 0 "$work/epoll3.expected" "" \
        "$work/epoll_client_asan" "$url/" one "two words" "ünïcödé"
    run "epoll_client refused port" 1 "" '^error: .*refused.*$' \
        "$work/epoll_client" "ws://127.0.0.1:$closed_port/"
    run "epoll_client refused handshake" 1 "" '^error: opening handshake refused: HTTP 403' \
        "$work/epoll_client" "$url/status/403"
    run "epoll_client usage" 2 "" '^usage: ' "$work/epoll_client"
fi

# --- Python: examples/python_client.py -------------------------------------
export WSC_LIB="$lib"
cat >"$work/python.expected" <<EOF
wsc $version
connected
open: HTTP/1.1 101 Switching Protocols
echo text: hello from python
echo binary: 0001feff
closed: 1000 clean
ok
EOF
run "python_client echo" 0 "$work/python.expected" "" python3 examples/python_client.py "$url/"
run "python_client refused port" 1 "" '^error: .*refused' \
    python3 examples/python_client.py "ws://127.0.0.1:$closed_port/"
run "python_client refused handshake" 1 "" '^error: opening handshake refused: HTTP 403' \
    python3 examples/python_client.py "$url/status/403"

# The ctypes declaration of wsc_event against the header: same size, same
# offsets (from the C compiler).
cat >"$work/layout.c" <<'EOF'
#include <stddef.h>
#include <stdio.h>
#include "wsc.h"
#define F(name) printf(#name " %zu %zu\n", offsetof(wsc_event, name), sizeof(((wsc_event *)0)->name))
int main(void)
{
    F(struct_size); F(event_type); F(client_id); F(data); F(data_len);
    F(message_type); F(error); F(close_code); F(clean);
    F(http_status); F(http_head); F(http_head_len); F(http_body); F(http_body_len);
    F(reconnect_delay_ms); F(reconnect_reason); F(reconnect_attempt);
    printf("sizeof %zu\n", sizeof(wsc_event));
    return 0;
}
EOF
if "$cc" "${cflags[@]}" -o "$work/layout" "$work/layout.c" >"$work/layout.cc.log" 2>&1 \
    && "$work/layout" >"$work/layout.c.txt"; then
    python3 - "$root/examples" >"$work/layout.py.txt" <<'EOF'
import ctypes, sys
sys.path.insert(0, sys.argv[1])
import python_client as p
for name, ctype in p.wsc_event._fields_:
    print(name, getattr(p.wsc_event, name).offset, ctypes.sizeof(ctype))
print("sizeof", ctypes.sizeof(p.wsc_event))
EOF
    if diff -u "$work/layout.c.txt" "$work/layout.py.txt" >"$work/layout.diff"; then
        pass "python_client wsc_event layout matches wsc.h ($(tail -n 1 "$work/layout.c.txt"))"
    else
        fail "python_client wsc_event layout matches wsc.h" "offsets or sizes differ" "$work/layout.diff"
    fi
else
    fail "python_client wsc_event layout matches wsc.h" "the layout program failed" "$work/layout.cc.log"
fi

if [ "${#failures[@]}" -gt 0 ]; then
    echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
