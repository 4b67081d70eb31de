//! Send accounting of a connection ([`Outbox`]): messages queued before the
//! handshake, wire bytes handed to tungstenite and not yet written, the
//! undelivered ones when a connection ends, and the BufferFull /
//! BufferDrain episodes; and the [`Conn`] methods that send through it.

use super::{Conn, Env, State, is_would_block};
use crate::error::Error;
use crate::event::{EventKind, MessageType, SendStatus};
use crate::options::Compress;
use crate::protocol::frame::{Payload, wire_len, wire_message};
use std::collections::VecDeque;

/// The most bytes a connection holds corked (see [`Conn::send_with`]); also
/// tungstenite's write buffer size (`ws_config`), past which it writes.
pub(super) const CORK_BYTES: usize = 64 * 1024;

/// What a client has accepted to send and not yet written.
#[derive(Default)]
pub(super) struct Outbox {
    /// Messages sent before the connection opened, in order, with the
    /// compression asked for each.
    pending: VecDeque<(Payload, Compress)>,
    pending_bytes: usize,
    /// Wire bytes handed to tungstenite since the connection opened, and
    /// the stream's written count at that moment: their difference is what
    /// still waits to be written.
    submitted: u64,
    written_at_open: u64,
    /// Messages given to tungstenite but not yet known to be written to
    /// the socket whole: (end offset in `submitted`, type, payload). If the
    /// connection breaks they are reported as undelivered.
    unwritten: VecDeque<(u64, Payload)>,
    /// A send had to queue: report `BufferDrain` once everything is written.
    drain_wanted: bool,
    /// `BufferFull` was reported and the buffer has not drained since.
    full_reported: bool,
}

impl Outbox {
    /// The connection opened; its stream has written `stream_written`
    /// bytes so far (the handshake request).
    pub(super) fn opened(&mut self, stream_written: u64) {
        self.written_at_open = stream_written;
        self.submitted = 0;
    }

    /// Counts a frame with a `payload`-byte payload handed to tungstenite
    /// (data, ping, pong or close); returns the end offset of its bytes.
    pub(super) fn submit(&mut self, payload: usize) -> u64 {
        self.submitted += wire_len(payload);
        self.submitted
    }

    /// Bytes accepted but not yet written to the socket, given the open
    /// stream's written count (`None` before the connection opened).
    pub(super) fn buffered(&self, stream_written: Option<u64>) -> usize {
        match stream_written {
            Some(w) => {
                self.submitted
                    .saturating_sub(w.saturating_sub(self.written_at_open)) as usize
            }
            None => self.pending_bytes,
        }
    }

    /// Forgets the messages that have been written whole.
    fn prune(&mut self, stream_written: Option<u64>) {
        if let Some(w) = stream_written {
            let w = w.saturating_sub(self.written_at_open);
            while self.unwritten.front().is_some_and(|(end, ..)| *end <= w) {
                self.unwritten.pop_front();
            }
        }
    }

    /// After writes: true once, when everything that had to queue is
    /// written (the `BufferDrain` moment); the full episode ends with it.
    pub(super) fn drained(&mut self, stream_written: Option<u64>) -> bool {
        self.prune(stream_written);
        if self.drain_wanted && self.buffered(stream_written) == 0 {
            self.drain_wanted = false;
            self.full_reported = false;
            return true;
        }
        false
    }

    /// The messages given to tungstenite and not known to be written, in
    /// order (the connection ends: they are undelivered).
    pub(super) fn take_unwritten(
        &mut self,
        stream_written: Option<u64>,
    ) -> impl Iterator<Item = Payload> + use<> {
        self.prune(stream_written);
        std::mem::take(&mut self.unwritten)
            .into_iter()
            .map(|(_, payload)| payload)
    }

    /// The messages queued before the handshake, in order, removed.
    pub(super) fn take_pending(&mut self) -> VecDeque<(Payload, Compress)> {
        self.pending_bytes = 0;
        std::mem::take(&mut self.pending)
    }

    /// Puts messages taken by [`Outbox::take_pending`] back, in order.
    fn requeue(&mut self, messages: impl Iterator<Item = (Payload, Compress)>) {
        for (payload, compress) in messages {
            self.pending_bytes += payload.len();
            self.pending.push_back((payload, compress));
        }
    }

    /// The attempt ended: no drain or full state carries over.
    pub(super) fn end_episode(&mut self) {
        self.drain_wanted = false;
        self.full_reported = false;
    }

    /// After a message was queued: true when the bytes waiting reached
    /// `limit`; `report` says whether this starts a full episode (the one
    /// `BufferFull` event of it).
    fn reached(&mut self, buffered: usize, limit: usize) -> (bool, bool) {
        let full = buffered >= limit;
        let report = full && !self.full_reported;
        if report {
            self.full_reported = true;
        }
        (full, report)
    }
}

impl Conn {
    /// The open stream's written byte count (`None` before it opened).
    pub(super) fn stream_written(&self) -> Option<u64> {
        match &self.state {
            State::Open(ws) | State::Closing(ws) => Some(ws.get_ref().bytes_written),
            _ => None,
        }
    }

    /// Bytes accepted but not yet written to the socket.
    pub(super) fn buffered(&self) -> usize {
        self.outbox.buffered(self.stream_written())
    }

    /// Writes the messages queued before the handshake, in order.
    pub(super) fn flush_pending(&mut self, env: &mut Env) {
        // Sends were queued (they returned Queued): report the drain once
        // all of it is written, as after any queued send (Workerman calls
        // onBufferDrain after flushing what was sent before the connect).
        let pending = self.outbox.take_pending();
        self.outbox.drain_wanted |= !pending.is_empty();
        let mut pending = pending.into_iter();
        while let Some((payload, compress)) = pending.next() {
            let State::Open(ws) = &mut self.state else {
                // Not open any more: the rest stays queued.
                self.outbox
                    .requeue(std::iter::once((payload, compress)).chain(pending));
                return;
            };
            let threshold = self.opts.compression_threshold;
            let (msg, payload_len) =
                match wire_message(&mut self.deflater, &payload, compress, threshold) {
                    Ok(m) => m,
                    Err(e) => {
                        // Compression failed: end the connection; this message
                        // and the rest are reported undelivered.
                        self.outbox
                            .requeue(std::iter::once((payload, compress)).chain(pending));
                        return self.lost(env, e);
                    }
                };
            self.link.sent(payload.len());
            let end = self.outbox.submit(payload_len);
            self.outbox.unwritten.push_back((end, payload));
            if let Err(e) = ws.write(msg)
                && !is_would_block(&e)
            {
                // The rest is reported undelivered after this one.
                self.outbox.requeue(pending);
                return self.lost(env, Error::from(e));
            }
        }
        if let State::Open(ws) = &mut self.state
            && let Err(e) = ws.flush()
            && !is_would_block(&e)
        {
            return self.lost(env, Error::from(e));
        }
        if self.outbox.drained(self.stream_written()) {
            env.emit(self.id, EventKind::BufferDrain);
        }
    }

    /// Reports the messages queued before the handshake as undelivered.
    pub(super) fn drop_pending(&mut self, env: &mut Env) {
        for (payload, _) in self.outbox.take_pending() {
            env.emit(
                self.id,
                EventKind::Undelivered {
                    message_type: payload.message_type(),
                    data: payload.bytes(),
                },
            );
        }
    }

    /// Sends a message: written at once when open (as far as the socket
    /// takes it), queued before the handshake. With `cork` (the caller is
    /// dispatching a batch of events), an open connection holds it in
    /// tungstenite's write buffer with the others sent meanwhile, up to
    /// [`CORK_BYTES`] (and half the send buffer limit), until
    /// [`Conn::uncork`]; a send without `cork` writes them all.
    /// The message's compression is chosen by `compress`.
    pub(crate) fn send_with(
        &mut self,
        env: &mut Env,
        t: MessageType,
        data: &[u8],
        compress: Compress,
        cork: bool,
    ) -> crate::Result<SendStatus> {
        let limit = self.opts.max_send_buffer_size;
        match &mut self.state {
            State::Open(_) => {
                let buffered = self.buffered();
                if buffered >= limit {
                    return Err(Error::BufferFull);
                }
                let payload = Payload::new(t, data)?;
                let threshold = self.opts.compression_threshold;
                let (msg, payload_len) =
                    wire_message(&mut self.deflater, &payload, compress, threshold)?;
                self.link.sent(data.len());
                // Corked only while nothing waits for the socket (the bytes
                // in the write buffer are all corked ones) and the batch
                // stays small.
                let cork = cork
                    && (buffered == 0 || self.corked)
                    && buffered as u64 + wire_len(payload_len) <= CORK_BYTES.min(limit / 2) as u64;
                let end = self.outbox.submit(payload_len);
                let State::Open(ws) = &mut self.state else {
                    unreachable!()
                };
                // tungstenite writes on `write` only past its write buffer
                // size (CORK_BYTES, see `ws_config`), which a corked batch
                // stays below; `send` writes everything buffered.
                let r = if cork { ws.write(msg) } else { ws.send(msg) };
                match r {
                    Ok(()) => {}
                    Err(e) if is_would_block(&e) => {}
                    Err(e) => {
                        // Not accepted: the caller learns it from the result.
                        self.lost(env, Error::from(e));
                        return Err(Error::NotConnected);
                    }
                }
                let written = self.stream_written();
                self.outbox.prune(written);
                if cork {
                    self.outbox.unwritten.push_back((end, payload));
                    if !self.corked {
                        self.corked = true;
                        env.corked.push(self.id);
                    }
                    return Ok(SendStatus::Corked);
                }
                // Written with this send, if there were any.
                self.corked = false;
                if self.buffered() == 0 {
                    return Ok(SendStatus::Written);
                }
                self.outbox.unwritten.push_back((end, payload));
                self.outbox.drain_wanted = true;
                let full = self.outbox.reached(self.buffered(), limit);
                Ok(self.queued(env, full))
            }
            State::Closing(_) | State::Closed => {
                Payload::new(t, data)?;
                Err(Error::NotConnected)
            }
            _ => {
                if self.outbox.pending_bytes >= limit {
                    return Err(Error::BufferFull);
                }
                let payload = Payload::new(t, data)?;
                self.outbox.pending_bytes += payload.len();
                self.outbox.pending.push_back((payload, compress));
                let full = self.outbox.reached(self.outbox.pending_bytes, limit);
                Ok(self.queued(env, full))
            }
        }
    }

    /// The status of a queued send, after [`Outbox::reached`]: reports
    /// `BufferFull` when a full episode starts.
    fn queued(&mut self, env: &mut Env, (full, report): (bool, bool)) -> SendStatus {
        if report {
            env.emit(self.id, EventKind::BufferFull);
        }
        if full {
            SendStatus::QueuedBufferFull
        } else {
            SendStatus::Queued
        }
    }

    /// Bytes accepted by `send` and not yet written to the socket.
    pub(crate) fn send_buffer_size(&self) -> usize {
        self.buffered()
    }

    /// Writes the corked messages (the batch the caller was dispatching
    /// ended), in one write as far as the socket takes it; the rest is
    /// written as the socket drains. A failure ends the connection and
    /// reports them undelivered.
    pub(crate) fn uncork(&mut self, env: &mut Env) {
        if !std::mem::take(&mut self.corked) {
            return;
        }
        let (State::Open(ws) | State::Closing(ws)) = &mut self.state else {
            return;
        };
        if let Err(e) = ws.flush()
            && !is_would_block(&e)
        {
            return self.lost(env, Error::from(e));
        }
        let written = self.stream_written();
        self.outbox.prune(written);
    }
}
