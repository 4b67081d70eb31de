//! The compressor of outgoing messages (RFC 7692 §7.2.1).

use super::{Negotiated, TAIL};
use flate2::{Compress, Compression, FlushCompress};
use std::io;

/// The zlib-rs level for zlib level `level` with a window of
/// 2^`window_bits` bytes. zlib-rs (like zlib-ng) compresses levels 2..=6
/// greedily, without zlib's lazy matching (stock zlib matches lazily from
/// level 4 on), and with its hash insertion limits a greedy match finder
/// misses most repeats inside a small window: at 2^10 a 1 MiB pattern
/// with a 251-byte period took 251,533 bytes at level 6 where stock zlib
/// 1.2.13 takes 4,388 (`bench-deflate --window`). So with windows of
/// 2^12 bytes or less, levels 4..=6 use zlib-rs's level 7, its first lazy
/// one: 4,392 bytes there. Its cost, measured with callgrind on 1,000
/// JSON messages of 2 KiB with context takeover: +9 % instructions at
/// 2^10 (275k -> 299k per message) and +24 % at 2^12 (268k -> 333k), for
/// 6 % and 13 % fewer bytes. Larger windows keep zlib-rs's level: there
/// the gap is small (8,097 bytes against 4,384 on that pattern at 2^15).
pub(crate) fn backend_level(level: u8, window_bits: u8) -> u8 {
    if window_bits <= 12 && (4..=6).contains(&level) {
        7
    } else {
        level
    }
}

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
            let bits = n.client_max_window_bits;
            (
                bits,
                Compression::new(u32::from(backend_level(n.level, bits))),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::deflate::Negotiated;

    fn compressed_len(bits: u8, level: u8, data: &[u8]) -> usize {
        let n = Negotiated {
            client_no_context_takeover: false,
            server_no_context_takeover: false,
            client_max_window_bits: bits,
            server_max_window_bits: 15,
            level,
            answer: String::new(),
        };
        Deflater::new(&n).compress(data).expect("compress").len()
    }

    #[test]
    fn small_windows_compress_a_repetitive_pattern_as_stock_zlib_does() {
        // A 1 MiB pattern with a 251-byte period: stock zlib 1.2.13 needs
        // 4,384 bytes at level 6 with windows of 2^10 to 2^15.
        let data: Vec<u8> = (0..1usize << 20).map(|i| (i % 251) as u8).collect();
        for bits in 10..=12 {
            let n = compressed_len(bits, 6, &data);
            assert!(n < 6_000, "2^{bits}: {n} bytes");
        }
        // Levels 1..=3 stay greedy (stock zlib's too: 252,304 at 2^10).
        assert!(compressed_len(10, 1, &data) > 100_000);
        assert_eq!(backend_level(6, 15), 6);
        assert_eq!(backend_level(9, 10), 9);
    }
}
