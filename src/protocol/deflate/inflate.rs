//! The receive filter below tungstenite that inflates compressed messages
//! into plain frames (RFC 7692 §7.2.2).

use super::{Negotiated, TAIL};
use crate::error::InflateViolation;
use crate::protocol::frame::HeaderReader;
use flate2::{Decompress, FlushDecompress, Status};
use std::io;

/// Plain bytes produced per filter step: the largest frame handed to
/// tungstenite (so a decompression bomb costs at most this much beyond the
/// message size limit before tungstenite refuses it).
const OUT_CHUNK: usize = 16 * 1024;
/// Room for the longest unmasked frame header.
const HEAD_ROOM: usize = 10;
/// Bytes read from the socket at a time while compression is on.
const RAW_CHUNK: usize = 16 * 1024;

/// A compressed message being inflated.
struct Inflating {
    /// Text (1) or binary (2).
    opcode: u8,
    /// The first plain frame (with the opcode) has been handed up.
    started: bool,
    /// Compressed payload bytes so far.
    compressed: u64,
    /// The final frame's payload is consumed: the tail is fed next.
    finishing: bool,
    tail_fed: usize,
    /// The deflate stream ended (a block with BFINAL): the rest is ignored
    /// and the decompressor starts over for the next message.
    ended: bool,
}

/// The frame whose payload is being read.
struct Current {
    left: u64,
    /// Handed up unchanged (not part of a compressed message).
    pass: bool,
    fin: bool,
}

/// The receive filter: frames from the server in, plain frames out (the
/// payload of a compressed message inflated and re-framed as a fragmented
/// message of the same type; everything else unchanged, so tungstenite
/// still judges reserved bits, opcodes, masks, control frames, UTF-8 and
/// the message size limit on the inflated bytes).
pub(crate) struct Inflater {
    z: Option<Decompress>,
    window_bits: u8,
    /// `server_no_context_takeover`: a fresh decompressor per message.
    per_message: bool,
    /// Compressed bytes allowed per message (beyond, 1009).
    max_compressed: u64,
    raw: Vec<u8>,
    raw_pos: usize,
    out: Vec<u8>,
    out_pos: usize,
    header: HeaderReader,
    cur: Option<Current>,
    msg: Option<Inflating>,
    /// Inside a fragmented uncompressed message.
    plain_open: bool,
}

fn violation(v: InflateViolation) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, v)
}

impl Inflater {
    pub(crate) fn new(n: &Negotiated, max_message_size: usize) -> Inflater {
        let max = max_message_size as u64;
        Inflater {
            z: None,
            // A larger window decodes any stream of a smaller one; zlib's
            // raw inflate wants at least 9.
            window_bits: n.server_max_window_bits.max(9),
            per_message: n.server_no_context_takeover,
            // Deflate expands incompressible data by a few bytes per 16 KiB
            // block at most.
            max_compressed: max + max / 64 + 1024,
            raw: Vec::new(),
            raw_pos: 0,
            out: Vec::new(),
            out_pos: 0,
            header: HeaderReader::default(),
            cur: None,
            msg: None,
            plain_open: false,
        }
    }

    /// Plain bytes are ready to be handed up.
    pub(crate) fn has_output(&self) -> bool {
        self.out_pos < self.out.len()
    }

    /// Copies ready plain bytes into `buf`.
    pub(crate) fn take_output(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        n
    }

    /// Every byte read has been processed: the next step needs more.
    pub(crate) fn needs_input(&self) -> bool {
        self.raw_pos == self.raw.len() && !self.msg.as_ref().is_some_and(|m| m.finishing)
    }

    /// A buffer for the next read from the socket.
    pub(crate) fn input_buffer(&mut self) -> &mut [u8] {
        self.raw.clear();
        self.raw_pos = 0;
        self.raw.resize(RAW_CHUNK, 0);
        &mut self.raw
    }

    /// Keeps the first `n` bytes of the input buffer as read.
    pub(crate) fn input_filled(&mut self, n: usize) {
        self.raw.truncate(n);
    }

    /// Nothing is in flight: frees the buffers (an idle connection keeps
    /// only the decompressor, and not even that without context takeover).
    pub(crate) fn idle(&mut self) {
        if self.needs_input() && !self.has_output() {
            self.raw = Vec::new();
            self.raw_pos = 0;
            self.out = Vec::new();
            self.out_pos = 0;
        }
    }

    /// One step: consumes input and/or produces output (call with no
    /// output pending).
    pub(crate) fn step(&mut self) -> io::Result<()> {
        self.out.clear();
        self.out_pos = 0;
        if self.msg.as_ref().is_some_and(|m| m.finishing) {
            return self.inflate();
        }
        match &mut self.cur {
            None => self.header(),
            Some(c) if c.pass => {
                let avail = self.raw.len() - self.raw_pos;
                let n = (c.left.min(avail as u64) as usize).min(OUT_CHUNK);
                self.out
                    .extend_from_slice(&self.raw[self.raw_pos..self.raw_pos + n]);
                self.raw_pos += n;
                c.left -= n as u64;
                if c.left == 0 {
                    self.cur = None;
                }
                Ok(())
            }
            Some(_) => self.inflate(),
        }
    }

    fn header(&mut self) -> io::Result<()> {
        let mut input = &self.raw[self.raw_pos..];
        let before = input.len();
        let header = self.header.read(&mut input);
        self.raw_pos += before - input.len();
        let Some(h) = header else {
            return Ok(()); // the header continues in the next read
        };
        let (fin, rsv, opcode, masked, len) = (h.fin, h.rsv, h.opcode, h.masked, h.payload_len);
        if matches!(opcode, 0x1 | 0x2) && self.msg.is_some() {
            // tungstenite may not have seen the message's first frame yet
            // (no output so far), so it could not tell (RFC 6455 §5.4).
            return Err(violation(InflateViolation::Protocol(
                "a new data frame inside a fragmented compressed message".into(),
            )));
        }
        // Only well-formed compressed data frames are taken in; anything
        // odd goes up unchanged for tungstenite to refuse (RSV1 on a
        // control or continuation frame, RSV2/RSV3, a masked frame: 1002).
        let compressed = !masked
            && match opcode {
                0x1 | 0x2 => rsv == 0x40 && self.msg.is_none() && !self.plain_open,
                0x0 => rsv == 0 && self.msg.is_some(),
                _ => false,
            };
        if !compressed {
            if matches!(opcode, 0x0..=0x2) && rsv == 0 && self.msg.is_none() {
                self.plain_open = !fin;
            }
            self.out.extend_from_slice(h.bytes());
            if len > 0 {
                self.cur = Some(Current {
                    left: len,
                    pass: true,
                    fin,
                });
            }
            return Ok(());
        }
        if opcode != 0 {
            self.msg = Some(Inflating {
                opcode,
                started: false,
                compressed: 0,
                finishing: false,
                tail_fed: 0,
                ended: false,
            });
        }
        let m = self.msg.as_mut().expect("a compressed message");
        // A length near 2^64 (RFC 6455 forbids its top bit; tungstenite has
        // not seen the frame yet) must not wrap the sum below the limit.
        m.compressed = m.compressed.saturating_add(len);
        if m.compressed > self.max_compressed {
            return Err(violation(InflateViolation::TooBig(format!(
                "a compressed message of more than {} bytes",
                self.max_compressed
            ))));
        }
        if len == 0 {
            m.finishing = fin;
        } else {
            self.cur = Some(Current {
                left: len,
                pass: false,
                fin,
            });
        }
        Ok(())
    }

    /// Inflates what is available of the current compressed frame (or the
    /// tail after its final frame) into one plain frame.
    fn inflate(&mut self) -> io::Result<()> {
        let bits = self.window_bits;
        let z = self
            .z
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        let m = self.msg.as_mut().expect("a compressed message");
        let from_frame = self.cur.is_some();
        let input: &[u8] = match &self.cur {
            Some(c) => {
                let avail = self.raw.len() - self.raw_pos;
                &self.raw[self.raw_pos..self.raw_pos + c.left.min(avail as u64) as usize]
            }
            None => &TAIL[m.tail_fed..],
        };
        self.out.reserve_exact(HEAD_ROOM + OUT_CHUNK);
        self.out.resize(HEAD_ROOM, 0);
        let spare = self.out.capacity() - HEAD_ROOM;
        let (consumed, produced) = if m.ended {
            (input.len(), 0) // after BFINAL: ignored
        } else {
            let (in0, out0) = (z.total_in(), z.total_out());
            // decompress_vec fills the spare capacity, `spare` bytes.
            let mut chunk = std::mem::take(&mut self.out);
            let status = z
                .decompress_vec(input, &mut chunk, FlushDecompress::None)
                .map_err(|e| {
                    violation(InflateViolation::Invalid(format!(
                        "the compressed data is invalid: {e}"
                    )))
                })?;
            self.out = chunk;
            if status == Status::StreamEnd {
                m.ended = true;
            }
            (
                (z.total_in() - in0) as usize,
                (z.total_out() - out0) as usize,
            )
        };
        if from_frame {
            self.raw_pos += consumed;
            let c = self.cur.as_mut().expect("a frame");
            c.left -= consumed as u64;
            if c.left == 0 {
                m.finishing = c.fin;
                self.cur = None;
            }
        } else {
            m.tail_fed += consumed;
        }
        let fin = m.finishing && (m.tail_fed == TAIL.len() || m.ended) && produced < spare;
        if produced == 0 && !fin {
            self.out.clear();
            return Ok(());
        }
        let opcode = if m.started { 0 } else { m.opcode };
        m.started = true;
        let first = (if fin { 0x80 } else { 0 }) | opcode;
        let head: Vec<u8> = match produced {
            n if n < 126 => vec![first, n as u8],
            n if n < 65536 => {
                let l = (n as u16).to_be_bytes();
                vec![first, 126, l[0], l[1]]
            }
            n => {
                let mut v = vec![first, 127];
                v.extend_from_slice(&(n as u64).to_be_bytes());
                v
            }
        };
        let at = HEAD_ROOM - head.len();
        self.out[at..HEAD_ROOM].copy_from_slice(&head);
        self.out_pos = at;
        if fin {
            let ended = m.ended;
            self.msg = None;
            if self.per_message {
                self.z = None;
            } else if ended {
                z_reset(&mut self.z);
            }
        }
        Ok(())
    }
}

fn z_reset(z: &mut Option<Decompress>) {
    if let Some(z) = z {
        z.reset(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::DeflateOptions;
    use crate::protocol::deflate::{Deflater, negotiate};
    use crate::protocol::frame::tests::server_frame as frame;

    fn opts() -> DeflateOptions {
        DeflateOptions::default()
    }

    /// Runs frames through the filter and returns the plain bytes.
    fn filter(inf: &mut Inflater, wire: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut fed = 0;
        for _ in 0..100_000 {
            if inf.has_output() {
                let mut b = [0u8; 1000];
                let n = inf.take_output(&mut b);
                out.extend_from_slice(&b[..n]);
                continue;
            }
            if inf.needs_input() {
                if fed == wire.len() {
                    return Ok(out);
                }
                let n = (wire.len() - fed).min(7); // odd read sizes
                inf.input_buffer()[..n].copy_from_slice(&wire[fed..fed + n]);
                inf.input_filled(n);
                fed += n;
            }
            inf.step()?;
        }
        panic!("the filter does not finish");
    }

    fn negotiated() -> Negotiated {
        negotiate(Some(&opts()), &["permessage-deflate".into()])
            .unwrap()
            .unwrap()
    }

    /// Parses plain frames back into (first byte, payload).
    fn frames(mut b: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut v = Vec::new();
        while !b.is_empty() {
            let (len, h) = match b[1] & 0x7f {
                126 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
                127 => (
                    u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                n => (n as usize, 2),
            };
            v.push((b[0], b[h..h + len].to_vec()));
            b = &b[h + len..];
        }
        v
    }

    #[test]
    fn compressed_messages_come_out_plain_with_control_frames_between() {
        let n = negotiated();
        let mut d = Deflater::new(&n);
        let text = "hello hello hello hello κόσμε ".repeat(3000);
        let c = d.compress(text.as_bytes()).unwrap();
        assert!(c.len() < text.len() / 10);
        // fragmented: 3 frames with a ping between
        let (a, rest) = c.split_at(c.len() / 3);
        let (b, cc) = rest.split_at(rest.len() / 2);
        let mut wire = frame(0x41, a);
        wire.extend(frame(0x89, b"ping"));
        wire.extend(frame(0x00, b));
        wire.extend(frame(0x80, cc));
        // then a plain binary and a second compressed message (context
        // taken over)
        wire.extend(frame(0x82, &[1, 2, 3]));
        let c2 = d.compress(text.as_bytes()).unwrap();
        assert!(c2.len() < c.len());
        wire.extend(frame(0xc1, &c2));
        wire.extend(frame(0xc2, &d.compress(b"").unwrap()));
        let mut inf = Inflater::new(&n, 1 << 20);
        let plain = filter(&mut inf, &wire).unwrap();
        let fs = frames(&plain);
        let mut msgs: Vec<(u8, Vec<u8>)> = Vec::new();
        let mut open: Option<(u8, Vec<u8>)> = None;
        for (first, p) in fs {
            assert_eq!(first & 0x70, 0, "no reserved bit goes up");
            let op = first & 0x0f;
            if op >= 8 {
                msgs.push((op, p));
                continue;
            }
            let cur = open.get_or_insert((op, Vec::new()));
            cur.1.extend_from_slice(&p);
            if first & 0x80 != 0 {
                msgs.push(open.take().unwrap());
            }
        }
        let want: Vec<(u8, Vec<u8>)> = vec![
            (9, b"ping".to_vec()),
            (1, text.as_bytes().to_vec()),
            (2, vec![1, 2, 3]),
            (1, text.as_bytes().to_vec()),
            (2, vec![]),
        ];
        assert_eq!(msgs, want);
    }

    #[test]
    fn odd_frames_go_up_unchanged_for_tungstenite_to_refuse() {
        let n = negotiated();
        let mut inf = Inflater::new(&n, 1 << 20);
        for f in [
            frame(0xc9, b"x"),        // RSV1 on a ping
            frame(0xa1, b"x"),        // RSV2
            frame(0x40 | 0x80, b"x"), // RSV1 on a continuation
        ] {
            assert_eq!(filter(&mut inf, &f).unwrap(), f);
        }
    }

    #[test]
    fn a_new_message_inside_a_fragmented_compressed_one_is_refused() {
        let n = negotiated();
        let mut d = Deflater::new(&n);
        let c = d.compress(b"hello").unwrap();
        let mut wire = frame(0x41, &c[..1]); // FIN=0, little output so far
        wire.extend(frame(0x81, b"plain"));
        let mut inf = Inflater::new(&n, 1 << 20);
        let e = filter(&mut inf, &wire).unwrap_err();
        let v = e.get_ref().unwrap().downcast_ref::<InflateViolation>();
        assert!(matches!(v, Some(InflateViolation::Protocol(_))), "{e}");
    }

    #[test]
    fn a_continuation_frame_of_length_near_2_64_is_too_big_not_an_overflow() {
        // Found by fuzz/fuzz_targets/protocol_bytes.rs: the compressed size
        // of the message overflowed (a panic with debug assertions, a wrap
        // past the limit without).
        let n = negotiated();
        let mut inf = Inflater::new(&n, 1 << 20);
        let mut wire = frame(0x41, &[0xf2]);
        wire.extend([0x00, 127]);
        wire.extend(u64::MAX.to_be_bytes());
        let e = filter(&mut inf, &wire).unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
    }

    #[test]
    fn garbage_is_invalid_and_a_huge_compressed_message_too_big() {
        let n = negotiated();
        let mut inf = Inflater::new(&n, 1 << 20);
        let e = filter(&mut inf, &frame(0xc1, &[0xff; 40])).unwrap_err();
        assert!(e.get_ref().unwrap().is::<InflateViolation>());
        let mut inf = Inflater::new(&n, 1000);
        let e = filter(&mut inf, &frame(0xc2, &[0; 5000])).unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
    }

    #[test]
    fn window_bits_8_compresses_as_stored_blocks() {
        let n = negotiate(
            Some(&opts()),
            &["permessage-deflate; client_max_window_bits=8".into()],
        )
        .unwrap()
        .unwrap();
        let mut d = Deflater::new(&n);
        let data = b"abcabcabcabcabcabcabcabcabcabc".repeat(100);
        let c = d.compress(&data).unwrap();
        assert!(c.len() > data.len(), "no back-references: stored");
        let mut inf = Inflater::new(&n, 1 << 20);
        let plain = filter(&mut inf, &frame(0xc2, &c)).unwrap();
        let got: Vec<u8> = frames(&plain).into_iter().flat_map(|(_, p)| p).collect();
        assert_eq!(got, data);
    }
}
