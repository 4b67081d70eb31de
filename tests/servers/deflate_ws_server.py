#!/usr/bin/python3
"""A WebSocket server with permessage-deflate (RFC 7692) on 127.0.0.1 for
wsc's compression tests (tests/deflate.rs, php/tests/CompressionTest.php).

The protocol, the handshake and the compression are Debian's
python3-websockets (bookworm ships 10.4) through its sans-I/O API
(`ServerConnection`, called `ServerProtocol` from 11.0 on) with its
`ServerPerMessageDeflateFactory`, on blocking sockets, one thread per
connection. A few paths send hand-made frames after that handshake to
test how the client refuses bad compressed data.

Usage:
    /usr/bin/python3 deflate_ws_server.py [--port 0] [--lifetime 300]

Prints `listening on 127.0.0.1:PORT` on stdout once ready; the tests start
it and stop it by PID. It exits by itself after --lifetime seconds.

The query string configures the server's side of the negotiation
(websockets' ServerPerMessageDeflateFactory): server_no_context_takeover=1,
client_no_context_takeover=1, server_max_window_bits=N,
client_max_window_bits=N; compress=0 disables the extension (the server
then declines the offer).

Behaviour by path:
  /echo    echoes every message (compressed when negotiated); the text
           message "stats" is answered instead with a JSON text:
           {"wire_in": bytes received so far (after the handshake request),
            "rsv1_in": frames received with RSV1 (compressed),
            "frames_in": frames received,
            "extensions": the Sec-WebSocket-Extensions answer or null}
  /answer  answers the handshake with Sec-WebSocket-Extensions set to the
           query parameter ext (verbatim), whatever was offered, then echoes
  /bomb    sends one compressed binary message that inflates to `size`
           bytes (default 8 MiB) of zeros (a few KiB on the wire)
  /rsv1-ping  sends a ping frame with RSV1 set (RFC 7692 section 6.1: 1002)
  /bad-utf8   sends a compressed text message whose inflated bytes are not
           UTF-8 (RFC 6455 section 8.1: 1007)
  /bad-data   sends a binary message with RSV1 whose payload does not inflate
After a hand-made message the server waits for the client's close frame.

Exit codes: 0 stopped, 3 python3-websockets is missing.
"""

import json
import socket
import struct
import time
import urllib.parse
import zlib

from ws_server_common import (
    IO_TIMEOUT,
    MAX_SIZE,
    Opcode,
    Request,
    ServerPerMessageDeflateFactory,
    ServerProtocol,
    echo,
    run_connection,
    send_all,
    serve_forever,
)


class FrameCounter:
    """Counts the client's frames on the wire (headers parsed, masked
    payloads skipped) and those with RSV1."""

    def __init__(self):
        self.buf = b""
        self.skip = 0
        self.frames = 0
        self.rsv1 = 0
        self.wire = 0

    def feed(self, data):
        self.wire += len(data)
        self.buf += data
        while True:
            if self.skip:
                n = min(self.skip, len(self.buf))
                self.buf = self.buf[n:]
                self.skip -= n
                if self.skip:
                    return
            if len(self.buf) < 2:
                return
            b0, b1 = self.buf[0], self.buf[1]
            n = b1 & 0x7F
            head = 2 + (4 if b1 & 0x80 else 0)
            if n == 126:
                head += 2
            elif n == 127:
                head += 8
            if len(self.buf) < head:
                return
            if n == 126:
                n = struct.unpack("!H", self.buf[2:4])[0]
            elif n == 127:
                n = struct.unpack("!Q", self.buf[2:10])[0]
            self.frames += 1
            if b0 & 0x40:
                self.rsv1 += 1
            self.buf = self.buf[head:]
            self.skip = n


def frame(first, payload):
    n = len(payload)
    if n < 126:
        head = bytes([first, n])
    elif n < 65536:
        head = bytes([first, 126]) + struct.pack("!H", n)
    else:
        head = bytes([first, 127]) + struct.pack("!Q", n)
    return head + payload


def deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def hostile_payload(path, query):
    if path == "/bomb":
        size = int(query.get("size", [str(8 << 20)])[0])
        return frame(0xC2, deflate(b"\x00" * size))
    if path == "/rsv1-ping":
        return frame(0xC9, b"ping")
    if path == "/bad-utf8":
        return frame(0xC1, deflate("valid text, then ".encode() + b"\xc0\xaf\xff"))
    if path == "/bad-data":
        return frame(0xC2, b"\xff\xff\xff\xff not deflate data")
    return None


def factory(query):
    if query.get("compress", ["1"])[0] == "0":
        return []

    def bits(name):
        v = query.get(name)
        return int(v[0]) if v else None

    def flag(name):
        return query.get(name, ["0"])[0] == "1"

    return [
        ServerPerMessageDeflateFactory(
            server_no_context_takeover=flag("server_no_context_takeover"),
            client_no_context_takeover=flag("client_no_context_takeover"),
            server_max_window_bits=bits("server_max_window_bits"),
            client_max_window_bits=bits("client_max_window_bits"),
        )
    ]


def read_request_head(sock):
    """Peeks at the request head (left in the socket) for its path."""
    end = time.monotonic() + IO_TIMEOUT
    while time.monotonic() < end:
        data = sock.recv(65536, socket.MSG_PEEK)
        if not data:
            return None
        if b"\r\n\r\n" in data:
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split(" ")
            return parts[1] if len(parts) >= 2 else None
        time.sleep(0.01)
    return None


def serve(sock):
    target = read_request_head(sock)
    if target is None:
        return
    url = urllib.parse.urlsplit(target)
    query = urllib.parse.parse_qs(url.query)
    ws = ServerProtocol(extensions=factory(query), max_size=MAX_SIZE)
    counter = FrameCounter()
    state = {"open": False, "answer": None}

    def on_data(data):
        if state["open"]:
            counter.feed(data)

    def on_event(event):
        if isinstance(event, Request):
            response = ws.accept(event)
            if url.path == "/answer" and response.status_code == 101:
                if "Sec-WebSocket-Extensions" in response.headers:
                    del response.headers["Sec-WebSocket-Extensions"]
                response.headers["Sec-WebSocket-Extensions"] = query.get("ext", [""])[0]
            state["answer"] = response.headers.get("Sec-WebSocket-Extensions")
            ws.send_response(response)
            state["open"] = response.status_code == 101
            if not send_all(sock, ws):
                return True
            hostile = hostile_payload(url.path, query) if state["open"] else None
            if hostile is not None:
                sock.sendall(hostile)
                # The client fails the connection: wait for its close
                # frame or EOF, then close.
                sock.settimeout(5.0)
                try:
                    while sock.recv(65536):
                        pass
                except OSError:
                    pass
                return True
        elif state["open"]:
            if event.opcode == Opcode.TEXT and event.fin and event.data == b"stats":
                stats = {
                    "wire_in": counter.wire,
                    "rsv1_in": counter.rsv1,
                    "frames_in": counter.frames,
                    "extensions": state["answer"],
                }
                ws.send_text(json.dumps(stats).encode())
            else:
                echo(ws, event)
        return False

    run_connection(sock, ws, on_event, on_data)


if __name__ == "__main__":
    serve_forever(serve, "permessage-deflate WebSocket server for wsc's tests (127.0.0.1 only)")
