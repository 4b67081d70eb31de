//! The C ABI of wsc; cbindgen turns this file into `include/wsc.h`.
//!
//! Conventions (after rustls-ffi and hyper's `ffi`): every symbol starts with
//! `wsc_`; functions are `wsc_<type>_<verb>` with the object first, then
//! inputs, then out-parameters; each returns a [`wsc_result`] and writes its
//! out-parameters only on success; `_free(NULL)` is a no-op. Handles are
//! looked up, never dereferenced, so a double free or a call on a freed
//! handle returns `WSC_RESULT_INVALID_HANDLE`. No panic unwinds across the
//! boundary (`WSC_RESULT_PANIC`). All functions are thread-safe unless their
//! doc says otherwise.
#![allow(non_camel_case_types)]
// The exports take raw pointers from C and check them themselves (NULL,
// registry look-up); they cannot be `unsafe fn` for cbindgen's C signature.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod handle;

use crate::engine::{Context, SendStatus, Status};
use crate::error::Error;
use crate::event::{EventKind, MessageType};
use handle::{EventBox, Handle, Kind, ffi_boundary};
use std::ffi::{CStr, c_char, c_int};
use std::time::Duration;
use tungstenite::Bytes;

/// Opaque: a context, the event loop that owns a poller, its clients, their
/// timers and the event queue (one fallback thread each). Create with
/// `wsc_context_new`, free with `wsc_context_free`.
pub struct wsc_context {
    _private: [u8; 0],
}

/// Opaque: a client, one WebSocket connection to one URL, reconnectable.
/// Create with `wsc_client_new`, free with `wsc_client_free`.
pub struct wsc_client {
    _private: [u8; 0],
}

/// The result of every function. The numbers are stable and never reused;
/// `wsc_result_str` gives a sentence for each.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsc_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// The handle is not live: never returned by wsc, already freed (double
    /// free), or of another kind.
    InvalidHandle = 2,
    /// An argument is out of range or malformed.
    InvalidArgument = 3,
    /// The URL does not parse, is not ws:// or wss://, has no host or has a
    /// fragment.
    InvalidUrl = 4,
    /// A header name is empty or not a token, a value holds CR/LF/NUL, or
    /// the handshake sets that header itself.
    InvalidHeader = 5,
    /// A text message or close reason is not valid UTF-8.
    InvalidUtf8 = 6,
    /// The client is closing or closed: the message was not accepted and is
    /// not delivered.
    NotConnected = 7,
    /// The send buffer is full: the message was not accepted.
    BufferFull = 8,
    /// The context of this client was freed.
    ContextClosed = 9,
    /// An internal error (a caught panic): please report it.
    Panic = 10,
    /// An operating-system call failed.
    Io = 11,
    /// DNS resolution failed.
    Dns = 12,
    /// The TCP connection failed (refused, unreachable).
    Connect = 13,
    /// The TLS handshake failed (e.g. certificate verification).
    Tls = 14,
    /// The server refused the opening handshake (non-101 status, bad
    /// Sec-WebSocket-Accept...).
    Handshake = 15,
    /// The server violated RFC 6455 (close code 1002).
    Protocol = 16,
    /// Invalid UTF-8 arrived in a text message or close reason (close code
    /// 1007).
    InvalidPayload = 17,
    /// An incoming message exceeded the size limit (close code 1009).
    MessageTooBig = 18,
    /// A connect, handshake or close timeout expired.
    Timeout = 19,
    /// The connection broke without a closing handshake (close code 1006).
    ConnectionLost = 20,
    /// The proxy refused the tunnel or its authentication, or broke its
    /// protocol.
    Proxy = 21,
    /// The context was created in another process before `fork()`: create
    /// a new context in this process (the old handles can only be freed).
    Forked = 22,
}

/// permessage-deflate parameters (RFC 7692) for
/// `wsc_client_set_compression`. A zero-initialized struct is the default
/// offer: context takeover both ways, window bits left to the server,
/// level 6.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wsc_compression_options {
    /// true: this client does not keep its compression context between
    /// messages (`client_no_context_takeover`, §7.1.1.2): worse ratio for
    /// similar messages, no compressor kept between messages (saves about
    /// 260 KiB per idle connection).
    pub client_no_context_takeover: bool,
    /// true: ask the server not to keep its context between messages
    /// (`server_no_context_takeover`, §7.1.1.1): no decompressor kept
    /// between messages (saves about 40 KiB per idle connection). A server
    /// that does not support it declines compression; one that accepts
    /// the offer without granting it fails the handshake
    /// (`WSC_RESULT_HANDSHAKE`, §7.1.1.1), as python-websockets' client does.
    pub server_no_context_takeover: bool,
    /// The largest window this client compresses with, as a base-2
    /// logarithm (window of 2^N bytes): 9..15, offered as
    /// `client_max_window_bits=N` (§7.1.2.2); 0 offers the parameter
    /// without a value (the server may choose; 15 when it does not).
    /// 8 is refused (zlib cannot write raw deflate with a 256-byte window);
    /// a server that answers 8 gets uncompressed stored blocks.
    pub client_max_window_bits: u8,
    /// Ask the server to compress with a window of at most 2^N bytes:
    /// 9..15 (`server_max_window_bits=N`, §7.1.2.1); 0 asks nothing. An
    /// answer without it, or with a larger value, fails the handshake.
    pub server_max_window_bits: u8,
    /// zlib level of this client's messages: 1 (fastest) .. 9 (smallest);
    /// 0 means the default, 6.
    pub level: u8,
}

/// What an event reports (`wsc_event.event_type`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsc_event_type {
    /// TCP (and TLS for wss://) is established; the opening handshake
    /// starts. No data.
    Connected = 1,
    /// The opening handshake succeeded (RFC 6455 §4.1). `data` is the
    /// server's raw response head, as received.
    Open = 2,
    /// A whole text message (opcode 0x1, valid UTF-8). `data` is the
    /// payload.
    Text = 3,
    /// A whole binary message (opcode 0x2). `data` is the payload.
    Binary = 4,
    /// A ping arrived (the pong was sent automatically). `data` is its
    /// payload.
    Ping = 5,
    /// A pong arrived. `data` is its payload.
    Pong = 6,
    /// A failure; `error` says which, `data` is a readable message. A
    /// `WSC_EVENT_TYPE_CLOSED` event follows.
    Error = 7,
    /// The connection is gone. `close_code`, `clean`; `data` is the close
    /// reason (or the error text for 1006).
    Closed = 8,
    /// A message accepted by `wsc_client_send` that will not be delivered
    /// (the connection attempt ended first). `data` is its payload,
    /// `message_type` its type.
    Undelivered = 9,
    /// The server's close frame arrived (RFC 6455 §5.5.1): `close_code` is
    /// its status code (1005 when it had none), `data` its reason. wsc
    /// completes the closing handshake by itself; `CLOSED` follows.
    CloseFrame = 10,
    /// The bytes waiting to be written reached the send buffer limit
    /// (`wsc_client_set_limits`); sends are refused with `BUFFER_FULL` until
    /// it drains. No data.
    BufferFull = 11,
    /// Everything queued has been written to the socket; comes once after
    /// sends that returned `QUEUED` (on the open connection, or before the
    /// handshake: then after `OPEN`). No data.
    BufferDrain = 12,
}

/// The type of a data message; the numbers are RFC 6455 opcodes (§5.2).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsc_message_type {
    /// Text (opcode 0x1): the payload must be valid UTF-8.
    Text = 1,
    /// Binary (opcode 0x2).
    Binary = 2,
}

/// What `wsc_client_send` did with an accepted message.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsc_send_status {
    /// Written to the socket whole.
    Written = 0,
    /// Queued: before the handshake completed (written right after it, in
    /// order), or the socket was full (written as it drains).
    Queued = 1,
}

/// A client's connection state; the numbers are Workerman's `STATUS_*`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsc_status {
    /// Created, never connected.
    Initial = 0,
    /// Resolving, connecting TCP/TLS, in the opening handshake, or waiting
    /// for a reconnect.
    Connecting = 1,
    /// Open: messages flow both ways.
    Established = 2,
    /// The closing handshake is under way.
    Closing = 8,
    /// Closed.
    Closed = 16,
}

/// One event, owned by the library until `wsc_event_free`. Fields are only
/// ever appended; `struct_size` is `sizeof(wsc_event)` of the library that
/// filled it. Read-only for the caller.
#[repr(C)]
pub struct wsc_event {
    /// Size of this struct in bytes, for forward compatibility.
    pub struct_size: u32,
    /// What happened.
    pub event_type: wsc_event_type,
    /// The id of the client (`wsc_client_id`): unique in the process, never
    /// reused. Events of a freed client that were already queued are still
    /// returned, with its id.
    pub client_id: u64,
    /// The payload (see `wsc_event_type`), `data_len` bytes, valid until
    /// `wsc_event_free`. NULL when `data_len` is 0. For `ERROR`, `CLOSED` and `CLOSE_FRAME`
    /// a NUL byte follows the text (not counted in `data_len`); message
    /// payloads may contain NUL bytes and carry no terminator.
    pub data: *const u8,
    /// Length of `data` in bytes.
    pub data_len: usize,
    /// `WSC_EVENT_TYPE_TEXT`/`BINARY`/`UNDELIVERED`: the message type.
    pub message_type: wsc_message_type,
    /// `WSC_EVENT_TYPE_ERROR`: which failure; `WSC_RESULT_OK` otherwise.
    pub error: wsc_result,
    /// `WSC_EVENT_TYPE_CLOSED`: the close status code (RFC 6455 §7.4): the
    /// server's, 1005 if its close frame had none, 1006 without a closing
    /// handshake. `WSC_EVENT_TYPE_CLOSE_FRAME`: the code in the frame. 0 for
    /// other events.
    pub close_code: u16,
    /// `WSC_EVENT_TYPE_CLOSED`: true when the closing handshake completed.
    pub clean: bool,
}

/// A static, NUL-terminated English sentence for a result code (a
/// `wsc_result` value; unknown numbers give "unknown result code"); never
/// NULL, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_result_str(result: c_int) -> *const c_char {
    let s: &'static CStr = match result {
        r if r == wsc_result::Ok as c_int => c"success",
        r if r == wsc_result::NullArgument as c_int => c"a required pointer argument was NULL",
        r if r == wsc_result::InvalidHandle as c_int => c"the handle is not live (never created, already freed, or of another kind)",
        r if r == wsc_result::InvalidArgument as c_int => c"an argument is out of range or malformed",
        r if r == wsc_result::InvalidUrl as c_int => c"the URL is invalid (it must be ws:// or wss:// with a host and no fragment)",
        r if r == wsc_result::InvalidHeader as c_int => c"the header is invalid (empty or non-token name, CR/LF/NUL in the value, or set by the handshake itself)",
        r if r == wsc_result::InvalidUtf8 as c_int => c"the text is not valid UTF-8",
        r if r == wsc_result::NotConnected as c_int => c"the client is closing or closed: the message was not delivered",
        r if r == wsc_result::BufferFull as c_int => c"the send buffer is full: the message was not accepted",
        r if r == wsc_result::ContextClosed as c_int => c"the context was freed",
        r if r == wsc_result::Panic as c_int => c"internal error (a panic was caught); please report it",
        r if r == wsc_result::Io as c_int => c"an operating-system call failed",
        r if r == wsc_result::Dns as c_int => c"DNS resolution failed",
        r if r == wsc_result::Connect as c_int => c"the TCP connection failed",
        r if r == wsc_result::Tls as c_int => c"the TLS handshake failed",
        r if r == wsc_result::Handshake as c_int => c"the server refused the opening handshake",
        r if r == wsc_result::Protocol as c_int => c"the server violated the WebSocket protocol (1002)",
        r if r == wsc_result::InvalidPayload as c_int => c"invalid UTF-8 arrived in a text message or close reason (1007)",
        r if r == wsc_result::MessageTooBig as c_int => c"an incoming message exceeded the size limit (1009)",
        r if r == wsc_result::Timeout as c_int => c"a timeout expired",
        r if r == wsc_result::ConnectionLost as c_int => c"the connection broke without a closing handshake (1006)",
        r if r == wsc_result::Proxy as c_int => c"the proxy refused the tunnel or the credentials",
        r if r == wsc_result::Forked as c_int => {
            c"the context was created before fork() in another process; create a new one"
        }
        _ => c"unknown result code",
    };
    s.as_ptr()
}

/// The library version, a static NUL-terminated string such as "0.1.0";
/// never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

fn code_of(e: &Error) -> wsc_result {
    match e {
        Error::InvalidArgument(_) => wsc_result::InvalidArgument,
        Error::InvalidUrl(_) => wsc_result::InvalidUrl,
        Error::InvalidHeader(_) => wsc_result::InvalidHeader,
        Error::InvalidUtf8 => wsc_result::InvalidUtf8,
        Error::NotConnected => wsc_result::NotConnected,
        Error::BufferFull => wsc_result::BufferFull,
        Error::ContextClosed => wsc_result::ContextClosed,
        Error::Io(_) => wsc_result::Io,
        Error::Dns(_) => wsc_result::Dns,
        Error::Connect(_) => wsc_result::Connect,
        Error::Tls(_) => wsc_result::Tls,
        Error::Proxy(_) => wsc_result::Proxy,
        Error::Forked => wsc_result::Forked,
        Error::Handshake(_) => wsc_result::Handshake,
        Error::Protocol(_) => wsc_result::Protocol,
        Error::InvalidPayload(_) => wsc_result::InvalidPayload,
        Error::MessageTooBig(_) => wsc_result::MessageTooBig,
        Error::Timeout(_) => wsc_result::Timeout,
        Error::ConnectionLost(_) => wsc_result::ConnectionLost,
        Error::Panic(_) => wsc_result::Panic,
    }
}

thread_local! {
    static LAST_ERROR: std::cell::RefCell<std::ffi::CString> =
        std::cell::RefCell::new(std::ffi::CString::default());
}

/// Records `e` as this thread's last error and returns its code.
fn result_of(e: &Error) -> wsc_result {
    let text = std::ffi::CString::new(e.to_string().replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|l| *l.borrow_mut() = text);
    code_of(e)
}

/// A sentence saying why the last call that failed with an argument or
/// state error on this thread failed, e.g. `invalid header: the value of
/// header "Cookie" contains CR, LF or NUL`; "" when none did. The string is
/// owned by the library and valid until the next failing wsc call on the
/// same thread. Thread-safe (one per thread). Connection failures carry
/// their text in `WSC_EVENT_TYPE_ERROR` events instead.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_last_error() -> *const c_char {
    ffi_boundary!(c"".as_ptr(), { LAST_ERROR.with(|l| l.borrow().as_ptr()) })
}

fn to_result(r: crate::Result<()>) -> wsc_result {
    match r {
        Ok(()) => wsc_result::Ok,
        Err(e) => result_of(&e),
    }
}

/// Reads a NUL-terminated C string as UTF-8.
fn c_str<'a>(p: *const c_char) -> Result<&'a str, wsc_result> {
    if p.is_null() {
        return Err(wsc_result::NullArgument);
    }
    // SAFETY: the caller passes a NUL-terminated string (documented on every
    // function that takes one); NULL was excluded above.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| wsc_result::InvalidUtf8)
}

/// Reads `len` bytes at `p`; NULL is allowed only with `len == 0`.
fn bytes<'a>(p: *const u8, len: usize) -> Result<&'a [u8], wsc_result> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(wsc_result::NullArgument);
    }
    if len > isize::MAX as usize {
        return Err(wsc_result::InvalidArgument);
    }
    // SAFETY: the caller passes `len` readable bytes at `p` (documented);
    // NULL and impossible lengths were excluded above.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Writes `v` to the out-parameter `out` (checked non-NULL by the caller).
fn put<T>(out: *mut T, v: T) {
    // SAFETY: `out` was checked non-NULL and the caller passes a writable
    // location of type T (documented).
    unsafe { out.write(v) }
}

macro_rules! try_client {
    ($ptr:expr) => {{
        if $ptr.is_null() {
            return wsc_result::NullArgument;
        }
        match handle::client($ptr as usize) {
            Some(c) => c,
            None => return wsc_result::InvalidHandle,
        }
    }};
}

macro_rules! try_context {
    ($ptr:expr) => {{
        if $ptr.is_null() {
            return wsc_result::NullArgument;
        }
        match handle::context($ptr as usize) {
            Some(c) => c,
            None => return wsc_result::InvalidHandle,
        }
    }};
}

macro_rules! try_arg {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

/// Creates a context: a poller, an event queue, one fallback thread (and a
/// resolver thread when a host name needs DNS).
///
/// - `out_context`: receives the new context; the caller owns it and frees
///   it with `wsc_context_free`.
///
/// Thread-safe. Results: `OK`; `NULL_ARGUMENT`; `IO` (no poller or thread
/// could be created, e.g. the open-files limit was reached).
#[unsafe(no_mangle)]
pub extern "C" fn wsc_context_new(out_context: *mut *mut wsc_context) -> wsc_result {
    ffi_boundary!({
        if out_context.is_null() {
            return wsc_result::NullArgument;
        }
        match Context::new() {
            Ok(ctx) => {
                put(
                    out_context,
                    handle::register_context(ctx) as *mut wsc_context,
                );
                wsc_result::Ok
            }
            Err(e) => result_of(&e),
        }
    })
}

/// Frees a context: closes all its connections at once (no closing
/// handshake), stops its threads and drops its queued events. Its clients
/// stay valid handles that answer `WSC_RESULT_CONTEXT_CLOSED`; free them
/// too. Events already returned by `wsc_context_poll_event` stay valid
/// until `wsc_event_free`. A `wsc_context_poll_event` running on another
/// thread returns within its timeout with `CONTEXT_CLOSED` or no event.
///
/// - `context`: NULL is a no-op.
///
/// Results: `OK`; `INVALID_HANDLE` (already freed: a double free).
#[unsafe(no_mangle)]
pub extern "C" fn wsc_context_free(context: *mut wsc_context) -> wsc_result {
    ffi_boundary!({
        if context.is_null() {
            return wsc_result::Ok;
        }
        match handle::remove(context as usize, Kind::Context) {
            Some(Handle::Context(ctx)) => {
                ctx.shutdown();
                drop(ctx);
                wsc_result::Ok
            }
            _ => wsc_result::InvalidHandle,
        }
    })
}

/// The context's file descriptor, for another event loop (epoll, libuv,
/// PHP's `stream_select`...): it is readable whenever
/// `wsc_context_poll_event(context, 0, ...)` has work to do. After it turns
/// readable, call `wsc_context_poll_event` with timeout 0 until it returns
/// no event. The fd belongs to the context: do not read, write or close it.
///
/// - `out_fd`: receives the fd, valid until `wsc_context_free`.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_context_fd(context: *const wsc_context, out_fd: *mut c_int) -> wsc_result {
    ffi_boundary!({
        let ctx = try_context!(context);
        if out_fd.is_null() {
            return wsc_result::NullArgument;
        }
        put(out_fd, ctx.fd());
        wsc_result::Ok
    })
}

/// Sets the context's event queue limit, in bytes (default 16 MiB): once
/// the events waiting for the caller (payloads plus 64 bytes per event)
/// exceed it, the context stops reading its sockets, so a server that sends
/// faster than the caller takes events is held back by TCP flow control
/// instead of filling memory (also while no thread polls and the fallback
/// thread keeps the connections alive). Reading resumes once the caller has
/// taken the queue down to half the limit. One message larger than the
/// limit is still delivered whole (messages are bounded by
/// `wsc_client_set_limits`). 0 = read one event at a time. Pings are not
/// answered while reading is held back; the pong timeout waits meanwhile.
///
/// Thread-safe. Results: `OK`; `INVALID_HANDLE`; `CONTEXT_CLOSED`; `FORKED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_context_set_event_queue_limit(
    context: *const wsc_context,
    max_queued_bytes: usize,
) -> wsc_result {
    ffi_boundary!({
        let ctx = try_context!(context);
        to_result(ctx.set_event_queue_limit(max_queued_bytes))
    })
}

/// Waits up to `timeout_ms` for the next event of any client of the
/// context, driving the I/O (reads, writes, pongs, pings, timers,
/// reconnects) on the calling thread while it waits. Events of one client
/// come in the order they happened.
///
/// - `timeout_ms`: milliseconds to wait; 0 = do not wait for I/O (it does
///   wait for a turn of the library's fallback thread that is under way:
///   microseconds, at most 100 ms on an overloaded machine, so that a loop
///   that polls whenever the context fd is readable never spins); negative
///   = wait until an event arrives.
/// - `out_event`: receives the event, or NULL when the timeout passed
///   without one or a signal interrupted the wait (EINTR, so that the
///   caller's signal handlers can run). The caller owns the event and frees it with
///   `wsc_event_free`; its data stays valid until then (also after the
///   client or context is freed).
///
/// Thread-safe: several threads may poll one context; each event goes to
/// exactly one of them. Results: `OK` (event or timeout); `NULL_ARGUMENT`;
/// `INVALID_HANDLE`; `CONTEXT_CLOSED`; `IO` (the poller failed).
#[unsafe(no_mangle)]
pub extern "C" fn wsc_context_poll_event(
    context: *mut wsc_context,
    timeout_ms: i32,
    out_event: *mut *const wsc_event,
) -> wsc_result {
    ffi_boundary!({
        let ctx = try_context!(context);
        if out_event.is_null() {
            return wsc_result::NullArgument;
        }
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        match ctx.poll_event(timeout) {
            Ok(Some(ev)) => {
                put(out_event, handle::register_event(event_box(ev)));
                wsc_result::Ok
            }
            Ok(None) => {
                put(out_event, std::ptr::null());
                wsc_result::Ok
            }
            Err(e) => result_of(&e),
        }
    })
}

fn event_box(ev: crate::Event) -> Box<EventBox> {
    let mut payload = Bytes::new();
    let mut text = Vec::new();
    let mut event_type = wsc_event_type::Connected;
    let mut message_type = wsc_message_type::Binary;
    let mut error = wsc_result::Ok;
    let mut close_code = 0u16;
    let mut clean = false;
    let mt = |t: MessageType| match t {
        MessageType::Text => wsc_message_type::Text,
        MessageType::Binary => wsc_message_type::Binary,
    };
    match ev.kind {
        EventKind::Connected => {}
        EventKind::Open { response_head } => {
            event_type = wsc_event_type::Open;
            payload = response_head;
        }
        EventKind::Message {
            message_type: t,
            data,
        } => {
            event_type = match t {
                MessageType::Text => wsc_event_type::Text,
                MessageType::Binary => wsc_event_type::Binary,
            };
            message_type = mt(t);
            payload = data;
        }
        EventKind::Ping(d) => {
            event_type = wsc_event_type::Ping;
            payload = d;
        }
        EventKind::Pong(d) => {
            event_type = wsc_event_type::Pong;
            payload = d;
        }
        EventKind::Error(e) => {
            event_type = wsc_event_type::Error;
            error = code_of(&e);
            text = e.to_string().into_bytes();
        }
        EventKind::Undelivered {
            message_type: t,
            data,
        } => {
            event_type = wsc_event_type::Undelivered;
            message_type = mt(t);
            payload = data;
        }
        EventKind::BufferFull => event_type = wsc_event_type::BufferFull,
        EventKind::BufferDrain => event_type = wsc_event_type::BufferDrain,
        EventKind::CloseFrame { code, reason } => {
            event_type = wsc_event_type::CloseFrame;
            close_code = code;
            text = reason.into_bytes();
        }
        EventKind::Closed {
            code,
            reason,
            clean: c,
        } => {
            event_type = wsc_event_type::Closed;
            close_code = code;
            clean = c;
            text = reason.into_bytes();
        }
    }
    let (data, data_len) = if !text.is_empty() {
        let len = text.len();
        text.push(0);
        (text.as_ptr(), len)
    } else if !payload.is_empty() {
        (payload.as_ptr(), payload.len())
    } else {
        (std::ptr::null(), 0)
    };
    Box::new(EventBox {
        raw: wsc_event {
            struct_size: std::mem::size_of::<wsc_event>() as u32,
            event_type,
            client_id: ev.client_id,
            data,
            data_len,
            message_type,
            error,
            close_code,
            clean,
        },
        _payload: payload,
        _text: text,
    })
}

/// Like `wsc_context_poll_event`, then takes the events already queued
/// without waiting, up to `capacity` in all: one call drains a batch (fewer
/// calls per event for FFI callers such as PHP).
///
/// - `timeout_ms`: for the first event, as in `wsc_context_poll_event`.
/// - `out_events`: a caller-owned array of `capacity` pointers; the first
///   `*out_count` receive events, each owned by the caller and freed with
///   `wsc_event_free` (or all at once with `wsc_events_free`).
/// - `out_count`: receives the number of events, 0 when the timeout passed
///   or a signal interrupted the wait.
///
/// Thread-safe as `wsc_context_poll_event`. Results: `OK`;
/// `NULL_ARGUMENT`; `INVALID_ARGUMENT` (`capacity` 0); `INVALID_HANDLE`;
/// `CONTEXT_CLOSED`; `FORKED`; `IO`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_context_poll_events(
    context: *mut wsc_context,
    timeout_ms: i32,
    out_events: *mut *const wsc_event,
    capacity: usize,
    out_count: *mut usize,
) -> wsc_result {
    ffi_boundary!({
        let ctx = try_context!(context);
        if out_events.is_null() || out_count.is_null() {
            return wsc_result::NullArgument;
        }
        if capacity == 0 || capacity > isize::MAX as usize / std::mem::size_of::<usize>() {
            return result_of(&Error::InvalidArgument(
                "capacity must be at least 1".into(),
            ));
        }
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        match ctx.poll_events(timeout, capacity) {
            Ok(events) => {
                let n = events.len();
                handle::register_events(events.into_iter().map(event_box), |i, ptr| {
                    // SAFETY: the caller gives `capacity` writable slots and
                    // poll_events returned at most `capacity` events.
                    unsafe { out_events.add(i).write(ptr) };
                });
                put(out_count, n);
                wsc_result::Ok
            }
            Err(e) => result_of(&e),
        }
    })
}

/// Frees `count` events of an array filled by `wsc_context_poll_events`.
/// NULL entries are skipped; each entry is checked as by `wsc_event_free`.
///
/// Results: `OK`; `NULL_ARGUMENT` (`events` NULL with `count` > 0);
/// `INVALID_HANDLE` (an entry was not a live event; the others are freed).
#[unsafe(no_mangle)]
pub extern "C" fn wsc_events_free(events: *const *const wsc_event, count: usize) -> wsc_result {
    ffi_boundary!({
        if count == 0 {
            return wsc_result::Ok;
        }
        if events.is_null() {
            return wsc_result::NullArgument;
        }
        // SAFETY: the caller gives `count` readable entries.
        let keys = (0..count).map(|i| unsafe { events.add(i).read() } as usize);
        if handle::remove_events(keys) {
            wsc_result::Ok
        } else {
            wsc_result::InvalidHandle
        }
    })
}

/// Frees an event returned by `wsc_context_poll_event`, with its data.
///
/// - `event`: NULL is a no-op.
///
/// Results: `OK`; `INVALID_HANDLE` (not an event of wsc, or already freed).
#[unsafe(no_mangle)]
pub extern "C" fn wsc_event_free(event: *const wsc_event) -> wsc_result {
    ffi_boundary!({
        if event.is_null() {
            return wsc_result::Ok;
        }
        match handle::remove(event as usize, Kind::Event) {
            Some(h) => {
                drop(h);
                wsc_result::Ok
            }
            None => wsc_result::InvalidHandle,
        }
    })
}

/// Creates a client of the context for one URL; it does not connect yet.
///
/// - `url`: NUL-terminated UTF-8, `ws://host[:port][/path][?query]` or
///   `wss://...` (RFC 6455 §3); port 80 or 443 by default; IPv6 hosts in
///   brackets. Copied; the caller keeps ownership.
/// - `out_client`: receives the client; the caller owns it and frees it
///   with `wsc_client_free`.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_URL` (does not parse, another scheme, no host, a fragment);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_new(
    context: *mut wsc_context,
    url: *const c_char,
    out_client: *mut *mut wsc_client,
) -> wsc_result {
    ffi_boundary!({
        let ctx = try_context!(context);
        let url = try_arg!(c_str(url));
        if out_client.is_null() {
            return wsc_result::NullArgument;
        }
        match ctx.client(url) {
            Ok(c) => {
                put(out_client, handle::register_client(c) as *mut wsc_client);
                wsc_result::Ok
            }
            Err(e) => result_of(&e),
        }
    })
}

/// Frees a client: closes its connection at once (no closing handshake)
/// and cancels its timers. Events of it already queued are still returned
/// by `wsc_context_poll_event` (with its id); no new ones are made.
///
/// - `client`: NULL is a no-op.
///
/// Results: `OK`; `INVALID_HANDLE` (already freed: a double free).
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_free(client: *mut wsc_client) -> wsc_result {
    ffi_boundary!({
        if client.is_null() {
            return wsc_result::Ok;
        }
        match handle::remove(client as usize, Kind::Client) {
            Some(h) => {
                drop(h);
                wsc_result::Ok
            }
            None => wsc_result::InvalidHandle,
        }
    })
}

/// The client's id, as found in `wsc_event.client_id`: unique in the
/// process, never reused.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_id(client: *const wsc_client, out_id: *mut u64) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        if out_id.is_null() {
            return wsc_result::NullArgument;
        }
        put(out_id, c.id());
        wsc_result::Ok
    })
}

/// Adds a request header to the opening handshake (RFC 6455 §4.1), e.g.
/// `Cookie`, `Origin`, `Authorization`, `Sec-WebSocket-Protocol` (the
/// subprotocols offered, comma-separated; the server's choice is checked).
/// Setting a name again (case-insensitive) replaces its value. Takes effect
/// at the next connect.
///
/// - `name`, `value`: NUL-terminated UTF-8, copied.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_HEADER` (empty or non-token name; CR, LF or NUL in the value;
/// `Upgrade`, `Connection`, `Sec-WebSocket-Key`, `Sec-WebSocket-Version` or
/// `Sec-WebSocket-Extensions`, which the handshake sets itself);
/// `CONTEXT_CLOSED`. `Host` may be set: it replaces the URL's authority in
/// the request (virtual hosting); the TCP connection still goes to the
/// URL's host.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_header(
    client: *mut wsc_client,
    name: *const c_char,
    value: *const c_char,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let name = try_arg!(c_str(name));
        let value = try_arg!(c_str(value));
        to_result(c.set_header(name, value))
    })
}

/// Sends a ping (opcode 0x9, empty payload) every `interval_ms`
/// milliseconds while the connection is open (Workerman's
/// `websocketPingInterval`, there in seconds); 0 turns it off. Takes effect
/// at the next opening of the connection.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_ping_interval(
    client: *mut wsc_client,
    interval_ms: u32,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.set_ping_interval(interval_ms))
    })
}

/// Sets the connect timeout (DNS, TCP and TLS together) and the opening
/// handshake timeout, in milliseconds; 0 leaves a value unchanged. Defaults
/// 10000 and 10000. Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_timeouts(
    client: *mut wsc_client,
    connect_timeout_ms: u32,
    handshake_timeout_ms: u32,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.set_timeouts(connect_timeout_ms, handshake_timeout_ms))
    })
}

/// TLS settings. `use_tls`: use TLS even for a `ws://` URL (Workerman's
/// `transport = 'ssl'`; a URL without a port then uses 443); `wss://`
/// always uses TLS. `verify`: check the server's certificate chain against
/// the system's roots and its host name (default true); false is UNSAFE:
/// anyone on the path can read and change the traffic. Takes effect at the
/// next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls(
    client: *mut wsc_client,
    use_tls: bool,
    verify: bool,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.set_tls(use_tls, verify))
    })
}

/// Reads an optional NUL-terminated UTF-8 string (NULL = `None`).
fn opt_c_str<'a>(p: *const c_char) -> Result<Option<&'a str>, wsc_result> {
    if p.is_null() {
        Ok(None)
    } else {
        c_str(p).map(Some)
    }
}

/// Certificate verification, PHP's `verify_peer` and `verify_peer_name`:
/// `verify_peer` checks the chain against the trusted roots,
/// `verify_peer_name` that the certificate names the host (or
/// `wsc_client_set_tls_peer_name`). Both default to true; turning either
/// off is UNSAFE. Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_verify(
    client: *mut wsc_client,
    verify_peer: bool,
    verify_peer_name: bool,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.set_tls_verify(verify_peer, verify_peer_name))
    })
}

/// Trusts exactly the CA certificates in the PEM file `path` instead of the
/// system's roots (PHP's `cafile`; with `wsc_client_set_tls_ca_path`, the
/// roots of both); NULL returns to the system's roots. The file is read
/// during the call, and parsed once per process while it is unchanged.
///
/// - `path`: NUL-terminated, or NULL; copied.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_ARGUMENT` (unreadable, not PEM, no certificate; see
/// `wsc_last_error`); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_ca_file(
    client: *mut wsc_client,
    path: *const c_char,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let path = try_arg!(opt_c_str(path));
        to_result(c.set_tls_ca_file(path))
    })
}

/// Accept a self-signed server certificate while still checking its name
/// (PHP's `allow_self_signed`): chain verification forgives only a
/// certificate that is self-signed (`X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT`);
/// any other fault still fails. Default false. UNSAFE unless the
/// certificate is trusted by other means. Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_allow_self_signed(
    client: *mut wsc_client,
    allow: bool,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.set_tls_allow_self_signed(allow))
    })
}

/// The name sent as SNI and checked against the server's certificate
/// (PHP's `peer_name`); NULL = the URL's host.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_ARGUMENT` (empty or with spaces); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_peer_name(
    client: *mut wsc_client,
    name: *const c_char,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let name = try_arg!(opt_c_str(name));
        to_result(c.set_tls_peer_name(name))
    })
}

/// Trusts the CA certificates of the folder `path` instead of the system's
/// roots (PHP's `capath`): files named by subject hash (`HASH.0`, as
/// `openssl rehash` makes them), read when a chain is verified. With
/// `wsc_client_set_tls_ca_file`, the roots of both. NULL = no folder.
/// Takes effect at the next connect.
///
/// - `path`: NUL-terminated, or NULL; copied.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_ARGUMENT` (not a readable folder; see `wsc_last_error`);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_ca_path(
    client: *mut wsc_client,
    path: *const c_char,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let path = try_arg!(opt_c_str(path));
        to_result(c.set_tls_ca_path(path))
    })
}

/// The OpenSSL cipher list for TLS 1.2 and older (PHP's `ciphers`; the
/// syntax of `openssl ciphers`, e.g. `ECDHE-ECDSA-AES128-GCM-SHA256`); NULL
/// = the default list. TLS 1.3 cipher suites are not affected. Takes
/// effect at the next connect.
///
/// - `ciphers`: NUL-terminated, or NULL; copied.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_ARGUMENT` (OpenSSL matches no cipher; see `wsc_last_error`);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_ciphers(
    client: *mut wsc_client,
    ciphers: *const c_char,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let ciphers = try_arg!(opt_c_str(ciphers));
        to_result(c.set_tls_ciphers(ciphers))
    })
}

/// OpenSSL's security level (PHP's `security_level`): 0 to 5, the
/// smallest key sizes and oldest protocols allowed (2, Debian's default,
/// refuses keys under 112 bits of security and TLS below 1.2); -1 =
/// OpenSSL's configured default. Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (below -1 or above 5); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_security_level(
    client: *mut wsc_client,
    level: c_int,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let level = match level {
            -1 => None,
            0..=5 => Some(level as u8),
            _ => {
                return result_of(&Error::InvalidArgument(format!(
                    "the TLS security level is -1 or 0 to 5, not {level}"
                )));
            }
        };
        to_result(c.set_tls_security_level(level))
    })
}

/// Sends the server name (peer name or the URL's host) as SNI (RFC 6066
/// §3) in the TLS handshake (PHP's `SNI_enabled`; default true). Never
/// sent for an IP address. Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_sni(client: *mut wsc_client, enabled: bool) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.set_tls_sni(enabled))
    })
}

/// A TLS protocol version, for `wsc_client_set_tls_versions`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsc_tls_version {
    /// No bound at this end: OpenSSL's configuration (TLS 1.2 to 1.3 on
    /// Debian).
    Default = 0,
    /// TLS 1.0 (needs security level 0 with OpenSSL 3).
    Tls10 = 10,
    /// TLS 1.1 (needs security level 0 with OpenSSL 3).
    Tls11 = 11,
    /// TLS 1.2.
    Tls12 = 12,
    /// TLS 1.3.
    Tls13 = 13,
}

fn tls_version_of(v: u32) -> Option<Option<crate::engine::TlsVersion>> {
    use crate::engine::TlsVersion as V;
    Some(match v {
        0 => None,
        10 => Some(V::Tls1_0),
        11 => Some(V::Tls1_1),
        12 => Some(V::Tls1_2),
        13 => Some(V::Tls1_3),
        _ => return None,
    })
}

/// The TLS versions that may be used, `min` to `max` (PHP's
/// `crypto_method`; each a `wsc_tls_version`, `WSC_TLS_VERSION_DEFAULT`
/// for no bound at that end). Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (a value that is not a `wsc_tls_version`, or `min` above `max`);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_versions(
    client: *mut wsc_client,
    min: u32,
    max: u32,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let (Some(lo), Some(hi)) = (tls_version_of(min), tls_version_of(max)) else {
            return result_of(&Error::InvalidArgument(format!(
                "{min} or {max} is not a wsc_tls_version (0, 10, 11, 12, 13)"
            )));
        };
        to_result(c.set_tls_versions(lo, hi))
    })
}

/// Pins the server certificate (PHP's `peer_fingerprint`): after the
/// handshake the digest of the server's certificate (DER) by `algorithm`
/// must equal `fingerprint`, or the attempt fails with `WSC_RESULT_TLS`.
/// Each call adds a pin; all must match. Checked in addition to chain and
/// name verification. Takes effect at the next connect.
///
/// - `algorithm`: an OpenSSL digest name (`sha256`, `sha1`, `md5`, ...),
///   or NULL for PHP's string form: md5 for 32 hex digits, sha1 for 40.
/// - `fingerprint`: hex digits, either case, `:` between bytes allowed.
///   Both NUL-terminated, copied.
///
/// Results: `OK`; `NULL_ARGUMENT` (client, fingerprint); `INVALID_HANDLE`;
/// `INVALID_UTF8`; `INVALID_ARGUMENT` (unknown algorithm, wrong length,
/// not hex; see `wsc_last_error`); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_add_tls_peer_fingerprint(
    client: *mut wsc_client,
    algorithm: *const c_char,
    fingerprint: *const c_char,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let algorithm = try_arg!(opt_c_str(algorithm));
        let fingerprint = try_arg!(c_str(fingerprint));
        to_result(c.add_tls_peer_fingerprint(algorithm, fingerprint))
    })
}

/// Removes every pin of `wsc_client_add_tls_peer_fingerprint`.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_clear_tls_peer_fingerprints(client: *mut wsc_client) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.clear_tls_peer_fingerprints())
    })
}

/// TLS session resumption (RFC 8446 §2.2; default on): a connection offers
/// a session of an earlier one with the same TLS settings, host, port and
/// name on the same context, so that a reconnect skips the full handshake;
/// off, every connect is a full handshake and no session is kept. Takes
/// effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_session_resumption(
    client: *mut wsc_client,
    enabled: bool,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.set_tls_session_resumption(enabled))
    })
}

/// Whether the last TLS handshake of this client resumed an earlier
/// session instead of a full handshake (false before the first TLS
/// handshake and for `ws://`).
///
/// - `out_resumed`: receives the answer; must not be NULL.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_tls_session_resumed(
    client: *const wsc_client,
    out_resumed: *mut bool,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        if out_resumed.is_null() {
            return wsc_result::NullArgument;
        }
        match c.tls_session_resumed() {
            Ok(r) => {
                put(out_resumed, r);
                wsc_result::Ok
            }
            Err(e) => result_of(&e),
        }
    })
}

/// A client certificate for servers that require one (PHP's `local_cert`,
/// `local_pk`, `passphrase`). Files are read during the call.
///
/// - `cert_path`: PEM file with the certificate and its chain (and the
///   private key when `key_path` is NULL).
/// - `key_path`: PEM private key, or NULL.
/// - `passphrase`: for an encrypted key, or NULL.
///
/// Results: `OK`; `NULL_ARGUMENT` (`cert_path`); `INVALID_HANDLE`;
/// `INVALID_UTF8`; `INVALID_ARGUMENT` (unreadable file, wrong passphrase,
/// key and certificate do not match; see `wsc_last_error`);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_client_cert(
    client: *mut wsc_client,
    cert_path: *const c_char,
    key_path: *const c_char,
    passphrase: *const c_char,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let cert = try_arg!(c_str(cert_path));
        let key = try_arg!(opt_c_str(key_path));
        let pass = try_arg!(opt_c_str(passphrase));
        to_result(c.set_tls_client_cert(cert, key, pass))
    })
}

/// Connect through a proxy from the next connect on.
///
/// - `url`: NUL-terminated, `http://[user:pass@]host:port` (HTTP CONNECT;
///   user and password, percent-encoded, go as Basic `Proxy-Authorization`)
///   or `socks5://[user:pass@]host:port` (SOCKS5 with user/password
///   authentication, RFC 1928/1929; the target's name is resolved by the
///   proxy); NULL = connect directly. Copied.
/// - `authorization`: HTTP only, a whole `Proxy-Authorization` header value
///   (e.g. `Basic dXNlcjpwYXNz`) used instead of the URL's credentials; NULL
///   = none. Copied.
///
/// A refused tunnel or bad credentials end the attempt with an `ERROR`
/// event `WSC_RESULT_PROXY` whose text is the proxy's reason.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_ARGUMENT` (not such a URL, or CR/LF in `authorization`; see
/// `wsc_last_error`); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_proxy(
    client: *mut wsc_client,
    url: *const c_char,
    authorization: *const c_char,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let url = try_arg!(opt_c_str(url));
        let auth = try_arg!(opt_c_str(authorization));
        to_result(c.set_proxy(url, auth))
    })
}

/// Automatic reconnects with exponential backoff (off by default, as in
/// Workerman, where the caller reconnects in onClose): after a connection
/// ends or an attempt fails, unless the caller closed or aborted it, wsc
/// connects again after `first_ms` milliseconds, doubled for each attempt
/// in a row that does not open, up to `longest_ms`, less a random part of
/// up to half (jitter). The `CLOSED` event still comes for each end; the
/// status is then `CONNECTING`. `first_ms` 0 turns it off.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (`longest_ms < first_ms`); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_reconnect_backoff(
    client: *mut wsc_client,
    first_ms: u32,
    longest_ms: u32,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.set_reconnect_backoff(first_ms, longest_ms))
    })
}

/// Dead-peer detection: after each ping this client sends, wait at most
/// `timeout_ms` milliseconds for a pong; when none comes, the connection
/// is closed without a closing handshake and reported as an `ERROR`
/// (`WSC_RESULT_TIMEOUT`) then `CLOSED` (1006). 0 turns the check off.
/// Default 10000. Pair it with `wsc_client_set_ping_interval`.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_pong_timeout(
    client: *mut wsc_client,
    timeout_ms: u32,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.set_pong_timeout(timeout_ms))
    })
}

/// Time in milliseconds allowed for the closing handshake (RFC 6455 §7.1)
/// before TCP is closed anyway; default 5000.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (0); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_close_timeout(
    client: *mut wsc_client,
    timeout_ms: u32,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.set_close_timeout(timeout_ms))
    })
}

/// Sets the size limits in bytes; 0 leaves a value unchanged.
/// `max_message_size`: the largest incoming message (fragments joined);
/// larger ones close the connection with 1009 (default 10 MiB).
/// `max_send_buffer_size`: `wsc_client_send` refuses a message with
/// `BUFFER_FULL` while this many bytes or more wait to be written (default
/// 1 MiB).
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_limits(
    client: *mut wsc_client,
    max_message_size: usize,
    max_send_buffer_size: usize,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.set_limits(max_message_size, max_send_buffer_size))
    })
}

/// Turns permessage-deflate compression (RFC 7692) on or off for the next
/// connection attempts (an open connection keeps what it negotiated).
/// Off by default (Workerman's behaviour). On: the opening handshake
/// offers `permessage-deflate` with `options`; if the server accepts,
/// messages are sent compressed and compressed messages from the server
/// are inflated (the message size limit of `wsc_client_set_limits` applies
/// to the inflated size: a bigger one closes with 1009); if it declines,
/// the connection works uncompressed. An answer that does not fit the
/// offer fails the handshake (`WSC_RESULT_HANDSHAKE`). The answer in force:
/// `wsc_client_extensions`.
///
/// Memory per open connection: up to ~300 KiB with context takeover both
/// ways; with `client_no_context_takeover` and `server_no_context_takeover`
/// the (de)compressor exists only while a message is processed.
///
/// - `options`: read during the call (the caller keeps ownership); NULL
///   turns compression off.
///
/// Results: `OK`; `NULL_ARGUMENT` (client); `INVALID_HANDLE`;
/// `INVALID_ARGUMENT` (window bits not 0 or 9..15, level above 9);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_compression(
    client: *mut wsc_client,
    options: *const wsc_compression_options,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let opts = if options.is_null() {
            None
        } else {
            // SAFETY: non-NULL, and the caller passes a readable
            // `wsc_compression_options` (documented); read by value.
            let o = unsafe { options.read() };
            Some(crate::engine::DeflateOptions {
                client_no_context_takeover: o.client_no_context_takeover,
                server_no_context_takeover: o.server_no_context_takeover,
                client_max_window_bits: (o.client_max_window_bits != 0)
                    .then_some(o.client_max_window_bits),
                server_max_window_bits: (o.server_max_window_bits != 0)
                    .then_some(o.server_max_window_bits),
                level: if o.level == 0 { 6 } else { o.level },
            })
        };
        to_result(c.set_compression(opts))
    })
}

/// Starts connecting (non-blocking): DNS, TCP, TLS, opening handshake.
/// Progress arrives as events (`CONNECTED`, `OPEN`, or `ERROR` then
/// `CLOSED`). Ignored (`OK`) when already connecting or open; cancels a
/// pending reconnect delay and connects now.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_connect(client: *mut wsc_client) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.connect())
    })
}

/// Sends one message. Open: written to the socket at once on the calling
/// thread (the rest queued if the socket is full). Not yet open
/// (initial, connecting, waiting to reconnect): queued and written right
/// after the opening handshake, in the order of the calls; if that attempt
/// fails, each queued message comes back as a `WSC_EVENT_TYPE_UNDELIVERED`
/// event.
///
/// - `message_type`: a `wsc_message_type`: `WSC_MESSAGE_TYPE_TEXT` (valid
///   UTF-8 required) or `WSC_MESSAGE_TYPE_BINARY`; other values give
///   `INVALID_ARGUMENT`.
/// - `data`, `data_len`: the payload, copied once; NULL only with length 0.
/// - `out_status`: may be NULL; receives `WRITTEN` or `QUEUED`.
///
/// Results: `OK` (accepted); `NULL_ARGUMENT`; `INVALID_HANDLE`;
/// `INVALID_UTF8` (text that is not UTF-8); `NOT_CONNECTED` (closing or
/// closed: not delivered); `BUFFER_FULL` (not accepted); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_send(
    client: *mut wsc_client,
    message_type: u32,
    data: *const u8,
    data_len: usize,
    out_status: *mut wsc_send_status,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let data = try_arg!(bytes(data, data_len));
        let t = match message_type {
            1 => MessageType::Text,
            2 => MessageType::Binary,
            _ => return wsc_result::InvalidArgument,
        };
        match c.send(t, data) {
            Ok(s) => {
                if !out_status.is_null() {
                    put(
                        out_status,
                        match s {
                            SendStatus::Written => wsc_send_status::Written,
                            SendStatus::Queued => wsc_send_status::Queued,
                            // Until the C enum has QUEUED_BUFFER_FULL (i13-ffi).
                            SendStatus::QueuedBufferFull => wsc_send_status::Queued,
                        },
                    );
                }
                wsc_result::Ok
            }
            Err(e) => result_of(&e),
        }
    })
}

/// Sends a ping (opcode 0x9) now, on an open connection (RFC 6455 §5.5.2).
///
/// - `data`, `data_len`: the payload, at most 125 bytes; NULL only with 0.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (over 125 bytes); `NOT_CONNECTED` (not open); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_ping(
    client: *mut wsc_client,
    data: *const u8,
    data_len: usize,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let data = try_arg!(bytes(data, data_len));
        to_result(c.ping(data))
    })
}

/// Starts the closing handshake (RFC 6455 §7.1.2): sends a close frame with
/// `code` and `reason`, waits for the server's close frame and for it to
/// close TCP (at most the close timeout, 5 s), then reports
/// `WSC_EVENT_TYPE_CLOSED`. Before the connection is open it ends the
/// attempt at once (queued messages come back as `UNDELIVERED`, then
/// `CLOSED` with 1006). Also cancels a pending reconnect. Ignored (`OK`)
/// when already closing or closed.
///
/// - `code`: 1000 (normal), 1001, 1003, 1007-1011, or 3000-4999 (§7.4).
/// - `reason`, `reason_len`: UTF-8, at most 123 bytes; NULL only with 0.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (a code the RFC forbids on the wire, or a reason over 123 bytes);
/// `INVALID_UTF8`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_close(
    client: *mut wsc_client,
    code: u16,
    reason: *const u8,
    reason_len: usize,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let reason = try_arg!(bytes(reason, reason_len));
        let reason = match std::str::from_utf8(reason) {
            Ok(r) => r,
            Err(_) => return wsc_result::InvalidUtf8,
        };
        to_result(c.close(code, reason))
    })
}

/// Connects again after `delay_ms` milliseconds, with the same URL, headers
/// and options (Workerman's `reConnect($after)`, there in seconds). An open
/// connection is closed first, at once, with a `CLOSED` event (1006);
/// messages sent meanwhile are queued for the new connection. A second call
/// replaces the pending delay.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_reconnect(client: *mut wsc_client, delay_ms: u32) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.reconnect(Duration::from_millis(delay_ms.into())))
    })
}

/// Stops reading from the socket (Workerman's `pauseRecv`): no message
/// events until `wsc_client_resume_recv`, and the server feels it through
/// TCP flow control. Writing goes on. Applies to the current connection
/// attempt (a reconnect reads again).
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_pause_recv(client: *mut wsc_client) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.pause_recv())
    })
}

/// Reads again after `wsc_client_pause_recv` (Workerman's `resumeRecv`);
/// data that waited is processed at once.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_resume_recv(client: *mut wsc_client) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.resume_recv())
    })
}

/// Closes the connection at once, without a closing handshake
/// (Workerman's `destroy`): `UNDELIVERED` for each message not written,
/// then `CLOSED` (1006). Cancels a pending reconnect. Ignored when closed.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_abort(client: *mut wsc_client) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.abort())
    })
}

/// Cancels a pending `wsc_client_reconnect` (Workerman's
/// `cancelReconnect`); messages queued for it come back as `UNDELIVERED`.
/// Ignored when no reconnect is pending.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_cancel_reconnect(client: *mut wsc_client) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        to_result(c.cancel_reconnect())
    })
}

/// Byte counts over all connections of this client, handshakes included
/// (Workerman's `bytesRead`/`bytesWritten`; after TLS decryption, before
/// encryption), and the send buffer: bytes accepted by `wsc_client_send`
/// and not yet written.
///
/// - `out_read`, `out_written`, `out_send_buffer`: each may be NULL.
///
/// Results: `OK`; `NULL_ARGUMENT` (client); `INVALID_HANDLE`;
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_bytes(
    client: *const wsc_client,
    out_read: *mut u64,
    out_written: *mut u64,
    out_send_buffer: *mut usize,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        let (r, w) = match c.bytes() {
            Ok(v) => v,
            Err(e) => return result_of(&e),
        };
        let b = match c.send_buffer_size() {
            Ok(v) => v,
            Err(e) => return result_of(&e),
        };
        if !out_read.is_null() {
            put(out_read, r);
        }
        if !out_written.is_null() {
            put(out_written, w);
        }
        if !out_send_buffer.is_null() {
            put(out_send_buffer, b);
        }
        wsc_result::Ok
    })
}

/// The address of one end of the last TCP connection (to the proxy, when
/// one is used), kept after it closed: `local` false = the server's,
/// true = ours. Written as a NUL-terminated string `"127.0.0.1:80"` or
/// `"[::1]:80"` into `buf`.
///
/// - `buf`, `buf_len`: a caller-owned buffer; 48 bytes always suffice.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `NOT_CONNECTED` (no
/// TCP connection yet); `INVALID_ARGUMENT` (`buf_len` too small);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_address(
    client: *const wsc_client,
    local: bool,
    buf: *mut c_char,
    buf_len: usize,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        if buf.is_null() {
            return wsc_result::NullArgument;
        }
        let (peer, mine) = match c.addresses() {
            Ok(v) => v,
            Err(e) => return result_of(&e),
        };
        let Some(addr) = (if local { mine } else { peer }) else {
            return result_of(&Error::NotConnected);
        };
        let text = addr.to_string();
        write_c_string(&text, buf, buf_len)
    })
}

/// Writes `text` and a NUL into the caller's `buf` of `buf_len` bytes
/// (`buf` checked non-NULL by the caller); `INVALID_ARGUMENT`, nothing
/// written, when it does not fit.
fn write_c_string(text: &str, buf: *mut c_char, buf_len: usize) -> wsc_result {
    if text.len() + 1 > buf_len {
        return result_of(&Error::InvalidArgument(format!(
            "the buffer needs {} bytes, it has {buf_len}",
            text.len() + 1
        )));
    }
    // SAFETY: `buf` is non-NULL and the caller gives `buf_len` writable
    // bytes (documented); we write text.len() + 1 <= buf_len bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        buf.add(text.len()).write(0);
    }
    wsc_result::Ok
}

/// The extensions in force on the last connection that opened: the
/// server's `Sec-WebSocket-Extensions` answer (RFC 6455 §9.1), e.g.
/// `permessage-deflate; server_no_context_takeover`, written as a
/// NUL-terminated string into `buf`; the empty string when that connection
/// opened without compression, or none opened yet.
///
/// - `buf`, `buf_len`: a caller-owned buffer; 256 bytes suffice for any
///   answer wsc accepts.
/// - `out_len`: may be NULL; receives the answer's length in bytes
///   (without the NUL), also when `buf_len` is too small.
///
/// Results: `OK`; `NULL_ARGUMENT` (client, buf); `INVALID_HANDLE`;
/// `INVALID_ARGUMENT` (`buf_len` too small: nothing written but
/// `out_len`); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_extensions(
    client: *const wsc_client,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        if buf.is_null() {
            return wsc_result::NullArgument;
        }
        let text = match c.extensions() {
            Ok(v) => v.unwrap_or_default(),
            Err(e) => return result_of(&e),
        };
        if !out_len.is_null() {
            put(out_len, text.len());
        }
        write_c_string(&text, buf, buf_len)
    })
}

/// The client's connection state (numbers as Workerman's `STATUS_*`).
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_status(
    client: *const wsc_client,
    out_status: *mut wsc_status,
) -> wsc_result {
    ffi_boundary!({
        let c = try_client!(client);
        if out_status.is_null() {
            return wsc_result::NullArgument;
        }
        match c.status() {
            Ok(s) => {
                put(
                    out_status,
                    match s {
                        Status::Initial => wsc_status::Initial,
                        Status::Connecting => wsc_status::Connecting,
                        Status::Established => wsc_status::Established,
                        Status::Closing => wsc_status::Closing,
                        Status::Closed => wsc_status::Closed,
                    },
                );
                wsc_result::Ok
            }
            Err(e) => result_of(&e),
        }
    })
}
