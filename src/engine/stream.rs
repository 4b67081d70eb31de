//! The byte stream under tungstenite: plain TCP or OpenSSL TLS over a
//! non-blocking mio socket, with byte counters and a recorder that keeps the
//! raw handshake response, and (with permessage-deflate negotiated) the
//! filter that inflates compressed messages before tungstenite sees them.

use super::deflate::Inflater;
use super::read_ahead::ReadAhead;
use crate::error::Utf8Violation;
use mio::net::TcpStream;
use std::io::{self, Read, Write};

/// The largest opening-handshake response head accepted, in bytes; a
/// server that sends more without ending its head is refused.
pub(crate) const MAX_RESPONSE_HEAD: usize = 64 * 1024;

pub(crate) enum Inner {
    Plain(TcpStream),
    Tls(Box<openssl::ssl::SslStream<TcpStream>>),
}

impl Drop for Inner {
    /// A TLS connection ends with close_notify (RFC 8446 §6.1), sent
    /// without waiting: OpenSSL takes a session whose connection ended
    /// without it as broken and would not resume it.
    fn drop(&mut self) {
        if let Inner::Tls(s) = self {
            let _ = s.shutdown();
        }
    }
}

/// A connection's stream as tungstenite sees it.
pub(crate) struct Stream {
    inner: Inner,
    /// While `Some`, every byte read is appended (the handshake response).
    pub(crate) record: Option<Vec<u8>>,
    /// Bytes read from the connection (after TLS decryption).
    pub(crate) bytes_read: u64,
    /// Bytes accepted by the connection for writing (before TLS encryption).
    pub(crate) bytes_written: u64,
    /// After the handshake: the early UTF-8 check of text messages.
    pub(crate) watch: Option<Utf8Watch>,
    /// The watch found invalid UTF-8: the next read fails (so that the
    /// messages before the bad bytes are still parsed and delivered).
    poisoned: bool,
    /// While recording: the response head (normalized for tungstenite, see
    /// `normalize_head`) and what came behind it, still to be handed out.
    head_out: Option<(Vec<u8>, usize)>,
    /// The response head has been handed to tungstenite.
    head_released: bool,
    /// Bytes that arrived behind the response head, kept from tungstenite's
    /// handshake so that they pass the filters set up when it opens.
    stash: Vec<u8>,
    /// With permessage-deflate negotiated: the receive filter (RFC 7692).
    inflate: Option<Box<Inflater>>,
    /// Bulk reads and drained-socket knowledge (see `read_ahead`).
    ahead: ReadAhead,
}

impl Stream {
    pub(crate) fn new(inner: Inner) -> Self {
        Stream {
            inner,
            record: None,
            bytes_read: 0,
            bytes_written: 0,
            watch: None,
            poisoned: false,
            head_out: None,
            head_released: false,
            stash: Vec::new(),
            inflate: None,
            ahead: ReadAhead::default(),
        }
    }

    /// Reads from the bytes kept behind the response head, then from the
    /// connection.
    fn read_source(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.stash.is_empty() {
            let n = buf.len().min(self.stash.len());
            buf[..n].copy_from_slice(&self.stash[..n]);
            self.stash.drain(..n);
            if self.stash.is_empty() {
                self.stash = Vec::new();
            }
            return Ok(n);
        }
        self.read_inner(buf)
    }

    /// Plain frames out of the receive filter.
    fn read_inflated(&mut self, inf: &mut Inflater, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if inf.has_output() {
                return Ok(inf.take_output(buf));
            }
            if inf.needs_input() {
                match self.read_source(inf.input_buffer()) {
                    Ok(n) => {
                        inf.input_filled(n);
                        if n == 0 {
                            return Ok(0);
                        }
                    }
                    Err(e) => {
                        inf.input_filled(0);
                        if e.kind() == io::ErrorKind::WouldBlock {
                            inf.idle();
                        }
                        return Err(e);
                    }
                }
            }
            inf.step()?;
        }
    }

    /// Called before the connection's read loop runs (which reads until
    /// `WouldBlock`): data may have come since the last read drained the
    /// socket. `trust_short_reads`: the loop runs for a readiness event
    /// without the peer's FIN (see `read_ahead`).
    pub(crate) fn begin_reads(&mut self, trust_short_reads: bool) {
        self.ahead.begin(trust_short_reads);
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Stream { inner, ahead, .. } = self;
        let n = match inner {
            // A short read on plain TCP drained the socket; through TLS it
            // says nothing (one record at a time).
            Inner::Plain(s) => ahead.read(buf, true, |b| s.read(b))?,
            Inner::Tls(s) => ahead.read(buf, false, |b| s.read(b))?,
        };
        self.bytes_read += n as u64;
        Ok(n)
    }

    /// While recording: reads until the whole response head is there, then
    /// prepares it (normalized) for tungstenite. `WouldBlock` passes up.
    fn gather_head(&mut self) -> io::Result<()> {
        let mut tmp = [0u8; 2048];
        loop {
            let rec = self.record.as_ref().expect("recording");
            if let Some(end) = rec.windows(4).position(|w| w == b"\r\n\r\n") {
                // Only the head goes to tungstenite's handshake; what came
                // behind it is read after the connection opened, through
                // the filters then in place.
                let end = end + 4;
                self.stash = rec[end..].to_vec();
                self.head_out = Some((normalize_head(&rec[..end]), 0));
                break;
            }
            if rec.len() > MAX_RESPONSE_HEAD {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the handshake response head exceeds {MAX_RESPONSE_HEAD} bytes"),
                ));
            }
            let so_far = rec.len();
            let n = self.read_inner(&mut tmp)?;
            let rec = self.record.as_mut().expect("recording");
            debug_assert_eq!(rec.len(), so_far);
            if n == 0 {
                // The server closed before its head ended: hand over what
                // came, tungstenite reports it.
                self.head_out = Some((rec.clone(), 0));
                break;
            }
            self.record
                .as_mut()
                .expect("recording")
                .extend_from_slice(&tmp[..n]);
        }
        self.head_released = true;
        Ok(())
    }

    /// The connection opened: the receive filters start (the UTF-8 watch,
    /// and the inflater when permessage-deflate was negotiated), before any
    /// frame byte has been handed to tungstenite.
    pub(crate) fn opened(&mut self, inflate: Option<Inflater>) {
        self.record = None;
        self.watch = Some(Utf8Watch::default());
        self.inflate = inflate.map(Box::new);
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.poisoned {
            return Err(io::Error::new(io::ErrorKind::InvalidData, Utf8Violation));
        }
        if self.record.is_some() && !self.head_released {
            self.gather_head()?;
        }
        if let Some((out, pos)) = &mut self.head_out {
            let n = buf.len().min(out.len() - *pos);
            buf[..n].copy_from_slice(&out[*pos..*pos + n]);
            *pos += n;
            if *pos == out.len() {
                self.head_out = None;
            }
            return Ok(n);
        }
        let n = match self.inflate.take() {
            Some(mut inf) => {
                let r = self.read_inflated(&mut inf, buf);
                self.inflate = Some(inf);
                r?
            }
            None => self.read_source(buf)?,
        };
        if let Some(w) = &mut self.watch
            && !w.feed(&buf[..n])
        {
            self.watch = None;
            self.poisoned = true;
        }
        if let Some(rec) = &mut self.record {
            rec.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// The response head as tungstenite should see it: a `Connection` header
/// whose token list includes `upgrade` among others (RFC 6455 §4.1 and RFC
/// 9110 §7.6.1 allow `Connection: keep-alive, Upgrade`) becomes
/// `Connection: Upgrade`, since tungstenite 0.30 compares the whole value.
/// Everything else, and the bytes behind the head, stay as they are.
fn normalize_head(raw: &[u8]) -> Vec<u8> {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4) else {
        return raw.to_vec();
    };
    let Ok(head) = std::str::from_utf8(&raw[..end]) else {
        return raw.to_vec();
    };
    let mut out = String::with_capacity(end);
    for line in head.split_inclusive("\r\n") {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("connection")
        {
            let v = value.trim();
            let listed = v
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
            if listed && !v.eq_ignore_ascii_case("upgrade") {
                out.push_str("Connection: Upgrade\r\n");
                continue;
            }
        }
        out.push_str(line);
    }
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&raw[end..]);
    bytes
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.inner {
            Inner::Plain(s) => s.write(buf)?,
            Inner::Tls(s) => s.write(buf)?,
        };
        self.bytes_written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Plain(s) => s.flush(),
            Inner::Tls(s) => s.flush(),
        }
    }
}

/// Watches the server's frames as their bytes arrive and checks the payload
/// of text messages for UTF-8 as far as it has come, so that invalid UTF-8
/// fails the connection as early as the bytes allow (RFC 6455 §8.1; the
/// Autobahn cases 6.4.x), not only when a whole frame has arrived.
/// With permessage-deflate it watches the inflater's output (plain frames);
/// without, frames with RSV1 are not inspected (tungstenite refuses them).
#[derive(Default)]
pub(crate) struct Utf8Watch {
    header: [u8; 14],
    header_len: usize,
    /// Payload bytes of the current frame still to come.
    payload_left: u64,
    /// The current frame's payload is text to check.
    checking: bool,
    /// The current frame ends its message.
    fin: bool,
    /// Inside a fragmented text message (continuation frames are text).
    in_text: bool,
    /// A UTF-8 sequence cut at a chunk boundary (at most 3 bytes).
    tail: [u8; 4],
    tail_len: usize,
}

impl Utf8Watch {
    /// Feeds bytes read from the server; false when they break UTF-8 inside
    /// a text message.
    pub(crate) fn feed(&mut self, mut buf: &[u8]) -> bool {
        while !buf.is_empty() {
            if self.payload_left == 0 && !self.header_complete(&mut buf) {
                return true; // the header continues in the next chunk
            }
            let n = (self.payload_left.min(buf.len() as u64)) as usize;
            let (payload, rest) = buf.split_at(n);
            buf = rest;
            self.payload_left -= n as u64;
            if self.checking && !self.check(payload) {
                return false;
            }
            if self.payload_left == 0 && self.checking && self.fin {
                // The message ends: no sequence may stay open.
                if self.tail_len != 0 {
                    return false;
                }
                self.in_text = false;
            }
        }
        true
    }

    /// Consumes header bytes; true when a whole header has been read (and
    /// the frame's fields are set).
    fn header_complete(&mut self, buf: &mut &[u8]) -> bool {
        loop {
            let need = self.header_need();
            if self.header_len >= need {
                break;
            }
            let Some((&b, rest)) = buf.split_first() else {
                return false;
            };
            self.header[self.header_len] = b;
            self.header_len += 1;
            *buf = rest;
        }
        let h = &self.header;
        let (fin, rsv1, opcode) = (h[0] & 0x80 != 0, h[0] & 0x40 != 0, h[0] & 0x0f);
        let len = match h[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            127 => u64::from_be_bytes([h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]]),
            n => u64::from(n),
        };
        self.header_len = 0;
        self.payload_left = len;
        self.fin = fin;
        self.checking = match opcode {
            0x1 if !rsv1 => {
                self.in_text = true;
                self.tail_len = 0;
                true
            }
            0x0 => self.in_text,
            0x2 | 0x1 => {
                self.in_text = false;
                false
            }
            _ => false, // control frames: tungstenite checks close reasons
        };
        true
    }

    fn header_need(&self) -> usize {
        if self.header_len < 2 {
            return 2;
        }
        let masked = if self.header[1] & 0x80 != 0 { 4 } else { 0 };
        2 + masked
            + match self.header[1] & 0x7f {
                126 => 2,
                127 => 8,
                _ => 0,
            }
    }

    /// Checks a piece of text payload, carrying a cut sequence over.
    fn check(&mut self, mut p: &[u8]) -> bool {
        while self.tail_len > 0 && !p.is_empty() {
            self.tail[self.tail_len] = p[0];
            self.tail_len += 1;
            p = &p[1..];
            match std::str::from_utf8(&self.tail[..self.tail_len]) {
                Ok(_) => self.tail_len = 0,
                Err(e) if e.error_len().is_some() => return false,
                Err(_) if self.tail_len == 4 => return false,
                Err(_) => {}
            }
        }
        match std::str::from_utf8(p) {
            Ok(_) => true,
            Err(e) if e.error_len().is_some() => false,
            Err(e) => {
                let cut = &p[e.valid_up_to()..];
                self.tail[..cut.len()].copy_from_slice(cut);
                self.tail_len = cut.len();
                true
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::Utf8Watch;

    /// An unmasked server frame: the first byte (FIN, RSV, opcode), the
    /// length, the payload (also used by the deflate filter's tests).
    pub(crate) fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![first];
        match payload.len() {
            n if n < 126 => f.push(n as u8),
            n if n < 65536 => {
                f.push(126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(payload);
        f
    }

    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        server_frame((if fin { 0x80 } else { 0 }) | opcode, payload)
    }

    /// Feeds `bytes` one byte at a time and returns the index of the byte
    /// at which the watch reported invalid UTF-8.
    fn first_failure(bytes: &[u8]) -> Option<usize> {
        let mut w = Utf8Watch::default();
        bytes.iter().position(|b| !w.feed(std::slice::from_ref(b)))
    }

    #[test]
    fn valid_text_binary_and_fragments_pass_byte_by_byte() {
        let mut s = frame(true, 1, "κόσμε €𝄞".as_bytes());
        s.extend(frame(true, 2, &[0xff, 0xfe]));
        let text = "héllo wörld".as_bytes();
        s.extend(frame(false, 1, &text[..2])); // cuts "é" in two
        s.extend(frame(true, 9, b"ping"));
        s.extend(frame(true, 0, &text[2..]));
        s.extend(frame(true, 1, &vec![b'a'; 70_000]));
        assert_eq!(first_failure(&s), None);
        assert!(Utf8Watch::default().feed(&s));
    }

    #[test]
    fn invalid_bytes_fail_where_they_arrive_even_mid_frame() {
        // Autobahn 6.4.3-like: a text frame whose payload breaks early.
        let mut payload = "κόσμε".as_bytes().to_vec();
        payload.extend_from_slice(&[0xce, 0xbc, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc]);
        let bad_at = payload.len();
        payload.extend_from_slice(&[0xf4, 0x90, 0x80, 0x80]); // beyond U+10FFFF
        payload.extend_from_slice(b"more text that never needs to arrive");
        let f = frame(true, 1, &payload);
        let header = f.len() - payload.len();
        // 0xf4 0x90: the second byte is already impossible.
        assert_eq!(first_failure(&f), Some(header + bad_at + 1));
    }

    #[test]
    fn binary_and_compressed_frames_are_not_checked() {
        assert_eq!(first_failure(&frame(true, 2, &[0xc0, 0xaf])), None);
        let mut compressed = frame(true, 1, &[0xc0, 0xaf]);
        compressed[0] |= 0x40; // RSV1
        assert_eq!(first_failure(&compressed), None);
    }

    #[test]
    fn a_connection_token_list_with_upgrade_is_normalized_and_the_rest_kept() {
        let raw = b"HTTP/1.1 101 OK\r\nconnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi";
        let n = super::normalize_head(raw);
        assert_eq!(
            n,
            b"HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi"
                .to_vec()
        );
        let plain = b"HTTP/1.1 101 OK\r\nConnection: upgrade\r\n\r\n";
        assert_eq!(super::normalize_head(plain), plain.to_vec());
        let other = b"HTTP/1.1 101 OK\r\nConnection: keep-alive\r\n\r\n";
        assert_eq!(
            super::normalize_head(other),
            other.to_vec(),
            "no upgrade token: left for tungstenite to refuse"
        );
    }

    #[test]
    fn a_text_message_may_not_end_inside_a_sequence() {
        let f = frame(true, 1, &[b'a', 0xe2, 0x82]);
        assert!(!Utf8Watch::default().feed(&f));
    }
}
