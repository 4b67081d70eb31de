//! The engine: a context (one mio poller, its clients, timers, the event
//! queue and a fallback thread) behind one lock.
//!
//! Who drives the I/O: the caller's thread inside
//! [`Context::poll_event`], while it waits; nobody else touches the poller
//! then. When no caller has been inside `poll_event` for `GRACE` (10 ms), the
//! fallback thread takes the lock for short turns (reads, pongs, pings,
//! timers, reconnects), queues the events and makes the context fd readable.
//! `send` takes the lock on the caller's thread and writes at once; if a
//! poller is blocked in `epoll_wait` holding the lock, the sender wakes it
//! and the lock is handed over fairly.

mod ca_store;
mod client;
mod conn;
mod context;
mod fallback;
mod fork;
mod reactor;
mod read_ahead;
mod resolver;
mod shared;
mod stream;
mod timers;
mod tls;
mod trim;
mod tunnel;

pub use crate::event::{SendStatus, Status};
pub use crate::options::{DeflateOptions, TlsVersion};
pub use client::Client;
pub use context::Context;
pub use reactor::DEFAULT_EVENT_QUEUE_LIMIT;
