//! The compressor of outgoing messages (RFC 7692 §7.2.1).

use super::{Negotiated, TAIL};
use flate2::{Compress, Compression, FlushCompress};
use std::io;

/// The compressor of outgoing messages (§7.2.1).
pub(crate) struct Deflater {
    z: Option<Compress>,
    level: Compression,
    window_bits: u8,
    /// `client_no_context_takeover`: a fresh compressor per message, none
    /// kept in between.
    per_message: bool,
}

impl Deflater {
    pub(crate) fn new(n: &Negotiated) -> Deflater {
        // zlib cannot write raw deflate with a 256-byte window; stored
        // blocks (level 0) refer to nothing and suit any window.
        let (window_bits, level) = if n.client_max_window_bits < 9 {
            (9, Compression::none())
        } else {
            (
                n.client_max_window_bits,
                Compression::new(u32::from(n.level)),
            )
        };
        Deflater {
            z: None,
            level,
            window_bits,
            per_message: n.client_no_context_takeover,
        }
    }

    /// The compressed payload of one message (the final `00 00 ff ff`
    /// removed).
    pub(crate) fn compress(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        let (level, bits) = (self.level, self.window_bits);
        let z = self
            .z
            .get_or_insert_with(|| Compress::new_with_window_bits(level, false, bits));
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut pos = 0;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(4096));
            }
            let before = z.total_in();
            let spare = out.capacity() - out.len();
            let len_before = out.len();
            z.compress_vec(&data[pos..], &mut out, FlushCompress::Sync)
                .map_err(io::Error::other)?;
            pos += (z.total_in() - before) as usize;
            if pos == data.len() && out.len() - len_before < spare {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if self.per_message {
            self.z = None;
        }
        Ok(out)
    }
}
