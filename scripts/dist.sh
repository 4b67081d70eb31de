#!/usr/bin/env bash
# `make dist`: builds the release artifacts of libwsc into dist/.
#
#   dist/libwsc.so                        the portable library for x86_64 Linux:
#                                         glibc 2.17 or newer, OpenSSL 3 built in
#                                         (feature vendored-openssl), SONAME
#                                         libwsc.so.X, stripped
#   dist/wsc-V-linux-x86_64.tar.gz        that library with its links, libwsc.a,
#                                         wsc.h, lib/pkgconfig/wsc.pc (relocatable),
#                                         LICENSE, README.md, CHANGELOG.md and
#                                         OpenSSL's license
#   dist/wsc-wsc-V.zip                    the Composer package with that library
#                                         inside (lib/linux-x86_64/), for a Composer
#                                         "artifact" repository pointing at dist/
#   dist/libwscX_V-1_amd64.deb            the library   (/usr/lib/x86_64-linux-gnu)
#   dist/libwsc-dev_V-1_amd64.deb         header, libwsc.so link, libwsc.a, wsc.pc
#   dist/php-wsc_V-1_all.deb              the PHP package under /usr/share/php/Wsc
#   dist/SHA256SUMS
#
# The portable build uses cargo-zigbuild and zig (both from PyPI, pinned
# below, installed into target/tools/zig on first use): zig links against
# glibc 2.17's symbol versions, whatever the build machine's glibc is. The
# library is checked before anything is packed: highest GLIBC_ symbol
# version, NEEDED entries (no libssl/libcrypto), SONAME, exported symbols
# (wsc_* only), and the CA store test (scripts/test-ca-store.sh) when root.
# About 5 minutes from clean on 2 cores (most of it compiling OpenSSL),
# seconds when only wsc changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1
TRIPLE=x86_64-unknown-linux-gnu
GLIBC=2.17
ARCH_DIR=linux-x86_64      # the package's lib/<dir> and the tarball's suffix
DEB_ARCH=amd64
MULTIARCH=x86_64-linux-gnu
# What a program linking libwsc.a statically needs besides it (Rust's std; no OpenSSL).
STATIC_LIBS="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
say() { printf '==> %s\n' "$*"; }

# --- the portable library ------------------------------------------------------
tools=$root/target/tools/zig
if ! "$tools/bin/cargo-zigbuild" --version 2>/dev/null | grep -q "$CARGO_ZIGBUILD_VERSION" \
    || ! "$tools/bin/python" -m ziglang version 2>/dev/null | grep -q "$ZIGLANG_VERSION"; then
    say "installing ziglang $ZIGLANG_VERSION and cargo-zigbuild $CARGO_ZIGBUILD_VERSION into $tools (PyPI)"
    rm -rf "$tools"
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check \
        "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
fi
say "building the portable libwsc $version ($TRIPLE, glibc $GLIBC, OpenSSL built in)"
PATH=$tools/bin:$PATH CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_STRIP=symbols \
    nice cargo-zigbuild rustc --release --lib --crate-type cdylib --crate-type staticlib \
    --features vendored-openssl --target "$TRIPLE.$GLIBC"
built=${CARGO_TARGET_DIR:-target}/$TRIPLE/release

# --- checks on the library ---------------------------------------------------------
so=$built/libwsc.so
fail() { echo "dist.sh: $so: $*" >&2; exit 1; }
max_glibc=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -n 1)
[ "$(printf '%s\n' "$max_glibc" "GLIBC_$GLIBC" | sort -V | tail -n 1)" = "GLIBC_$GLIBC" ] \
    || fail "needs $max_glibc, more than GLIBC_$GLIBC"
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for n in $needed; do
    case $n in
        libc.so.6 | ld-linux-x86-64.so.2 | libpthread.so.0 | libdl.so.2 | libm.so.6 | librt.so.1) ;;
        *) fail "NEEDED $n: only glibc's own libraries are allowed" ;;
    esac
done
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libwsc.so.$major" ] || fail "SONAME '$soname', expected libwsc.so.$major"
others=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^wsc_' || true)
[ -z "$others" ] || fail "exports more than wsc_*: $(echo "$others" | head -n 5 | tr '\n' ' ')"
sections=$(readelf -S "$so")
if grep -Eq '\.symtab|\.debug_' <<<"$sections"; then fail "is not stripped"; fi
echo "checked: highest $max_glibc; NEEDED $needed; SONAME $soname; exports wsc_* only; stripped"
if [ "$(id -u)" -eq 0 ]; then
    scripts/test-ca-store.sh "$so"
else
    echo "(not root: the CA store test, scripts/test-ca-store.sh, was skipped)"
fi

# --- dist/ ---------------------------------------------------------------------------
rm -rf dist
mkdir -p dist
stage=$(mktemp -d /tmp/wsc-dist.XXXXXX)
trap 'rm -rf "$stage"' EXIT
cp "$so" dist/libwsc.so
# What gets packed: the library, and libwsc.a without the debug information
# (Rust's std brings it; half the archive).
from=$stage/lib
mkdir -p "$from"
cp "$so" "$from/libwsc.so"
cp "$built/libwsc.a" "$from/libwsc.a"
strip --strip-debug "$from/libwsc.a"
ossl_src=$(sed -n '/^name = "openssl-src"$/{n;s/^version = "\(.*\)"$/\1/p}' Cargo.lock)
openssl_version=${ossl_src#*+}
openssl_license=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"openssl-src-$ossl_src/openssl/LICENSE.txt" 2>/dev/null | head -n 1)
[ -n "$openssl_license" ] || { echo "dist.sh: OpenSSL's LICENSE.txt (openssl-src $ossl_src) not found in the cargo registry" >&2; exit 1; }

# The tarball: the same layout as `make install`, prefix-independent wsc.pc.
name=wsc-$version-$ARCH_DIR
PREFIX=/$name DESTDIR=$stage/tar PC_PREFIX='${pcfiledir}/../..' FROM=$from \
    LIBS_PRIVATE="$STATIC_LIBS" scripts/install.sh >/dev/null
cp LICENSE README.md CHANGELOG.md "$stage/tar/$name/"
cp "$openssl_license" "$stage/tar/$name/LICENSE-OpenSSL.txt"
tar -C "$stage/tar" --owner=0 --group=0 --numeric-owner -czf "dist/$name.tar.gz" "$name"

# The Composer package: what composer.json's autoload and Wsc\Ffi\Library need,
# with the library where Wsc\Ffi\Library looks for a prebuilt one, and a
# "version" field (artifact repositories read it from the zip).
pkg=$stage/composer
mkdir -p "$pkg/lib/$ARCH_DIR" "$pkg/include" "$pkg/php"
# php/resources/wsc.ffi.h: the declarations PHP's FFI reads (generated with
# include/wsc.h, which comes along for C readers).
cp -r php/src php/resources php/autoload.php php/preload.php php/ffi-header.php php/README.md "$pkg/php/"
cp include/wsc.h "$pkg/include/"
cp LICENSE README.md CHANGELOG.md "$pkg/"
cp "$openssl_license" "$pkg/lib/$ARCH_DIR/LICENSE-OpenSSL.txt"
cp "$so" "$pkg/lib/$ARCH_DIR/libwsc.so.$major"
php -r '
    $c = json_decode(file_get_contents($argv[1]), true, 512, JSON_THROW_ON_ERROR);
    $c = ["name" => $c["name"], "version" => $argv[2]] + $c;
    unset($c["autoload-dev"], $c["require-dev"], $c["repositories"], $c["scripts"]);
    file_put_contents($argv[3], json_encode($c, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n");
' composer.json "$version" "$pkg/composer.json"
composer_name=$(php -r 'echo str_replace("/", "-", json_decode(file_get_contents($argv[1]))->name);' composer.json)
python3 - "$pkg" "dist/$composer_name-$version.zip" <<'PY'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for d, dirs, files in os.walk(src):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            info = zipfile.ZipInfo.from_file(p, os.path.relpath(p, src))
            info.date_time = (2026, 1, 1, 0, 0, 0)
            with open(p, "rb") as fh:
                z.writestr(info, fh.read(), zipfile.ZIP_DEFLATED)
PY

# The Debian packages (dpkg-deb): the library, its -dev package and the PHP package.
debver=$version-1
lib_pkg=libwsc$major
deb() { # DIR: fix permissions, build DIR into dist/
    find "$1" -type d -exec chmod 0755 {} +
    dpkg-deb --root-owner-group -Zxz --build "$1" dist/ >/dev/null
}
control() { # DIR PACKAGE ARCH DEPENDS DESCRIPTION...
    local dir=$1 package=$2 arch=$3 depends=$4
    shift 4
    mkdir -p "$dir/DEBIAN" "$dir/usr/share/doc/$package"
    cat >"$dir/DEBIAN/control" <<CONTROL
Package: $package
Version: $debver
Architecture: $arch
Maintainer: wsc developers <wsc@localhost>
Section: libs
Priority: optional
Depends: $depends
Installed-Size: $(du -sk "$dir" | cut -f1)
Description: $1
$(shift; for line in "$@"; do echo " $line"; done)
CONTROL
    {
        echo "wsc $version, MIT license (below). libwsc has OpenSSL $openssl_version built in"
        echo "(Apache License 2.0: /usr/share/doc/$package/LICENSE-OpenSSL.txt)."
        echo
        cat LICENSE
    } >"$dir/usr/share/doc/$package/copyright"
    cp "$openssl_license" "$dir/usr/share/doc/$package/LICENSE-OpenSSL.txt"
}
PREFIX=/usr DESTDIR=$stage/usr-all LIBDIR=/usr/lib/$MULTIARCH FROM=$from \
    LIBS_PRIVATE="$STATIC_LIBS" scripts/install.sh >/dev/null
all=$stage/usr-all/usr/lib/$MULTIARCH

d=$stage/deb-lib
mkdir -p "$d/usr/lib/$MULTIARCH"
cp -a "$all/libwsc.so.$version" "$all/libwsc.so.$major" "$d/usr/lib/$MULTIARCH/"
control "$d" "$lib_pkg" "$DEB_ARCH" "libc6 (>= $GLIBC)" \
    "native WebSocket client (RFC 6455) - shared library" \
    "libwsc is a WebSocket client with a C ABI: ws:// and wss:// (OpenSSL 3," \
    "built in), permessage-deflate, HTTP and SOCKS5 proxies, driven by the" \
    "caller's own poll loop. This package holds the shared library."
mkdir -p "$d/DEBIAN"
echo "libwsc $major $lib_pkg (>= $version)" >"$d/DEBIAN/shlibs"
printf 'activate-noawait ldconfig\n' >"$d/DEBIAN/triggers"
deb "$d"

d=$stage/deb-dev
mkdir -p "$d/usr/lib/$MULTIARCH" "$d/usr/include"
cp -a "$all/libwsc.so" "$all/libwsc.a" "$all/pkgconfig" "$d/usr/lib/$MULTIARCH/"
cp -a "$stage/usr-all/usr/include/wsc.h" "$d/usr/include/"
control "$d" libwsc-dev "$DEB_ARCH" "$lib_pkg (= $debver)" \
    "native WebSocket client (RFC 6455) - development files" \
    "The header wsc.h, the static library and the pkg-config file wsc.pc" \
    "(pkg-config --cflags --libs wsc) of libwsc."
deb "$d"

d=$stage/deb-php
# The Composer package's own layout (php/src, php/resources, include/), so
# that Wsc\Ffi\Library finds the declarations as in every other install;
# Wsc/autoload.php is the entry point Debian's PHP packages have.
mkdir -p "$d/usr/share/php/Wsc"
cp -r "$pkg/php" "$pkg/include" "$d/usr/share/php/Wsc/"
cat >"$d/usr/share/php/Wsc/autoload.php" <<'PHP'
<?php

// Debian's php-wsc: require_once 'Wsc/autoload.php'; (/usr/share/php is on
// PHP's default include_path). The library is the system's libwsc.so.0.

declare(strict_types=1);

require_once __DIR__ . '/php/autoload.php';
PHP
control "$d" php-wsc all "$lib_pkg (>= $version), php-common" \
    "Workerman-compatible WebSocket client for PHP, on libwsc through FFI" \
    "Workerman's AsyncTcpConnection ws:// client API on top of libwsc, through" \
    "PHP's FFI extension. Load it with require_once 'Wsc/autoload.php';"
sed -i 's/^Section: libs$/Section: php/' "$d/DEBIAN/control"
deb "$d"

(cd dist && sha256sum -- * >SHA256SUMS)
say "dist/:"
ls -l dist/
