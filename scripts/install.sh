#!/usr/bin/env bash
# Installs libwsc for C: the shared library with its soname links, the static
# library, the header and a pkg-config file. `make install` runs it; so does
# scripts/dist.sh to lay out the release tarball and the Debian packages.
#
#   $DESTDIR$LIBDIR/libwsc.so.X.Y.Z           the shared library (SONAME libwsc.so.X)
#   $DESTDIR$LIBDIR/libwsc.so.X -> libwsc.so.X.Y.Z   what programs load at run time
#   $DESTDIR$LIBDIR/libwsc.so   -> libwsc.so.X       what `cc -lwsc` links against
#   $DESTDIR$LIBDIR/libwsc.a                   the static library
#   $DESTDIR$INCLUDEDIR/wsc.h                  the header
#   $DESTDIR$LIBDIR/pkgconfig/wsc.pc           `pkg-config --cflags --libs wsc`
#
# Environment (all optional):
#   PREFIX      default /usr/local
#   DESTDIR     staging root, prepended to every path (packagers); default empty
#   LIBDIR      default $PREFIX/lib
#   INCLUDEDIR  default $PREFIX/include
#   FROM        the directory holding the built libwsc.so and libwsc.a
#               (default target/release)
#   PC_PREFIX   the `prefix=` of wsc.pc (default $PREFIX; the release tarball
#               uses ${pcfiledir}/../.. so that it works wherever it is unpacked)
#   LIBS_PRIVATE  what a static link needs besides libwsc.a (default: the system
#               OpenSSL and what Rust's std needs, as `rustc --print native-static-libs`
#               reports for this crate)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
FROM=${FROM:-target/release}
PC_PREFIX=${PC_PREFIX:-$PREFIX}
LIBS_PRIVATE=${LIBS_PRIVATE:--lssl -lcrypto -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc}

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
for f in "$FROM/libwsc.so" "$FROM/libwsc.a" include/wsc.h; do
    [ -f "$f" ] || { echo "install.sh: $f is missing: run 'make build' (or cargo build --release) first" >&2; exit 2; }
done
soname=$(readelf -d "$FROM/libwsc.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != "libwsc.so.$major" ]; then
    echo "install.sh: $FROM/libwsc.so has SONAME '${soname:-none}', expected libwsc.so.$major" >&2
    exit 2
fi

lib=$DESTDIR$LIBDIR
install -d "$lib" "$lib/pkgconfig" "$DESTDIR$INCLUDEDIR"
install -m 0755 "$FROM/libwsc.so" "$lib/libwsc.so.$version"
ln -sfn "libwsc.so.$version" "$lib/libwsc.so.$major"
ln -sfn "libwsc.so.$major" "$lib/libwsc.so"
install -m 0644 "$FROM/libwsc.a" "$lib/libwsc.a"
install -m 0644 include/wsc.h "$DESTDIR$INCLUDEDIR/wsc.h"

# ${libdir} and ${includedir} relative to ${prefix} when they are below it.
rel() { case $1 in "$PREFIX"/*) echo "\${prefix}${1#"$PREFIX"}" ;; *) echo "$1" ;; esac; }
cat >"$lib/pkgconfig/wsc.pc" <<PC
prefix=$PC_PREFIX
libdir=$(rel "$LIBDIR")
includedir=$(rel "$INCLUDEDIR")

Name: wsc
Description: A native WebSocket client (RFC 6455) with a C ABI
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lwsc
Libs.private: $LIBS_PRIVATE
PC
chmod 0644 "$lib/pkgconfig/wsc.pc"
echo "installed libwsc $version into ${DESTDIR}${PREFIX} (libdir $LIBDIR, includedir $INCLUDEDIR)"
# A real install (no DESTDIR) as root: refresh the dynamic linker's cache,
# so that programs and PHP find libwsc.so.0 when LIBDIR is one of its paths.
if [ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null 2>&1; then
    ldconfig
fi
