#!/usr/bin/env bash
# Runs one stage of `make test`: the given make targets one after another, stopping
# at the first that fails, and prints how long each took and the stage's total.
#
# usage: scripts/stage.sh NAME TARGET...   (MAKE: the make to call; default make)
# Exit: 0 when every target passed, else the failing target's exit code.
set -uo pipefail
name="$1"; shift
MAKE="${MAKE:-make}"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", b - a }'; }
t_stage=$(now)
summary=()
printf '\n==> stage %s: %s\n' "$name" "$*"
for target in "$@"; do
  t0=$(now)
  "$MAKE" --no-print-directory "$target"
  rc=$?
  summary+=("$(printf '    %-14s %5s s' "$target" "$(secs "$t0" "$(now)")")")
  if [ "$rc" != 0 ]; then
    printf '\n==> stage %s FAILED in %s after %s s:\n' "$name" "$target" "$(secs "$t_stage" "$(now)")"
    printf '%s\n' "${summary[@]}"
    exit "$rc"
  fi
done
printf '\n==> stage %s passed in %s s:\n' "$name" "$(secs "$t_stage" "$(now)")"
printf '%s\n' "${summary[@]}"
