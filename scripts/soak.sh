#!/usr/bin/env bash
# The soak (not in CI): N clients echo numbered messages against the echo
# server for SECONDS while random faults hit them (server killed and
# restarted by PID, paused reading, aborts, reconnects, closes); prints the
# messages sent, received, reported undelivered, refused and of unknown
# fate, the reconnects and faults, and RSS/fds/threads at the start and the
# end. The program is tests/soak.rs (an ignored test).
#
# Usage: scripts/soak.sh [SECONDS]        (default 3600)
# Environment: WSC_SOAK_CLIENTS (default 8), WSC_SOAK_SEED (to repeat a run;
# each run prints its seed).
set -euo pipefail

seconds="${1:-3600}"
case "$seconds" in
'' | *[!0-9]*)
    echo "scripts/soak.sh: SECONDS must be a number, not '$seconds'" >&2
    exit 2
    ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

echo "==> building (cargo test --release --test soak --no-run)"
cargo build --release --bins --lib --quiet
cargo test --release --test soak --no-run --quiet
echo "==> soak for ${seconds}s"
# A hard stop well after the soak's own deadline (+ 2 min to settle).
WSC_SOAK_SECONDS="$seconds" timeout --kill-after=30 $((seconds + 300)) \
    cargo test --release --quiet --test soak -- --ignored --nocapture --test-threads=1
