//! The packed batches of `wsc_context_poll_batch`: each polling thread of a
//! context owns one buffer, which its next batch poll on that context (or
//! the context's free) releases. The record layout is documented on
//! `wsc_context_poll_batch`; [`HEADER_SIZE`] and the offsets below are the
//! one place that writes it.

use super::event::{c_parts, wsc_event};
use crate::event::Event;
use parking_lot::Mutex;
use std::thread::ThreadId;
use tungstenite::Bytes;

/// Bytes of a record's fixed fields in this version of the library (the
/// `header_size` field of every record). Fields are only ever appended.
pub(crate) const HEADER_SIZE: usize = 48;

/// Payloads up to this size are copied into the buffer after their
/// record's fields; larger ones stay where they are and the record gives
/// their address (one copy less for big messages).
pub(crate) const INLINE_MAX: usize = 4096;

/// A buffer above this capacity is given back to the allocator when its
/// batch is released, so that one burst of big events does not keep it.
const KEEP_CAPACITY: usize = 1 << 20;

/// One thread's batch: the packed records and the payloads kept out of
/// line, both owned until the batch is released.
#[derive(Default)]
pub(crate) struct Batch {
    buf: Vec<u8>,
    far: Vec<Bytes>,
    count: usize,
}

impl Batch {
    /// Releases the batch: its records and out-of-line payloads.
    pub(crate) fn release(&mut self) {
        self.buf.clear();
        self.far.clear();
        self.count = 0;
        if self.buf.capacity() > KEEP_CAPACITY {
            self.buf = Vec::new();
        }
    }

    /// Appends one event's record (and its payload, inline or kept).
    pub(crate) fn push(&mut self, ev: Event) {
        let (raw, payload, text) = c_parts(ev);
        let len = payload.len().max(text.len());
        if len <= INLINE_MAX {
            let data: &[u8] = if text.is_empty() { &payload } else { &text };
            self.buf.reserve(HEADER_SIZE + len);
            write_header(&mut self.buf, &raw, len, 0);
            self.buf.extend_from_slice(data);
        } else {
            // Kept out of line, where it is: the address is taken from the
            // kept `Bytes`, whose heap storage never moves.
            let kept = if text.is_empty() {
                payload
            } else {
                Bytes::from(text)
            };
            write_header(&mut self.buf, &raw, len, kept.as_ptr() as u64);
            self.far.push(kept);
        }
        self.count += 1;
    }

    /// The packed records: pointer (NULL when empty), length in bytes, and
    /// the number of events.
    pub(crate) fn view(&self) -> (*const u8, usize, usize) {
        if self.buf.is_empty() {
            (std::ptr::null(), 0, 0)
        } else {
            (self.buf.as_ptr(), self.buf.len(), self.count)
        }
    }
}

/// Writes the fixed fields of one record, little-endian, at the end of
/// `buf` (`wsc_context_poll_batch` documents the offsets).
fn write_header(buf: &mut Vec<u8>, raw: &wsc_event, data_len: usize, address: u64) {
    let start = buf.len();
    buf.extend_from_slice(&(HEADER_SIZE as u32).to_le_bytes()); // 0
    buf.extend_from_slice(&(raw.event_type as u32).to_le_bytes()); // 4
    buf.extend_from_slice(&raw.client_id.to_le_bytes()); // 8
    buf.extend_from_slice(&(data_len as u64).to_le_bytes()); // 16
    buf.extend_from_slice(&address.to_le_bytes()); // 24
    buf.extend_from_slice(&(raw.message_type as u32).to_le_bytes()); // 32
    buf.extend_from_slice(&(raw.error as u32).to_le_bytes()); // 36
    buf.extend_from_slice(&raw.close_code.to_le_bytes()); // 40
    buf.push(u8::from(raw.clean)); // 42
    buf.extend_from_slice(&[0; 5]); // 43..48, reserved, zero
    debug_assert_eq!(buf.len() - start, HEADER_SIZE);
}

/// The batches of one context, one per thread that polls batches; a
/// thread's buffer lives until its next batch poll or the context's free.
#[derive(Default)]
pub(crate) struct Batches {
    inner: Mutex<BatchesInner>,
}

#[derive(Default)]
struct BatchesInner {
    closed: bool,
    /// A context is polled by a thread or two: a short list beats a map.
    slots: Vec<(ThreadId, Batch)>,
}

impl Batches {
    /// Takes the calling thread's batch out to be refilled (the caller
    /// puts it back with [`Batches::put`]); `None` once the context was
    /// freed.
    pub(crate) fn take(&self, me: ThreadId) -> Option<Batch> {
        let mut g = self.inner.lock();
        if g.closed {
            return None;
        }
        Some(match g.slots.iter().position(|(t, _)| *t == me) {
            Some(i) => g.slots.swap_remove(i).1,
            None => Batch::default(),
        })
    }

    /// Keeps `batch` as the calling thread's until its next batch poll;
    /// false (the batch is dropped) when the context was freed meanwhile.
    /// An empty batch keeps its buffer for the next poll.
    pub(crate) fn put(&self, me: ThreadId, batch: Batch) -> bool {
        let mut g = self.inner.lock();
        if g.closed {
            drop(g);
            drop(batch);
            return false;
        }
        g.slots.push((me, batch));
        true
    }

    /// Releases every thread's batch; later batch polls get `None` from
    /// [`Batches::take`]. Called by `wsc_context_free`.
    pub(crate) fn close(&self) {
        let slots = {
            let mut g = self.inner.lock();
            g.closed = true;
            std::mem::take(&mut g.slots)
        };
        drop(slots);
    }
}
