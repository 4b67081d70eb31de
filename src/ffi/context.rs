//! `wsc_context`: the event loop (a poller, its clients, their timers and
//! the event queue), its fd for other loops, and taking events from it.

use super::batch::wsc_batch_record;
use super::boundary::{ffi_boundary, put, put_opt, try_context};
use super::event::{EventBox, wsc_event};
use super::registry::{self, Handle, Kind};
use super::result::{record, result, wsc_result};
use crate::engine::Context;
use crate::error::Error;
use std::ffi::c_int;
use std::time::Duration;

/// Opaque: a context, the event loop that owns a poller, its clients, their
/// timers and the event queue (one fallback thread each). Create with
/// `wsc_context_new`, free with `wsc_context_free`.
pub struct wsc_context {
    _private: [u8; 0],
}

/// Creates a context: a poller, an event queue, one fallback thread (and a
/// resolver thread when a host name needs DNS).
///
/// - `out_context`: receives the new context; the caller owns it and frees
///   it with `wsc_context_free`.
///
/// Process-wide, once: raises the open-files soft limit to the hard limit,
/// and, while the process has a single thread, grows its file descriptor
/// table to 1024 slots (later growths in a multi-threaded process each wait
/// for an RCU grace period, milliseconds in `socket()`).
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
                    registry::register_context(ctx) as *mut wsc_context,
                );
                wsc_result::Ok
            }
            Err(e) => record(&e),
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
        match registry::remove(context as usize, Kind::Context) {
            Some(Handle::Context(ctx)) => {
                if !ctx.forked() {
                    // In a fork() child its lock may be held by a thread
                    // the child lacks: the batches are left (leaked).
                    ctx.batches.close();
                }
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
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `FORKED` (in a
/// `fork()` child: the fd is the parent's poller).
#[unsafe(no_mangle)]
pub extern "C" fn wsc_context_fd(context: *const wsc_context, out_fd: *mut c_int) -> wsc_result {
    ffi_boundary!({
        let ctx = try_context!(context);
        if out_fd.is_null() {
            return wsc_result::NullArgument;
        }
        if ctx.forked() {
            return record(&Error::Forked);
        }
        put(out_fd, ctx.fd());
        wsc_result::Ok
    })
}

/// Sets the context's event queue limit, in bytes (default 4 MiB): once
/// the events waiting for the caller (counted at the memory they hold:
/// about 72 bytes per event plus its payload and 30 bytes, rounded up to
/// 16) exceed it, the context stops reading its sockets, so a server that sends
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
        result(ctx.set_event_queue_limit(max_queued_bytes))
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
                put(out_event, registry::register_event(ev.into()));
                wsc_result::Ok
            }
            Ok(None) => {
                put(out_event, std::ptr::null());
                wsc_result::Ok
            }
            Err(e) => record(&e),
        }
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
            return record(&Error::InvalidArgument(
                "capacity must be at least 1".into(),
            ));
        }
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        match ctx.poll_events(timeout, capacity) {
            Ok(events) => {
                let n = events.len();
                registry::register_events(
                    events.into_iter().map(<Box<EventBox>>::from),
                    |i, ptr| {
                        // SAFETY: the caller gives `capacity` writable slots and
                        // poll_events returned at most `capacity` events.
                        unsafe { out_events.add(i).write(ptr) };
                    },
                );
                put(out_count, n);
                wsc_result::Ok
            }
            Err(e) => record(&e),
        }
    })
}

/// Polls like `wsc_context_poll_events` and hands the whole batch over in
/// one packed, caller-readable buffer: no event handles to free, one call
/// per batch for FFI callers such as PHP. Every call first releases the
/// calling thread's previous batch on this context.
///
/// - `timeout_ms`: for the first event, as in `wsc_context_poll_event`.
/// - `max_events`: the most events in the batch, at least 1.
/// - `out_batch`: receives the buffer, which starts with the first record
///   (NULL when no event came: timeout, or a signal interrupted the wait). It belongs to the context and
///   stays valid and unchanged until this thread's next
///   `wsc_context_poll_batch` on this context (which releases it, also
///   when that call fails) or `wsc_context_free`, whichever comes first;
///   other threads' batch polls never touch it. Read-only; never free it.
/// - `out_len`: receives the buffer's length in bytes (0 with no event).
/// - `out_count`: receives the number of events; may be NULL.
///
/// The buffer is `*out_count` records of `record_size` bytes each (the
/// first field of every record; 112 in this version), then the payloads of
/// the records that carry theirs inline. Every integer is little-endian
/// whatever the host; the buffer is 8-byte aligned, so on a little-endian
/// host (all that wsc builds for) the records are an array of
/// `wsc_batch_record` (elsewhere read the fields with `memcpy`):
///
/// | offset | type | field |
/// |---|---|---|
/// | 0 | u32 | `record_size` |
/// | 4 | u32 | `event_type` (`wsc_event_type`) |
/// | 8 | u64 | `client_id` |
/// | 16 | u64 | `data_len`: bytes of the payload |
/// | 24 | u64 | `data_offset`: where an inline payload starts, in bytes from the start of the buffer; 0 when empty or out of line |
/// | 32 | u64 | `data_address`: the address of a payload kept out of line (only payloads over 4096 bytes may be; valid as long as the buffer); 0 when inline |
/// | 40 | u32 | `message_type` (`wsc_message_type`) |
/// | 44 | u32 | `error` (`wsc_result`) |
/// | 48 | u16 | `close_code` |
/// | 50 | u8 | `clean` (0 or 1) |
/// | 51 | 5 bytes | reserved, zero |
/// | 56 | u16 | `http_status` (a refused opening handshake's status, `ERROR` events) |
/// | 58 | 2 bytes | reserved, zero |
/// | 60 | u32 | `reconnect_reason` (`wsc_reconnect_reason`, `RECONNECT` events) |
/// | 64 | u64 | `reconnect_delay_ms` |
/// | 72 | u32 | `reconnect_attempt` |
/// | 76 | 4 bytes | reserved, zero |
/// | 80 | u64 | `http_head_offset`: where the refused handshake's response head starts (always inline); 0 when none |
/// | 88 | u64 | `http_head_len` |
/// | 96 | u64 | `http_body_offset`: where its body excerpt starts (always inline); 0 when none |
/// | 104 | u64 | `http_body_len` |
///
/// Each field means what the `wsc_event` field of the same name means; the
/// payload is what `data` points to, without the NUL that follows texts in
/// a `wsc_event`. Record `i` starts at `i * record_size`. Fields added to
/// `wsc_event` in later versions are appended to the records too, growing
/// `record_size`: step by it, never by `sizeof(wsc_batch_record)`.
///
/// Thread-safe: several threads may poll one context, batches or single
/// events, each event going to exactly one of them; each thread has its
/// own batch buffer. A buffer of a thread that stops polling is released
/// by `wsc_context_free`. Results: `OK` (a batch, or none on timeout);
/// `NULL_ARGUMENT` (`context`, `out_batch` or `out_len` NULL);
/// `INVALID_ARGUMENT` (`max_events` 0); `INVALID_HANDLE`; `CONTEXT_CLOSED`
/// (also when the context was freed during the call); `FORKED` (in a
/// `fork()` child; nothing is touched); `IO` (the poller failed). On an
/// error the out-parameters are not written and the previous batch is
/// released all the same (except `FORKED` and the argument errors).
#[unsafe(no_mangle)]
pub extern "C" fn wsc_context_poll_batch(
    context: *mut wsc_context,
    timeout_ms: i32,
    max_events: usize,
    out_batch: *mut *const wsc_batch_record,
    out_len: *mut usize,
    out_count: *mut usize,
) -> wsc_result {
    poll_batch(
        context,
        timeout_ms,
        max_events,
        out_batch,
        out_len,
        out_count,
        std::ptr::null_mut(),
    )
}

/// `wsc_context_poll_batch`, which also writes a compact index of the
/// batch for callers that pay per field read (PHP's FFI: two reads per
/// message instead of five), and hands it over in `out_index`.
///
/// Everything else (arguments, buffer, results, thread-safety) is as
/// `wsc_context_poll_batch`; `out_index` may be NULL (then this is
/// `wsc_context_poll_batch`, no index is written).
///
/// - `out_index`: receives the index (NULL when no event came), owned by
///   the context like the buffer and valid exactly as long (until this
///   thread's next batch poll on this context, or `wsc_context_free`);
///   read-only, never free it. It is `2 * count` native-endian `uint64_t`
///   words, 8-byte aligned: for event `i` (record `i` of the buffer), word
///   `2 * i` is its `client_id` and word `2 * i + 1` packs `event_type`
///   (bits 0-7), `data_len` (bits 8-31, bytes) and `data_offset` (bits
///   32-62, bytes from the start of the buffer; bit 63 is zero). A
///   payload that is kept out of line, or whose length is 0xFFFFFF or
///   more, or whose offset is 2^31 or more, has `data_len` 0xFFFFFF and
///   `data_offset` 0 there: read it from the record. An empty payload has
///   both 0.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_context_poll_batch_index(
    context: *mut wsc_context,
    timeout_ms: i32,
    max_events: usize,
    out_batch: *mut *const wsc_batch_record,
    out_len: *mut usize,
    out_count: *mut usize,
    out_index: *mut *const u64,
) -> wsc_result {
    poll_batch(
        context, timeout_ms, max_events, out_batch, out_len, out_count, out_index,
    )
}

/// `wsc_context_poll_batch`, with the compact index when `out_index` is
/// not NULL.
fn poll_batch(
    context: *mut wsc_context,
    timeout_ms: i32,
    max_events: usize,
    out_batch: *mut *const wsc_batch_record,
    out_len: *mut usize,
    out_count: *mut usize,
    out_index: *mut *const u64,
) -> wsc_result {
    ffi_boundary!({
        let entry = try_context!(context);
        if out_batch.is_null() || out_len.is_null() {
            return wsc_result::NullArgument;
        }
        if max_events == 0 {
            return record(&Error::InvalidArgument(
                "max_events must be at least 1".into(),
            ));
        }
        if entry.forked() {
            // Before any lock: one may be held by a thread the child lacks.
            return record(&Error::Forked);
        }
        let me = std::thread::current().id();
        let Some(mut batch) = entry.batches.take(me) else {
            return record(&Error::ContextClosed);
        };
        batch.release();
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let polled = entry.poll_each(timeout, max_events, |ev| batch.push(ev));
        batch.pack(!out_index.is_null());
        let (ptr, len, count) = batch.view();
        let index = batch.index();
        if !entry.batches.put(me, batch) {
            return record(&Error::ContextClosed);
        }
        match polled {
            Ok(_) => {
                put(out_batch, ptr.cast::<wsc_batch_record>());
                put(out_len, len);
                put_opt(out_count, count);
                put_opt(out_index, index);
                wsc_result::Ok
            }
            Err(e) => record(&e),
        }
    })
}
