//! permessage-deflate (RFC 7692) around tungstenite, which refuses any
//! frame with RSV1 set: the offer and the check of the server's answer
//! (§5, §7.1), the receive filter below tungstenite that inflates compressed
//! messages into plain frames (§7.2.2), and the compressor of outgoing
//! messages (§7.2.1), which tungstenite writes as ready-made frames.
//!
//! Without negotiated compression none of this is in the data path.

mod compress;
mod inflate;
mod negotiate;

pub(crate) use compress::Deflater;
pub(crate) use inflate::Inflater;
pub(crate) use negotiate::{Negotiated, negotiate};

/// The empty stored block that ends every compressed message on the wire
/// and is removed by the sender / appended by the receiver (§7.2.1, §7.2.2).
pub(crate) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
