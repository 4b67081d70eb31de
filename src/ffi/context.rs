//! `wsc_context`: the event loop (a poller, its clients, their timers and
//! the event queue), its fd for other loops, and taking events from it.

use super::boundary::{ffi_boundary, put, try_context};
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
