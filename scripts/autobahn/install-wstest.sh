#!/usr/bin/env bash
# Installs the Autobahn TestSuite's `wstest` (autobahntestsuite 25.10.1 from PyPI)
# on Debian bookworm, without Docker.
#
# The suite is Python 2.7 code and bookworm has no Python 2.7, so:
#   1. CPython 2.7.18 and the two libraries it links that bookworm lacks
#      (libssl1.1, libffi7) come from Debian *bullseye*: `apt-get download` with a
#      private apt state (its own sources list, lists and cache under PREFIX/apt;
#      the system's apt configuration and dpkg database are not touched), from the
#      mirror the system's apt already uses; apt checks them against bullseye's
#      signed Release file (debian-archive-keyring). `dpkg -x` unpacks them into
#      PREFIX/py27root: nothing is installed system-wide.
#   2. A Python 2.7 virtualenv, made by virtualenv 20.21.1 (the last release that
#      makes 2.7 environments; it bundles pip 20.3.4) from a throwaway Python 3 venv.
#   3. The suite with a pinned Python 2.7 dependency set from PyPI (the 25.10.1
#      wheel declares no dependencies: its sdist lacks the requirements file its
#      setup.py reads, so the set is listed here).
#   4. PREFIX/bin/wstest, a launcher that sets LD_LIBRARY_PATH for the bullseye
#      libraries and binds every listener of wstest to 127.0.0.1 (wstest itself
#      listens on all interfaces; AB_BIND overrides the address).
#
# usage: scripts/autobahn/install-wstest.sh PREFIX
# Needs: python3 with venv (python3-venv), gcc and the Python headers of step 1
# (wsaccel, ujson and cffi are compiled), dpkg, apt-get, and the network: the Debian
# mirror (about 9 MB) and PyPI. Takes 30-60 s. Prints the launcher's path last.
# Re-running it on an existing PREFIX redoes the install (rm -rf PREFIX first for a
# clean one).
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
mkdir -p "$1"
PREFIX="$(cd "$1" && pwd)"
APT="$PREFIX/apt"
ROOT="$PREFIX/py27root"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/parts" "$APT/debs" "$ROOT" "$PREFIX/bin"
: >"$APT/status"

# --- 1. Python 2.7 from bullseye ----------------------------------------------------------
# The first mirror of the system's own apt sources (deb822 .sources or one-line format).
mirror="$(grep -h -m1 -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
  | head -1 | sed -E 's/^URIs: *//; s/^deb +(\[[^]]*\] +)?//; s/ .*//')" || true
if [ -z "$mirror" ]; then
  echo "install-wstest: no Debian mirror in /etc/apt/sources.list{,.d}" >&2
  exit 2
fi
printf 'Types: deb\nURIs: %s\nSuites: bullseye\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
  "$mirror" >"$APT/bullseye.sources"
aptopts=(-o "Dir::Etc::SourceList=$APT/bullseye.sources" -o "Dir::Etc::SourceParts=$APT/parts"
         -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o "Dir::State::status=$APT/status"
         -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
         -o "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false")
apt-get "${aptopts[@]}" -qq update
rm -f "$APT"/debs/*.deb
(cd "$APT/debs" && apt-get "${aptopts[@]}" -qq download \
  python2.7 python2.7-minimal libpython2.7-minimal libpython2.7-stdlib libpython2.7 \
  libpython2.7-dev python2.7-dev libssl1.1 libffi7)
for d in "$APT"/debs/*.deb; do dpkg -x "$d" "$ROOT"; done
LIBDIR="$ROOT/usr/lib/x86_64-linux-gnu"
LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  "$ROOT/usr/bin/python2.7" -c 'import ssl, ctypes, zlib' # fails loudly when a library is missing

# --- 2. the Python 2.7 virtualenv -----------------------------------------------------------
rm -rf "$PREFIX/boot3" "$PREFIX/venv27"
python3 -m venv "$PREFIX/boot3"
"$PREFIX/boot3/bin/pip" install -q --disable-pip-version-check "virtualenv==20.21.1"
LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  "$PREFIX/boot3/bin/virtualenv" -q -p "$ROOT/usr/bin/python2.7" "$PREFIX/venv27"

# --- 3. the suite, with its dependencies pinned ---------------------------------------------
# autobahntestsuite 25.10.1's own requirements, plus the versions pip resolved for them
# on Python 2.7 (so that every install gets the same set).
cat >"$PREFIX/requirements-py27.txt" <<'REQ'
autobahntestsuite==25.10.1
autobahn[twisted,accelerate]==0.10.9
Twisted==19.10.0
txaio==2.1.0
incremental==16.10.1
zope.interface==4.6.0
pyOpenSSL==19.1.0
cryptography==3.3.2
service-identity==18.1.0
Jinja2==2.11.3
MarkupSafe==1.1.1
Werkzeug==1.0.1
klein==17.10.0
unittest2==1.1.0
six==1.16.0
setuptools==44.0.0
attrs==21.4.0
Automat==22.10.0
cffi==1.15.1
constantly==15.1.0
enum34==1.1.10
hyperlink==21.0.0
idna==2.10
ipaddress==1.0.23
linecache2==1.0.0
pyasn1==0.5.1
pyasn1-modules==0.3.0
pycparser==2.21
PyHamcrest==1.10.1
traceback2==1.4.0
typing==3.10.0.0
ujson==2.0.3
wsaccel==0.6.6
REQ
LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
CFLAGS="-I$ROOT/usr/include -I$ROOT/usr/include/python2.7" \
  "$PREFIX/venv27/bin/pip" install -q --no-python-version-warning --disable-pip-version-check \
  -r "$PREFIX/requirements-py27.txt"

# --- 4. the launcher ------------------------------------------------------------------------
# autobahn's listenWS() listens on interface "" (all of them); the launcher wraps Twisted's
# reactor.listenTCP so that every listener of wstest gets $AB_BIND (default 127.0.0.1).
cat >"$PREFIX/wstest_loopback.py" <<'PY'
import os, sys
import autobahntestsuite  # its __init__ installs the Twisted reactor
from twisted.internet import reactor
_listenTCP = reactor.listenTCP
def _loopback_listenTCP(port, factory, backlog=50, interface=""):
    return _listenTCP(port, factory, backlog, interface or os.environ.get("AB_BIND", "127.0.0.1"))
reactor.listenTCP = _loopback_listenTCP
from autobahntestsuite.wstest import run
sys.argv[0] = "wstest"
sys.exit(run())
PY
cat >"$PREFIX/bin/wstest" <<SH
#!/bin/sh
LD_LIBRARY_PATH="$LIBDIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$PREFIX/venv27/bin/python" "$PREFIX/wstest_loopback.py" "\$@"
SH
chmod +x "$PREFIX/bin/wstest"
LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$PREFIX/venv27/bin/python" -c \
  'import autobahntestsuite, autobahn, twisted; print("autobahntestsuite %s, autobahn %s, twisted %s" % (autobahntestsuite.__version__, autobahn.__version__, twisted.__version__))'
echo "$PREFIX/bin/wstest"
