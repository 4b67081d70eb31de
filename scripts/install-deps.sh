#!/usr/bin/env bash
# Installs what building, the demo and the tests need on Debian bookworm,
# and only what is missing (no network when everything is there).
# Usage: scripts/install-deps.sh [demo|test]   (default: test)
set -euo pipefail
what=${1:-test}

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Build: a C compiler, OpenSSL headers (the openssl crate), pkg-config.
have cc || need_pkgs+=(gcc libc6-dev)
pkg_installed libssl-dev || need_pkgs+=(libssl-dev)
have pkg-config || need_pkgs+=(pkg-config)
have make || need_pkgs+=(make)
# PHP 8.2 with FFI (Debian's php8.2-cli ships FFI, pcntl and posix).
if ! have php || ! php -m 2>/dev/null | grep -qx FFI; then need_pkgs+=(php8.2-cli); fi
have composer || need_pkgs+=(composer)
if [ "$what" = test ]; then
  have phpunit || need_pkgs+=(phpunit)
  # make lint: PSR-12 of the PHP package (php/phpcs.xml.dist).
  have phpcs || need_pkgs+=(php-codesniffer)
  # Composer unpacks the adapter tests' packages (scripts/php-dev-deps.sh) from
  # zip archives: PHP's zip extension.
  php -m 2>/dev/null | grep -qx zip || need_pkgs+=(php8.2-zip)
  have valgrind || need_pkgs+=(valgrind)
  have openssl || need_pkgs+=(openssl)
  # The TLS tests' server (tests/servers/tls_ws_server.py) runs on Debian's
  # Python with its websockets package (bookworm: 10.4); the package pulls
  # in python3.
  pkg_installed python3-websockets || need_pkgs+=(python3-websockets)
  # setsid (a child without a terminal in the passphrase-prompt tests).
  have setsid || need_pkgs+=(util-linux)
  # Debian's nginx terminating TLS (tests/tls_nginx.rs, make bench's wss
  # scenario); nginx-light is the smallest package with its ssl module.
  [ -x /usr/sbin/nginx ] || need_pkgs+=(nginx-light)
  # Real proxies of php/tests/ProxyTest.php: HTTP CONNECT and SOCKS5.
  have tinyproxy || need_pkgs+=(tinyproxy)
  have microsocks || need_pkgs+=(microsocks)
  # make test-install: Composer reads the package zip of dist/ with PHP's zip
  # extension; make dist builds the Debian packages with dpkg-deb.
  php -m 2>/dev/null | grep -qx zip || need_pkgs+=(php8.2-zip)
  have dpkg-deb || need_pkgs+=(dpkg)
  # The Autobahn gate (scripts/autobahn.sh): its installer makes a Python 2.7
  # virtualenv from a Python 3 venv (and needs PyPI once).
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then need_pkgs+=(python3-venv); fi
fi

if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "==> installing with apt-get: ${need_pkgs[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if have sudo; then SUDO=sudo; else
      echo "error: installing ${need_pkgs[*]} needs root (or sudo)" >&2; exit 1
    fi
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

if ! have cargo; then
  cat >&2 <<'MSG'
error: cargo (Rust) is not installed. wsc needs Rust 1.95 or newer (rust-version in Cargo.toml);
Debian's packaged rustc is too old. Install it with rustup, then run this again.
MSG
  exit 1
fi
