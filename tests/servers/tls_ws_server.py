#!/usr/bin/python3
"""A real TLS WebSocket server on 127.0.0.1 for the TLS tests of wsc
(tests/tls_certs.rs, php/tests/TlsTest.php).

TLS is Python's ssl module on blocking sockets, one thread per
connection; the WebSocket protocol is Debian's python3-websockets
(bookworm ships 10.4) through its sans-I/O API (`ServerConnection`,
called `ServerProtocol` from 11.0 on). Not websockets' asyncio server: on
a failed TLS handshake asyncio closes TCP without sending the TLS alert
(the client would only see an EOF), while a blocking ssl socket sends it
as real servers (nginx, Workerman's own) do, e.g. "certificate required".

Usage:
    /usr/bin/python3 tls_ws_server.py --cert CERT.pem --key KEY.pem
        [--client-ca CA.pem] [--port 0] [--lifetime 300]

--client-ca: the server requires a client certificate signed by that CA
(ssl.CERT_REQUIRED). Prints `listening on 127.0.0.1:PORT` on stdout once
ready; the tests start it and stop it by PID (SIGTERM or SIGKILL). It
also exits by itself after --lifetime seconds, so that a crashed test
leaves nothing behind. Failed TLS handshakes are logged on stderr.

Behaviour by request path:
  /info   first sends a JSON text message about the TLS session:
          {"sni": the server name the client sent (null: none),
           "client_cert": the CN of the client certificate (null: none),
           "tls_version": e.g. "TLSv1.3"}, then echoes;
  other   echoes every frame with its opcode (text as text, binary as
          binary, fragments as fragments) and answers pings and the
          closing handshake, until the client closes.

Exit codes: 0 stopped, 2 bad arguments or certificate files, 3
python3-websockets is missing (the reason is printed on stderr).
"""

import argparse
import json
import select
import signal
import socket
import ssl
import sys
import threading
import time

from ws_server_common import (
    IO_TIMEOUT,
    MAX_SIZE,
    Request,
    ServerProtocol,
    add_listen_args,
    announce,
    echo,
    listen,
    log,
    run_connection,
    shutdown_close,
)

# The server name each TLS session asked for, by id() of its SSL socket.
SNI = {}
SNI_LOCK = threading.Lock()


def make_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=args.client_ca)

    def remember_sni(ssl_socket, server_name, _ctx):
        with SNI_LOCK:
            SNI[id(ssl_socket)] = server_name
        return None

    ctx.sni_callback = remember_sni
    return ctx


def session_info(tls):
    client_cn = None
    for rdn in (tls.getpeercert() or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                client_cn = value
    with SNI_LOCK:
        sni = SNI.pop(id(tls), None)
    return {"sni": sni, "client_cert": client_cn, "tls_version": tls.version()}


def serve_websocket(tls):
    ws = ServerProtocol(max_size=MAX_SIZE)
    handshake_done = False

    def on_event(event):
        nonlocal handshake_done
        if isinstance(event, Request):
            response = ws.accept(event)
            ws.send_response(response)
            handshake_done = response.status_code == 101
            if handshake_done and event.path == "/info":
                ws.send_text(json.dumps(session_info(tls)).encode())
        elif handshake_done:
            echo(ws, event)
        return False

    run_connection(tls, ws, on_event)


def lingering_close(sock):
    """Closes after the peer has had what was sent (the TLS alert): stop
    writing, then read until the peer closes (at most 2 s). Closing with
    unread bytes (the client's HTTP request, sent right after its TLS 1.3
    handshake) would make the kernel send a reset, which can destroy the
    alert in the client's receive buffer before the client reads it."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0.5)
        end = time.monotonic() + 2.0
        while time.monotonic() < end and sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()


def handle(raw, ctx):
    raw.settimeout(IO_TIMEOUT)
    tls = ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
    try:
        # The handshake runs here, on the blocking socket: on failure
        # OpenSSL sends the alert before the socket is closed.
        tls.do_handshake()
    except (OSError, ssl.SSLError) as e:
        log("TLS handshake failed: {}".format(e))
        lingering_close(tls)
        return
    try:
        serve_websocket(tls)
    except (OSError, ssl.SSLError) as e:
        log("connection failed: {}".format(e))
    finally:
        with SNI_LOCK:
            SNI.pop(id(tls), None)
        shutdown_close(tls)


def main():
    p = argparse.ArgumentParser(description="TLS WebSocket echo server for wsc's tests (127.0.0.1 only)")
    p.add_argument("--cert", required=True, help="server certificate chain, PEM")
    p.add_argument("--key", required=True, help="server private key, PEM")
    p.add_argument("--client-ca", help="require a client certificate signed by this CA (PEM)")
    add_listen_args(p)
    args = p.parse_args()

    try:
        ctx = make_context(args)
        listener = listen(args.port, 64)
    except (OSError, ssl.SSLError) as e:
        log(str(e))
        sys.exit(2)

    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())

    announce(listener)
    deadline = time.monotonic() + args.lifetime
    while not stopping.is_set() and time.monotonic() < deadline:
        ready, _, _ = select.select([listener], [], [], 0.2)
        if not ready:
            continue
        raw, _ = listener.accept()
        threading.Thread(target=handle, args=(raw, ctx), daemon=True).start()
    listener.close()


if __name__ == "__main__":
    main()
