#!/usr/bin/env bash
# The demo: runs the user's Workerman example (php/examples/seed.php, only its
# `use` lines changed) against our embedded echo server on 127.0.0.1:1234,
# then stops the server to show onClose and the reconnect attempts failing,
# starts it again to show the reconnection succeed, and ends everything it
# started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=target/release/wsc-echo-server
ADDR=127.0.0.1:1234
LOG=$(mktemp -t wsc-demo.XXXXXX)
server_pid=""
seed_pid=""

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B="" N=""; fi
say() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }

cleanup() {
  [ -n "$seed_pid" ] && kill "$seed_pid" 2>/dev/null && wait "$seed_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -f "$LOG"
}
trap cleanup EXIT

start_server() {
  local fifo line
  fifo=$(mktemp -u -t wsc-demo-fifo.XXXXXX)
  mkfifo "$fifo"
  "$SERVER" --addr "$ADDR" >"$fifo" 2>&1 &
  server_pid=$!
  if ! read -r -t 5 line <"$fifo"; then line="(no answer)"; fi
  rm -f "$fifo"
  case "$line" in
    "listening on $ADDR") echo "echo server listening on $ADDR (pid $server_pid)" ;;
    *) echo "the echo server did not start on $ADDR: $line" >&2
       echo "(is another program using port 1234?)" >&2; exit 1 ;;
  esac
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  echo "echo server (pid $server_pid) stopped"
  server_pid=""
}

# Waits until the seed's output has COUNT lines matching PATTERN (bounded).
wait_output() {
  local pattern=$1 count=$2 seconds=$3 i
  for ((i = 0; i < seconds * 10; i++)); do
    if [ "$(grep -c -- "$pattern" "$LOG" || true)" -ge "$count" ]; then return 0; fi
    if ! kill -0 "$seed_pid" 2>/dev/null; then echo "the example exited early" >&2; return 1; fi
    sleep 0.1
  done
  echo "timed out waiting for \"$pattern\" from the example" >&2
  return 1
}

say "starting the embedded echo server"
start_server

say "running php/examples/seed.php (the Workerman example, only its use lines changed)"
php php/examples/seed.php start > >(tee "$LOG") 2>&1 &
seed_pid=$!
wait_output "recv: hello" 1 15

say "stopping the echo server: onClose fires, reConnect(1) retries every second and fails"
stop_server
wait_output "error: " 2 15

say "starting the echo server again: the next reconnect succeeds"
start_server
wait_output "recv: hello" 2 15

say "stopping the example (SIGTERM) and the echo server"
kill -TERM "$seed_pid"
wait "$seed_pid" && status=0 || status=$?
seed_pid=""
stop_server
echo "the example exited with status $status"
say "demo finished"
