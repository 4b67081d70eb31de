//! What happens on a connection, as the caller receives it from
//! [`crate::Context::poll_event`].

use crate::error::Error;
use tungstenite::Bytes;

/// The kind of a data message (RFC 6455 §5.6); the numbers are the opcodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// A text message (opcode 0x1): UTF-8, checked on both sides.
    Text = 1,
    /// A binary message (opcode 0x2).
    Binary = 2,
}

/// One event of one client, in the order it happened on that client.
#[derive(Debug, Clone)]
pub struct Event {
    /// The id of the client ([`crate::Client::id`]): unique in the process,
    /// never reused.
    pub client_id: u64,
    /// What happened.
    pub kind: EventKind,
}

/// What one queued event holds beside its payload, in bytes: its slot in
/// the event channel (the event and the slot's state word) and its share
/// of the channel block's header.
const QUEUED_EVENT_BYTES: usize = std::mem::size_of::<Event>() + 16;

/// What a payload of `len` bytes holds while it is queued, in bytes: a
/// received message stays in the read buffer its frame was read into (the
/// payload with its frame header, up to 14 bytes), each allocation carries
/// malloc's header (16 bytes on 64-bit glibc), and malloc hands out 16-byte
/// multiples. Measured (heaptrack, 1,000,000 pushed 100-byte messages):
/// about 200 bytes of heap per queued message event; this counts 216.
fn queued_payload_bytes(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        (len + 14 + 16).next_multiple_of(16)
    }
}

impl Event {
    /// What this event counts against the context's event queue limit, in
    /// bytes: the memory it holds while queued, its slot in the queue plus
    /// its payload's allocation (see [`queued_payload_bytes`]).
    pub(crate) fn queued_size(&self) -> usize {
        QUEUED_EVENT_BYTES
            + queued_payload_bytes(match &self.kind {
                EventKind::Open { response_head } => response_head.len(),
                EventKind::Message { data, .. } | EventKind::Undelivered { data, .. } => data.len(),
                EventKind::Ping(p) | EventKind::Pong(p) => p.len(),
                EventKind::CloseFrame { reason, .. } | EventKind::Closed { reason, .. } => {
                    reason.len()
                }
                EventKind::Error(e) => e.to_string().len(),
                EventKind::Reconnect { text, .. } => text.len(),
                EventKind::Connected | EventKind::BufferFull | EventKind::BufferDrain => 0,
            })
    }
}

/// What happened. Per connection attempt the order is: `Connected`, `Open`,
/// then messages, pings and pongs, then `Closed`; a failure before `Open`
/// gives `Error` then `Closed`. `Undelivered` comes before the `Closed` of
/// the attempt whose end dropped the message.
#[derive(Debug, Clone)]
pub enum EventKind {
    /// The TCP connection (and TLS, for `wss://`) is established; the
    /// opening handshake starts now (Workerman's `onConnect`).
    Connected,
    /// The opening handshake succeeded (101 and a valid
    /// `Sec-WebSocket-Accept`, RFC 6455 §4.1): the connection is open.
    /// `response_head` is the server's response head exactly as received,
    /// status line and headers up to and including the empty line.
    Open {
        /// The raw HTTP response head, as received.
        response_head: Bytes,
    },
    /// A whole message arrived (fragments joined, RFC 6455 §5.4).
    Message {
        /// Text or binary.
        message_type: MessageType,
        /// The payload; valid UTF-8 when `message_type` is text.
        data: Bytes,
    },
    /// A ping arrived (RFC 6455 §5.5.2); the pong was sent automatically.
    Ping(Bytes),
    /// A pong arrived (RFC 6455 §5.5.3).
    Pong(Bytes),
    /// The server's close frame arrived (RFC 6455 §5.5.1), starting the
    /// closing handshake or answering ours. wsc completes the handshake by
    /// itself (echoes the frame if the server started); `Closed` follows
    /// (Workerman's `onWebSocketClose`).
    CloseFrame {
        /// The status code in the frame, 1005 when it carried none.
        code: u16,
        /// The close reason (UTF-8, checked).
        reason: String,
    },
    /// A failure: before the connection opened (DNS, TCP, TLS, handshake,
    /// timeout) or one that ends an open connection (protocol violation by
    /// the server, oversized message). A `Closed` event follows.
    Error(Error),
    /// A message accepted by `send` that will never be written: the
    /// connection attempt ended before it could be (RFC 6455 gives no
    /// delivery guarantee; wsc reports every message it drops).
    Undelivered {
        /// Text or binary, as it was sent.
        message_type: MessageType,
        /// The payload, as it was sent.
        data: Bytes,
    },
    /// The bytes waiting to be written reached the send buffer limit
    /// (`max_send_buffer_size`); further sends are refused until it drains
    /// (Workerman's `onBufferFull`).
    BufferFull,
    /// Everything queued has been written to the socket (Workerman's
    /// `onBufferDrain`); comes once after sends that had to queue: on the
    /// open connection, or before the handshake (then after `Open`).
    BufferDrain,
    /// The connection is gone, whatever the reason (Workerman's `onClose`).
    Closed {
        /// The status code of the closing handshake (RFC 6455 §7.1.5): the
        /// server's, or ours if the server echoed none; 1005 when a close
        /// frame carried no code; 1006 when the connection ended without a
        /// closing handshake.
        code: u16,
        /// The close reason (UTF-8), or the error text for 1006.
        reason: String,
        /// Whether the closing handshake completed (RFC 6455 §7.1.4).
        clean: bool,
    },
    /// The automatic reconnect policy's decision after a connection ended
    /// or an attempt failed (with the backoff on, see
    /// [`crate::Client::set_reconnect_backoff`]; not after the caller's
    /// close or abort). Comes after the `Error` and `Undelivered` events
    /// of the end and before its `Closed`.
    Reconnect {
        /// The delay before the next attempt, in milliseconds; 0 when not
        /// reconnecting.
        delay_ms: u64,
        /// Why this delay, or why not reconnecting.
        reason: ReconnectReason,
        /// The number of the attempt in a row that follows (1 for the
        /// first reconnect after a connection that stayed open); when
        /// not reconnecting, the attempts made in a row.
        attempt: u32,
        /// The decision in words, e.g. `reconnecting in 2000 ms (attempt
        /// 3): the server asked to retry after 2 s (HTTP 429)`.
        text: String,
    },
}

/// Why the automatic reconnect policy decided as it did
/// ([`EventKind::Reconnect`]); the numbers are those of C's
/// `wsc_reconnect_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReconnectReason {
    /// Reconnecting after the backoff delay (the first delay doubled per
    /// attempt in a row, up to the longest, less jitter).
    Backoff = 1,
    /// Reconnecting after the delay the server asked for in `Retry-After`
    /// (on 429 or 503, RFC 9110 §10.2.3), longer than the backoff's.
    RetryAfter = 2,
    /// Not reconnecting: the failure will not go away by itself (a refusal
    /// with a status that is not retried, by default 400, 401, 403 and
    /// 404; a TLS certificate failure; a bad URL, header or TLS setting).
    Fatal = 3,
    /// Not reconnecting: the most attempts in a row were made.
    AttemptsExhausted = 4,
}

/// What `send` did with an accepted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStatus {
    /// Written to the socket whole.
    Written,
    /// Queued: before the handshake (written right after it, in order), or
    /// the socket was full (written as it drains).
    Queued,
    /// Queued as [`SendStatus::Queued`], and with it the bytes waiting to
    /// be written reached the send buffer limit (`max_send_buffer_size` of
    /// [`crate::Client::set_limits`]): further sends are refused with
    /// [`crate::Error::BufferFull`] until it drains. The
    /// [`crate::EventKind::BufferFull`] event still follows, once per full
    /// episode (Workerman calls `onBufferFull` inside `send()`; this lets a
    /// wrapper do so without asking again).
    QueuedBufferFull,
    /// Accepted while the caller is dispatching a batch of events (it took
    /// an event from [`crate::Context::poll_event`] on this thread and more
    /// are queued): held with the other messages sent meanwhile and written
    /// with them in one write when the batch ends, that is when the caller
    /// takes the last queued event or polls again, or, if it stops polling,
    /// by the fallback thread (within 10 ms); uWebSockets calls this
    /// corking. No `BufferDrain` follows; a message that can no longer be
    /// written is reported undelivered, as any other.
    Corked,
}

/// A client's connection state (Workerman's `STATUS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Created, never connected.
    Initial,
    /// Resolving, connecting, in the opening handshake, or waiting to
    /// reconnect.
    Connecting,
    /// Open.
    Established,
    /// In the closing handshake.
    Closing,
    /// Closed.
    Closed,
}
