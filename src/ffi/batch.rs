//! The packed batches of `wsc_context_poll_batch`: each polling thread of a
//! context owns one buffer, which its next batch poll on that context (or
//! the context's free) releases. The layout is documented on
//! `wsc_context_poll_batch` and `wsc_batch_record`; `write_record` is the
//! one place that writes it.

use super::event::{c_parts, wsc_event};
use crate::error::HandshakeResponse;
use crate::event::Event;
use parking_lot::Mutex;
use std::thread::ThreadId;
use tungstenite::Bytes;

/// One event of a batch of `wsc_context_poll_batch`, as the buffer holds
/// it: every integer little-endian whatever the host, so on little-endian
/// hosts (all that wsc builds for) the records at the start of the buffer
/// are an array of this struct. Fields are only ever appended (a field
/// added to `wsc_event` is appended here too): step from one record to the
/// next by `record_size`, never by `sizeof(wsc_batch_record)`.
#[repr(C)]
pub struct wsc_batch_record {
    /// Size of every record of the batch in bytes (112 in this version).
    pub record_size: u32,
    /// What happened: a `wsc_event_type` value.
    pub event_type: u32,
    /// As `wsc_event.client_id`.
    pub client_id: u64,
    /// Length of the payload in bytes (as `wsc_event.data_len`; a text
    /// carries no NUL here).
    pub data_len: u64,
    /// Where the payload starts, in bytes from the start of the buffer,
    /// when it is inline; 0 when it is empty or kept out of line.
    pub data_offset: u64,
    /// The address of a payload kept out of line (only payloads over
    /// 4096 bytes may be; valid as long as the buffer); 0 when inline.
    pub data_address: u64,
    /// As `wsc_event.message_type`: a `wsc_message_type` value.
    pub message_type: u32,
    /// As `wsc_event.error`: a `wsc_result` value.
    pub error: u32,
    /// As `wsc_event.close_code`.
    pub close_code: u16,
    /// As `wsc_event.clean`: 0 or 1.
    pub clean: u8,
    /// Zero.
    pub reserved: [u8; 5],
    /// As `wsc_event.http_status`: the status of a refused opening
    /// handshake (`ERROR` events), 0 otherwise.
    pub http_status: u16,
    /// Zero.
    pub reserved2: [u8; 2],
    /// As `wsc_event.reconnect_reason`: a `wsc_reconnect_reason` value
    /// (`RECONNECT` events).
    pub reconnect_reason: u32,
    /// As `wsc_event.reconnect_delay_ms` (milliseconds).
    pub reconnect_delay_ms: u64,
    /// As `wsc_event.reconnect_attempt`.
    pub reconnect_attempt: u32,
    /// Zero.
    pub reserved3: u32,
    /// Where the refused handshake's response head starts, in bytes from
    /// the start of the buffer (always inline); 0 when there is none.
    pub http_head_offset: u64,
    /// Length of that head in bytes (as `wsc_event.http_head_len`).
    pub http_head_len: u64,
    /// Where the body excerpt starts, in bytes from the start of the
    /// buffer (always inline); 0 when there is none.
    pub http_body_offset: u64,
    /// Length of the body excerpt in bytes (as `wsc_event.http_body_len`).
    pub http_body_len: u64,
}

/// Bytes of a record in this version of the library.
pub(crate) const RECORD_SIZE: usize = std::mem::size_of::<wsc_batch_record>();
const _: () = assert!(RECORD_SIZE == 112);

/// Payloads up to this size are always copied into the buffer; larger ones
/// stay where they are and the record gives their address (one copy less
/// for big messages).
pub(crate) const INLINE_MAX: usize = 4096;

/// A buffer above this capacity is given back to the allocator when its
/// batch is released, so that one burst of big events does not keep it.
const KEEP_CAPACITY: usize = 1 << 20;

/// One thread's batch: the packed buffer and the payloads kept out of
/// line, both owned until the batch is released.
#[derive(Default)]
pub(crate) struct Batch {
    /// The records, then the inline payloads; `u64`s so that the buffer,
    /// and every record in it, is 8-byte aligned.
    buf: Vec<u64>,
    /// Bytes of `buf` in use.
    len: usize,
    far: Vec<Bytes>,
    count: usize,
    /// The compact index of `wsc_context_poll_batch_index` (two words per
    /// event, see [`index_word`]); empty unless asked for.
    index: Vec<u64>,
    /// The events of the poll, converted, before they are written.
    scratch: Vec<Parts>,
}

/// An event as `c_parts` splits it: its `wsc_event` has no `data` set
/// (NULL), its data is in the `Bytes` or the text; a refused handshake's
/// response head and body are in the last field.
struct Parts(wsc_event, Bytes, Vec<u8>, Option<Box<HandshakeResponse>>);

// SAFETY: `wsc_event.data` is NULL in `Parts` (c_parts leaves it unset);
// `http_head`/`http_body` point into the boxed response the `Parts` owns
// (`Bytes` never move their storage) and are never written through; the
// rest is owned data.
unsafe impl Send for Parts {}

impl Batch {
    /// Releases the batch: its buffer and out-of-line payloads.
    pub(crate) fn release(&mut self) {
        self.len = 0;
        self.count = 0;
        self.far.clear();
        self.index.clear();
        if self.buf.capacity() * 8 > KEEP_CAPACITY {
            self.buf = Vec::new();
        }
    }

    /// Takes one event of the poll (written by [`Batch::pack`]).
    pub(crate) fn push(&mut self, ev: Event) {
        let (raw, payload, text, refusal) = c_parts(ev);
        self.scratch.push(Parts(raw, payload, text, refusal));
    }

    /// Writes the events taken by [`Batch::push`]: the records, then the
    /// inline payloads in the same order; with `indexed`, the compact index
    /// too (two words per event: `client_id`, then [`index_word`]).
    pub(crate) fn pack(&mut self, indexed: bool) {
        let count = self.scratch.len();
        let inline: usize = self
            .scratch
            .iter()
            .map(|Parts(_, p, t, _)| p.len().max(t.len()))
            .filter(|&n| n <= INLINE_MAX)
            .sum::<usize>()
            + self
                .scratch
                .iter()
                .filter_map(|Parts(.., r)| r.as_ref())
                .map(|r| r.head.len() + r.body.len())
                .sum::<usize>();
        let total = count * RECORD_SIZE + inline;
        // Grown (and zeroed) only when too short, never cleared: every byte
        // of [0, total) is written below (whole records, then the payloads
        // back to back), and bytes past `total` are not part of the batch,
        // so zeroing the buffer at every poll (as many bytes again as the
        // batch: ~200 per 100-byte message) bought nothing.
        let words = total.div_ceil(8);
        if self.buf.len() < words {
            self.buf.resize(words, 0);
        }
        // SAFETY: a `u64` buffer viewed as its bytes: u8 has alignment 1
        // and every bit pattern is a valid u8; the view lives only here.
        let bytes = unsafe {
            std::slice::from_raw_parts_mut(self.buf.as_mut_ptr().cast::<u8>(), self.buf.len() * 8)
        };
        let mut payload_at = count * RECORD_SIZE;
        for (i, Parts(raw, payload, text, refusal)) in self.scratch.drain(..).enumerate() {
            let data: Bytes = if text.is_empty() {
                payload
            } else {
                Bytes::from(text)
            };
            let (offset, address) = if data.is_empty() {
                (0, 0)
            } else if data.len() <= INLINE_MAX {
                bytes[payload_at..payload_at + data.len()].copy_from_slice(&data);
                payload_at += data.len();
                ((payload_at - data.len()) as u64, 0)
            } else {
                // Kept where it is: `Bytes` never moves its heap storage.
                let address = data.as_ptr() as u64;
                self.far.push(data.clone());
                (0, address)
            };
            // A refused handshake's head and body, always inline.
            let mut http = [(0u64, 0u64); 2];
            if let Some(r) = &refusal {
                for (slot, part) in http.iter_mut().zip([&r.head, &r.body]) {
                    if !part.is_empty() {
                        bytes[payload_at..payload_at + part.len()].copy_from_slice(part);
                        *slot = (payload_at as u64, part.len() as u64);
                        payload_at += part.len();
                    }
                }
            }
            if indexed {
                self.index.push(raw.client_id);
                self.index
                    .push(index_word(raw.event_type as u32, data.len(), offset));
            }
            let at = i * RECORD_SIZE;
            write_record(
                &mut bytes[at..at + RECORD_SIZE],
                &raw,
                data.len(),
                offset,
                address,
                http,
            );
        }
        debug_assert_eq!(payload_at, total);
        self.len = total;
        self.count = count;
    }

    /// The packed buffer: pointer (NULL when empty), length in bytes, and
    /// the number of events.
    pub(crate) fn view(&self) -> (*const u8, usize, usize) {
        if self.count == 0 {
            (std::ptr::null(), 0, 0)
        } else {
            (self.buf.as_ptr().cast::<u8>(), self.len, self.count)
        }
    }

    /// The compact index written by `pack(true)`: NULL when the batch is
    /// empty or was packed without it.
    pub(crate) fn index(&self) -> *const u64 {
        if self.count == 0 || self.index.is_empty() {
            std::ptr::null()
        } else {
            self.index.as_ptr()
        }
    }
}

/// `data_len` of an index word whose payload must be read from the record.
pub(crate) const INDEX_SEE_RECORD: u64 = 0xff_ffff;

/// The second word of an event in the compact index: `event_type` in bits
/// 0-7, `data_len` in bits 8-31 and `data_offset` in bits 32-62 (bit 63
/// zero: the word is a non-negative signed 64-bit integer too, as PHP
/// reads it) when the payload is empty or inline, its length below
/// [`INDEX_SEE_RECORD`] and its offset below 2^31; otherwise `data_len`
/// is [`INDEX_SEE_RECORD`] and `data_offset` 0: read the record.
fn index_word(event_type: u32, data_len: usize, offset: u64) -> u64 {
    let fits =
        (data_len == 0 || offset != 0) && (data_len as u64) < INDEX_SEE_RECORD && offset < 1 << 31;
    let (len, offset) = if fits {
        (data_len as u64, offset)
    } else {
        (INDEX_SEE_RECORD, 0)
    };
    u64::from(event_type & 0xff) | len << 8 | offset << 32
}

/// Writes one record, little-endian, into `out` (`RECORD_SIZE` bytes; the
/// offsets are those of `wsc_batch_record`).
fn write_record(
    out: &mut [u8],
    raw: &wsc_event,
    data_len: usize,
    offset: u64,
    address: u64,
    http: [(u64, u64); 2],
) {
    out[0..4].copy_from_slice(&(RECORD_SIZE as u32).to_le_bytes());
    out[4..8].copy_from_slice(&(raw.event_type as u32).to_le_bytes());
    out[8..16].copy_from_slice(&raw.client_id.to_le_bytes());
    out[16..24].copy_from_slice(&(data_len as u64).to_le_bytes());
    out[24..32].copy_from_slice(&offset.to_le_bytes());
    out[32..40].copy_from_slice(&address.to_le_bytes());
    out[40..44].copy_from_slice(&(raw.message_type as u32).to_le_bytes());
    out[44..48].copy_from_slice(&(raw.error as u32).to_le_bytes());
    out[48..50].copy_from_slice(&raw.close_code.to_le_bytes());
    out[50] = u8::from(raw.clean);
    out[51..56].fill(0);
    out[56..58].copy_from_slice(&raw.http_status.to_le_bytes());
    out[58..60].fill(0);
    out[60..64].copy_from_slice(&(raw.reconnect_reason as u32).to_le_bytes());
    out[64..72].copy_from_slice(&raw.reconnect_delay_ms.to_le_bytes());
    out[72..76].copy_from_slice(&raw.reconnect_attempt.to_le_bytes());
    out[76..80].fill(0);
    let [(head_at, head_len), (body_at, body_len)] = http;
    out[80..88].copy_from_slice(&head_at.to_le_bytes());
    out[88..96].copy_from_slice(&head_len.to_le_bytes());
    out[96..104].copy_from_slice(&body_at.to_le_bytes());
    out[104..112].copy_from_slice(&body_len.to_le_bytes());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, MessageType};

    fn message(client_id: u64, len: usize, fill: u8) -> Event {
        Event {
            client_id,
            kind: EventKind::Message {
                message_type: MessageType::Binary,
                data: Bytes::from(vec![fill; len]),
            },
        }
    }

    fn packed(batch: &mut Batch, events: Vec<Event>) -> Vec<u8> {
        batch.release();
        for ev in events {
            batch.push(ev);
        }
        batch.pack(false);
        let (ptr, len, _) = batch.view();
        // SAFETY: `view` gives the batch's bytes, valid until the next release.
        unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
    }

    /// The buffer is no longer zeroed at every poll: a small batch packed
    /// over a bigger one's bytes must come out exactly as on a fresh buffer.
    #[test]
    fn a_batch_packed_over_a_bigger_one_is_the_same_as_on_a_fresh_buffer() {
        let small = || vec![message(7, 3, b'a'), message(8, 0, 0), message(9, 5, b'b')];
        let fresh = packed(&mut Batch::default(), small());
        let mut reused = Batch::default();
        let big: Vec<Event> = (0..50).map(|i| message(i, 200, 0xff)).collect();
        packed(&mut reused, big);
        assert_eq!(packed(&mut reused, small()), fresh);
        assert_eq!(fresh.len(), 3 * RECORD_SIZE + 8);
    }

    #[test]
    fn the_index_packs_inline_payloads_and_points_to_the_record_otherwise() {
        let mut batch = Batch::default();
        assert!(batch.index().is_null());
        for ev in [
            message(7, 3, b'a'),
            message(8, 0, 0),
            message(9, 5000, b'b'),
        ] {
            batch.push(ev);
        }
        batch.pack(true);
        // SAFETY: two words per event, valid until the next release.
        let index = unsafe { std::slice::from_raw_parts(batch.index(), 6) }.to_vec();
        let binary = super::super::event::wsc_event_type::Binary as u64;
        let at = (3 * RECORD_SIZE) as u64;
        assert_eq!(
            index,
            [
                7,
                binary | 3 << 8 | at << 32,
                8,
                binary,
                9,
                binary | INDEX_SEE_RECORD << 8
            ]
        );
        batch.release();
        batch.push(message(1, 1, 0));
        batch.pack(false);
        assert!(batch.index().is_null(), "no index unless asked for");
        assert_eq!(index_word(3, 10, 1 << 31), 3 | INDEX_SEE_RECORD << 8);
        assert_eq!(
            index_word(3, INDEX_SEE_RECORD as usize, 200),
            3 | INDEX_SEE_RECORD << 8
        );
    }
}
