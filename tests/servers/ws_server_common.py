"""What the test WebSocket servers beside this file share
(deflate_ws_server.py, tls_ws_server.py): Debian's python3-websockets
(bookworm ships 10.4) through its sans-I/O API, one blocking socket per
connection, on 127.0.0.1 only.

Imported by those scripts, which run as `/usr/bin/python3 SCRIPT.py` (the
script's directory is then on sys.path). Importing this module exits
with code 3, the reason on stderr, when python3-websockets is missing.
"""

import argparse
import os
import signal
import socket
import sys
import threading

try:
    import websockets.server
    from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory  # noqa: F401 - re-exported
    from websockets.frames import Opcode
    from websockets.http11 import Request  # noqa: F401 - re-exported
except ImportError as e:  # pragma: no cover - depends on the machine
    print(
        "{}: cannot import websockets ({}): install Debian's "
        "python3-websockets (apt-get install python3-websockets, or "
        "scripts/install-deps.sh test) and run this with "
        "/usr/bin/python3".format(os.path.basename(sys.argv[0]), e),
        file=sys.stderr,
        flush=True,
    )
    sys.exit(3)

# `ServerConnection` in websockets 10.x, `ServerProtocol` from 11.0 on.
ServerProtocol = getattr(websockets.server, "ServerProtocol", None) or websockets.server.ServerConnection

# Per-connection socket timeout: no thread waits longer on a silent client.
IO_TIMEOUT = 30.0

# The largest message a server accepts, in bytes.
MAX_SIZE = 64 * 1024 * 1024


def log(msg):
    """One line on stderr, prefixed with the script's name."""
    print("{}: {}".format(os.path.basename(sys.argv[0]), msg), file=sys.stderr, flush=True)


def add_listen_args(parser):
    """Adds --port and --lifetime (seconds) to an argparse parser."""
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--lifetime", type=float, default=300.0, help="exit after this many seconds")


def listen(port, backlog):
    """A TCP listener on 127.0.0.1:port (0: a free port), SO_REUSEADDR set."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(backlog)
    return listener


def announce(listener):
    """Prints `listening on 127.0.0.1:PORT` on stdout: the tests wait for it."""
    print("listening on 127.0.0.1:{}".format(listener.getsockname()[1]), flush=True)


def send_all(sock, ws):
    """Writes what the protocol has to send; False once it asks to close TCP."""
    for data in ws.data_to_send():
        if data:
            sock.sendall(data)
        else:
            return False
    return True


def echo(ws, frame):
    """Sends a data frame back with its opcode and FIN bit (text as text,
    binary as binary, fragments as fragments)."""
    if frame.opcode == Opcode.TEXT:
        ws.send_text(frame.data, frame.fin)
    elif frame.opcode == Opcode.BINARY:
        ws.send_binary(frame.data, frame.fin)
    elif frame.opcode == Opcode.CONT:
        ws.send_continuation(frame.data, frame.fin)
    # Pings and the closing handshake are answered by the protocol itself.


def run_connection(sock, ws, on_event, on_data=None):
    """Drives the sans-I/O protocol `ws` over the blocking socket `sock`
    until EOF, a read error or the protocol closing TCP: reads, feeds
    `on_data(bytes)` (if given) then the protocol, calls `on_event(event)`
    for each event received (the handshake Request, then frames), writes
    what the protocol has to send. `on_event` returns True to end the
    connection at once (without writing)."""
    while True:
        try:
            data = sock.recv(65536)
        except OSError:  # ssl.SSLError included
            return
        if data:
            if on_data is not None:
                on_data(data)
            ws.receive_data(data)
        else:
            ws.receive_eof()
        for event in ws.events_received():
            if on_event(event):
                return
        if not send_all(sock, ws) or not data:
            return


def shutdown_close(sock):
    """Shuts the socket down both ways (errors ignored), then closes it."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def serve_forever(serve, description):
    """The main program of a test server: parses --port and --lifetime,
    listens on 127.0.0.1, prints `listening on 127.0.0.1:PORT`, exits
    after --lifetime seconds (or on SIGTERM), and runs `serve(sock)` on a
    thread per connection (a failure is logged; the socket is shut down
    and closed after it)."""
    def handle(sock):
        sock.settimeout(IO_TIMEOUT)
        try:
            serve(sock)
        except Exception as e:  # noqa: BLE001 - a test server logs and goes on
            log("connection failed: {!r}".format(e))
        finally:
            shutdown_close(sock)

    p = argparse.ArgumentParser(description=description)
    add_listen_args(p)
    args = p.parse_args()
    listener = listen(args.port, 128)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    timer = threading.Timer(args.lifetime, lambda: signal.raise_signal(signal.SIGTERM))
    timer.daemon = True
    timer.start()
    announce(listener)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()
