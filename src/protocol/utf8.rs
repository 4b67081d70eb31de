//! UTF-8 of incoming text messages (RFC 6455 §5.6, §8.1), checked as the
//! bytes arrive — the one check of received text: text frames are handed up
//! to tungstenite marked binary, so that it does not validate them again.

use super::frame::HeaderReader;
use crate::event::MessageType;
use std::collections::VecDeque;

/// Watches the server's frames as their bytes arrive and checks the payload
/// of text messages for UTF-8 as far as it has come, so that invalid UTF-8
/// fails the connection as early as the bytes allow (RFC 6455 §8.1; the
/// Autobahn cases 6.4.x), not only when a whole frame has arrived.
/// With permessage-deflate it watches the inflater's output (plain frames);
/// without, frames with RSV1 are not inspected (tungstenite refuses them).
///
/// This is the only UTF-8 check of received text: [`Utf8Watch::feed`]
/// rewrites the opcode of the first frame of each text message it checks
/// from text (0x1) to binary (0x2) in the bytes that go up to tungstenite
/// (which would otherwise validate the whole message a second time), and
/// records each data message's kind in a queue that the connection pops
/// ([`Utf8Watch::next_message_type`]) for every binary message tungstenite
/// returns.
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
    /// The kind of each data message whose first frame has been handed up
    /// and that tungstenite has not returned yet, oldest first. Its length
    /// is bounded by the bytes tungstenite holds unparsed (a message takes
    /// at least a 2-byte frame header).
    kinds: VecDeque<MessageType>,
}

impl Utf8Watch {
    /// Feeds bytes read from the server, in place: the first byte of a text
    /// message's first frame is rewritten to say binary (see the type's
    /// doc). `Err(at)` when they break UTF-8 inside a text message: only
    /// `buf[..at]` may be handed up (it ends before the breaking text
    /// message can be complete, so tungstenite never returns it); the
    /// watch must not be fed again.
    pub(crate) fn feed(&mut self, buf: &mut [u8]) -> Result<(), usize> {
        let mut pos = 0;
        while pos < buf.len() {
            if self.payload_left == 0 {
                let first = self.header.is_empty().then_some(pos);
                let mut rest = &buf[pos..];
                let header = self.header.read(&mut rest);
                pos = buf.len() - rest.len();
                if let Some(i) = first {
                    self.frame_starts(&mut buf[i]);
                }
                match header {
                    Some(h) => self.frame_fields(h.fin, h.rsv, h.opcode, h.payload_len),
                    None => return Ok(()), // the header continues in the next chunk
                }
                if self.payload_left > 0 {
                    continue;
                }
            }
            let n = (self.payload_left.min((buf.len() - pos) as u64)) as usize;
            let payload = &buf[pos..pos + n];
            self.payload_left -= n as u64;
            if self.checking && !self.check(payload) {
                return Err(pos);
            }
            pos += n;
            if self.payload_left == 0 && self.checking && self.fin {
                // The message ends: no sequence may stay open.
                if self.tail_len != 0 {
                    return Err(pos - 1);
                }
                self.in_text = false;
            }
        }
        Ok(())
    }

    /// The kind of the oldest data message handed up and not yet returned
    /// by tungstenite: call once for each data message it returns, in
    /// order. `None` when no message has started (not reached: a message
    /// tungstenite returns has passed the watch).
    pub(crate) fn next_message_type(&mut self) -> Option<MessageType> {
        self.kinds.pop_front()
    }

    /// The first byte of a frame header, as it goes up: a data message
    /// starts with opcode 0x1 or 0x2 (its kind is queued); a text frame to
    /// be checked (RSV1 clear) goes up as binary.
    fn frame_starts(&mut self, first: &mut u8) {
        match *first & 0x0f {
            0x1 => {
                self.kinds.push_back(MessageType::Text);
                if *first & 0x40 == 0 {
                    *first = (*first & 0xf0) | 0x2;
                }
            }
            0x2 => self.kinds.push_back(MessageType::Binary),
            _ => {}
        }
    }

    /// A whole header has been read (with its original first byte): the
    /// frame's fields are set.
    fn frame_fields(&mut self, fin: bool, rsv: u8, opcode: u8, payload_len: u64) {
        self.payload_left = payload_len;
        self.fin = fin;
        self.checking = match opcode {
            0x1 if rsv & 0x40 == 0 => {
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
    use crate::event::MessageType::{Binary, Text};
    use crate::protocol::frame::tests::server_frame;

    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        server_frame((if fin { 0x80 } else { 0 }) | opcode, payload)
    }

    /// Feeds `bytes` one byte at a time and returns the index of the byte
    /// at which the watch reported invalid UTF-8.
    fn first_failure(bytes: &[u8]) -> Option<usize> {
        let mut w = Utf8Watch::default();
        bytes.iter().position(|&b| w.feed(&mut [b]).is_err())
    }

    /// Feeds `bytes` whole: the bytes handed up, the queued message kinds.
    fn handed_up(bytes: &[u8]) -> (Vec<u8>, Vec<crate::event::MessageType>) {
        let mut w = Utf8Watch::default();
        let mut out = bytes.to_vec();
        assert_eq!(w.feed(&mut out), Ok(()));
        (out, std::iter::from_fn(|| w.next_message_type()).collect())
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
        assert_eq!(Utf8Watch::default().feed(&mut s.clone()), Ok(()));
    }

    #[test]
    fn text_goes_up_as_binary_and_its_kind_is_queued() {
        let text = "héllo".as_bytes();
        let mut s = frame(true, 1, b"one");
        s.extend(frame(true, 2, b"two"));
        s.extend(frame(false, 1, &text[..2]));
        s.extend(frame(true, 9, b"ping"));
        s.extend(frame(true, 0, &text[2..]));
        let mut compressed = frame(true, 1, b"z");
        compressed[0] |= 0x40; // RSV1: not checked, so not rewritten
        s.extend(&compressed);
        let (out, kinds) = handed_up(&s);
        let mut expected = frame(true, 2, b"one");
        expected.extend(frame(true, 2, b"two"));
        expected.extend(frame(false, 2, &text[..2]));
        expected.extend(frame(true, 9, b"ping"));
        expected.extend(frame(true, 0, &text[2..]));
        expected.extend(&compressed);
        assert_eq!(out, expected);
        assert_eq!(kinds, [Text, Binary, Text, Text]);
        // Byte by byte: the same bytes go up.
        let mut w = Utf8Watch::default();
        let mut pieced = s.clone();
        for b in pieced.iter_mut() {
            assert_eq!(w.feed(std::slice::from_mut(b)), Ok(()));
        }
        assert_eq!(pieced, expected);
    }

    #[test]
    fn a_broken_message_is_cut_before_it_can_complete() {
        let mut s = frame(true, 1, b"fine");
        let first = s.len();
        s.extend(frame(true, 1, &[b'a', b'b', 0xc0, 0xaf, b'c']));
        // The first message goes up whole, the second one's header only.
        assert_eq!(Utf8Watch::default().feed(&mut s), Err(first + 2));
        // Ends inside a sequence: cut before its last byte.
        let f = frame(true, 1, &[b'a', 0xe2, 0x82]);
        assert_eq!(Utf8Watch::default().feed(&mut f.clone()), Err(f.len() - 1));
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
        let mut f = frame(true, 1, &[b'a', 0xe2, 0x82]);
        assert!(Utf8Watch::default().feed(&mut f).is_err());
    }
}
