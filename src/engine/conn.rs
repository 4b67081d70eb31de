//! One client's connection state machine: resolve -> TCP -> TLS -> opening
//! handshake -> open -> closing -> closed, and reconnect.

use super::resolver::{Request, Resolver};
use super::stream::{Inner, Stream};
use super::timers::{TimerKind, Timers};
use super::tls;
use super::tunnel::{Progress, Tunnel};
use crate::error::Error;
use crate::event::Status;
use crate::event::{Event, EventKind, MessageType};
use crate::options::{ClientOptions, Target};
use crate::protocol::deflate::{self, Deflater, Inflater};
use crate::protocol::frame::{wire_len, wire_message};
use crate::protocol::{close, handshake};
use crossbeam_channel::Sender;
use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{Bytes, Message, WebSocket};

/// Read buffer per connection: small, so 10,000 idle connections fit
/// (tungstenite's default of 128 KiB costs 137 KiB per connection). It is
/// also the most tungstenite reads at once, and it zero-fills that much
/// before every read: 2 KiB costs a third fewer instructions per small
/// message than 4 KiB (callgrind), and large messages come through the
/// read-ahead buffer (`read_ahead`) whatever this size.
const READ_BUFFER_SIZE: usize = 2048;

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
    Connecting {
        sock: TcpStream,
        addrs: Vec<SocketAddr>,
        next: usize,
        addr: SocketAddr,
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
    /// Messages sent before the connection opened, in order.
    pending: VecDeque<(MessageType, Bytes)>,
    pending_bytes: usize,
    /// Wire bytes handed to tungstenite since the connection opened, and
    /// the stream's written count at that moment: their difference is what
    /// still waits to be written.
    submitted: u64,
    written_at_open: u64,
    /// The server's close frame (code, reason), once received.
    peer_close: Option<(u16, String)>,
    /// A read error found after messages that the caller has not had yet:
    /// the connection fails on the next turn, after the caller could act on
    /// them (e.g. echo a message that preceded a protocol violation, as
    /// RFC 6455 peers expect).
    deferred: Option<tungstenite::Error>,
    /// When the oldest ping still without a pong was sent.
    ping_outstanding: Option<Instant>,
    /// Messages given to tungstenite but not yet known to be written to
    /// the socket whole: (end offset in `submitted`, type, payload). If the
    /// connection breaks they are reported as undelivered.
    unwritten: VecDeque<(u64, MessageType, Bytes)>,
    /// Reading is paused (`pause_recv`) for the current attempt.
    paused: bool,
    /// Reading stopped because the context's event queue is over its limit
    /// (`Context::set_event_queue_limit`); resumes once it drained.
    throttled: bool,
    /// A send had to queue: report `BufferDrain` once everything is written.
    drain_wanted: bool,
    /// `BufferFull` was reported and the buffer has not drained since.
    full_reported: bool,
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
    /// of our messages.
    deflater: Option<Deflater>,
    /// The server's permessage-deflate answer of the last connection that
    /// opened (RFC 7692 §7.1), `None` when it opened without compression.
    pub(crate) extensions: Option<String>,
    /// The last TLS handshake resumed an earlier session.
    pub(crate) tls_resumed: bool,
    /// The shared TLS configuration of the handshake under way.
    tls_config: Option<std::sync::Arc<tls::TlsConfig>>,
}

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
            pending: VecDeque::new(),
            pending_bytes: 0,
            submitted: 0,
            written_at_open: 0,
            peer_close: None,
            deferred: None,
            ping_outstanding: None,
            unwritten: VecDeque::new(),
            paused: false,
            throttled: false,
            drain_wanted: false,
            full_reported: false,
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
            State::Initial | State::Closed | State::ReconnectWait => self.start(env),
            _ => {}
        }
    }

    fn start(&mut self, env: &mut Env) {
        self.generation += 1;
        self.tls_resumed = false;
        self.tls_config = None;
        self.peer_close = None;
        self.paused = false;
        self.throttled = false;
        let deadline = Instant::now() + self.opts.connect_timeout;
        env.timers
            .push(deadline, self.id, self.generation, TimerKind::Connect);
        // Through a proxy, TCP goes to the proxy; it resolves the target.
        let (host, port) = match &self.opts.proxy {
            Some(p) => (p.host.clone(), p.port),
            None => (self.target.host.clone(), self.target.port(self.tls())),
        };
        if let Ok(ip) = host.parse::<IpAddr>() {
            self.start_tcp(env, vec![SocketAddr::new(ip, port)], 0);
            return;
        }
        self.state = State::Resolving;
        let req = Request {
            client_id: self.id,
            generation: self.generation,
            host,
            port,
        };
        if let Err(e) = env.resolver.resolve(req) {
            self.fail(env, Error::Io(format!("cannot start the resolver: {e}")));
        }
    }

    /// A resolver answer for this client.
    pub(crate) fn resolved(
        &mut self,
        env: &mut Env,
        generation: u64,
        addrs: io::Result<Vec<SocketAddr>>,
    ) {
        if generation != self.generation || !matches!(self.state, State::Resolving) {
            return;
        }
        let host = match &self.opts.proxy {
            Some(p) => format!("{} (the proxy)", p.host),
            None => self.target.host.clone(),
        };
        match addrs {
            Ok(a) if !a.is_empty() => self.start_tcp(env, a, 0),
            Ok(_) => self.fail(env, Error::Dns(format!("{host}: no address"))),
            Err(e) => self.fail(env, Error::Dns(format!("{host}: {e}"))),
        }
    }

    fn start_tcp(&mut self, env: &mut Env, addrs: Vec<SocketAddr>, mut next: usize) {
        let mut last_err = None;
        while next < addrs.len() {
            let addr = addrs[next];
            next += 1;
            match TcpStream::connect(addr) {
                Ok(sock) => {
                    let fd = sock.as_raw_fd();
                    if let Err(e) = env.registry.register(
                        &mut SourceFd(&fd),
                        Token(self.id as usize),
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        last_err = Some(Error::Io(format!("cannot register the socket: {e}")));
                        continue;
                    }
                    self.fd = Some(fd);
                    self.state = State::Connecting {
                        sock,
                        addrs,
                        next,
                        addr,
                    };
                    return;
                }
                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => {
                    last_err = Some(Error::Io(format!(
                        "{addr}: too many open files: the limit is {}; raise the hard limit \
                         (ulimit -Hn, or LimitNOFILE= for a systemd service)",
                        crate::sys::open_files_limit()
                    )));
                }
                Err(e) => last_err = Some(Error::Connect(format!("{addr}: {e}"))),
            }
        }
        let e = last_err.unwrap_or_else(|| Error::Connect("no address to connect to".into()));
        self.fail(env, e);
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
                State::Connecting {
                    sock,
                    addrs,
                    next,
                    addr,
                } => self.drive_connecting(env, sock, addrs, next, addr),
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

    fn drive_connecting(
        &mut self,
        env: &mut Env,
        sock: TcpStream,
        addrs: Vec<SocketAddr>,
        next: usize,
        addr: SocketAddr,
    ) -> bool {
        let err = match sock.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match sock.peer_addr() {
                Ok(_) => None,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    self.state = State::Connecting {
                        sock,
                        addrs,
                        next,
                        addr,
                    };
                    return false;
                }
                Err(e) => Some(e),
            },
        };
        if let Some(e) = err {
            self.deregister(env);
            drop(sock);
            if next < addrs.len() {
                self.start_tcp(env, addrs, next);
            } else {
                self.fail(env, Error::Connect(format!("{addr}: {e}")));
            }
            return false;
        }
        let _ = sock.set_nodelay(true);
        self.peer_addr = sock.peer_addr().ok();
        self.local_addr = sock.local_addr().ok();
        if let Some(proxy) = self.opts.proxy.clone() {
            let port = self.target.port(self.tls());
            let shake = Tunnel::start(sock, proxy, &self.target.host, port);
            return self.proxy_progress(env, Box::new(shake).drive());
        }
        self.tunnel_ready(env, sock)
    }

    fn proxy_progress(&mut self, env: &mut Env, p: Progress) -> bool {
        match p {
            Progress::Done(sock) => self.tunnel_ready(env, sock),
            Progress::Pending(shake) => {
                self.state = State::Proxy(shake);
                false
            }
            Progress::Failed(e) => {
                self.fail(env, e);
                false
            }
        }
    }

    /// TCP reaches the target (directly or through the proxy's tunnel):
    /// TLS if wanted, then the opening handshake.
    fn tunnel_ready(&mut self, env: &mut Env, sock: TcpStream) -> bool {
        if !self.tls() {
            env.emit(self.id, EventKind::Connected);
            self.start_handshake(env, Stream::new(Inner::Plain(sock)));
            return true;
        }
        let o = &self.opts;
        let name = o
            .tls_peer_name
            .clone()
            .unwrap_or_else(|| self.target.host.clone());
        let peer = tls::Peer {
            name: &name,
            host: &self.target.host,
            port: self.target.port(true),
            sni: o.tls_sni,
            verify_name: o.tls_settings.verify_peer && o.tls_verify_peer_name,
            resume: o.tls_resume,
        };
        let r = env.tls.get(&o.tls_settings).and_then(|config| {
            let r = config.connect(&peer, sock)?;
            Ok((config, r))
        });
        match r {
            Ok((config, r)) => {
                self.tls_config = Some(config);
                self.tls_result(env, r)
            }
            Err(e) => {
                self.fail(env, e);
                false
            }
        }
    }

    fn tls_result(
        &mut self,
        env: &mut Env,
        r: Result<openssl::ssl::SslStream<TcpStream>, openssl::ssl::HandshakeError<TcpStream>>,
    ) -> bool {
        use openssl::ssl::HandshakeError as H;
        match r {
            Ok(tls) => self.tls_done(env, tls),
            Err(H::WouldBlock(mid)) => {
                self.state = State::Tls(Box::new(mid));
                false
            }
            Err(H::Failure(mid)) => {
                let verify = mid.ssl().verify_result();
                let why = if verify == openssl::x509::X509VerifyResult::OK {
                    crate::error::describe_tls(mid.error())
                } else {
                    format!(
                        "{} ({})",
                        crate::error::describe_tls(mid.error()),
                        verify.error_string()
                    )
                };
                self.fail(env, Error::Tls(why));
                false
            }
            Err(H::SetupFailure(e)) => {
                self.fail(env, Error::Tls(crate::error::describe_stack(&e)));
                false
            }
        }
    }

    /// The TLS handshake completed: check the name where OpenSSL did not
    /// (chain verification off but name verification on, PHP's
    /// `verify_peer => false, verify_peer_name => true`), then go on.
    fn tls_done(&mut self, env: &mut Env, stream: openssl::ssl::SslStream<TcpStream>) -> bool {
        self.tls_resumed = stream.ssl().session_reused();
        if let Some(config) = self.tls_config.take() {
            config.handshake_done(&stream);
        }
        // PHP's order: chain (OpenSSL, done), fingerprint, name.
        if let Err(why) = tls::check_fingerprints(&stream, &self.opts.tls_fingerprints) {
            self.fail(env, Error::Tls(why));
            return false;
        }
        if !self.opts.tls_settings.verify_peer && self.opts.tls_verify_peer_name {
            let name = self
                .opts
                .tls_peer_name
                .clone()
                .unwrap_or_else(|| self.target.host.clone());
            if let Err(why) = tls::check_certificate_name(&stream, &name) {
                self.fail(env, Error::Tls(why));
                return false;
            }
        }
        let tls = stream;
        env.emit(self.id, EventKind::Connected);
        self.start_handshake(env, Stream::new(Inner::Tls(Box::new(tls))));
        true
    }

    fn ws_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_SIZE)
            .write_buffer_size(0)
            .max_message_size(Some(self.opts.max_message_size))
            .max_frame_size(Some(self.opts.max_message_size))
    }

    fn start_handshake(&mut self, env: &mut Env, mut stream: Stream) {
        let deadline = Instant::now() + self.opts.handshake_timeout;
        env.timers
            .push(deadline, self.id, self.generation, TimerKind::Handshake);
        let req = match handshake::request(
            &self.target.url,
            &self.opts.headers,
            self.opts.compression.as_ref(),
        ) {
            Ok(r) => r,
            Err(e) => return self.fail(env, e),
        };
        stream.record = Some(Vec::with_capacity(512));
        let r = tungstenite::client::client_with_config(req, stream, Some(self.ws_config()));
        self.handshake_result(env, r);
    }

    fn handshake_result(
        &mut self,
        env: &mut Env,
        r: Result<
            (WebSocket<Stream>, tungstenite::handshake::client::Response),
            HandshakeError<ClientHandshake<Stream>>,
        >,
    ) {
        match r {
            Ok((mut ws, response)) => {
                // RFC 6455 §4.1 (5) / §9.1, RFC 7692 §7.1: the server may
                // select only what was offered (tungstenite does not check
                // this): permessage-deflate with parameters that fit the
                // offer, when compression is on; nothing otherwise.
                let answers: Vec<String> = response
                    .headers()
                    .get_all("Sec-WebSocket-Extensions")
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect();
                let negotiated = match deflate::negotiate(self.opts.compression.as_ref(), &answers)
                {
                    Ok(n) => n,
                    Err(why) => {
                        drop(ws);
                        return self.fail(env, Error::Handshake(why));
                    }
                };
                let rec = ws.get_mut().record.take().unwrap_or_default();
                let end = handshake::head_end(&rec).unwrap_or(rec.len());
                let head = Bytes::copy_from_slice(&rec[..end]);
                let inflater = negotiated
                    .as_ref()
                    .map(|n| Inflater::new(n, self.opts.max_message_size));
                ws.get_mut().opened(inflater);
                self.deflater = negotiated.as_ref().map(Deflater::new);
                self.extensions = negotiated.map(|n| n.answer);
                self.written_at_open = ws.get_ref().bytes_written;
                self.submitted = 0;
                self.failed_attempts = 0;
                env.emit(
                    self.id,
                    EventKind::Open {
                        response_head: head,
                    },
                );
                if let Some(iv) = self.opts.ping_interval {
                    env.timers.push(
                        Instant::now() + iv,
                        self.id,
                        self.generation,
                        TimerKind::Ping,
                    );
                }
                self.state = State::Open(Box::new(ws));
                self.flush_pending(env);
            }
            Err(HandshakeError::Interrupted(mid)) => {
                self.state = State::Handshaking(Box::new(mid));
            }
            Err(HandshakeError::Failure(e)) => {
                let e = match Error::from(e) {
                    e @ (Error::Handshake(_) | Error::Tls(_)) => e,
                    // TLS 1.3: a server that wants a client certificate
                    // judges it after our handshake is done, then sends an
                    // alert and closes; the alert is often lost to the reset
                    // our request causes.
                    Error::ConnectionLost(why) if self.tls() => Error::Tls(format!(
                        "the server ended the connection right after the TLS handshake ({why}); \
                         a server that requires a client certificate does so when none or an \
                         unknown one is presented"
                    )),
                    other => Error::Handshake(other.to_string()),
                };
                self.fail(env, e);
            }
        }
    }

    /// Writes the messages queued before the handshake, in order.
    fn flush_pending(&mut self, env: &mut Env) {
        // Sends were queued (they returned Queued): report the drain once
        // all of it is written, as after any queued send (Workerman calls
        // onBufferDrain after flushing what was sent before the connect).
        self.drain_wanted |= !self.pending.is_empty();
        while let Some((t, data)) = self.pending.pop_front() {
            self.pending_bytes -= data.len();
            let State::Open(ws) = &mut self.state else {
                return;
            };
            let (msg, payload_len) = match wire_message(&mut self.deflater, t, data.clone()) {
                Ok(m) => m,
                Err(_) => continue, // checked at send time
            };
            self.submitted += wire_len(payload_len);
            self.unwritten.push_back((self.submitted, t, data));
            if let Err(e) = ws.write(msg)
                && !is_would_block(&e)
            {
                return self.lost(env, Error::from(e));
            }
        }
        if let State::Open(ws) = &mut self.state
            && let Err(e) = ws.flush()
            && !is_would_block(&e)
        {
            return self.lost(env, Error::from(e));
        }
        self.prune_unwritten();
        if self.drain_wanted && self.buffered() == 0 {
            self.drain_wanted = false;
            self.full_reported = false;
            env.emit(self.id, EventKind::BufferDrain);
        }
    }

    /// Bytes accepted but not yet written to the socket.
    fn buffered(&self) -> usize {
        match self.written() {
            Some(w) => self.submitted.saturating_sub(w) as usize,
            None => self.pending_bytes,
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
        self.prune_unwritten();
        if self.drain_wanted && self.buffered() == 0 {
            self.drain_wanted = false;
            self.full_reported = false;
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
                Ok(Message::Text(t)) => {
                    delivered += 1;
                    let data = Bytes::from(t);
                    let kind = EventKind::Message {
                        message_type: MessageType::Text,
                        data,
                    };
                    env.emit(self.id, kind);
                }
                Ok(Message::Binary(data)) => {
                    delivered += 1;
                    let kind = EventKind::Message {
                        message_type: MessageType::Binary,
                        data,
                    };
                    env.emit(self.id, kind);
                }
                Ok(Message::Ping(p)) => {
                    // tungstenite answers pings only while open (no pong
                    // after a close frame was sent or received).
                    if let State::Open(_) = self.state {
                        self.submitted += wire_len(p.len());
                    }
                    env.emit(self.id, EventKind::Ping(p));
                }
                Ok(Message::Pong(p)) => {
                    self.ping_outstanding = None;
                    env.emit(self.id, EventKind::Pong(p));
                }
                Ok(Message::Close(frame)) => {
                    let (code, reason) = match frame {
                        Some(f) => (u16::from(f.code), f.reason.as_str().to_string()),
                        None => (1005, String::new()),
                    };
                    self.peer_close = Some((code, reason.clone()));
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
                        self.submitted += wire_len(echoed);
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
                Err(e) if is_would_block(&e) => return,
                Err(e) if delivered > 0 && !matches!(e, tungstenite::Error::ConnectionClosed) => {
                    self.deferred = Some(e);
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
            let (code, reason) = self.peer_close.take().unwrap_or((1005, String::new()));
            return self.finish(env, None, code, reason, true);
        }
        let err = Error::from(e);
        if let Some((code, reason)) = self.peer_close.take() {
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
        self.prune_unwritten();
        let unwritten = std::mem::take(&mut self.unwritten);
        self.teardown(env);
        if let Some(e) = error {
            env.emit(self.id, EventKind::Error(e));
        }
        for (_, message_type, data) in unwritten {
            env.emit(self.id, EventKind::Undelivered { message_type, data });
        }
        self.drop_pending(env);
        self.schedule_backoff(env);
        env.emit(
            self.id,
            EventKind::Closed {
                code,
                reason,
                clean,
            },
        );
    }

    /// With a reconnect backoff set and the end not the caller's doing:
    /// waits (first delay doubled per failed attempt in a row, up to the
    /// longest, minus a random part of up to half) and connects again.
    fn schedule_backoff(&mut self, env: &mut Env) {
        let Some((first, longest)) = self.opts.reconnect_backoff else {
            return;
        };
        if self.closed_by_caller {
            return;
        }
        let factor = 1u32 << self.failed_attempts.min(20);
        let delay = first.saturating_mul(factor).min(longest);
        self.failed_attempts = self.failed_attempts.saturating_add(1);
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let cut = delay.as_micros() as u64 / 2;
        let cut = if cut == 0 { 0 } else { self.jitter % cut };
        self.reconnect_after(env, delay - Duration::from_micros(cut));
    }

    /// Waits `delay`, then connects (the state `ReconnectWait`).
    fn reconnect_after(&mut self, env: &mut Env, delay: Duration) {
        self.generation += 1;
        self.state = State::ReconnectWait;
        let at = Instant::now() + delay;
        env.timers
            .push(at, self.id, self.generation, TimerKind::Reconnect);
    }

    /// Bytes written to the socket since the connection opened.
    fn written(&self) -> Option<u64> {
        match &self.state {
            State::Open(ws) | State::Closing(ws) => {
                Some(ws.get_ref().bytes_written - self.written_at_open)
            }
            _ => None,
        }
    }

    /// Forgets the messages that have been written whole.
    fn prune_unwritten(&mut self) {
        if let Some(w) = self.written() {
            while self.unwritten.front().is_some_and(|(end, ..)| *end <= w) {
                self.unwritten.pop_front();
            }
        }
    }

    fn drop_pending(&mut self, env: &mut Env) {
        while let Some((t, data)) = self.pending.pop_front() {
            env.emit(
                self.id,
                EventKind::Undelivered {
                    message_type: t,
                    data,
                },
            );
        }
        self.pending_bytes = 0;
    }

    /// Closes the socket and forgets the attempt (no events).
    pub(crate) fn teardown(&mut self, env: &mut Env) {
        if let State::Open(ws) | State::Closing(ws) = &self.state {
            self.bytes_read_before += ws.get_ref().bytes_read;
            self.bytes_written_before += ws.get_ref().bytes_written;
        }
        self.drain_wanted = false;
        self.full_reported = false;
        self.deflater = None;
        self.deregister(env);
        self.state = State::Closed;
        self.generation += 1;
        self.peer_close = None;
        self.deferred = None;
        self.ping_outstanding = None;
    }

    pub(crate) fn send(
        &mut self,
        env: &mut Env,
        t: MessageType,
        data: &[u8],
    ) -> crate::Result<super::SendStatus> {
        use super::SendStatus;
        if t == MessageType::Text && std::str::from_utf8(data).is_err() {
            return Err(Error::InvalidUtf8);
        }
        match &mut self.state {
            State::Open(_) => {
                if self.buffered() >= self.opts.max_send_buffer_size {
                    return Err(Error::BufferFull);
                }
                let payload = Bytes::copy_from_slice(data);
                let (msg, payload_len) = wire_message(&mut self.deflater, t, payload.clone())?;
                self.submitted += wire_len(payload_len);
                let end = self.submitted;
                let State::Open(ws) = &mut self.state else {
                    unreachable!()
                };
                match ws.send(msg) {
                    Ok(()) => {}
                    Err(e) if is_would_block(&e) => {}
                    Err(e) => {
                        // Not accepted: the caller learns it from the result.
                        self.lost(env, Error::from(e));
                        return Err(Error::NotConnected);
                    }
                }
                self.prune_unwritten();
                if self.buffered() == 0 {
                    return Ok(SendStatus::Written);
                }
                self.unwritten.push_back((end, t, payload));
                self.drain_wanted = true;
                if !self.full_reported && self.buffered() >= self.opts.max_send_buffer_size {
                    self.full_reported = true;
                    env.emit(self.id, EventKind::BufferFull);
                }
                Ok(SendStatus::Queued)
            }
            State::Closing(_) | State::Closed => Err(Error::NotConnected),
            _ => {
                if self.pending_bytes >= self.opts.max_send_buffer_size {
                    return Err(Error::BufferFull);
                }
                self.pending_bytes += data.len();
                self.pending.push_back((t, Bytes::copy_from_slice(data)));
                if !self.full_reported && self.pending_bytes >= self.opts.max_send_buffer_size {
                    self.full_reported = true;
                    env.emit(self.id, EventKind::BufferFull);
                }
                Ok(SendStatus::Queued)
            }
        }
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

    /// Bytes accepted by `send` and not yet written to the socket.
    pub(crate) fn send_buffer_size(&self) -> usize {
        self.buffered()
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
        self.submitted += wire_len(data.len());
        if let (None, Some(t)) = (self.ping_outstanding, self.opts.pong_timeout) {
            let now = Instant::now();
            self.ping_outstanding = Some(now);
            env.timers
                .push(now + t, self.id, self.generation, TimerKind::Pong);
        }
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
                self.submitted += wire_len(2 + reason.len());
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
            self.read_error(env, e);
        }
    }

    /// A timer of this client fired (already checked: same generation).
    pub(crate) fn timer(&mut self, env: &mut Env, kind: TimerKind) {
        match kind {
            TimerKind::Connect => {
                if matches!(
                    self.state,
                    State::Resolving | State::Connecting { .. } | State::Proxy(_) | State::Tls(_)
                ) {
                    let ms = self.opts.connect_timeout.as_millis();
                    self.fail(env, Error::Timeout(format!("no connection within {ms} ms")));
                }
            }
            TimerKind::Handshake => {
                if matches!(self.state, State::Handshaking(_)) {
                    let ms = self.opts.handshake_timeout.as_millis();
                    self.fail(
                        env,
                        Error::Timeout(format!("no handshake response within {ms} ms")),
                    );
                }
            }
            TimerKind::Close => {
                if matches!(self.state, State::Closing(_)) {
                    match self.peer_close.take() {
                        Some((code, reason)) => self.finish(env, None, code, reason, true),
                        None => {
                            let ms = self.opts.close_timeout.as_millis();
                            self.lost(env, Error::Timeout(format!(
                                "the server did not complete the closing handshake within {ms} ms"
                            )));
                        }
                    }
                }
            }
            TimerKind::Ping => {
                if let State::Open(_) = self.state {
                    let _ = self.ping(env, &[]);
                    if let (State::Open(_), Some(iv)) = (&self.state, self.opts.ping_interval) {
                        env.timers.push(
                            Instant::now() + iv,
                            self.id,
                            self.generation,
                            TimerKind::Ping,
                        );
                    }
                }
            }
            TimerKind::Pong => {
                let (Some(since), Some(t)) = (self.ping_outstanding, self.opts.pong_timeout) else {
                    return;
                };
                if self.paused || self.throttled {
                    // Not reading: the pong may be waiting in the socket.
                    // Judge again a timeout later.
                    env.timers.push(
                        Instant::now() + t,
                        self.id,
                        self.generation,
                        TimerKind::Pong,
                    );
                    return;
                }
                if since.elapsed() >= t && matches!(self.state, State::Open(_) | State::Closing(_))
                {
                    let e = Error::Timeout(format!(
                        "no pong within {} ms of a ping: the server or the network is gone",
                        t.as_millis()
                    ));
                    let reason = e.to_string();
                    self.finish(env, Some(e), 1006, reason, false);
                }
            }
            TimerKind::Reconnect => {
                if let State::ReconnectWait = self.state {
                    self.start(env);
                }
            }
        }
    }
}
