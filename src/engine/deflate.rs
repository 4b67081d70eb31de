//! permessage-deflate (RFC 7692) around tungstenite, which refuses any
//! frame with RSV1 set: the offer and the check of the server's answer
//! (§5, §7.1), the receive filter below tungstenite that inflates compressed
//! messages into plain frames (§7.2.2), and the compressor of outgoing
//! messages (§7.2.1), which tungstenite writes as ready-made frames.
//!
//! Without negotiated compression none of this is in the data path.

use crate::error::InflateViolation;
use crate::options::DeflateOptions;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::io;

/// The empty stored block that ends every compressed message on the wire
/// and is removed by the sender / appended by the receiver (§7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Plain bytes produced per filter step: the largest frame handed to
/// tungstenite (so a decompression bomb costs at most this much beyond the
/// message size limit before tungstenite refuses it).
const OUT_CHUNK: usize = 16 * 1024;
/// Room for the longest unmasked frame header.
const HEAD_ROOM: usize = 10;
/// Bytes read from the socket at a time while compression is on.
const RAW_CHUNK: usize = 16 * 1024;

/// The parameters in force after the server accepted the offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Negotiated {
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_no_context_takeover: bool,
    /// Our compressor's window, 8..=15 (8: stored blocks only, see
    /// `Deflater`).
    pub(crate) client_max_window_bits: u8,
    /// The server's window, 8..=15.
    pub(crate) server_max_window_bits: u8,
    pub(crate) level: u8,
    /// The server's answer as it came (the `Sec-WebSocket-Extensions`
    /// value), for the caller.
    pub(crate) answer: String,
}

/// A window-bits value: a decimal 8..=15 without leading zeros, possibly
/// quoted (§7.1.2.1, §7.1.2.2; RFC 6455 §9.1 allows a quoted-string).
fn window_bits(name: &str, v: Option<&str>) -> Result<u8, String> {
    let raw = v.ok_or(format!("{name} needs a value"))?;
    let v = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    match v {
        "8" | "9" | "10" | "11" | "12" | "13" | "14" | "15" => Ok(v.parse().unwrap_or(15)),
        _ => Err(format!("{name}={raw} is not 8..15")),
    }
}

/// Checks the server's `Sec-WebSocket-Extensions` answer against our offer
/// (RFC 7692 §7.1, RFC 6455 §9.1): `Ok(None)` when the server declined
/// (no extension selected), the parameters in force when it accepted, and
/// an error naming the fault when the answer selects anything not offered,
/// repeats or misuses a parameter, or asks for more than offered.
/// `offer` is `None` when nothing was offered: then any extension is refused.
pub(crate) fn negotiate(
    offer: Option<&DeflateOptions>,
    answers: &[String],
) -> Result<Option<Negotiated>, String> {
    let joined = answers.join(", ");
    let elements: Vec<&str> = joined
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if elements.is_empty() {
        return Ok(None);
    }
    let Some(offer) = offer else {
        return Err(format!(
            "the server selected the extension {joined:?}, which was not offered"
        ));
    };
    if elements.len() > 1 {
        return Err(format!(
            "the server selected {} extensions ({joined:?}); only permessage-deflate was offered, once",
            elements.len()
        ));
    }
    let mut parts = elements[0].split(';').map(str::trim);
    let name = parts.next().unwrap_or("");
    if !name.eq_ignore_ascii_case("permessage-deflate") {
        return Err(format!(
            "the server selected the extension {name:?}, which was not offered (only permessage-deflate was)"
        ));
    }
    let mut n = Negotiated {
        client_no_context_takeover: offer.client_no_context_takeover,
        server_no_context_takeover: false,
        client_max_window_bits: offer.client_max_window_bits.unwrap_or(15),
        server_max_window_bits: 15,
        level: offer.level,
        answer: elements[0].to_string(),
    };
    let mut seen: Vec<String> = Vec::new();
    for p in parts {
        if p.is_empty() {
            continue;
        }
        let (key, value) = match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (p.to_ascii_lowercase(), None),
        };
        if seen.contains(&key) {
            return Err(format!(
                "permessage-deflate answer repeats {key} (RFC 7692 section 7.1)"
            ));
        }
        seen.push(key.clone());
        match key.as_str() {
            "server_no_context_takeover" | "client_no_context_takeover" => {
                if value.is_some() {
                    return Err(format!(
                        "permessage-deflate answer gives {key} a value; it has none (RFC 7692 section 7.1.1)"
                    ));
                }
                if key == "server_no_context_takeover" {
                    n.server_no_context_takeover = true;
                } else {
                    n.client_no_context_takeover = true;
                }
            }
            "server_max_window_bits" => {
                let b = window_bits(&key, value)?;
                if let Some(asked) = offer.server_max_window_bits
                    && b > asked
                {
                    return Err(format!(
                        "permessage-deflate answer server_max_window_bits={b} exceeds the {asked} offered \
                         (RFC 7692 section 7.1.2.1)"
                    ));
                }
                n.server_max_window_bits = b;
            }
            "client_max_window_bits" => {
                // Offered always (with or without a value).
                let b = window_bits(&key, value)?;
                if let Some(mine) = offer.client_max_window_bits
                    && b > mine
                {
                    return Err(format!(
                        "permessage-deflate answer client_max_window_bits={b} exceeds the {mine} offered \
                         (RFC 7692 section 7.1.2.2)"
                    ));
                }
                n.client_max_window_bits = b;
            }
            other => {
                return Err(format!(
                    "permessage-deflate answer has the unknown parameter {other:?} (RFC 7692 section 7.1)"
                ));
            }
        }
    }
    if offer.server_no_context_takeover && !n.server_no_context_takeover {
        return Err(
            "the server accepted permessage-deflate without the server_no_context_takeover \
             that was offered (RFC 7692 section 7.1.1.1)"
                .into(),
        );
    }
    if offer.server_max_window_bits.is_some() && !seen.iter().any(|k| k == "server_max_window_bits")
    {
        return Err(
            "the server accepted permessage-deflate without the server_max_window_bits \
             that was offered (RFC 7692 section 7.1.2.1)"
                .into(),
        );
    }
    Ok(Some(n))
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
    hdr: [u8; 14],
    hdr_len: usize,
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
            hdr: [0; 14],
            hdr_len: 0,
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

    fn header_need(&self) -> usize {
        if self.hdr_len < 2 {
            return 2;
        }
        let masked = if self.hdr[1] & 0x80 != 0 { 4 } else { 0 };
        2 + masked
            + match self.hdr[1] & 0x7f {
                126 => 2,
                127 => 8,
                _ => 0,
            }
    }

    fn header(&mut self) -> io::Result<()> {
        loop {
            let need = self.header_need();
            if self.hdr_len >= need {
                break;
            }
            if self.raw_pos == self.raw.len() {
                return Ok(()); // the header continues in the next read
            }
            let take = (need - self.hdr_len).min(self.raw.len() - self.raw_pos);
            self.hdr[self.hdr_len..self.hdr_len + take]
                .copy_from_slice(&self.raw[self.raw_pos..self.raw_pos + take]);
            self.hdr_len += take;
            self.raw_pos += take;
        }
        let h = self.hdr;
        let hlen = self.hdr_len;
        self.hdr_len = 0;
        let (fin, rsv, opcode) = (h[0] & 0x80 != 0, h[0] & 0x70, h[0] & 0x0f);
        let masked = h[1] & 0x80 != 0;
        let len = match h[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            127 => u64::from_be_bytes([h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]]),
            n => u64::from(n),
        };
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
            self.out.extend_from_slice(&h[..hlen]);
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
        m.compressed += len;
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

    fn opts() -> DeflateOptions {
        DeflateOptions::default()
    }

    #[test]
    fn the_offer_lists_the_parameters() {
        assert_eq!(opts().offer(), "permessage-deflate; client_max_window_bits");
        let o = DeflateOptions {
            client_no_context_takeover: true,
            server_no_context_takeover: true,
            client_max_window_bits: Some(10),
            server_max_window_bits: Some(9),
            level: 1,
        };
        assert_eq!(
            o.offer(),
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover; \
             client_max_window_bits=10; server_max_window_bits=9"
        );
        assert!(
            DeflateOptions {
                client_max_window_bits: Some(8),
                ..opts()
            }
            .check()
            .is_err()
        );
        assert!(
            DeflateOptions {
                level: 10,
                ..opts()
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn answers_are_checked_against_the_offer() {
        let ok = |a: &str| negotiate(Some(&opts()), &[a.to_string()]);
        assert_eq!(ok("").unwrap(), None);
        let n = ok("permessage-deflate; server_no_context_takeover; client_max_window_bits=\"9\"")
            .unwrap()
            .unwrap();
        assert!(n.server_no_context_takeover && !n.client_no_context_takeover);
        assert_eq!(
            (n.client_max_window_bits, n.server_max_window_bits),
            (9, 15)
        );
        assert_eq!(
            ok("permessage-deflate; client_max_window_bits=8")
                .unwrap()
                .unwrap()
                .client_max_window_bits,
            8
        );
        for bad in [
            "x-webkit-deflate-frame",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate; foo",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=09",
            "permessage-deflate; client_no_context_takeover=1",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
        assert!(negotiate(None, &["permessage-deflate".into()]).is_err());
        let asked = DeflateOptions {
            server_no_context_takeover: true,
            server_max_window_bits: Some(10),
            client_max_window_bits: Some(12),
            ..opts()
        };
        let with = |a: &str| negotiate(Some(&asked), &[a.to_string()]);
        assert!(with("permessage-deflate; server_max_window_bits=10").is_err());
        assert!(with("permessage-deflate; server_no_context_takeover").is_err());
        assert!(
            with("permessage-deflate; server_no_context_takeover; server_max_window_bits=11")
                .is_err()
        );
        assert!(with("permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=13").is_err());
        let n = with("permessage-deflate; server_no_context_takeover; server_max_window_bits=9")
            .unwrap()
            .unwrap();
        assert_eq!(
            (n.client_max_window_bits, n.server_max_window_bits),
            (12, 9)
        );
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

    use crate::engine::stream::tests::server_frame as frame;

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
