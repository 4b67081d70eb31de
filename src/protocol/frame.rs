//! RFC 6455 §5.2 frames: the one incremental reader of frame headers that
//! the UTF-8 watch ([`super::utf8`]) and the permessage-deflate inflater
//! ([`super::deflate`]) share, the wire size of a frame we send, and the
//! message tungstenite writes for a payload. tungstenite parses the frames
//! again for itself; these readers only look ahead of it.

use super::deflate::Deflater;
use crate::error::{Error, Result};
use crate::event::MessageType;
use crate::options::Compress;
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::frame::coding::{Data as OpData, OpCode};
use tungstenite::{Bytes, Message, Utf8Bytes};

/// The longest frame header: 2 bytes, an 8-byte length, a 4-byte mask.
pub(crate) const MAX_HEADER: usize = 14;

/// A complete frame header (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// FIN: the frame ends its message.
    pub(crate) fin: bool,
    /// RSV1..RSV3 as in the first byte (mask 0x70); RSV1 (0x40) marks a
    /// compressed message with permessage-deflate (RFC 7692 §6).
    pub(crate) rsv: u8,
    /// The opcode (0x0 continuation, 0x1 text, 0x2 binary, 0x8..0xA control).
    pub(crate) opcode: u8,
    /// The frame carries a masking key (servers must not mask, §5.1).
    pub(crate) masked: bool,
    /// The payload length in bytes.
    pub(crate) payload_len: u64,
    /// The header's bytes as received.
    pub(crate) raw: [u8; MAX_HEADER],
    /// How many of `raw` are the header.
    pub(crate) raw_len: usize,
}

impl FrameHeader {
    /// The header's bytes as received.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.raw[..self.raw_len]
    }
}

/// Reads frame headers from bytes as they arrive, in pieces of any size.
#[derive(Default)]
pub(crate) struct HeaderReader {
    buf: [u8; MAX_HEADER],
    len: usize,
}

impl HeaderReader {
    /// No byte of a header has been read: the next byte starts one.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many header bytes the header needs, as far as its first two
    /// bytes tell.
    fn need(&self) -> usize {
        if self.len < 2 {
            return 2;
        }
        let masked = if self.buf[1] & 0x80 != 0 { 4 } else { 0 };
        2 + masked
            + match self.buf[1] & 0x7f {
                126 => 2,
                127 => 8,
                _ => 0,
            }
    }

    /// Takes header bytes from the front of `input` (advancing it); the
    /// header once it is complete, `None` while it continues in the next
    /// piece.
    pub(crate) fn read(&mut self, input: &mut &[u8]) -> Option<FrameHeader> {
        loop {
            let need = self.need();
            if self.len >= need {
                break;
            }
            if input.is_empty() {
                return None;
            }
            let take = (need - self.len).min(input.len());
            self.buf[self.len..self.len + take].copy_from_slice(&input[..take]);
            self.len += take;
            *input = &input[take..];
        }
        let h = self.buf;
        let payload_len = match h[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            127 => u64::from_be_bytes([h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]]),
            n => u64::from(n),
        };
        let header = FrameHeader {
            fin: h[0] & 0x80 != 0,
            rsv: h[0] & 0x70,
            opcode: h[0] & 0x0f,
            masked: h[1] & 0x80 != 0,
            payload_len,
            raw: h,
            raw_len: self.len,
        };
        self.len = 0;
        Some(header)
    }
}

/// The bytes a client frame with a `payload`-byte payload takes on the wire
/// (header with the 4-byte mask, RFC 6455 §5.2).
pub(crate) fn wire_len(payload: usize) -> u64 {
    let ext = if payload > 65535 {
        8
    } else if payload > 125 {
        2
    } else {
        0
    };
    (2 + ext + 4 + payload) as u64
}

/// A message payload accepted by `send`: text validated as UTF-8 once,
/// here (RFC 6455 §5.6; nothing on the send path checks it again), or
/// binary. Cheap to clone (shared bytes).
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// A text message, valid UTF-8.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Payload {
    /// Copies `data` into a payload of type `t`, checking text once.
    ///
    /// Errors: [`Error::InvalidUtf8`] for text that is not UTF-8.
    pub(crate) fn new(t: MessageType, data: &[u8]) -> Result<Payload> {
        let bytes = Bytes::copy_from_slice(data);
        Ok(match t {
            MessageType::Text => {
                Payload::Text(Utf8Bytes::try_from(bytes).map_err(|_| Error::InvalidUtf8)?)
            }
            MessageType::Binary => Payload::Binary(bytes),
        })
    }

    /// Text or binary.
    pub(crate) fn message_type(&self) -> MessageType {
        match self {
            Payload::Text(_) => MessageType::Text,
            Payload::Binary(_) => MessageType::Binary,
        }
    }

    /// The payload's bytes (shared, not copied).
    pub(crate) fn bytes(&self) -> Bytes {
        match self {
            Payload::Text(t) => Bytes::from(t.clone()),
            Payload::Binary(b) => b.clone(),
        }
    }

    /// The payload's length in bytes.
    pub(crate) fn len(&self) -> usize {
        match self {
            Payload::Text(t) => t.len(),
            Payload::Binary(b) => b.len(),
        }
    }
}

/// The message as tungstenite writes it: plain (text not checked again),
/// or with permessage-deflate compressed into one frame with RSV1 (RFC 7692
/// §6, §7.2.1), which tungstenite masks and writes as it is. `compress`
/// and `threshold` (bytes) choose whether this message is compressed when
/// permessage-deflate is in force (the choice is per message, §6).
/// Returns the wire payload length.
///
/// Errors: [`Error::Io`] when compression fails.
pub(crate) fn wire_message(
    deflater: &mut Option<Box<Deflater>>,
    payload: &Payload,
    compress: Compress,
    threshold: usize,
) -> Result<(Message, usize)> {
    let d = match deflater {
        Some(d) if compress.wants(payload.len(), threshold) => Some(d),
        _ => None,
    };
    let Some(d) = d else {
        let len = payload.len();
        let msg = match payload {
            Payload::Text(t) => Message::Text(t.clone()),
            Payload::Binary(b) => Message::Binary(b.clone()),
        };
        return Ok((msg, len));
    };
    let data = payload.bytes();
    let compressed = d
        .compress(&data)
        .map_err(|e| Error::Io(format!("compression failed: {e}")))?;
    let len = compressed.len();
    let opcode = match payload {
        Payload::Text(_) => OpData::Text,
        Payload::Binary(_) => OpData::Binary,
    };
    let mut frame = Frame::message(compressed, OpCode::Data(opcode), true);
    frame.header_mut().rsv1 = true;
    Ok((Message::Frame(frame), len))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An unmasked server frame: the first byte (FIN, RSV, opcode), the
    /// length, the payload (used by the UTF-8 watch's and the inflater's
    /// tests).
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

    #[test]
    fn headers_are_read_in_pieces_of_any_size() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let f = server_frame(0x81, &vec![b'a'; len]);
            let hlen = f.len() - len;
            let mut r = HeaderReader::default();
            for (i, b) in f[..hlen].iter().enumerate() {
                let mut piece = std::slice::from_ref(b);
                let h = r.read(&mut piece);
                assert!(piece.is_empty());
                if i + 1 < hlen {
                    assert!(h.is_none(), "complete after {} of {hlen} bytes", i + 1);
                } else {
                    let h = h.expect("complete");
                    assert_eq!((h.fin, h.rsv, h.opcode, h.masked), (true, 0, 1, false));
                    assert_eq!(h.payload_len, len as u64);
                    assert_eq!(h.bytes(), &f[..hlen]);
                }
            }
            // Whole, with the payload behind it left in the input.
            let mut input = &f[..];
            assert_eq!(r.read(&mut input).map(|h| h.payload_len), Some(len as u64));
            assert_eq!(input.len(), len);
        }
    }

    #[test]
    fn masked_headers_take_their_key() {
        let f = [0x82u8, 0x80 | 2, 1, 2, 3, 4, 0xaa, 0xbb];
        let mut input = &f[..];
        let h = HeaderReader::default().read(&mut input).unwrap();
        assert!(h.masked);
        assert_eq!(h.raw_len, 6);
        assert_eq!(input, &[0xaa, 0xbb]);
    }

    #[test]
    fn wire_sizes_follow_the_length_encoding() {
        assert_eq!(wire_len(0), 6);
        assert_eq!(wire_len(125), 131);
        assert_eq!(wire_len(126), 134);
        assert_eq!(wire_len(65536), 65536 + 14);
    }
}
