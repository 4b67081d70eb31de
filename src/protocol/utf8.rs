//! UTF-8 of incoming text messages (RFC 6455 §5.6, §8.1), checked as the
//! bytes arrive.

use super::frame::HeaderReader;

/// Watches the server's frames as their bytes arrive and checks the payload
/// of text messages for UTF-8 as far as it has come, so that invalid UTF-8
/// fails the connection as early as the bytes allow (RFC 6455 §8.1; the
/// Autobahn cases 6.4.x), not only when a whole frame has arrived.
/// With permessage-deflate it watches the inflater's output (plain frames);
/// without, frames with RSV1 are not inspected (tungstenite refuses them).
#[derive(Default)]
pub(crate) struct Utf8Watch {
    header: HeaderReader,
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
        let Some(h) = self.header.read(buf) else {
            return false;
        };
        self.payload_left = h.payload_len;
        self.fin = h.fin;
        self.checking = match h.opcode {
            0x1 if h.rsv & 0x40 == 0 => {
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
mod tests {
    use super::Utf8Watch;
    use crate::protocol::frame::tests::server_frame;

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
    fn a_text_message_may_not_end_inside_a_sequence() {
        let f = frame(true, 1, &[b'a', 0xe2, 0x82]);
        assert!(!Utf8Watch::default().feed(&f));
    }
}
