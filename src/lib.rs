//! wsc: a native WebSocket client (RFC 6455) with a C ABI.
//!
//! A [`Context`] owns a mio poller, its [`Client`]s (one WebSocket
//! connection each, reconnectable), a timer list, an event queue and one
//! fallback thread. The caller's own [`Context::poll_event`] drives the I/O
//! while it waits; the fallback thread keeps connections alive (pongs,
//! pings, timers, reconnects) while no caller polls. Everything that happens
//! reaches the caller as an [`Event`] from `poll_event`, never as a callback
//! from a library thread. `docs/architecture.md` in the repository says
//! why.
//!
//! The C ABI lives in [`ffi`] (header `include/wsc.h`); the PHP package in
//! `php/` loads it through PHP's FFI extension.
//!
//! Layers, each using only those below it: `ffi` (the C ABI) → `engine`
//! (contexts, clients, connections: all I/O) → `protocol` (RFC 6455 and
//! RFC 7692 without I/O) → `options` (settings and their checks); `error`,
//! `event`, `id_map` and `sys` serve them all. `unsafe` code lives only in
//! `ffi` and `sys` (the OS and OpenSSL C calls the safe crates do not
//! wrap).
#![deny(missing_docs)]

mod engine;
pub mod error;
pub mod event;
pub mod ffi;
mod id_map;
mod metrics;
mod options;
mod protocol;
mod sys;

pub use engine::{
    Client, Context, DEFAULT_EVENT_QUEUE_LIMIT, DeflateOptions, SendStatus, Status, TlsVersion,
};
pub use error::{Error, Result};
pub use event::{Event, EventKind, MessageType, ReconnectReason};
pub use metrics::{ConnectTimings, LinkMetrics};
pub use options::{Compress, DEFAULT_COMPRESSION_THRESHOLD};
/// The protocol layer's parsers for the fuzz targets (not a supported API).
#[doc(hidden)]
pub use protocol::fuzzing;
