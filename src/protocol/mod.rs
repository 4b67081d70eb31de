//! The WebSocket protocol without I/O (RFC 6455, RFC 7692): what the engine
//! needs beyond tungstenite, as functions and state machines over bytes.
//! Nothing here touches a socket, a timer or a lock, so each part can be
//! tested (and fuzzed) on bytes alone.
//!
//! - [`frame`]: the one incremental frame-header reader, wire sizes, the
//!   message tungstenite writes for a payload;
//! - [`utf8`]: UTF-8 of incoming text as its bytes arrive;
//! - [`handshake`]: the opening handshake's request and header rules, and
//!   the response head as tungstenite needs it;
//! - [`close`]: which close codes and reasons may be sent;
//! - [`deflate`]: permessage-deflate negotiation, compressor and inflater.

pub(crate) mod close;
pub(crate) mod deflate;
pub(crate) mod frame;
pub(crate) mod handshake;
pub(crate) mod utf8;

#[doc(hidden)]
pub mod fuzzing;
