#!/usr/bin/python3
"""A WebSocket server on 127.0.0.1 for wsc's liveness and metrics tests
(tests/liveness.rs, tests/c/test_liveness.c, php/tests/LivenessTest.php):
a feed that goes quiet, a peer that never answers pings, and a server that
reports the messages it heard (heartbeats).

The protocol and the handshake are Debian's python3-websockets (bookworm
ships 10.4) through its sans-I/O API, on blocking sockets, one thread per
connection (ws_server_common.py). Pings are answered with pongs by the
protocol itself, unless the query says pong=0.

Usage:
    /usr/bin/python3 liveness_ws_server.py [--port 0] [--lifetime 300]

Prints `listening on 127.0.0.1:PORT` on stdout once ready; the tests start
it and stop it by PID. It exits by itself after --lifetime seconds.

Behaviour by path (query parameters in brackets, with their defaults):
  /feed    [count=5, interval_ms=100, pong=1] after the handshake sends
           `count` text messages `tick N` (N from 1), one every
           `interval_ms`, then goes quiet: sends no data any more, still
           answers pings (pong=0: never answers them) and the closing
           handshake; messages from the client are read and ignored
  /heard   answers every data message with a text message
           `heard text PAYLOAD` or `heard binary HEX` (the payload as the
           server received it), and pings with pongs

Exit codes: 0 stopped, 3 python3-websockets is missing.
"""

import threading
import urllib.parse

from ws_server_common import (
    MAX_SIZE,
    Opcode,
    Request,
    ServerProtocol,
    run_connection,
    send_all,
    serve_forever,
)


class Quiet(ServerProtocol):
    """A protocol that can be told never to send pongs (a peer whose
    pings go unanswered although data still flows)."""

    pongs = True

    def send_frame(self, frame):
        if frame.opcode == Opcode.PONG and not self.pongs:
            return
        super().send_frame(frame)


def serve(sock):
    lock = threading.Lock()
    ws = Quiet(max_size=MAX_SIZE)
    state = {"path": None, "query": {}}
    stop = threading.Event()

    def feed(count, interval):
        for n in range(1, count + 1):
            if stop.wait(interval):
                return
            with lock:
                ws.send_text("tick {}".format(n).encode())
                try:
                    if not send_all(sock, ws):
                        return
                except OSError:
                    return

    def on_event(event):
        if isinstance(event, Request):
            url = urllib.parse.urlsplit(event.path)
            query = urllib.parse.parse_qs(url.query)
            state["path"], state["query"] = url.path, query
            ws.pongs = query.get("pong", ["1"])[0] != "0"
            ws.send_response(ws.accept(event))
            if url.path == "/feed":
                count = int(query.get("count", ["5"])[0])
                interval = int(query.get("interval_ms", ["100"])[0]) / 1000.0
                threading.Thread(target=feed, args=(count, interval), daemon=True).start()
            return False
        if state["path"] == "/heard":
            if event.opcode == Opcode.TEXT:
                ws.send_text(b"heard text " + event.data)
            elif event.opcode == Opcode.BINARY:
                ws.send_text(b"heard binary " + event.data.hex().encode())
        return False

    class Locked:
        """run_connection's view of the protocol: every call under the
        lock the feed thread also takes."""

        def receive_data(self, data):
            with lock:
                ws.receive_data(data)

        def receive_eof(self):
            with lock:
                ws.receive_eof()

        def events_received(self):
            with lock:
                return ws.events_received()

        def data_to_send(self):
            with lock:
                return ws.data_to_send()

    try:
        run_connection(sock, Locked(), on_event)
    finally:
        stop.set()


if __name__ == "__main__":
    serve_forever(serve, "liveness WebSocket server for wsc's tests (127.0.0.1 only)")
