#!/usr/bin/env python3
"""Compares one Autobahn client-suite run with its committed expected file.

usage: check.py AGENT INDEX_JSON EXPECTED_JSON [--update]

  INDEX_JSON     reports/clients/index.json of the fuzzing server
  EXPECTED_JSON  tests/autobahn/expected-*.json: per case, "behavior" and
                 "behaviorClose" only (durations and report file names left out)
  --update       rewrite EXPECTED_JSON from the run (the changes are still listed)

Prints one line per changed case, e.g. "case 6.4.3: expected OK, got NON-STRICT",
"case 7.1.6: expected behaviorClose OK, got behaviorClose UNCLEAN",
"case 9.1.1: expected OK, got NOT RUN" or "case 1.1.9: not in the expected file, got OK",
and one line per FAILED case.
Exit: 0 no change and no FAILED case; 1 a change (without --update) or a FAILED
case (with or without --update: a FAILED case is recorded but never passes);
2 no report, or the agent is not in it.
"""
import json
import sys

FIELDS = ("behavior", "behaviorClose")


def key(case):
    return [int(x) for x in case.split(".")]


def load_run(agent, path):
    try:
        idx = json.load(open(path))
    except (OSError, ValueError) as e:
        print("check: no report: %s" % e)
        return None
    if agent not in idx:
        print("check: agent %r not in %s (agents: %s)" % (agent, path, ", ".join(idx) or "none"))
        return None
    return {case: {f: r.get(f, "?") for f in FIELDS} for case, r in idx[agent].items()}


def load_expected(path):
    try:
        return json.load(open(path))["cases"]
    except FileNotFoundError:
        return None


def dump(agent, cases, path):
    # one case per line: a change shows up as a one-line diff
    lines = ['    "%s": {"behavior": %s, "behaviorClose": %s}'
             % (c, json.dumps(cases[c]["behavior"]), json.dumps(cases[c]["behaviorClose"]))
             for c in sorted(cases, key=key)]
    with open(path, "w") as f:
        f.write('{\n  "about": "Autobahn TestSuite client-suite results of the testee %s; '
                'written by AUTOBAHN_UPDATE=1 scripts/autobahn.sh, checked by '
                'tests/autobahn/check.py",\n' % agent)
        f.write('  "agent": %s,\n' % json.dumps(agent))
        f.write('  "cases": {\n' + ",\n".join(lines) + "\n  }\n}\n")


def diff(expected, got):
    changes = []
    for case in sorted(set(expected) | set(got), key=key):
        e, g = expected.get(case), got.get(case)
        if e is None:
            changes.append("case %s: not in the expected file, got %s (behaviorClose %s)"
                           % (case, g["behavior"], g["behaviorClose"]))
        elif g is None:
            changes.append("case %s: expected %s, got NOT RUN" % (case, e["behavior"]))
        else:
            if e["behavior"] != g["behavior"]:
                changes.append("case %s: expected %s, got %s" % (case, e["behavior"], g["behavior"]))
            if e["behaviorClose"] != g["behaviorClose"]:
                changes.append("case %s: expected behaviorClose %s, got behaviorClose %s"
                               % (case, e["behaviorClose"], g["behaviorClose"]))
    return changes


def main(argv):
    update = "--update" in argv
    args = [a for a in argv if a != "--update"]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    agent, index, expected_path = args
    got = load_run(agent, index)
    if got is None:
        return 2
    expected = load_expected(expected_path)
    if expected is None and not update:
        print("check: %s does not exist; write it with AUTOBAHN_UPDATE=1 scripts/autobahn.sh"
              % expected_path)
        return 1
    changes = diff(expected or {}, got) if expected is not None else []
    for line in changes:
        print(line)
    failed = sorted((c for c, r in got.items() if r["behavior"] == "FAILED"), key=key)
    for case in failed:
        print("case %s: FAILED (see its report and the server log)" % case)
    if update:
        dump(agent, got, expected_path)
        print("check: %s %s (%d cases, %d changed)"
              % ("wrote" if expected is None else "updated", expected_path, len(got), len(changes)))
        return 1 if failed else 0
    if not changes and not failed:
        print("check: %s: all %d cases as expected" % (agent, len(got)))
    return 1 if changes or failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
