#!/usr/bin/env bash
# Builds and runs the C test programs (tests/c/test_*.c) against
# target/release/libwsc.so, in three modes:
#   asan:     cc -fsanitize=address,undefined, leak detection on
#   valgrind: cc without sanitizers, run under valgrind --leak-check=full
#   leak:     test_leak only, cc -O2 without sanitizers, its full counts
#             and RSS bound (WSC_LEAK_MODE=rss; WSC_LONG=1 for 10x)
# Usage: tests/c/run.sh [test_name ...]      (default: every test)
#   WSC_C_MODES="asan valgrind leak"  the modes to run (default all three)
# Assumes `cargo build --release` ran (the Makefile does it first).
# Prints "N passed, M failed" (test programs x modes) last; exits non-zero
# when anything failed.
set -u

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

lib="$root/target/release/libwsc.so"
server="$root/target/release/wsc-echo-server"
for f in "$lib" "$server"; do
    if [ ! -e "$f" ]; then
        echo "tests/c/run.sh: $f is missing; run 'cargo build --release' first" >&2
        exit 2
    fi
done

cc="${CC:-cc}"
modes="${WSC_C_MODES:-asan valgrind leak}"
build="$root/tests/c/build"
mkdir -p "$build/asan" "$build/plain" "$build/leak" "$build/logs"

if [ "$#" -gt 0 ]; then
    tests=("$@")
else
    tests=()
    for src in tests/c/test_*.c; do
        tests+=("$(basename "$src" .c)")
    done
fi

cflags=(-std=c11 -Wall -Wextra -Werror -Wpedantic -g -pthread -I include)
ldflags=(-L target/release -lwsc "-Wl,-rpath,$root/target/release")

export WSC_ECHO_SERVER="$server"
# detect_leaks: LeakSanitizer at exit; lsan.supp explains each entry.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$root/tests/c/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

passed=0
failed=0
failures=()

# run NAME MODE CMD...: runs one program with a time limit, shows its
# summary line, keeps the whole output in tests/c/build/logs/.
run() {
    local name="$1" mode="$2"
    shift 2
    local log="$build/logs/$name.$mode.log"
    local start end rc
    start=$(date +%s)
    local limit=120
    if [ "$mode" = leak ] && [ "${WSC_LONG:-}" = 1 ]; then
        limit=1200
    fi
    timeout --kill-after=5 "$limit" "$@" >"$log" 2>&1
    rc=$?
    end=$(date +%s)
    local summary
    summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)"
    if [ "$rc" -eq 0 ] && [ -n "$summary" ] && [[ "$summary" == *" 0 failed" ]]; then
        passed=$((passed + 1))
        printf 'ok    %-24s %-8s %3ss  %s\n' "$name" "$mode" "$((end - start))" "$summary"
    else
        failed=$((failed + 1))
        failures+=("$name ($mode)")
        printf 'FAIL  %-24s %-8s %3ss  exit %s  %s\n' "$name" "$mode" "$((end - start))" "$rc" "${summary:-no summary line}"
        sed 's/^/      | /' "$log" | tail -n 60
    fi
}

compile() {
    local out="$1" src="$2"
    shift 2
    if ! "$cc" "${cflags[@]}" "$@" -o "$out" "$src" "${ldflags[@]}" 2>"$out.cc.log"; then
        cat "$out.cc.log" >&2
        return 1
    fi
}

for mode in $modes; do
    case "$mode" in
    asan)
        for t in "${tests[@]}"; do
            if compile "$build/asan/$t" "tests/c/$t.c" -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined; then
                run "$t" asan "$build/asan/$t"
            else
                failed=$((failed + 1))
                failures+=("$t (asan: does not compile)")
                echo "FAIL  $t asan: does not compile"
            fi
        done
        ;;
    valgrind)
        if ! command -v valgrind >/dev/null; then
            echo "tests/c/run.sh: valgrind is not installed (apt-get install valgrind)" >&2
            failed=$((failed + 1))
            failures+=("valgrind missing")
            continue
        fi
        for t in "${tests[@]}"; do
            if compile "$build/plain/$t" "tests/c/$t.c" -O1; then
                run "$t" valgrind valgrind -q --error-exitcode=1 --leak-check=full \
                    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
                    --suppressions="$root/tests/c/valgrind.supp" \
                    "$build/plain/$t"
            else
                failed=$((failed + 1))
                failures+=("$t (plain: does not compile)")
                echo "FAIL  $t valgrind: does not compile"
            fi
        done
        ;;
    leak)
        for t in "${tests[@]}"; do
            [ "$t" = test_leak ] || continue
            if compile "$build/leak/$t" "tests/c/$t.c" -O2; then
                run "$t" leak env WSC_LEAK_MODE=rss "$build/leak/$t"
                # The figures: RSS, fds and threads before and after.
                grep -E ' in [0-9]+ ms$|: RSS ' "$build/logs/$t.leak.log" | sed 's/^/      /'
            else
                failed=$((failed + 1))
                failures+=("$t (leak: does not compile)")
                echo "FAIL  $t leak: does not compile"
            fi
        done
        ;;
    *)
        echo "tests/c/run.sh: unknown mode '$mode'" >&2
        exit 2
        ;;
    esac
done

if [ "${#failures[@]}" -gt 0 ]; then
    echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
