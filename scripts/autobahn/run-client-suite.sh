#!/usr/bin/env bash
# Runs the Autobahn TestSuite client suite (wstest -m fuzzingserver) against one testee.
#
# usage: run-client-suite.sh AGENT TESTEE_CMD [ARGS...]
#   The testee must: GET /getCaseCount, run /runCase?case=N&agent=AGENT for N=1..count
#   (echoing every message), then /updateReports?agent=AGENT.
#   In TESTEE_CMD/ARGS the tokens @URL@ and @AGENT@ are replaced by the server URL and the
#   agent name; both are also exported as AUTOBAHN_URL and AUTOBAHN_AGENT, and the number of
#   cases the server announced as AUTOBAHN_CASE_COUNT.
#
# Environment (all optional):
#   WSTEST        the wstest launcher made by install-wstest.sh (PREFIX/bin/wstest);
#                 default: wstest on PATH
#   AB_CONFIG     fuzzingserver spec (default: fuzzingserver.json beside this script)
#   AB_PORT       port, 9001..9099 (default 9001)
#   AB_CASES      comma list overriding "cases", e.g. "1.*,2.*"
#   AB_EXCLUDE    comma list for "exclude-cases", e.g. "9.*,12.*,13.*" (the CI gate)
#   AB_TIMEOUT    seconds allowed for the testee (default 1800)
#   AB_WORKDIR    where the spec, server log and reports go (default: a new mktemp -d)
#
# Prints a per-section x per-behavior table computed from reports/clients/index.json
# (summarize.py beside this script; it also merges the reports of partitioned runs).
# Exit: 0 no case FAILED and every selected case reported; 1 some case FAILED or missing;
#       2 setup error (server did not start, testee timed out, no report).
set -uo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,24p' "$0" >&2
  exit 2
fi
AGENT="$1"; shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG="${AB_CONFIG:-$here/fuzzingserver.json}"
PORT="${AB_PORT:-9001}"
TIMEOUT="${AB_TIMEOUT:-1800}"
WSTEST="${WSTEST:-$(command -v wstest || echo wstest)}"
[ -x "$WSTEST" ] || { echo "run-client-suite: wstest not found ($WSTEST); run install-wstest.sh PREFIX" >&2; exit 2; }
case "$PORT" in 90[0-9][0-9]) ;; *) echo "run-client-suite: AB_PORT must be 9001..9099" >&2; exit 2;; esac
URL="ws://127.0.0.1:$PORT"
WORK="${AB_WORKDIR:-$(mktemp -d /tmp/autobahn-run.XXXXXX)}"
mkdir -p "$WORK"

# Spec for this run: the given config with url/port and optional case selection replaced.
python3 - "$CONFIG" "$WORK/fuzzingserver.json" "$URL" "${AB_CASES:-}" "${AB_EXCLUDE:-}" <<'PY' || exit 2
import json, sys
src, dst, url, cases, exclude = sys.argv[1:6]
spec = json.load(open(src))
spec["url"] = url
spec["outdir"] = "./reports/clients"
if cases:
    spec["cases"] = [c.strip() for c in cases.split(",") if c.strip()]
if exclude:
    spec["exclude-cases"] = [c.strip() for c in exclude.split(",") if c.strip()]
spec.setdefault("exclude-agent-cases", {})
json.dump(spec, open(dst, "w"), indent=3)
PY

cd "$WORK" || exit 2
t0=$(date +%s.%N)
# -u 0: no embedded web server (it would listen on 8080)
"$WSTEST" -m fuzzingserver -s fuzzingserver.json -u 0 >server.log 2>&1 &
SPID=$!
stop_server() {
  if kill -0 "$SPID" 2>/dev/null; then
    kill "$SPID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SPID" 2>/dev/null
  fi
  wait "$SPID" 2>/dev/null
}
trap stop_server EXIT

ready=0
for _ in $(seq 1 100); do   # up to ~20 s
  kill -0 "$SPID" 2>/dev/null || break
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then ready=1; break; fi
  sleep 0.2
done
if [ "$ready" != 1 ]; then
  echo "run-client-suite: fuzzingserver did not listen on $PORT; log:" >&2
  tail -20 server.log >&2
  exit 2
fi

# the server announces the number of cases; testees whose /getCaseCount reply can get lost
# may fall back to this
AUTOBAHN_CASE_COUNT="$(sed -n 's/^Ok, will run \([0-9]*\) test cases.*/\1/p' server.log | head -1)"
export AUTOBAHN_CASE_COUNT
cmd=()
for a in "$@"; do a="${a//@URL@/$URL}"; cmd+=("${a//@AGENT@/$AGENT}"); done
export AUTOBAHN_URL="$URL" AUTOBAHN_AGENT="$AGENT"
t1=$(date +%s.%N)
timeout "$TIMEOUT" "${cmd[@]}" >testee.log 2>&1
trc=$?
t2=$(date +%s.%N)
stop_server
trap - EXIT

echo "workdir: $WORK   (server.log, testee.log, reports/clients/index.html)"
echo "testee exit: $trc   testee wall: $(python3 -c "print('%.1f s' % ($t2-$t1))")   total wall: $(python3 -c "print('%.1f s' % ($t2-$t0))")"
if [ "$trc" = 124 ]; then echo "run-client-suite: testee timed out after ${TIMEOUT}s" >&2; fi

python3 "$here/summarize.py" "$AGENT" "$WORK/reports/clients/index.json" --log "$WORK/server.log"
src=$?
if [ "$trc" = 124 ] && [ "$src" = 0 ]; then src=2; fi
exit "$src"
