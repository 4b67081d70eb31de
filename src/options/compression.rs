//! Compression settings: the permessage-deflate (RFC 7692) offer of a
//! client. Negotiation, compressing and inflating live in the engine.

/// The permessage-deflate settings a client offers (set by the user).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateOptions {
    /// Do not keep the compression context between our messages (and tell
    /// the server, `client_no_context_takeover`, §7.1.1.2): less memory
    /// (the compressor exists only while a message is compressed), worse
    /// ratio for streams of similar messages.
    pub client_no_context_takeover: bool,
    /// Ask the server not to keep its context between messages
    /// (`server_no_context_takeover`, §7.1.1.1): the decompressor then
    /// exists only while a message is inflated.
    pub server_no_context_takeover: bool,
    /// The largest LZ77 window (base-2 logarithm, 9..=15) our compressor
    /// uses, offered as `client_max_window_bits=N` (§7.1.2.2); `None`
    /// offers `client_max_window_bits` without a value (the server may
    /// choose 8..=15) and uses 15 unless the server limits it.
    pub client_max_window_bits: Option<u8>,
    /// Ask the server to use at most this window (9..=15,
    /// `server_max_window_bits=N`, §7.1.2.1); `None`: no limit asked.
    pub server_max_window_bits: Option<u8>,
    /// zlib compression level of our messages: 1 (fastest) ..= 9
    /// (smallest); 0 means the default, 6 (as in the C API and PHP).
    /// Above 9 is refused.
    pub level: u8,
}

impl Default for DeflateOptions {
    fn default() -> Self {
        DeflateOptions {
            client_no_context_takeover: false,
            server_no_context_takeover: false,
            client_max_window_bits: None,
            server_max_window_bits: None,
            level: 6,
        }
    }
}

impl DeflateOptions {
    /// Checks the ranges: window bits 9..=15 (8 is refused: zlib cannot
    /// write raw deflate with a 256-byte window), level 0..=9 (0: the
    /// default).
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("client_max_window_bits", self.client_max_window_bits),
            ("server_max_window_bits", self.server_max_window_bits),
        ] {
            if let Some(b) = v
                && !(9..=15).contains(&b)
            {
                return Err(format!(
                    "{name} must be 9..15 (or unset), not {b} (RFC 7692 allows 8, which zlib \
                     cannot use for raw deflate)"
                ));
            }
        }
        if self.level > 9 {
            return Err(format!(
                "the compression level must be 1..9 (or 0 for the default, 6), not {}",
                self.level
            ));
        }
        Ok(())
    }

    /// The zlib level in force: [`DeflateOptions::level`], 0 read as the
    /// default (6).
    pub(crate) fn effective_level(&self) -> u8 {
        if self.level == 0 {
            DeflateOptions::DEFAULT_LEVEL
        } else {
            self.level
        }
    }

    /// The zlib level that 0 stands for.
    pub const DEFAULT_LEVEL: u8 = 6;

    /// The `Sec-WebSocket-Extensions` value of the offer (§7.1).
    pub(crate) fn offer(&self) -> String {
        let mut s = String::from("permessage-deflate");
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        match self.client_max_window_bits {
            Some(b) => s.push_str(&format!("; client_max_window_bits={b}")),
            None => s.push_str("; client_max_window_bits"),
        }
        if let Some(b) = self.server_max_window_bits {
            s.push_str(&format!("; server_max_window_bits={b}"));
        }
        s
    }
}

/// The default of the compression threshold
/// (`Client::set_compression_threshold`), in bytes: with
/// permessage-deflate in force, shorter messages go uncompressed.
///
/// Measured with `bench-deflate --threshold` (distinct JSON-like texts,
/// level 6): compressing costs the client about 3 µs per message plus
/// ~0.01 µs per byte. Without context takeover a message under ~128 bytes
/// saves nothing (64 B: 1 byte saved for +6 µs) and 256 B saves 54 %;
/// with context takeover even 64 B saves 71 % (messages alike). 256 is
/// where compression pays in both modes when a µs of CPU is weighed
/// against the 12.5 bytes a 100 Mbit/s link carries in that time; set 0
/// (or a lower value) when bandwidth matters more than CPU.
pub const DEFAULT_COMPRESSION_THRESHOLD: usize = 256;

/// The compression of one message sent with permessage-deflate in force
/// (RFC 7692 §6: each message is compressed or not, RSV1 says which).
/// Without permessage-deflate every message goes uncompressed whatever
/// this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compress {
    /// Compressed when its payload is at least the client's compression
    /// threshold (the default).
    #[default]
    Auto,
    /// Compressed whatever its size.
    Always,
    /// Sent uncompressed (e.g. data already compressed, or a message that
    /// must not share a compression context with secrets, RFC 7692 §10).
    Never,
}

impl Compress {
    /// Whether a payload of `len` bytes is compressed, given the threshold.
    pub(crate) fn wants(self, len: usize, threshold: usize) -> bool {
        match self {
            Compress::Auto => len >= threshold,
            Compress::Always => true,
            Compress::Never => false,
        }
    }
}
