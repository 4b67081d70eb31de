//! `wsc_client`: one WebSocket connection to one URL, reconnectable. Its
//! life (new, free, id), what it does (connect, send, ping, close,
//! reconnect, pause/resume, abort) and what it reports (status, byte
//! counts, addresses, extensions, TLS resumption). Its settings, the
//! `wsc_client_set_*`, are in `client_config.rs`.

use super::boundary::{
    bytes, c_str, ffi_boundary, put, put_opt, try_arg, try_context, with_client, write_c_string,
};
use super::context::wsc_context;
use super::event::wsc_message_type;
use super::registry::{self, Kind};
use super::result::{record, result, wsc_result};
use crate::engine::{SendStatus, Status};
use crate::error::Error;
use std::ffi::c_char;
use std::time::Duration;

/// Opaque: a client, one WebSocket connection to one URL, reconnectable.
/// Create with `wsc_client_new`, free with `wsc_client_free`.
pub struct wsc_client {
    _private: [u8; 0],
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
    /// Queued as with `QUEUED`, and with it the bytes waiting to be written
    /// reached the send buffer limit (`max_send_buffer_size` of
    /// `wsc_client_set_limits`): the next sends are refused with
    /// `BUFFER_FULL` until the buffer drains. The
    /// `WSC_EVENT_TYPE_BUFFER_FULL` event still follows, once per time the
    /// buffer fills; `BUFFER_DRAIN` comes when it has drained.
    QueuedBufferFull = 2,
    /// Accepted while the caller dispatches a batch of events (this thread
    /// took an event from `wsc_context_poll_event(s)` and more are queued):
    /// held with the other messages sent meanwhile and written with them in
    /// one write when the batch ends (the caller takes the last queued
    /// event or polls again; if it stops polling, the fallback thread
    /// writes them within about 10 ms). No `BUFFER_DRAIN` follows; a
    /// message that cannot be written any more comes back as `UNDELIVERED`.
    Corked = 3,
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

impl From<SendStatus> for wsc_send_status {
    fn from(s: SendStatus) -> Self {
        match s {
            SendStatus::Written => wsc_send_status::Written,
            SendStatus::Queued => wsc_send_status::Queued,
            SendStatus::QueuedBufferFull => wsc_send_status::QueuedBufferFull,
            SendStatus::Corked => wsc_send_status::Corked,
        }
    }
}

impl From<Status> for wsc_status {
    fn from(s: Status) -> Self {
        match s {
            Status::Initial => wsc_status::Initial,
            Status::Connecting => wsc_status::Connecting,
            Status::Established => wsc_status::Established,
            Status::Closing => wsc_status::Closing,
            Status::Closed => wsc_status::Closed,
        }
    }
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
                put(out_client, registry::register_client(c) as *mut wsc_client);
                wsc_result::Ok
            }
            Err(e) => record(&e),
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
        match registry::remove(client as usize, Kind::Client) {
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
    with_client(client, |c| {
        if out_id.is_null() {
            return wsc_result::NullArgument;
        }
        put(out_id, c.id());
        wsc_result::Ok
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
    with_client(client, |c| result(c.connect()))
}

/// Sends one message. Open: written to the socket at once on the calling
/// thread (the rest queued if the socket is full), or corked when this
/// thread is dispatching a batch of events (it took an event and more are
/// queued: `WSC_SEND_STATUS_CORKED`, written with the batch's other sends
/// when it ends). Not yet open
/// (initial, connecting, waiting to reconnect): queued and written right
/// after the opening handshake, in the order of the calls; if that attempt
/// fails, each queued message comes back as a `WSC_EVENT_TYPE_UNDELIVERED`
/// event.
///
/// - `message_type`: a `wsc_message_type`: `WSC_MESSAGE_TYPE_TEXT` (valid
///   UTF-8 required) or `WSC_MESSAGE_TYPE_BINARY`; other values give
///   `INVALID_ARGUMENT`.
/// - `data`, `data_len`: the payload, copied once; NULL only with length 0.
/// - `out_status`: may be NULL; receives `WRITTEN`, `QUEUED`,
///   `QUEUED_BUFFER_FULL` or `CORKED` (a `wsc_send_status`).
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
    with_client(client, |c| {
        let data = try_arg!(bytes(data, data_len));
        let Some(t) = wsc_message_type::from_c(message_type) else {
            return wsc_result::InvalidArgument;
        };
        match c.send(t, data) {
            Ok(s) => {
                put_opt(out_status, s.into());
                wsc_result::Ok
            }
            Err(e) => record(&e),
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
    with_client(client, |c| {
        let data = try_arg!(bytes(data, data_len));
        result(c.ping(data))
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
/// - `code`: 1000 (normal) to 1003, 1007 to 1014, or 3000 to 4999: the
///   codes an endpoint may send (RFC 6455 §7.4; 1004-1006 and 1015 never
///   go on the wire; 1012-1014 are registered with IANA since).
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
    with_client(client, |c| {
        let reason = try_arg!(bytes(reason, reason_len));
        let reason = match std::str::from_utf8(reason) {
            Ok(r) => r,
            Err(_) => return wsc_result::InvalidUtf8,
        };
        result(c.close(code, reason))
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
    with_client(client, |c| {
        result(c.reconnect(Duration::from_millis(delay_ms.into())))
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
    with_client(client, |c| result(c.pause_recv()))
}

/// Reads again after `wsc_client_pause_recv` (Workerman's `resumeRecv`);
/// data that waited is processed at once.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_resume_recv(client: *mut wsc_client) -> wsc_result {
    with_client(client, |c| result(c.resume_recv()))
}

/// Closes the connection at once, without a closing handshake
/// (Workerman's `destroy`): `UNDELIVERED` for each message not written,
/// then `CLOSED` (1006). Cancels a pending reconnect. Ignored when closed.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_abort(client: *mut wsc_client) -> wsc_result {
    with_client(client, |c| result(c.abort()))
}

/// Cancels a pending `wsc_client_reconnect` (Workerman's
/// `cancelReconnect`); messages queued for it come back as `UNDELIVERED`.
/// Ignored when no reconnect is pending.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_cancel_reconnect(client: *mut wsc_client) -> wsc_result {
    with_client(client, |c| result(c.cancel_reconnect()))
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
    with_client(client, |c| {
        let (r, w) = match c.bytes() {
            Ok(v) => v,
            Err(e) => return record(&e),
        };
        let b = match c.send_buffer_size() {
            Ok(v) => v,
            Err(e) => return record(&e),
        };
        put_opt(out_read, r);
        put_opt(out_written, w);
        put_opt(out_send_buffer, b);
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
    with_client(client, |c| {
        if buf.is_null() {
            return wsc_result::NullArgument;
        }
        let (peer, mine) = match c.addresses() {
            Ok(v) => v,
            Err(e) => return record(&e),
        };
        let Some(addr) = (if local { mine } else { peer }) else {
            return record(&Error::NotConnected);
        };
        let text = addr.to_string();
        write_c_string(&text, buf, buf_len)
    })
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
    with_client(client, |c| {
        if buf.is_null() {
            return wsc_result::NullArgument;
        }
        let text = match c.extensions() {
            Ok(v) => v.unwrap_or_default(),
            Err(e) => return record(&e),
        };
        put_opt(out_len, text.len());
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
    with_client(client, |c| {
        if out_status.is_null() {
            return wsc_result::NullArgument;
        }
        match c.status() {
            Ok(s) => {
                put(out_status, s.into());
                wsc_result::Ok
            }
            Err(e) => record(&e),
        }
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
    with_client(client, |c| {
        if out_resumed.is_null() {
            return wsc_result::NullArgument;
        }
        match c.tls_session_resumed() {
            Ok(r) => {
                put(out_resumed, r);
                wsc_result::Ok
            }
            Err(e) => record(&e),
        }
    })
}

/// The compression of one message (`wsc_client_send_with`).
/// RFC 7692 §6: with permessage-deflate in force each message is
/// compressed or not; without it every message goes uncompressed.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsc_compress {
    /// Compressed when its payload is at least the client's threshold
    /// (`wsc_client_set_compression_threshold`), as `wsc_client_send`.
    Auto = 0,
    /// Compressed whatever its size.
    Always = 1,
    /// Sent uncompressed (data already compressed; or a message that must
    /// not share a compression context with secrets, RFC 7692 §10).
    Never = 2,
}

/// `wsc_client_send` with this message's compression chosen: `compress` a
/// `wsc_compress` (`WSC_COMPRESS_AUTO`, `_ALWAYS`, `_NEVER`). A message
/// queued before the handshake keeps its choice. Everything else as
/// `wsc_client_send`.
///
/// Results: as `wsc_client_send`; `INVALID_ARGUMENT` also for a
/// `compress` value that is not a `wsc_compress`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_send_with(
    client: *mut wsc_client,
    message_type: u32,
    data: *const u8,
    data_len: usize,
    compress: u32,
    out_status: *mut wsc_send_status,
) -> wsc_result {
    with_client(client, |c| {
        let data = try_arg!(bytes(data, data_len));
        let Some(t) = wsc_message_type::from_c(message_type) else {
            return wsc_result::InvalidArgument;
        };
        let z = match compress {
            0 => crate::Compress::Auto,
            1 => crate::Compress::Always,
            2 => crate::Compress::Never,
            _ => return wsc_result::InvalidArgument,
        };
        match c.send_with(t, data, z) {
            Ok(s) => {
                put_opt(out_status, s.into());
                wsc_result::Ok
            }
            Err(e) => record(&e),
        }
    })
}

/// Link metrics of a client, filled by `wsc_client_metrics`. Durations are
/// in microseconds, -1 when not measured (yet); counts are over the
/// client's whole life. Fields are only ever appended: set `size` to
/// `sizeof(wsc_link_metrics)` before the call; the library fills the
/// fields that fit in `size` and sets `size` to the bytes it filled, so a
/// program built against an older header keeps working; fields past the
/// returned `size` (a header newer than the library) are left untouched.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wsc_link_metrics {
    /// In: `sizeof(wsc_link_metrics)` as the caller knows it; out: the
    /// bytes the library filled (from the start of the struct).
    pub size: usize,
    /// The round-trip time of the last ping answered by a pong: from
    /// writing the ping until the pong was read (RFC 6455 §5.5.2-3; the
    /// read happens when the caller polls, or at the latest ~10 ms later
    /// on the fallback thread). Pings are those of
    /// `wsc_client_set_ping_interval` and `wsc_client_ping`.
    pub rtt_last_us: i64,
    /// Smoothed RTT, RFC 6298 §2 (SRTT, alpha 1/8).
    pub rtt_smoothed_us: i64,
    /// RTT variation, RFC 6298 §2 (RTTVAR, beta 1/4).
    pub rtt_variation_us: i64,
    /// Pongs that gave an RTT sample.
    pub rtt_samples: u64,
    /// The last connect that opened: name resolution (-1 for an IP
    /// address).
    pub connect_dns_us: i64,
    /// TCP connect (to the server, or to the proxy).
    pub connect_tcp_us: i64,
    /// The proxy tunnel (HTTP CONNECT or SOCKS5); -1 without a proxy.
    pub connect_proxy_us: i64,
    /// The TLS handshake; -1 for `ws://`.
    pub connect_tls_us: i64,
    /// The opening handshake (request until the checked 101 response).
    pub connect_handshake_us: i64,
    /// The whole attempt, start to open.
    pub connect_total_us: i64,
    /// Connection attempts started (the first connect included).
    pub connects: u64,
    /// Attempts after the first (automatic reconnects,
    /// `wsc_client_reconnect`, `wsc_client_connect` after a close).
    pub reconnects: u64,
    /// Attempts that opened.
    pub opens: u64,
    /// Data messages written to the socket or its buffer (heartbeats
    /// included; not those still queued before the handshake).
    pub messages_sent: u64,
    /// Data messages received.
    pub messages_received: u64,
    /// Payload bytes of the messages sent (before compression).
    pub payload_bytes_sent: u64,
    /// Payload bytes of the messages received (after decompression).
    pub payload_bytes_received: u64,
    /// Bytes read, handshakes and frame headers included (after TLS
    /// decryption), as `wsc_client_bytes`.
    pub wire_bytes_read: u64,
    /// Bytes written, as `wsc_client_bytes`.
    pub wire_bytes_written: u64,
}

impl From<crate::LinkMetrics> for wsc_link_metrics {
    fn from(m: crate::LinkMetrics) -> Self {
        let us = |d: Option<std::time::Duration>| {
            d.map_or(-1, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        };
        wsc_link_metrics {
            size: std::mem::size_of::<wsc_link_metrics>(),
            rtt_last_us: us(m.rtt_last),
            rtt_smoothed_us: us(m.rtt_smoothed),
            rtt_variation_us: us(m.rtt_variation),
            rtt_samples: m.rtt_samples,
            connect_dns_us: us(m.connect.dns),
            connect_tcp_us: us(m.connect.tcp),
            connect_proxy_us: us(m.connect.proxy),
            connect_tls_us: us(m.connect.tls),
            connect_handshake_us: us(m.connect.handshake),
            connect_total_us: us(m.connect.total),
            connects: m.connects,
            reconnects: m.reconnects,
            opens: m.opens,
            messages_sent: m.messages_sent,
            messages_received: m.messages_received,
            payload_bytes_sent: m.payload_bytes_sent,
            payload_bytes_received: m.payload_bytes_received,
            wire_bytes_read: m.wire_bytes_read,
            wire_bytes_written: m.wire_bytes_written,
        }
    }
}

/// The link metrics of a client: RTT from ping/pong, the phase timings of
/// the last connect that opened, connection counts, messages and bytes
/// each way (see `wsc_link_metrics`). Cheap: a copy of counters kept on
/// the connection, under the context lock.
///
/// - `out_metrics`: a caller-owned struct whose `size` the caller set to
///   `sizeof(wsc_link_metrics)`; the fields that fit in `size` are filled
///   (whole fields only) and `size` is set to the bytes filled.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (`size` too small for `size` and one field: below 16 bytes on 64-bit
/// systems); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_metrics(
    client: *const wsc_client,
    out_metrics: *mut wsc_link_metrics,
) -> wsc_result {
    with_client(client, |c| {
        if out_metrics.is_null() {
            return wsc_result::NullArgument;
        }
        // SAFETY: non-NULL; the caller passes a struct at least `size`
        // bytes long whose first field is `size` (documented).
        let asked = unsafe { std::ptr::addr_of!((*out_metrics).size).read_unaligned() };
        let head = std::mem::offset_of!(wsc_link_metrics, rtt_last_us);
        if asked < head + 8 {
            return wsc_result::InvalidArgument;
        }
        let m = match c.metrics() {
            Ok(m) => wsc_link_metrics::from(m),
            Err(e) => return record(&e),
        };
        let full = std::mem::size_of::<wsc_link_metrics>();
        // Whole 8-byte fields after `size` only.
        let n = head + ((asked.min(full) - head) / 8) * 8;
        let mut m = m;
        m.size = n;
        // SAFETY: `out_metrics` has room for `asked >= n` bytes (the
        // caller's promise); `m` is a full struct of `full >= n` bytes;
        // the two do not overlap (`m` is on our stack).
        unsafe {
            std::ptr::copy_nonoverlapping(
                (&m as *const wsc_link_metrics).cast::<u8>(),
                out_metrics.cast::<u8>(),
                n,
            );
        }
        wsc_result::Ok
    })
}
