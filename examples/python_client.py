#!/usr/bin/env python3
"""python_client: wsc from Python through ctypes and the C API of wsc.h.

Loads libwsc.so, connects to a WebSocket URL, sends a text and a binary
message, prints their echoes, closes with status code 1000 and frees
everything. Nothing but the standard library.

usage: python3 examples/python_client.py URL [TEXT]
exit:  0 when both echoes came back and the close was clean, 1 otherwise

The library: $WSC_LIB, else target/release/libwsc.so of this repository
(`cargo build --release`).
"""

import ctypes
import os
import sys
import time

# --- Declarations, copied from include/wsc.h ------------------------------
# C enums (wsc_result, wsc_event_type, wsc_message_type...) are ints.

WSC_RESULT_OK = 0

WSC_EVENT_TYPE_CONNECTED = 1
WSC_EVENT_TYPE_OPEN = 2
WSC_EVENT_TYPE_TEXT = 3
WSC_EVENT_TYPE_BINARY = 4
WSC_EVENT_TYPE_ERROR = 7
WSC_EVENT_TYPE_CLOSED = 8

WSC_MESSAGE_TYPE_TEXT = 1
WSC_MESSAGE_TYPE_BINARY = 2


class wsc_context(ctypes.Structure):
    """Opaque."""


class wsc_client(ctypes.Structure):
    """Opaque."""


class wsc_event(ctypes.Structure):
    """One event; owned by the library until wsc_event_free. Field order and
    types exactly as in wsc.h; fields are only ever appended there."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("event_type", ctypes.c_int),  # wsc_event_type
        ("client_id", ctypes.c_uint64),
        ("data", ctypes.POINTER(ctypes.c_uint8)),  # const uint8_t *
        ("data_len", ctypes.c_size_t),
        ("message_type", ctypes.c_int),  # wsc_message_type
        ("error", ctypes.c_int),  # wsc_result
        ("close_code", ctypes.c_uint16),
        ("clean", ctypes.c_bool),
        ("http_status", ctypes.c_uint16),
        ("http_head", ctypes.POINTER(ctypes.c_uint8)),
        ("http_head_len", ctypes.c_size_t),
        ("http_body", ctypes.POINTER(ctypes.c_uint8)),
        ("http_body_len", ctypes.c_size_t),
        ("reconnect_delay_ms", ctypes.c_uint64),
        ("reconnect_reason", ctypes.c_int),  # wsc_reconnect_reason
        ("reconnect_attempt", ctypes.c_uint32),
    ]


def load(path):
    lib = ctypes.CDLL(path)
    P = ctypes.POINTER

    def declare(name, restype, *argtypes):
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = list(argtypes)

    declare("wsc_result_str", ctypes.c_char_p, ctypes.c_int)
    declare("wsc_version", ctypes.c_char_p)
    declare("wsc_last_error", ctypes.c_char_p)
    declare("wsc_context_new", ctypes.c_int, P(P(wsc_context)))
    declare("wsc_context_free", ctypes.c_int, P(wsc_context))
    declare("wsc_context_poll_event", ctypes.c_int, P(wsc_context), ctypes.c_int32, P(P(wsc_event)))
    declare("wsc_event_free", ctypes.c_int, P(wsc_event))
    declare("wsc_client_new", ctypes.c_int, P(wsc_context), ctypes.c_char_p, P(P(wsc_client)))
    declare("wsc_client_free", ctypes.c_int, P(wsc_client))
    declare("wsc_client_connect", ctypes.c_int, P(wsc_client))
    declare(
        "wsc_client_send",
        ctypes.c_int,
        P(wsc_client),
        ctypes.c_uint32,
        P(ctypes.c_uint8),
        ctypes.c_size_t,
        ctypes.c_void_p,  # wsc_send_status *out_status, may be NULL
    )
    declare("wsc_client_close", ctypes.c_int, P(wsc_client), ctypes.c_uint16, P(ctypes.c_uint8), ctypes.c_size_t)
    return lib


# --- The program -------------------------------------------------------------


class WscError(Exception):
    pass


def check(lib, rc, what):
    if rc != WSC_RESULT_OK:
        detail = lib.wsc_last_error().decode()
        raise WscError(f"{what}: {lib.wsc_result_str(rc).decode()}" + (f": {detail}" if detail else ""))


def as_bytes(data):
    """A bytes copy as a uint8_t buffer for wsc_client_send (copied again there)."""
    return (ctypes.c_uint8 * len(data)).from_buffer_copy(data) if data else None


def run(lib, url, text, deadline_s=10.0):
    binary = b"\x00\x01\xfe\xff"
    ctx = ctypes.POINTER(wsc_context)()
    client = ctypes.POINTER(wsc_client)()
    echoes = []
    closed = None
    check(lib, lib.wsc_context_new(ctypes.byref(ctx)), "wsc_context_new")
    try:
        check(lib, lib.wsc_client_new(ctx, url.encode(), ctypes.byref(client)), "wsc_client_new")
        check(lib, lib.wsc_client_connect(client), "wsc_client_connect")
        deadline = time.monotonic() + deadline_s
        while closed is None:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                print("timed out", file=sys.stderr)
                break
            ev = ctypes.POINTER(wsc_event)()
            check(lib, lib.wsc_context_poll_event(ctx, min(left_ms, 1000), ctypes.byref(ev)), "poll")
            if not ev:  # timeout or EINTR
                continue
            try:
                e = ev.contents
                if e.struct_size < ctypes.sizeof(wsc_event):
                    raise WscError(f"wsc_event is {e.struct_size} bytes in the library, "
                                   f"{ctypes.sizeof(wsc_event)} here: the declarations do not match")
                data = ctypes.string_at(e.data, e.data_len) if e.data_len else b""
                if e.event_type == WSC_EVENT_TYPE_CONNECTED:
                    print("connected")
                elif e.event_type == WSC_EVENT_TYPE_OPEN:
                    print("open:", data.split(b"\r\n", 1)[0].decode())
                    payload = text.encode()
                    check(lib, lib.wsc_client_send(client, WSC_MESSAGE_TYPE_TEXT, as_bytes(payload),
                                                   len(payload), None), "send text")
                    check(lib, lib.wsc_client_send(client, WSC_MESSAGE_TYPE_BINARY, as_bytes(binary),
                                                   len(binary), None), "send binary")
                elif e.event_type == WSC_EVENT_TYPE_TEXT:
                    print("echo text:", data.decode())
                    echoes.append(data.decode())
                elif e.event_type == WSC_EVENT_TYPE_BINARY:
                    print("echo binary:", data.hex())
                    echoes.append(data)
                    if len(echoes) == 2:
                        reason = b"bye"
                        check(lib, lib.wsc_client_close(client, 1000, as_bytes(reason), len(reason)), "close")
                elif e.event_type == WSC_EVENT_TYPE_ERROR:
                    print(f"error: {data.decode(errors='replace')} ({lib.wsc_result_str(e.error).decode()})")
                elif e.event_type == WSC_EVENT_TYPE_CLOSED:
                    closed = (e.close_code, e.clean)
                    print(f"closed: {e.close_code} {'clean' if e.clean else 'not clean'}")
            finally:
                lib.wsc_event_free(ev)
    finally:
        lib.wsc_client_free(client)  # NULL is a no-op
        lib.wsc_context_free(ctx)
    return echoes == [text, binary] and closed == (1000, True)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print("usage: python3 examples/python_client.py URL [TEXT]", file=sys.stderr)
        return 2
    url = argv[1]
    text = argv[2] if len(argv) > 2 else "hello from python"
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.environ.get("WSC_LIB") or os.path.join(here, "..", "target", "release", "libwsc.so")
    lib = load(path)
    print("wsc", lib.wsc_version().decode())
    try:
        ok = run(lib, url, text)
    except WscError as e:
        print(e, file=sys.stderr)
        ok = False
    print("ok" if ok else "failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
