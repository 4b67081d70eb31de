#!/usr/bin/env bash
# The Autobahn TestSuite conformance gate (`make autobahn`): the suite's fuzzing
# server on 127.0.0.1 drives
#   (a) the C testee (examples/autobahn_client.c) through sections 1-10,
#   (b) the C testee in its permessage-deflate mode (RFC 7692; the offer each case
#       expects) through sections 12-13, as two partitions run side by side on
#       AB_PORT+1 and AB_PORT+2 (the suite's Python server is the bottleneck: about
#       6 min instead of 12 on 2 cores), their reports merged,
#   (c) the PHP testee (php/examples/autobahn_client.php) through sections 1-7 and 10,
# prints the table of each run, and compares the per-case results of (a), (b) and (c)
# (behavior and behaviorClose; no durations) with tests/autobahn/expected-c.json,
# tests/autobahn/expected-c-pmce.json and tests/autobahn/expected-php.json, naming
# each case that changed.
#
# The suite's installer and runner are in scripts/autobahn/ (install-wstest.sh,
# run-client-suite.sh, summarize.py, fuzzingserver.json); see docs/autobahn.md.
#
# usage: scripts/autobahn.sh        (after `cargo build --release`; make autobahn does it)
# Environment (all optional):
#   WSTEST             wstest launcher (default: $WSTEST_PREFIX/bin/wstest); installed by
#                      scripts/autobahn/install-wstest.sh when missing (needs python3-venv,
#                      gcc, dpkg, the Debian mirror and PyPI; 30-60 s, once per machine)
#   WSTEST_PREFIX      where it is installed (default: ${XDG_CACHE_HOME:-~/.cache}/wsc/wstest-25.10.1)
#   AUTOBAHN_UPDATE    1: rewrite the expected files from this run (the changes are listed)
#   AB_PORT            fuzzing server port, 9001..9097; (b) uses the next two. Default: the
#                      first of 9001, 9011, ... 9091 whose three ports are all free
#   AB_TIMEOUT         seconds allowed for one testee run of (a) or (c) (default 1800)
#   AB_PMCE_TIMEOUT    the same for each partition of (b) (default 2400)
#   CC, CARGO, PHP     compiler, cargo and php commands
# Every case ends by itself: the suite closes a case after its own limit (at most 480 s in
# 9.7 and 12-13, 1000 s in 9.5.1 and 9.6.1) and the testees wait longer than that
# (CASE_TIMEOUT in examples/autobahn_client.c and php/examples/autobahn_client.php), so a
# busy machine makes the gate slower, never red. The run limits above only stop a hung testee.
# Results and logs: target/autobahn/{c,c-pmce-a,c-pmce-b,php}/ (server.log, testee.log,
# reports/); the merged report of (b): target/autobahn/c-pmce/reports/clients/index.json.
# Exit: 0 every case as expected and none FAILED; 1 a case changed or FAILED;
#       2 setup error (wstest not installable, no free port, a run without report).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
KIT="$REPO/scripts/autobahn"
WSTEST_PREFIX="${WSTEST_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/wsc/wstest-25.10.1}"
WSTEST="${WSTEST:-$WSTEST_PREFIX/bin/wstest}"
CC="${CC:-cc}"
CARGO="${CARGO:-cargo}"
PHP="${PHP:-php}"
OUT="$REPO/target/autobahn"
EXPECTED="$REPO/tests/autobahn"
t_start=$(date +%s.%N)

elapsed() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(date +%s.%N)"; }
say() { printf '\n==> %s\n' "$*"; }

# --- wstest -------------------------------------------------------------------------------
if [ ! -x "$WSTEST" ]; then
  case "$WSTEST" in
    */bin/wstest) prefix="${WSTEST%/bin/wstest}" ;;
    *) echo "autobahn: WSTEST=$WSTEST does not exist and is not PREFIX/bin/wstest: cannot install it there" >&2
       exit 2 ;;
  esac
  missing=()
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  command -v dpkg >/dev/null 2>&1 || missing+=(dpkg)
  probe="$(mktemp -d)"
  # python3-venv: a venv with pip must work (Debian's python3 alone cannot make one)
  python3 -m venv "$probe/v" >/dev/null 2>&1 || missing+=(python3-venv)
  rm -rf "$probe"
  if [ ${#missing[@]} -gt 0 ]; then
    echo "autobahn: installing wstest needs: ${missing[*]}; install with:" >&2
    echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 2
  fi
  say "installing wstest into $prefix (Python 2.7 from Debian bullseye, autobahntestsuite from PyPI; 30-60 s)"
  t0=$(date +%s.%N)
  if ! bash "$KIT/install-wstest.sh" "$prefix"; then
    echo "autobahn: scripts/autobahn/install-wstest.sh failed (it needs the Debian mirror and PyPI); rm -rf $prefix and retry" >&2
    exit 2
  fi
  echo "wstest installed in $(elapsed "$t0") s"
  [ -x "$WSTEST" ] || { echo "autobahn: $WSTEST still missing after the install" >&2; exit 2; }
fi
export WSTEST

# --- ports --------------------------------------------------------------------------------
# Three fuzzing servers listen on AB_PORT..AB_PORT+2. Unless AB_PORT is given, take the first
# block of three free ports (nothing accepts a connection there), so that two checkouts on
# one machine can run the gate at the same time.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "${AB_PORT:-}" ]; then
  for p in 9001 9011 9021 9031 9041 9051 9061 9071 9081 9091; do
    if port_free "$p" && port_free $((p + 1)) && port_free $((p + 2)); then AB_PORT=$p; break; fi
  done
  [ -n "${AB_PORT:-}" ] || { echo "autobahn: no three free ports in 9001..9093; set AB_PORT" >&2; exit 2; }
fi
export AB_PORT

# --- testees ------------------------------------------------------------------------------
# libwsc and its header (a no-op when up to date; `make autobahn` has built them already)
"$CARGO" build --release --lib --quiet || exit 2
mkdir -p "$OUT"
"$CC" -std=c11 -Wall -Wextra -Werror -Wpedantic -O2 -I include examples/autobahn_client.c \
  -L target/release -lwsc -Wl,-rpath,"$REPO/target/release" -o target/autobahn_client || exit 2
"$PHP" -l php/examples/autobahn_client.php >/dev/null || exit 2

# run NAME AGENT CASES EXCLUDE CMD...: one fuzzing-server run, its table, its exit code in $rc
declare -A wall
run() {
  local name="$1" agent="$2" cases="$3" exclude="$4"; shift 4
  rm -rf "${OUT:?}/$name"
  local t0; t0=$(date +%s.%N)
  AB_WORKDIR="$OUT/$name" AB_CASES="$cases" AB_EXCLUDE="$exclude" AB_TIMEOUT="${AB_TIMEOUT:-1800}" \
    bash "$KIT/run-client-suite.sh" "$agent" "$@"
  rc=$?
  wall[$name]=$(elapsed "$t0")
}

status=0
say "(a) C testee, sections 1-10"
run c wsc-c "" "12.*,13.*" "$REPO/target/autobahn_client" @URL@ @AGENT@
rc_c=$rc
say "(b) C testee with permessage-deflate, sections 12-13 (two partitions side by side)"
port="$AB_PORT"
t_pmce=$(date +%s.%N)
# Section 12 and section 13 take about as long (7 min each on the 2-core CI box;
# the suite's Python server is the bottleneck). Each partition may take
# AB_PMCE_TIMEOUT seconds (default 2400).
pmce_a="12.*"
pmce_b="13.*"
(AB_PORT=$((port + 1)) AB_TIMEOUT="${AB_PMCE_TIMEOUT:-2400}" run c-pmce-a wsc-c "$pmce_a" "" "$REPO/target/autobahn_client" @URL@ @AGENT@ deflate
 exit "$rc") >"$OUT/c-pmce-a.out" 2>&1 &
pid_a=$!
(AB_PORT=$((port + 2)) AB_TIMEOUT="${AB_PMCE_TIMEOUT:-2400}" run c-pmce-b wsc-c "$pmce_b" "" "$REPO/target/autobahn_client" @URL@ @AGENT@ deflate
 exit "$rc") >"$OUT/c-pmce-b.out" 2>&1 &
pid_b=$!
wait "$pid_a"; rc_a=$?
wait "$pid_b"; rc_b=$?
cat "$OUT/c-pmce-a.out" "$OUT/c-pmce-b.out"
wall[c-pmce]=$(elapsed "$t_pmce")
rc_pmce=0
if [ "$rc_a" = 2 ] || [ "$rc_b" = 2 ]; then rc_pmce=2; fi
rm -rf "${OUT:?}/c-pmce"
mkdir -p "$OUT/c-pmce/reports/clients"
python3 - "$OUT/c-pmce/reports/clients/index.json" "$OUT/c-pmce-a/reports/clients/index.json" \
  "$OUT/c-pmce-b/reports/clients/index.json" <<'PY' || rc_pmce=2
import json, sys
merged = {}
for path in sys.argv[2:]:
    for agent, cases in json.load(open(path)).items():
        merged.setdefault(agent, {}).update(cases)
json.dump(merged, open(sys.argv[1], "w"))
PY
say "(c) PHP testee, sections 1-7 and 10"
run php wsc-php "1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*" "" "$PHP" "$REPO/php/examples/autobahn_client.php" @URL@ @AGENT@
rc_php=$rc

# --- compare with the expected files --------------------------------------------------------
update=()
[ "${AUTOBAHN_UPDATE:-0}" = 1 ] && update=(--update)
for t in "c wsc-c $rc_c" "c-pmce wsc-c $rc_pmce" "php wsc-php $rc_php"; do
  set -- $t
  say "compare $2 with tests/autobahn/expected-$1.json"
  if [ "$3" = 2 ]; then
    echo "autobahn: the $2 run had a setup error (see $OUT/$1/server.log and testee.log)"
    status=2
    continue
  fi
  python3 "$EXPECTED/check.py" "$2" "$OUT/$1/reports/clients/index.json" "$EXPECTED/expected-$1.json" "${update[@]}"
  crc=$?
  if [ "$crc" != 0 ] && [ "$status" != 2 ]; then status=$crc; fi
done

echo
echo "autobahn gate: $(elapsed "$t_start") s wall (C 1-10: ${wall[c]} s, C 12-13 deflate: ${wall[c-pmce]} s, PHP 1-7,10: ${wall[php]} s)"
case "$status" in
  0) echo "autobahn gate: passed" ;;
  2) echo "autobahn gate: FAILED (setup error)" ;;
  *) echo "autobahn gate: FAILED (a case changed or FAILED, listed above; if the change is intended: AUTOBAHN_UPDATE=1 scripts/autobahn.sh)" ;;
esac
exit "$status"
