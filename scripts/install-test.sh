#!/usr/bin/env bash
# `make test-install`: installs the release artifacts of dist/ as new users
# would, in a fresh folder outside the repository, and checks that they work:
#
#   composer  a new Composer project requires wsc/wsc from an "artifact"
#             repository pointing at (a copy of) dist/, and the user's Workerman example
#             (php/examples/seed.php) echoes through the library shipped in
#             the package against the echo server;
#   tarball   wsc-V-linux-x86_64.tar.gz unpacked anywhere: a C program
#             (examples/epoll_client.c) built with `pkg-config --cflags --libs wsc`,
#             dynamically and against libwsc.a, runs;
#   install   the same C program against `make install PREFIX=<tmp>`;
#   debian    `dpkg -i` of libwsc0, libwsc-dev and php-wsc (root only): the C
#             program builds with pkg-config and runs without an rpath, and PHP
#             loads the system library through /usr/share/php/Wsc/autoload.php;
#             the packages are removed again afterwards.
#
# cargo is taken off PATH, and the checks run in a private mount namespace
# (unshare -m, root) where a tmpfs hides the repository, so target/ and the
# sources are out of reach: only the copied artifacts, the example sources
# and the echo server (a test peer, copied too) are there. Without root the
# repository stays visible (said so) and the Debian part is skipped, except
# in CI where both are mandatory.
#
# usage: scripts/install-test.sh     (after scripts/dist.sh; `make test-install` runs both)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
for f in dist/libwsc.so "dist/wsc-$version-linux-x86_64.tar.gz" "dist/wsc-wsc-$version.zip" \
    "dist/libwsc${major}_$version-1_amd64.deb" "dist/libwsc-dev_$version-1_amd64.deb" "dist/php-wsc_$version-1_all.deb" \
    target/release/wsc-echo-server; do
    [ -f "$f" ] || { echo "install-test.sh: $f is missing: run 'make dist' and 'make build' first" >&2; exit 2; }
done

is_root=0
[ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null && is_root=1
if [ "$is_root" = 0 ] && [ -n "${CI:-}" ]; then
    echo "install-test.sh: CI must run this as root (mount namespace, dpkg -i)" >&2
    exit 1
fi

tmp=$(mktemp -d /tmp/wsc-install-test.XXXXXX)
debs_installed=0
cleanup() {
    if [ "$debs_installed" = 1 ]; then
        dpkg --purge php-wsc libwsc-dev "libwsc$major" >/dev/null || echo "install-test.sh: dpkg --purge failed" >&2
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# What the new user has: the artifacts, the example sources, and a server.
mkdir -p "$tmp/src" "$tmp/bin"
cp -r dist "$tmp/dist"
cp php/examples/seed.php examples/epoll_client.c "$tmp/src/"
cp target/release/wsc-echo-server "$tmp/bin/"
echo "==> make install PREFIX=$tmp/prefix"
make --no-print-directory install PREFIX="$tmp/prefix" >/dev/null

debian=0
if [ "$is_root" = 1 ]; then
    if dpkg-query -W -f='${Status}' "libwsc$major" 2>/dev/null | grep -q 'ok installed'; then
        if [ -n "${CI:-}" ]; then echo "install-test.sh: libwsc$major is already installed" >&2; exit 1; fi
        echo "SKIP debian: libwsc$major is already installed on this machine (remove it to run this part)"
    else
        debian=1
    fi
else
    echo "SKIP debian: needs root"
fi

# A PATH without cargo or rustc.
clean_path=
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
    [ -n "$d" ] && [ ! -e "$d/cargo" ] && [ ! -e "$d/rustc" ] && clean_path=${clean_path:+$clean_path:}$d
done

cat >"$tmp/check.sh" <<'CHECK'
set -euo pipefail
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
if command -v cargo >/dev/null; then fail "cargo is on PATH"; fi
if [ "$HIDDEN" = 1 ]; then
    [ ! -e "$REPO/target" ] && [ ! -e "$REPO/Cargo.toml" ] || fail "the repository is visible"
    ok "cargo is not on PATH; $REPO (and its target/) is hidden"
else
    echo "note: not root, so $REPO stays visible (nothing below refers to it)"
fi

# The echo server on a free port; the examples are pointed at it.
mkfifo server.out
./bin/wsc-echo-server --addr 127.0.0.1:0 >server.out 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
read -r -t 10 line <server.out || fail "the echo server did not start"
addr=${line#listening on }
cat server.out >/dev/null &

# run_echo NAME PROGRAM...: the epoll client echoes and closes cleanly
run_echo() {
    local name=$1; shift
    out=$(timeout 20 "$@" "ws://$addr/" 2>&1) || fail "$name: $out"
    grep -q "closed: 1000 clean" <<<"$out" || fail "$name: no clean close: $out"
    ok "$name: $(tr '\n' ' ' <<<"$out" | cut -c1-120)"
}

# --- Composer --------------------------------------------------------------------
mkdir -p project/examples && cd project
cat >composer.json <<JSON
{
    "name": "acme/ws-app",
    "require": {},
    "repositories": [
        {"type": "artifact", "url": "$T/dist"},
        {"packagist.org": false}
    ]
}
JSON
export COMPOSER_HOME=$T/composer-home COMPOSER_ALLOW_SUPERUSER=1 COMPOSER_NO_INTERACTION=1
composer require --quiet "wsc/wsc:^$VERSION" || fail "composer require wsc/wsc:^$VERSION"
ok "composer require wsc/wsc:^$VERSION from the artifact repository"
sed "s#ws://127.0.0.1:1234#ws://$addr#" "$T/src/seed.php" >examples/seed.php
unset WSC_LIB WSC_INCLUDE_DIR
lib=$(php -r 'require "vendor/autoload.php"; echo Wsc\Ffi\Library::get()->libraryPath;')
[ "$lib" = "$PWD/vendor/wsc/wsc/lib/linux-x86_64/libwsc.so.0" ] || fail "PHP loaded $lib, not the package's library"
ok "PHP loads the library shipped in the package: $lib"
: >seed.out
timeout 15 php examples/seed.php >seed.out 2>&1 &
seed_pid=$!
for _ in $(seq 150); do grep -q 'recv: hello' seed.out && break; sleep 0.1; done
kill "$seed_pid" 2>/dev/null || true
wait "$seed_pid" 2>/dev/null || true
grep -q 'recv: hello' seed.out || fail "seed.php: $(cat seed.out)"
ok "seed.php (the Workerman example): $(grep -c . seed.out) lines, 'tcp connected' and 'recv: hello'"
cd "$T"

# --- tarball -----------------------------------------------------------------------
mkdir -p opt && tar -C opt -xzf "dist/wsc-$VERSION-linux-x86_64.tar.gz"
pc=$T/opt/wsc-$VERSION-linux-x86_64/lib/pkgconfig
flags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs wsc)
cc -Wall -Wextra -Werror -o tar-client src/epoll_client.c $flags -Wl,-rpath,"$T/opt/wsc-$VERSION-linux-x86_64/lib"
deps=$(ldd tar-client)   # (not piped into grep -q: with pipefail, an early exit of grep fails the pipe)
grep -q "libwsc.so.$MAJOR => $T/opt/" <<<"$deps" || fail "tar-client does not load the tarball's library: $deps"
run_echo "tarball, pkg-config ($flags)" ./tar-client
static=$(PKG_CONFIG_PATH=$pc pkg-config --static --libs wsc | sed 's/ -lwsc / /')
cc -Wall -Wextra -Werror -o tar-static src/epoll_client.c $(PKG_CONFIG_PATH=$pc pkg-config --cflags wsc) \
    "$T/opt/wsc-$VERSION-linux-x86_64/lib/libwsc.a" $static
deps=$(ldd tar-static)
if grep -q libwsc <<<"$deps"; then fail "tar-static still needs libwsc.so: $deps"; fi
run_echo "tarball, static libwsc.a" ./tar-static

# --- make install PREFIX=... ------------------------------------------------------
flags=$(PKG_CONFIG_PATH=$T/prefix/lib/pkgconfig pkg-config --cflags --libs wsc)
cc -Wall -Wextra -Werror -o prefix-client src/epoll_client.c $flags -Wl,-rpath,"$T/prefix/lib"
run_echo "make install PREFIX=$T/prefix, pkg-config ($flags)" ./prefix-client

# --- Debian packages ----------------------------------------------------------------
if [ "$DEBIAN" = 1 ]; then
    dpkg -i dist/libwsc${MAJOR}_*.deb dist/libwsc-dev_*.deb dist/php-wsc_*.deb >dpkg.log 2>&1 || fail "dpkg -i: $(cat dpkg.log)"
    touch debs-installed
    ok "dpkg -i libwsc$MAJOR libwsc-dev php-wsc"
    flags=$(pkg-config --cflags --libs wsc)
    cc -Wall -Wextra -Werror -o deb-client src/epoll_client.c $flags
    deps=$(ldd deb-client)
    grep -Eq "libwsc.so.$MAJOR => (/usr)?/lib/x86_64-linux-gnu/libwsc.so.$MAJOR" <<<"$deps" \
        || fail "deb-client does not load the system library: $deps"
    run_echo "Debian packages, pkg-config ($flags)" ./deb-client
    lib=$(cd / && php -r 'require_once "Wsc/autoload.php"; echo Wsc\Ffi\Library::get()->libraryPath, " ", Wsc\Ffi\Library::get()->version();')
    [ "$lib" = "/usr/lib/x86_64-linux-gnu/libwsc.so.$VERSION $VERSION" ] || fail "php-wsc loaded: $lib"
    ok "php-wsc: require_once 'Wsc/autoload.php' loads the system library ($lib)"
fi
echo "install test passed"
CHECK

hidden=0
runner=(bash)
if [ "$is_root" = 1 ]; then
    hidden=1
    # The repository hidden under a tmpfs for the whole check.
    runner=(unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs "$REPO" && exec bash "$@"' sh)
fi
status=0
env -i PATH="$clean_path" HOME="$tmp" TERM=dumb LANG=C.UTF-8 T="$tmp" REPO="$root" HIDDEN=$hidden \
    DEBIAN=$debian VERSION="$version" MAJOR="$major" CI="${CI:-}" \
    "${runner[@]}" "$tmp/check.sh" || status=$?
[ -e "$tmp/debs-installed" ] && debs_installed=1
exit $status
