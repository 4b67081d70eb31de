#!/usr/bin/env bash
# Proves that a libwsc.so finds the system's CA certificates by itself, with
# SSL_CERT_FILE and SSL_CERT_DIR unset, in each distribution layout:
#   debian  /etc/ssl/certs/ca-certificates.crt   (Debian, Ubuntu)
#   rhel    /etc/pki/tls/certs/ca-bundle.crt     (RHEL, CentOS, Fedora)
#   alpine  /etc/ssl/cert.pem                    (Alpine; also RHEL 8+, macOS)
# and that it refuses the server when the store is empty (so the check can
# fail). It matters for the portable release library (`make dist`), whose
# OpenSSL is built in and would otherwise look in /usr/local/ssl.
#
# Each case runs examples/python_client.py against tests/servers/tls_ws_server.py
# (a certificate of a fresh test CA for IP 127.0.0.1) in a private mount
# namespace (`unshare -m`, root only) where a tmpfs over /etc holds only
# that layout's CA file; the host's /etc is never changed.
#
# usage: scripts/test-ca-store.sh LIBWSC.so
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lib=$(realpath "${1:?usage: test-ca-store.sh LIBWSC.so}")

if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
    msg="test-ca-store.sh: needs root and mount namespaces (unshare -m)"
    if [ -n "${CI:-}" ]; then echo "$msg" >&2; exit 1; fi
    echo "SKIP: $msg"; exit 0
fi

tmp=$(mktemp -d /tmp/wsc-ca-store.XXXXXX)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

"$root/tests/servers/make-test-pki.sh" "$tmp/pki" >/dev/null
mkfifo "$tmp/out"
/usr/bin/python3 "$root/tests/servers/tls_ws_server.py" --cert "$tmp/pki/server.pem" \
    --key "$tmp/pki/server.key" --port 0 --lifetime 120 >"$tmp/out" 2>"$tmp/server.err" &
server_pid=$!
exec 3<"$tmp/out"
read -r -t 30 line <&3 || { echo "test-ca-store.sh: the TLS server did not start" >&2; cat "$tmp/server.err" >&2; exit 1; }
port=${line##*:}
url="wss://127.0.0.1:$port/"  # the certificate names IP:127.0.0.1 (no /etc/hosts inside)

# run LAYOUT: the client in a namespace whose /etc holds only LAYOUT's file
run() {
    local layout=$1
    env -u SSL_CERT_FILE -u SSL_CERT_DIR WSC_LIB="$lib" CA="$tmp/pki/ca.pem" LAYOUT="$layout" \
        CLIENT="$root/examples/python_client.py" URL="$url" \
        timeout 60 unshare -m sh -c '
            set -e
            cp /etc/ld.so.cache /tmp/wsc-ld.so.cache.$$ 2>/dev/null || true
            mount -t tmpfs tmpfs /etc
            mv /tmp/wsc-ld.so.cache.$$ /etc/ld.so.cache 2>/dev/null || true
            case $LAYOUT in
                debian) mkdir -p /etc/ssl/certs && cp "$CA" /etc/ssl/certs/ca-certificates.crt ;;
                rhel)   mkdir -p /etc/pki/tls/certs && cp "$CA" /etc/pki/tls/certs/ca-bundle.crt ;;
                alpine) mkdir -p /etc/ssl && cp "$CA" /etc/ssl/cert.pem ;;
                empty)  ;;
            esac
            exec /usr/bin/python3 "$CLIENT" "$URL" "CA store: $LAYOUT"'
}

fail=0
for layout in debian rhel alpine; do
    if out=$(run "$layout" 2>&1); then
        echo "ok: $layout layout: the server's CA was found (SSL_CERT_FILE/SSL_CERT_DIR unset)"
    else
        echo "FAIL: $layout layout: $out" >&2
        fail=1
    fi
done
if out=$(run empty 2>&1); then
    echo "FAIL: with an empty CA store the connection succeeded: $out" >&2
    fail=1
elif grep -q "certificate verify failed" <<<"$out"; then
    echo "ok: empty CA store: refused (certificate verify failed)"
else
    echo "FAIL: empty CA store: refused, but not for the certificate: $out" >&2
    fail=1
fi
exit $fail
