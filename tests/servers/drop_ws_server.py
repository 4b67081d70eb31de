#!/usr/bin/python3
"""A WebSocket server on 127.0.0.1 that accepts the opening handshake and
then drops the connection, for wsc's reconnect-policy tests
(tests/accept_then_drop.rs): the server a feed client meets when the
service behind a gateway is restarting or rejects the client only after
the upgrade.

The server is Debian's python3-websockets (bookworm ships 10.4) with its
own asyncio server (`websockets.serve`): the handshake, the closing
handshake and the pings are the library's, as a user would run it.

Usage:
    /usr/bin/python3 drop_ws_server.py [--port 0] [--lifetime 300]

Prints `listening on 127.0.0.1:PORT` on stdout once ready; the tests start
it and stop it by PID (SIGTERM or SIGKILL). It also exits by itself after
--lifetime seconds. Each accepted handshake is logged on stderr
(`open PATH`).

Behaviour by request path (after the handshake, which always succeeds):
  /drop    closes TCP without a closing handshake (the transport aborted:
           the client sees the connection reset or EOF, RFC 6455 1006)
  /close   starts the closing handshake with 1013 "try again later"
           (RFC 6455 section 7.4.1; the code a server uses when it is
           overloaded) and closes TCP after it
  other    echoes every message until the client closes
Query `hold=MS`: keep the connection open MS milliseconds (answering
pings) before dropping or closing it.

Exit codes: 0 stopped, 3 python3-websockets is missing (the reason is
printed on stderr).
"""

import argparse
import asyncio
import signal
import urllib.parse

# The import exits with code 3 when python3-websockets is missing.
from ws_server_common import add_listen_args, announce, listen, log

import websockets


async def handler(ws):
    """One connection: the path decides what happens after the
    handshake."""
    path = ws.path
    url = urllib.parse.urlsplit(path)
    query = urllib.parse.parse_qs(url.query)
    log("open {}".format(path))
    hold_ms = int(query.get("hold", ["0"])[0])
    if url.path in ("/drop", "/close"):
        if hold_ms > 0:
            # Reads (so pings are answered) until the time is up.
            try:
                await asyncio.wait_for(ws.wait_closed(), hold_ms / 1000.0)
                return
            except asyncio.TimeoutError:
                pass
        if url.path == "/drop":
            ws.transport.abort()
        else:
            await ws.close(1013, "try again later")
        return
    async for message in ws:
        await ws.send(message)


async def serve(args):
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    listener = listen(args.port, 64)
    async with websockets.serve(handler, sock=listener, max_size=1 << 20):
        announce(listener)
        try:
            await asyncio.wait_for(stopping.wait(), args.lifetime)
        except asyncio.TimeoutError:
            pass


def main():
    p = argparse.ArgumentParser(description="WebSocket server that accepts then drops, for wsc's tests (127.0.0.1 only)")
    add_listen_args(p)
    asyncio.run(serve(p.parse_args()))


if __name__ == "__main__":
    main()
