//! Dialing one attempt: resolve -> TCP (next address on failure) -> proxy
//! tunnel -> TLS (with the checks OpenSSL leaves to us) -> the opening
//! handshake, up to the open connection. These are the pre-open states of
//! [`Conn`]; each step hands over to the next as far as the socket allows.

use super::{Conn, Env, State};
use crate::engine::resolver::Request;
use crate::engine::stream::{Inner, Stream};
use crate::engine::timers::TimerKind;
use crate::engine::tls;
use crate::engine::tunnel::{Progress, Tunnel};
use crate::error::{Error, HandshakeFault, Reason, TlsFault};
use crate::event::EventKind;
use crate::protocol::deflate::{self, Deflater, Inflater};
use crate::protocol::handshake;
use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Interest, Token};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Instant;
use tungstenite::handshake::HandshakeError;
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Bytes, WebSocket};

/// Read buffer per connection: small, so 10,000 idle connections fit
/// (tungstenite's default of 128 KiB costs 137 KiB per connection). It is
/// also the most tungstenite reads at once, and it zero-fills that much
/// before every read: 2 KiB costs a third fewer instructions per small
/// message than 4 KiB (callgrind), and large messages come through the
/// read-ahead buffer (`read_ahead`) whatever this size.
const READ_BUFFER_SIZE: usize = 2048;

impl Conn {
    pub(super) fn start(&mut self, env: &mut Env) {
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

    pub(super) fn start_tcp(&mut self, env: &mut Env, addrs: Vec<SocketAddr>, mut next: usize) {
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

    pub(super) fn drive_connecting(
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

    pub(super) fn proxy_progress(&mut self, env: &mut Env, p: Progress) -> bool {
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
    pub(super) fn tunnel_ready(&mut self, env: &mut Env, sock: TcpStream) -> bool {
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

    pub(super) fn tls_result(
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
                let e = if verify == openssl::x509::X509VerifyResult::OK {
                    Reason::new(TlsFault::Handshake, crate::error::describe_tls(mid.error()))
                } else {
                    Reason::new(
                        TlsFault::Verify,
                        format!(
                            "{} ({})",
                            crate::error::describe_tls(mid.error()),
                            verify.error_string()
                        ),
                    )
                };
                self.fail(env, Error::Tls(e));
                false
            }
            Err(H::SetupFailure(e)) => {
                let why = crate::error::describe_stack(&e);
                self.fail(env, Error::Tls(Reason::new(TlsFault::Setup, why)));
                false
            }
        }
    }

    /// The TLS handshake completed: check the name where OpenSSL did not
    /// (chain verification off but name verification on, PHP's
    /// `verify_peer => false, verify_peer_name => true`), then go on.
    pub(super) fn tls_done(
        &mut self,
        env: &mut Env,
        stream: openssl::ssl::SslStream<TcpStream>,
    ) -> bool {
        self.tls_resumed = stream.ssl().session_reused();
        if let Some(config) = self.tls_config.take() {
            config.handshake_done(&stream);
        }
        // PHP's order: chain (OpenSSL, done), fingerprint, name.
        if let Err(why) = tls::check_fingerprints(&stream, &self.opts.tls_fingerprints) {
            self.fail(env, Error::Tls(Reason::new(TlsFault::Fingerprint, why)));
            return false;
        }
        if !self.opts.tls_settings.verify_peer && self.opts.tls_verify_peer_name {
            let name = self
                .opts
                .tls_peer_name
                .clone()
                .unwrap_or_else(|| self.target.host.clone());
            if let Err(why) = tls::check_certificate_name(&stream, &name) {
                self.fail(env, Error::Tls(Reason::new(TlsFault::Name, why)));
                return false;
            }
        }
        let tls = stream;
        env.emit(self.id, EventKind::Connected);
        self.start_handshake(env, Stream::new(Inner::Tls(Box::new(tls))));
        true
    }

    pub(super) fn ws_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_SIZE)
            // `WebSocket::write` buffers up to this (corked messages, see
            // `Conn::send`); every other write path flushes at once.
            .write_buffer_size(super::outbox::CORK_BYTES)
            .max_message_size(Some(self.opts.max_message_size))
            .max_frame_size(Some(self.opts.max_message_size))
    }

    pub(super) fn start_handshake(&mut self, env: &mut Env, mut stream: Stream) {
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

    pub(super) fn handshake_result(
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
                        let e = Reason::new(HandshakeFault::Extension, why);
                        return self.fail(env, Error::Handshake(e));
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
                self.outbox.opened(ws.get_ref().bytes_written);
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
                    Error::ConnectionLost(why) if self.tls() => Error::Tls(Reason::new(
                        TlsFault::ClientCertificate,
                        format!(
                            "the server ended the connection right after the TLS handshake \
                             ({why}); a server that requires a client certificate does so when \
                             none or an unknown one is presented"
                        ),
                    )),
                    e @ Error::ConnectionLost(_) => {
                        Error::Handshake(Reason::new(HandshakeFault::Closed, e.to_string()))
                    }
                    other => {
                        Error::Handshake(Reason::new(HandshakeFault::Malformed, other.to_string()))
                    }
                };
                self.fail(env, e);
            }
        }
    }
}
