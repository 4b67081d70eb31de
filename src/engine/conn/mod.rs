//! One client's connection state machine: resolve -> TCP -> TLS -> opening
//! handshake -> open -> closing -> closed, and reconnect.

use super::resolver::Resolver;
use super::stream::Stream;
use super::timers::{TimerKind, Timers};
use super::tls;
use super::tunnel::Tunnel;
use crate::error::Error;
use crate::event::Status;
use crate::event::{Event, EventKind, MessageType, ReconnectReason};
use crate::options::{ClientOptions, Target};
use crate::protocol::close;
use crate::protocol::deflate::Deflater;
use crossbeam_channel::Sender;
use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};
use tungstenite::handshake::MidHandshake;
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Bytes, Message, WebSocket};

mod dialer;
mod liveness;
mod outbox;
mod timeouts;

use outbox::Outbox;

/// What the engine lends a connection while it works: where to register,
/// where events and timers go, the resolver.
pub(crate) struct Env<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) events: &'a Sender<Event>,
    pub(crate) timers: &'a mut Timers,
    pub(crate) deferred: &'a mut Vec<(u64, u64)>,
    pub(crate) resolver: &'a mut Resolver,
    /// Bytes of the events queued for the caller (`Event::queued_size`).
    pub(crate) queued: &'a AtomicUsize,
    /// The context's event queue limit, in bytes.
    pub(crate) queue_limit: usize,
    /// Clients (id, generation) that stopped reading at the limit.
    pub(crate) throttled: &'a mut Vec<(u64, u64)>,
    /// The context's shared TLS configurations.
    pub(crate) tls: &'a mut super::tls::TlsCache,
    /// Clients holding corked messages (see [`Conn::uncork`]).
    pub(crate) corked: &'a mut Vec<u64>,
}

impl Env<'_> {
    fn emit(&self, client_id: u64, kind: EventKind) {
        // The receiver lives in the same `Shared` as the sender: it cannot
        // be gone while the engine runs.
        let ev = Event { client_id, kind };
        self.queued.fetch_add(ev.queued_size(), Ordering::SeqCst);
        let _ = self.events.send(ev);
    }
}

enum State {
    Initial,
    Resolving,
    /// TCP attempts racing (Happy Eyeballs, RFC 8305; see `dialer`).
    Connecting {
        race: Box<dialer::Race>,
    },
    Proxy(Box<Tunnel>),
    Tls(Box<openssl::ssl::MidHandshakeSslStream<TcpStream>>),
    Handshaking(Box<MidHandshake<ClientHandshake<Stream>>>),
    Open(Box<WebSocket<Stream>>),
    Closing(Box<WebSocket<Stream>>),
    Closed,
    ReconnectWait,
}

/// One client's connection.
pub(crate) struct Conn {
    pub(crate) id: u64,
    target: Target,
    pub(crate) opts: ClientOptions,
    state: State,
    /// Bumped by every new attempt and teardown: timers and resolver answers
    /// of an older generation are ignored.
    pub(crate) generation: u64,
    /// The registered socket's fd, while one is registered.
    fd: Option<RawFd>,
    /// Send accounting: queued before the handshake, not yet written.
    outbox: Outbox,
    /// The server's close frame (code, reason), once received.
    peer_close: Option<Box<(u16, String)>>,
    /// A read error found after messages that the caller has not had yet:
    /// the connection fails on the next turn, after the caller could act on
    /// them (e.g. echo a message that preceded a protocol violation, as
    /// RFC 6455 peers expect).
    deferred: Option<Box<tungstenite::Error>>,
    /// When the oldest ping still without a pong was sent.
    ping_outstanding: Option<Instant>,
    /// Reading is paused (`pause_recv`) for the current attempt.
    paused: bool,
    /// Reading stopped because the context's event queue is over its limit
    /// (`Context::set_event_queue_limit`); resumes once it drained.
    throttled: bool,
    /// Bytes read and written by the connections before the current one.
    bytes_read_before: u64,
    bytes_written_before: u64,
    /// The addresses of the last TCP connection (kept after it closes).
    pub(crate) peer_addr: Option<SocketAddr>,
    pub(crate) local_addr: Option<SocketAddr>,
    /// Attempts in a row that did not open (for the reconnect backoff).
    failed_attempts: u32,
    /// The caller closed or aborted: no automatic reconnect.
    closed_by_caller: bool,
    /// State of the jitter's random numbers (xorshift; not for security).
    jitter: u64,
    /// permessage-deflate in force on the open connection: the compressor
    /// of our messages (boxed: most connections do not compress, and an
    /// idle connection's size counts, issue 16).
    deflater: Option<Box<Deflater>>,
    /// The server's permessage-deflate answer of the last connection that
    /// opened (RFC 7692 §7.1), `None` when it opened without compression.
    pub(crate) extensions: Option<String>,
    /// The last TLS handshake resumed an earlier session.
    pub(crate) tls_resumed: bool,
    /// The shared TLS configuration of the handshake under way.
    tls_config: Option<std::sync::Arc<tls::TlsConfig>>,
    /// Messages sent while the caller dispatches a batch wait in
    /// tungstenite's write buffer for the batch's end ([`Conn::uncork`]).
    corked: bool,
    /// When the current connection opened; taken when it ends, to judge
    /// whether it stayed open long enough to start the backoff over.
    opened_at: Option<Instant>,
    /// Link metrics and liveness clocks (`liveness.rs`).
    link: liveness::Link,
    /// The opening handshake under way holds tungstenite's read buffers
    /// (counted for the heap trim, see `engine::trim`); after `state`, so
    /// that a dropped connection frees them first.
    handshake_buffers: Option<super::trim::HandshakeBuffers>,
}

/// What the reconnect policy makes of how an attempt or connection ended:
/// retried (with the server's `Retry-After` as a floor and the status
/// that carried it), or not (why).
type Verdict = std::result::Result<Option<(Duration, u16)>, String>;

fn is_would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == io::ErrorKind::WouldBlock)
}

impl Conn {
    pub(crate) fn new(id: u64, target: Target) -> Conn {
        Conn {
            id,
            target,
            opts: ClientOptions::default(),
            state: State::Initial,
            generation: 0,
            fd: None,
            outbox: Outbox::default(),
            peer_close: None,
            deferred: None,
            ping_outstanding: None,
            paused: false,
            throttled: false,
            bytes_read_before: 0,
            bytes_written_before: 0,
            peer_addr: None,
            local_addr: None,
            failed_attempts: 0,
            closed_by_caller: false,
            jitter: id.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            deflater: None,
            extensions: None,
            tls_resumed: false,
            tls_config: None,
            corked: false,
            opened_at: None,
            link: liveness::Link::default(),
            handshake_buffers: None,
        }
    }

    fn tls(&self) -> bool {
        self.target.wss || self.opts.tls
    }

    pub(crate) fn status(&self) -> Status {
        match self.state {
            State::Initial => Status::Initial,
            State::Resolving
            | State::Connecting { .. }
            | State::Proxy(_)
            | State::Tls(_)
            | State::Handshaking(_)
            | State::ReconnectWait => Status::Connecting,
            State::Open(_) => Status::Established,
            State::Closing(_) => Status::Closing,
            State::Closed => Status::Closed,
        }
    }

    /// `connect()`: start an attempt unless one is under way or open.
    pub(crate) fn connect(&mut self, env: &mut Env) {
        self.closed_by_caller = false;
        match self.state {
            State::Initial | State::Closed => {
                // The caller starts over: so does the reconnect policy.
                self.failed_attempts = 0;
                self.start(env);
            }
            State::ReconnectWait => self.start(env),
            _ => {}
        }
    }

    fn deregister(&mut self, env: &Env) {
        if let Some(fd) = self.fd.take() {
            let _ = env.registry.deregister(&mut SourceFd(&fd));
        }
    }

    /// Readiness on the socket (either direction) reported by the poller:
    /// make all the progress possible now. `read_closed`: the readiness
    /// included the peer's FIN (or an error); a short read is then not
    /// taken as a drained socket (see `read_ahead`).
    pub(crate) fn drive_ready(&mut self, env: &mut Env, read_closed: bool) {
        self.drive_with(env, !read_closed);
    }

    /// Make all the progress possible now (not from a readiness event:
    /// every read goes on until the socket says `WouldBlock`).
    pub(crate) fn drive(&mut self, env: &mut Env) {
        self.drive_with(env, false);
    }

    fn drive_with(&mut self, env: &mut Env, trust_short_reads: bool) {
        // Each state hands over to the next as far as the socket allows.
        loop {
            let state = std::mem::replace(&mut self.state, State::Closed);
            let progressed = match state {
                State::Connecting { race } => self.drive_connecting(env, race),
                State::Proxy(shake) => self.proxy_progress(env, shake.drive()),
                State::Tls(mid) => {
                    let r = mid.handshake();
                    self.tls_result(env, r)
                }
                State::Handshaking(mid) => {
                    let r = mid.handshake();
                    self.handshake_result(env, r);
                    matches!(self.state, State::Open(_))
                }
                State::Open(ws) => {
                    self.state = State::Open(ws);
                    self.drive_open(env, trust_short_reads);
                    false
                }
                State::Closing(ws) => {
                    self.state = State::Closing(ws);
                    self.drive_open(env, trust_short_reads);
                    false
                }
                other => {
                    self.state = other;
                    false
                }
            };
            if !progressed {
                return;
            }
        }
    }

    fn drive_open(&mut self, env: &mut Env, trust_short_reads: bool) {
        if self.deferred.is_some() {
            return;
        }
        let (State::Open(ws) | State::Closing(ws)) = &mut self.state else {
            return;
        };
        if let Err(e) = ws.flush()
            && !is_would_block(&e)
        {
            return self.read_error(env, e);
        }
        if self.outbox.drained(self.stream_written()) {
            env.emit(self.id, EventKind::BufferDrain);
        }
        if self.paused || self.throttled {
            return;
        }
        if let State::Open(ws) | State::Closing(ws) = &mut self.state {
            ws.get_mut().begin_reads(trust_short_reads);
        }
        let mut delivered = 0usize;
        loop {
            if env.queued.load(Ordering::SeqCst) > env.queue_limit {
                return self.throttle(env);
            }
            let (State::Open(ws) | State::Closing(ws)) = &mut self.state else {
                return;
            };
            match ws.read() {
                // Text comes as binary (checked once, by the stream's
                // UTF-8 watch); the watch says which it was.
                Ok(Message::Binary(data)) => {
                    delivered += 1;
                    // Any frame is a sign of life for the pong timeout.
                    self.ping_outstanding = None;
                    self.link.received(data.len());
                    let message_type = ws.get_mut().next_message_type();
                    let kind = EventKind::Message { message_type, data };
                    env.emit(self.id, kind);
                }
                // Not reached (the watch hands every text frame up as
                // binary); already validated by tungstenite if it were.
                Ok(Message::Text(t)) => {
                    delivered += 1;
                    self.ping_outstanding = None;
                    self.link.received(t.len());
                    let kind = EventKind::Message {
                        message_type: MessageType::Text,
                        data: Bytes::from(t),
                    };
                    env.emit(self.id, kind);
                }
                Ok(Message::Ping(p)) => {
                    self.ping_outstanding = None;
                    // tungstenite answers pings only while open (no pong
                    // after a close frame was sent or received).
                    if let State::Open(_) = self.state {
                        self.outbox.submit(p.len());
                    }
                    env.emit(self.id, EventKind::Ping(p));
                }
                Ok(Message::Pong(p)) => {
                    self.ping_outstanding = None;
                    self.link.pong_received();
                    env.emit(self.id, EventKind::Pong(p));
                }
                Ok(Message::Close(frame)) => {
                    let (code, reason) = match frame {
                        Some(f) => (u16::from(f.code), f.reason.as_str().to_string()),
                        None => (1005, String::new()),
                    };
                    self.peer_close = Some(Box::new((code, reason.clone())));
                    let kind = EventKind::CloseFrame {
                        code,
                        reason: reason.clone(),
                    };
                    env.emit(self.id, kind);
                    if let State::Open(_) = self.state {
                        // The server started the closing handshake;
                        // tungstenite echoes its close frame (RFC 6455
                        // §5.5.1) on the next read, then the server closes.
                        // The echo carries the code and reason, or
                        // nothing when the server's frame had no code.
                        let echoed = if code == 1005 { 0 } else { 2 + reason.len() };
                        self.outbox.submit(echoed);
                        let State::Open(ws) = std::mem::replace(&mut self.state, State::Closed)
                        else {
                            unreachable!()
                        };
                        self.state = State::Closing(ws);
                        let deadline = Instant::now() + self.opts.close_timeout;
                        env.timers
                            .push(deadline, self.id, self.generation, TimerKind::Close);
                    }
                }
                Ok(Message::Frame(_)) => {}
                Err(e) if is_would_block(&e) => return self.note_data(delivered),
                Err(e) if delivered > 0 && !matches!(e, tungstenite::Error::ConnectionClosed) => {
                    self.deferred = Some(Box::new(e));
                    env.deferred.push((self.id, self.generation));
                    return;
                }
                Err(e) => return self.read_error(env, e),
            }
        }
    }

    fn read_error(&mut self, env: &mut Env, e: tungstenite::Error) {
        if let tungstenite::Error::ConnectionClosed = e {
            // The closing handshake completed and the server closed TCP.
            let (code, reason) = self.peer_close.take().map_or((1005, String::new()), |b| *b);
            return self.finish(env, None, code, reason, true);
        }
        let err = Error::from(e);
        if let Some((code, reason)) = self.peer_close.take().map(|b| *b) {
            // Both close frames were exchanged; TCP ended less tidily.
            return self.finish(env, None, code, reason, true);
        }
        match err {
            Error::Protocol(_) | Error::InvalidPayload(_) | Error::MessageTooBig(_) => {
                // _Fail the WebSocket Connection_ (RFC 6455 §7.1.7): send a
                // close frame with the code the error calls for, best effort.
                let code = err.close_code();
                if let State::Open(ws) = &mut self.state {
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: "".into(),
                    };
                    let _ = ws.close(Some(frame));
                    let _ = ws.flush();
                }
                let reason = err.to_string();
                self.finish(env, Some(err), code, reason, false);
            }
            other => self.lost(env, other),
        }
    }

    /// The connection ended without a closing handshake (1006).
    fn lost(&mut self, env: &mut Env, e: Error) {
        self.finish(env, None, 1006, e.to_string(), false);
    }

    /// An attempt failed before the connection opened.
    fn fail(&mut self, env: &mut Env, e: Error) {
        let reason = e.to_string();
        self.finish(env, Some(e), 1006, reason, false);
    }

    /// Ends the connection: closes the socket, then reports, in order, the
    /// error (if any), every accepted message not known to be written
    /// (`Undelivered`: those in the socket buffer, then those queued before
    /// the handshake), and `Closed`.
    fn finish(
        &mut self,
        env: &mut Env,
        error: Option<Error>,
        code: u16,
        reason: String,
        clean: bool,
    ) {
        let unwritten = self.outbox.take_unwritten(self.stream_written());
        let verdict = self.reconnect_verdict(error.as_ref());
        self.teardown(env);
        if let Some(e) = error {
            env.emit(self.id, EventKind::Error(e));
        }
        for payload in unwritten {
            env.emit(
                self.id,
                EventKind::Undelivered {
                    message_type: payload.message_type(),
                    data: payload.bytes(),
                },
            );
        }
        self.drop_pending(env);
        self.schedule_backoff(env, verdict);
        env.emit(
            self.id,
            EventKind::Closed {
                code,
                reason,
                clean,
            },
        );
    }

    /// Whether the reconnect policy retries after `error` (see
    /// [`Verdict`]): a refusal with a fatal status (by default 400, 401,
    /// 403, 404), a TLS certificate failure (unless allowed), bad settings
    /// are not; 429 and 503 carry their `Retry-After`.
    fn reconnect_verdict(&self, error: Option<&Error>) -> Verdict {
        use crate::error::TlsFault;
        let o = &self.opts;
        match error {
            Some(Error::Handshake(r)) => {
                let Some(resp) = r.kind.response() else {
                    return Ok(None);
                };
                if !o.reconnect_status(resp.status) {
                    return Err(format!("HTTP {} is not retried", resp.status));
                }
                if !matches!(resp.status, 429 | 503) || o.reconnect_retry_after_max.is_zero() {
                    return Ok(None);
                }
                let wait = resp.retry_after(SystemTime::now());
                Ok(wait.map(|w| (w.min(o.reconnect_retry_after_max), resp.status)))
            }
            Some(Error::Tls(r))
                if matches!(
                    r.kind,
                    TlsFault::Verify | TlsFault::Name | TlsFault::Fingerprint
                ) && !o.reconnect_tls_verify =>
            {
                Err("a TLS certificate failure is not retried".into())
            }
            Some(Error::Tls(r)) if r.kind == TlsFault::Setup => {
                Err("the TLS settings cannot be used".into())
            }
            Some(Error::InvalidUrl(_) | Error::InvalidHeader(_) | Error::InvalidArgument(_)) => {
                Err("the URL or a header is refused".into())
            }
            _ => Ok(None),
        }
    }

    /// With a reconnect backoff set and the end not the caller's doing:
    /// decides (`verdict`, the attempt limit), reports the decision
    /// (`Reconnect`), then waits (first delay doubled per attempt in a row,
    /// up to the longest, minus a random part of up to half; at least the
    /// server's `Retry-After`) and connects again. The count of attempts
    /// in a row starts over when the connection that ended stayed open
    /// `reconnect_reset_after`.
    fn schedule_backoff(&mut self, env: &mut Env, verdict: Verdict) {
        let stayed = self.opened_at.take().map(|t| t.elapsed());
        let Some((first, longest)) = self.opts.reconnect_backoff else {
            return;
        };
        if self.closed_by_caller {
            return;
        }
        if stayed.is_some_and(|d| d >= self.opts.reconnect_reset_after) {
            self.failed_attempts = 0;
        }
        let max = self.opts.reconnect_max_attempts;
        let give_up = |reason, text: String| EventKind::Reconnect {
            delay_ms: 0,
            reason,
            attempt: self.failed_attempts,
            text: format!("not reconnecting: {text}"),
        };
        let floor = match verdict {
            Ok(floor) => floor,
            Err(why) => return env.emit(self.id, give_up(ReconnectReason::Fatal, why)),
        };
        if max > 0 && self.failed_attempts >= max {
            let why = format!("{max} reconnect attempts in a row failed");
            return env.emit(self.id, give_up(ReconnectReason::AttemptsExhausted, why));
        }
        let factor = 1u32 << self.failed_attempts.min(20);
        let delay = first.saturating_mul(factor).min(longest);
        self.failed_attempts = self.failed_attempts.saturating_add(1);
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let cut = delay.as_micros() as u64 / 2;
        let cut = if cut == 0 { 0 } else { self.jitter % cut };
        let delay = delay - Duration::from_micros(cut);
        let (delay, reason, why) = match floor {
            Some((f, status)) if f > delay => (
                f,
                ReconnectReason::RetryAfter,
                format!(
                    "the server asked to retry after {} s (HTTP {status} Retry-After)",
                    f.as_millis() as f64 / 1000.0
                ),
            ),
            _ => (delay, ReconnectReason::Backoff, String::new()),
        };
        let of = if max > 0 {
            format!(" of {max}")
        } else {
            String::new()
        };
        let delay_ms = delay.as_millis() as u64;
        let mut text = format!(
            "reconnecting in {delay_ms} ms (attempt {}{of})",
            self.failed_attempts
        );
        if !why.is_empty() {
            text = format!("{text}: {why}");
        }
        env.emit(
            self.id,
            EventKind::Reconnect {
                delay_ms,
                reason,
                attempt: self.failed_attempts,
                text,
            },
        );
        self.reconnect_after(env, delay);
    }

    /// Waits `delay`, then connects (the state `ReconnectWait`).
    fn reconnect_after(&mut self, env: &mut Env, delay: Duration) {
        self.generation += 1;
        self.state = State::ReconnectWait;
        let at = Instant::now() + delay;
        env.timers
            .push(at, self.id, self.generation, TimerKind::Reconnect);
    }

    /// Closes the socket and forgets the attempt (no events).
    pub(crate) fn teardown(&mut self, env: &mut Env) {
        if let State::Open(ws) | State::Closing(ws) = &self.state {
            self.bytes_read_before += ws.get_ref().bytes_read;
            self.bytes_written_before += ws.get_ref().bytes_written;
        }
        self.outbox.end_episode();
        self.corked = false;
        self.deflater = None;
        self.deregister(env);
        self.state = State::Closed;
        // After the state: the handshake's buffers are freed by now.
        self.handshake_buffers = None;
        self.generation += 1;
        self.peer_close = None;
        self.deferred = None;
        self.ping_outstanding = None;
    }

    /// Stops reading from the socket (Workerman's `pauseRecv`): the server
    /// feels it through TCP flow control. Writing goes on. Ends with the
    /// current connection attempt.
    pub(crate) fn pause_recv(&mut self, env: &mut Env) {
        self.paused = true;
        if let Some(fd) = self.fd
            && matches!(self.state, State::Open(_) | State::Closing(_))
        {
            let token = Token(self.id as usize);
            let _ = env
                .registry
                .reregister(&mut SourceFd(&fd), token, Interest::WRITABLE);
        }
    }

    /// Stops reading because the event queue is over its limit: the server
    /// is held back by TCP flow control until [`Conn::unthrottle`].
    fn throttle(&mut self, env: &mut Env) {
        self.throttled = true;
        env.throttled.push((self.id, self.generation));
        if let Some(fd) = self.fd
            && !self.paused
        {
            let token = Token(self.id as usize);
            let _ = env
                .registry
                .reregister(&mut SourceFd(&fd), token, Interest::WRITABLE);
        }
    }

    /// The event queue drained below half its limit: read again, at once
    /// (data is waiting in the socket; no new readiness would come).
    pub(crate) fn unthrottle(&mut self, env: &mut Env) {
        if !self.throttled {
            return;
        }
        self.throttled = false;
        if self.paused {
            return;
        }
        self.listen_again(env);
    }

    /// Reads again after `pause_recv`, at once (data may be waiting).
    pub(crate) fn resume_recv(&mut self, env: &mut Env) {
        if !self.paused {
            return;
        }
        self.paused = false;
        if self.throttled {
            return;
        }
        self.listen_again(env);
    }

    /// Registers for reading again and reads what is waiting.
    fn listen_again(&mut self, env: &mut Env) {
        if let Some(fd) = self.fd {
            let token = Token(self.id as usize);
            let both = Interest::READABLE | Interest::WRITABLE;
            let _ = env.registry.reregister(&mut SourceFd(&fd), token, both);
        }
        self.drive(env);
    }

    /// Closes at once without a closing handshake (Workerman's `destroy`).
    pub(crate) fn abort(&mut self, env: &mut Env) {
        self.closed_by_caller = true;
        match self.state {
            State::Initial | State::Closed => {}
            State::ReconnectWait => self.cancel_reconnect(env),
            _ => {
                let reason = "closed by the client without a closing handshake".to_string();
                self.finish(env, None, 1006, reason, false);
            }
        }
    }

    /// Cancels a pending reconnect (Workerman's `cancelReconnect`); messages
    /// queued for it come back as undelivered.
    pub(crate) fn cancel_reconnect(&mut self, env: &mut Env) {
        self.closed_by_caller = true;
        if let State::ReconnectWait = self.state {
            self.teardown(env);
            self.drop_pending(env);
        }
    }

    /// Bytes read and written over all connections of this client,
    /// handshakes included (after TLS decryption, before encryption).
    pub(crate) fn bytes(&self) -> (u64, u64) {
        let (r, w) = match &self.state {
            State::Open(ws) | State::Closing(ws) => {
                (ws.get_ref().bytes_read, ws.get_ref().bytes_written)
            }
            _ => (0, 0),
        };
        (self.bytes_read_before + r, self.bytes_written_before + w)
    }

    pub(crate) fn ping(&mut self, env: &mut Env, data: &[u8]) -> crate::Result<()> {
        if data.len() > 125 {
            return Err(Error::InvalidArgument(format!(
                "a ping payload is at most 125 bytes, not {}",
                data.len()
            )));
        }
        let State::Open(ws) = &mut self.state else {
            return Err(Error::NotConnected);
        };
        self.outbox.submit(data.len());
        if let (None, Some(t)) = (self.ping_outstanding, self.opts.pong_timeout) {
            let now = Instant::now();
            self.ping_outstanding = Some(now);
            env.timers
                .push(now + t, self.id, self.generation, TimerKind::Pong);
        }
        self.link.ping_sent();
        match ws.send(Message::Ping(Bytes::copy_from_slice(data))) {
            Ok(()) => Ok(()),
            Err(e) if is_would_block(&e) => Ok(()),
            Err(e) => {
                self.lost(env, Error::from(e));
                Err(Error::NotConnected)
            }
        }
    }

    pub(crate) fn close(&mut self, env: &mut Env, code: u16, reason: &str) -> crate::Result<()> {
        self.closed_by_caller = true;
        close::check(code, reason)?;
        match &mut self.state {
            State::Open(ws) => {
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                };
                self.outbox.submit(2 + reason.len());
                match ws.close(Some(frame)) {
                    Ok(()) => {}
                    Err(e) if is_would_block(&e) => {}
                    Err(e) => {
                        self.lost(env, Error::from(e));
                        return Ok(());
                    }
                }
                let State::Open(ws) = std::mem::replace(&mut self.state, State::Closed) else {
                    unreachable!()
                };
                self.state = State::Closing(ws);
                let deadline = Instant::now() + self.opts.close_timeout;
                env.timers
                    .push(deadline, self.id, self.generation, TimerKind::Close);
                Ok(())
            }
            State::Resolving
            | State::Connecting { .. }
            | State::Proxy(_)
            | State::Tls(_)
            | State::Handshaking(_) => {
                let reason = "closed by the client before the connection opened".to_string();
                self.finish(env, None, 1006, reason, false);
                Ok(())
            }
            State::ReconnectWait => {
                self.cancel_reconnect(env);
                Ok(())
            }
            State::Initial | State::Closing(_) | State::Closed => Ok(()),
        }
    }

    pub(crate) fn reconnect(&mut self, env: &mut Env, delay: Duration) {
        self.closed_by_caller = false;
        match self.state {
            State::Initial | State::Closed | State::ReconnectWait => {}
            State::Open(_) | State::Closing(_) => {
                let reason = "closed by the client to reconnect".to_string();
                self.finish(env, None, 1006, reason, false);
            }
            _ => self.teardown(env),
        }
        if delay.is_zero() {
            self.start(env);
        } else {
            self.reconnect_after(env, delay);
        }
    }

    /// Acts on a read error held back by `drive_open` (see `deferred`).
    pub(crate) fn fail_deferred(&mut self, env: &mut Env) {
        if let Some(e) = self.deferred.take() {
            self.read_error(env, *e);
        }
    }
}
