//! Events handed to C: `wsc_event` and its enums, the box that owns an
//! event's bytes while C reads them, and `wsc_event_free`/`wsc_events_free`.
//! (Events are taken with `wsc_context_poll_event(s)`, in `context.rs`.)

use super::boundary::ffi_boundary;
use super::registry::{self, Kind};
use super::result::wsc_result;
use crate::event::{Event, EventKind, MessageType, ReconnectReason};
use tungstenite::Bytes;

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
    /// The automatic reconnect policy decided (with the backoff on,
    /// `wsc_client_set_reconnect_backoff`; not after the caller's close):
    /// `reconnect_delay_ms` until the next attempt, `reconnect_reason` why
    /// (or why not reconnecting), `reconnect_attempt` its number in a row;
    /// `data` the decision in words. Comes after the `ERROR` and
    /// `UNDELIVERED` events of the end and before its `CLOSED`.
    Reconnect = 13,
}

/// Why the reconnect policy decided as it did.
///
/// The `reconnect_reason` of a `WSC_EVENT_TYPE_RECONNECT` event.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsc_reconnect_reason {
    /// Not a `RECONNECT` event.
    None = 0,
    /// Reconnecting after the backoff's delay.
    Backoff = 1,
    /// Reconnecting after the delay of the server's `Retry-After` (429 or
    /// 503, RFC 9110 §10.2.3), longer than the backoff's.
    RetryAfter = 2,
    /// Not reconnecting: the failure will not go away by itself (a status
    /// that is not retried, see `wsc_client_set_reconnect_status`; a TLS
    /// certificate failure; bad settings).
    Fatal = 3,
    /// Not reconnecting: `wsc_client_set_reconnect_max_attempts` attempts
    /// in a row failed.
    AttemptsExhausted = 4,
}

impl From<ReconnectReason> for wsc_reconnect_reason {
    fn from(r: ReconnectReason) -> Self {
        match r {
            ReconnectReason::Backoff => wsc_reconnect_reason::Backoff,
            ReconnectReason::RetryAfter => wsc_reconnect_reason::RetryAfter,
            ReconnectReason::Fatal => wsc_reconnect_reason::Fatal,
            ReconnectReason::AttemptsExhausted => wsc_reconnect_reason::AttemptsExhausted,
        }
    }
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

impl From<MessageType> for wsc_message_type {
    fn from(t: MessageType) -> Self {
        match t {
            MessageType::Text => wsc_message_type::Text,
            MessageType::Binary => wsc_message_type::Binary,
        }
    }
}

impl wsc_message_type {
    /// The message type of a `wsc_message_type` number from C; `None` for
    /// any other number.
    pub(crate) fn from_c(n: u32) -> Option<MessageType> {
        match n {
            n if n == wsc_message_type::Text as u32 => Some(MessageType::Text),
            n if n == wsc_message_type::Binary as u32 => Some(MessageType::Binary),
            _ => None,
        }
    }
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
    /// `wsc_event_free`. NULL when `data_len` is 0. For `ERROR`, `CLOSED`,
    /// `CLOSE_FRAME` and `RECONNECT` a NUL byte follows the text (not
    /// counted in `data_len`); message payloads may contain NUL bytes and
    /// carry no terminator.
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
    /// `WSC_EVENT_TYPE_ERROR` with `WSC_RESULT_HANDSHAKE` for a refusal (a
    /// status other than 101): the HTTP status, e.g. 403; 0 otherwise.
    pub http_status: u16,
    /// With `http_status`: the server's raw response head as received
    /// (status line with its reason phrase, headers, the empty line),
    /// `http_head_len` bytes, valid until `wsc_event_free`; NULL otherwise.
    pub http_head: *const u8,
    /// Length of `http_head` in bytes.
    pub http_head_len: usize,
    /// With `http_status`: the first bytes of the response body (at most
    /// 4096, chunked coding removed; what arrived within 300 ms of the
    /// head), `http_body_len` bytes, valid until `wsc_event_free`; NULL when
    /// none came.
    pub http_body: *const u8,
    /// Length of `http_body` in bytes.
    pub http_body_len: usize,
    /// `WSC_EVENT_TYPE_RECONNECT`: milliseconds until the next attempt; 0
    /// when not reconnecting.
    pub reconnect_delay_ms: u64,
    /// `WSC_EVENT_TYPE_RECONNECT`: why; `WSC_RECONNECT_REASON_NONE` for
    /// other events.
    pub reconnect_reason: wsc_reconnect_reason,
    /// `WSC_EVENT_TYPE_RECONNECT`: the number of the attempt in a row that
    /// follows (1 for the first); when not reconnecting, the attempts made
    /// in a row. 0 for other events.
    pub reconnect_attempt: u32,
}

/// An event handed to C: the `#[repr(C)]` view first, so that a pointer to
/// the box is a pointer to the `wsc_event`, then the storage its pointers
/// point into.
#[repr(C)]
pub(crate) struct EventBox {
    pub(crate) raw: wsc_event,
    _payload: Bytes,
    _text: Vec<u8>,
    /// The response of a refused handshake (`http_head`, `http_body`).
    _refusal: Option<Box<crate::error::HandshakeResponse>>,
}

// SAFETY: the raw pointers in `raw` point into `_payload`/`_text`, which the
// box owns and never mutates; moving the box between threads is fine.
unsafe impl Send for EventBox {}
// SAFETY: as for Send: nothing in the box is mutated after it is built.
unsafe impl Sync for EventBox {}

/// The C view of an event without its pointers (`data` NULL, `data_len`
/// 0), and the storage of its data: a message payload (not copied) or a
/// text (error, close reason), without a NUL. One of the two is empty.
pub(crate) fn c_parts(ev: Event) -> CParts {
    let mut raw = wsc_event {
        struct_size: std::mem::size_of::<wsc_event>() as u32,
        event_type: wsc_event_type::Connected,
        client_id: ev.client_id,
        data: std::ptr::null(),
        data_len: 0,
        message_type: wsc_message_type::Binary,
        error: wsc_result::Ok,
        close_code: 0,
        clean: false,
        http_status: 0,
        http_head: std::ptr::null(),
        http_head_len: 0,
        http_body: std::ptr::null(),
        http_body_len: 0,
        reconnect_delay_ms: 0,
        reconnect_reason: wsc_reconnect_reason::None,
        reconnect_attempt: 0,
    };
    let mut refusal = None;
    let mut payload = Bytes::new();
    let mut text = Vec::new();
    match ev.kind {
        EventKind::Connected => {}
        EventKind::Open { response_head } => {
            raw.event_type = wsc_event_type::Open;
            payload = response_head;
        }
        EventKind::Message { message_type, data } => {
            raw.event_type = match message_type {
                MessageType::Text => wsc_event_type::Text,
                MessageType::Binary => wsc_event_type::Binary,
            };
            raw.message_type = message_type.into();
            payload = data;
        }
        EventKind::Ping(d) => {
            raw.event_type = wsc_event_type::Ping;
            payload = d;
        }
        EventKind::Pong(d) => {
            raw.event_type = wsc_event_type::Pong;
            payload = d;
        }
        EventKind::Error(e) => {
            raw.event_type = wsc_event_type::Error;
            raw.error = (&e).into();
            text = e.to_string().into_bytes();
            if let crate::Error::Handshake(r) = e
                && let crate::error::HandshakeFault::Status(resp) = r.kind
            {
                raw.http_status = resp.status;
                (raw.http_head, raw.http_head_len) = (resp.head.as_ptr(), resp.head.len());
                if !resp.body.is_empty() {
                    (raw.http_body, raw.http_body_len) = (resp.body.as_ptr(), resp.body.len());
                }
                refusal = Some(resp);
            }
        }
        EventKind::Undelivered { message_type, data } => {
            raw.event_type = wsc_event_type::Undelivered;
            raw.message_type = message_type.into();
            payload = data;
        }
        EventKind::BufferFull => raw.event_type = wsc_event_type::BufferFull,
        EventKind::BufferDrain => raw.event_type = wsc_event_type::BufferDrain,
        EventKind::CloseFrame { code, reason } => {
            raw.event_type = wsc_event_type::CloseFrame;
            raw.close_code = code;
            text = reason.into_bytes();
        }
        EventKind::Closed {
            code,
            reason,
            clean,
        } => {
            raw.event_type = wsc_event_type::Closed;
            raw.close_code = code;
            raw.clean = clean;
            text = reason.into_bytes();
        }
        EventKind::Reconnect {
            delay_ms,
            reason,
            attempt,
            text: words,
        } => {
            raw.event_type = wsc_event_type::Reconnect;
            raw.reconnect_delay_ms = delay_ms;
            raw.reconnect_reason = reason.into();
            raw.reconnect_attempt = attempt;
            text = words.into_bytes();
        }
    }
    (raw, payload, text, refusal)
}

/// An event split by [`c_parts`]: its `wsc_event` (`data` not set yet;
/// `http_head`/`http_body` point into the refusal), the message payload,
/// the text (error, close reason, reconnect decision), and the refused
/// handshake's response that `http_head`/`http_body` point into.
pub(crate) type CParts = (
    wsc_event,
    Bytes,
    Vec<u8>,
    Option<Box<crate::error::HandshakeResponse>>,
);

impl From<Event> for Box<EventBox> {
    /// The C view of an event. Message payloads are not copied (`data`
    /// points into the `Bytes`); texts (error, close reason) get a NUL after
    /// them.
    fn from(ev: Event) -> Self {
        let (mut raw, payload, mut text, refusal) = c_parts(ev);
        if !text.is_empty() {
            raw.data_len = text.len();
            text.push(0);
            raw.data = text.as_ptr();
        } else if !payload.is_empty() {
            raw.data = payload.as_ptr();
            raw.data_len = payload.len();
        }
        Box::new(EventBox {
            raw,
            _payload: payload,
            _text: text,
            _refusal: refusal,
        })
    }
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
        if registry::remove_events(keys) {
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
        match registry::remove(event as usize, Kind::Event) {
            Some(h) => {
                drop(h);
                wsc_result::Ok
            }
            None => wsc_result::InvalidHandle,
        }
    })
}
