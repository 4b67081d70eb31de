//! The byte stream under tungstenite: plain TCP or OpenSSL TLS over a
//! non-blocking mio socket, with byte counters and a recorder that keeps the
//! raw handshake response, and (with permessage-deflate negotiated) the
//! filter that inflates compressed messages before tungstenite sees them.

use super::read_ahead::ReadAhead;
use crate::error::{HandshakeResponse, Refusal, Utf8Violation};
use crate::event::MessageType;
use crate::protocol::deflate::Inflater;
use crate::protocol::handshake::{RefusalHead, head_end, normalize_head, refusal, refusal_body};
use crate::protocol::utf8::Utf8Watch;
use mio::net::TcpStream;
use std::io::{self, Read, Write};
use std::time::Instant;

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
    /// After the handshake: the UTF-8 check of text messages (the only
    /// one: text goes up to tungstenite marked binary, see `Utf8Watch`).
    watch: Option<Utf8Watch>,
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
    /// While recording: the head is a refusal (not 101), whose body is
    /// being read before it is reported (see `gather_refusal`).
    refusal: Option<Box<RefusalBody>>,
}

/// The refusal whose body a stream reads, briefly, before reporting it.
struct RefusalBody {
    head: RefusalHead,
    /// Where the head ends in the record.
    end: usize,
    /// Report with what came by then ([`HandshakeResponse::BODY_WAIT`]).
    deadline: Instant,
    /// The deadline has been handed to the connection for a timer.
    announced: bool,
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
            refusal: None,
        }
    }

    /// The time by which a refused handshake is reported, once: the
    /// connection sets a timer for it (the body may never come).
    pub(crate) fn take_refusal_deadline(&mut self) -> Option<Instant> {
        let r = self.refusal.as_mut()?;
        if r.announced {
            return None;
        }
        r.announced = true;
        Some(r.deadline)
    }

    /// Ends the wait for a refusal's body now (the handshake timeout came
    /// first); false when no refusal is being read.
    pub(crate) fn expire_refusal(&mut self) -> bool {
        match self.refusal.as_mut() {
            Some(r) => {
                r.deadline = Instant::now();
                true
            }
            None => false,
        }
    }

    /// A refusal's head is recorded: reads its body until it is whole,
    /// [`HandshakeResponse::BODY_EXCERPT`] bytes came, the server closed
    /// or the deadline passed, then fails with the [`Refusal`] (the whole
    /// response) instead of handing the head to tungstenite.
    /// `WouldBlock` passes up (the deadline's timer drives it again).
    fn gather_refusal(&mut self) -> io::Result<()> {
        let limit = HandshakeResponse::BODY_EXCERPT;
        let mut tmp = [0u8; 2048];
        let mut eof = false;
        loop {
            let r = self.refusal.as_ref().expect("a refusal");
            let rec = self.record.as_ref().expect("recording");
            let raw = &rec[r.end..];
            let (body, complete) = refusal_body(r.head.framing, raw, eof, limit);
            let done = complete || eof || body.len() >= limit || raw.len() >= 2 * limit;
            if done || Instant::now() >= r.deadline {
                let r = self.refusal.take().expect("a refusal");
                let head = tungstenite::Bytes::copy_from_slice(&rec[..r.end]);
                let response = HandshakeResponse {
                    status: r.head.status,
                    reason: r.head.reason,
                    headers: r.head.headers,
                    head,
                    body: body.into(),
                    body_complete: complete,
                };
                return Err(io::Error::other(Refusal(Box::new(response))));
            }
            match self.read_inner(&mut tmp) {
                Ok(0) => eof = true,
                Ok(n) => self
                    .record
                    .as_mut()
                    .expect("recording")
                    .extend_from_slice(&tmp[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(e),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A reset after the body: report what came.
                Err(_) => eof = true,
            }
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
            if self.refusal.is_some() {
                return self.gather_refusal();
            }
            if let Some(end) = head_end(rec) {
                if let Some(head) = refusal(&rec[..end]) {
                    let deadline = Instant::now() + HandshakeResponse::BODY_WAIT;
                    self.refusal = Some(Box::new(RefusalBody {
                        head,
                        end,
                        deadline,
                        announced: false,
                    }));
                    return self.gather_refusal();
                }
                // Only the head goes to tungstenite's handshake; what came
                // behind it is read after the connection opened, through
                // the filters then in place.
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

    /// The kind of the next data message tungstenite returns (it returns
    /// text as binary, see `Utf8Watch`): call once per binary message.
    pub(crate) fn next_message_type(&mut self) -> MessageType {
        let kind = self.watch.as_mut().and_then(Utf8Watch::next_message_type);
        debug_assert!(kind.is_some(), "a message that did not pass the watch");
        kind.unwrap_or(MessageType::Binary)
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
        let n = match &mut self.watch {
            Some(w) if !self.poisoned => match w.feed(&mut buf[..n]) {
                Ok(()) => n,
                // The bytes before the break go up (the messages they end
                // are delivered), the text message it breaks never does.
                Err(at) => {
                    self.poisoned = true;
                    if at == 0 {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, Utf8Violation));
                    }
                    at
                }
            },
            _ => n,
        };
        if let Some(rec) = &mut self.record {
            rec.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
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
