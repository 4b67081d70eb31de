//! Dialing one attempt: resolve -> TCP (Happy Eyeballs over the addresses) -> proxy
//! tunnel -> TLS (with the checks OpenSSL leaves to us) -> the opening
//! handshake, up to the open connection. These are the pre-open states of
//! [`Conn`]; each step hands over to the next as far as the socket allows.

use super::liveness::Phase;
use super::{Conn, Env, State};
use crate::engine::resolver::Request;
use crate::engine::stream::{Inner, Stream};
use crate::engine::timers::TimerKind;
use crate::engine::tls;
use crate::engine::tunnel::{Progress, Tunnel};
use crate::error::{Error, HandshakeFault, Reason, TlsFault};
use crate::event::EventKind;
use crate::options::ClientOptions;
use crate::protocol::deflate::{self, Deflater, Inflater};
use crate::protocol::handshake;
use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Interest, Token};
use socket2::{Domain, Protocol, Socket, TcpKeepalive, Type};
use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};
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

/// RFC 8305 §5 "Connection Attempt Delay": a new TCP attempt starts this
/// long after the previous one while the earlier ones are still pending
/// (the RFC's recommended value).
pub(crate) const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// TCP connection attempts racing to one target (Happy Eyeballs, RFC
/// 8305): the addresses interleaved by family, a new attempt every
/// [`ATTEMPT_DELAY`] while the earlier ones are pending (at once when one
/// fails), the first to connect wins and the others are closed. The
/// connect timeout covers the whole race. The resolver's `getaddrinfo`
/// answers both families at once, so RFC 8305 §3's separate AAAA and A
/// queries (and their 50 ms resolution delay) do not arise; the order
/// within a family is `getaddrinfo`'s (RFC 6724).
pub(crate) struct Race {
    /// Sockets still connecting, oldest first, with their address.
    pending: Vec<(TcpStream, SocketAddr)>,
    /// The addresses in the order they are tried.
    addrs: Vec<SocketAddr>,
    /// The next address to try.
    next: usize,
    /// The attempts that failed: "address: reason".
    failures: Vec<String>,
    /// When the next attempt is due if the pending ones are still pending.
    next_at: Instant,
}

impl Race {
    /// The addresses tried so far, for the connect timeout's message.
    pub(super) fn tried(&self) -> String {
        self.addrs[..self.next]
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// RFC 8305 §4: duplicates removed, then the families alternated, starting
/// with the family of the first address (the resolver's preference, RFC
/// 6724), each family in its own order.
pub(crate) fn interleave(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let mut unique: Vec<SocketAddr> = Vec::with_capacity(addrs.len());
    for a in addrs {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    let Some(first) = unique.first() else {
        return unique;
    };
    let first_v6 = first.is_ipv6();
    let (mut a, mut b): (VecDeque<_>, VecDeque<_>) =
        unique.into_iter().partition(|x| x.is_ipv6() == first_v6);
    let mut out = Vec::with_capacity(a.len() + b.len());
    while !a.is_empty() || !b.is_empty() {
        out.extend(a.pop_front());
        out.extend(b.pop_front());
    }
    out
}

/// A non-blocking TCP socket to `addr` with the client's socket options,
/// bound when asked, its connect under way.
fn open_socket(addr: SocketAddr, opts: &ClientOptions) -> Result<TcpStream, Error> {
    let io = |e: io::Error| {
        if e.raw_os_error() == Some(libc::EMFILE) {
            Error::Io(format!(
                "{addr}: too many open files: the limit is {}; raise the hard limit \
                 (ulimit -Hn, or LimitNOFILE= for a systemd service)",
                crate::sys::open_files_limit()
            ))
        } else if e.raw_os_error() == Some(libc::EADDRNOTAVAIL)
            && let Some(local) = opts.bind_address.filter(|l| l.port() != 0)
        {
            Error::Connect(format!(
                "{addr}: {e}: the pair {local} -> {addr} is still taken, most likely by the \
                 last connection in TIME_WAIT (up to 60 s after this side closed first); \
                 bind port 0, or wait"
            ))
        } else {
            Error::Connect(format!("{addr}: {e}"))
        }
    };
    let kind = Type::STREAM.nonblocking().cloexec();
    let sock = Socket::new(Domain::for_address(addr), kind, Some(Protocol::TCP)).map_err(io)?;
    let option = |name: &str, e: io::Error| Error::Io(format!("{addr}: cannot set {name}: {e}"));
    sock.set_tcp_nodelay(opts.tcp_nodelay)
        .map_err(|e| option("TCP_NODELAY", e))?;
    if let Some(k) = opts.tcp_keepalive {
        let params = TcpKeepalive::new()
            .with_time(k.idle)
            .with_interval(k.interval)
            .with_retries(k.count);
        sock.set_tcp_keepalive(&params)
            .map_err(|e| option("TCP keepalive", e))?;
    }
    if let Some(local) = opts.bind_address {
        // A fixed port: bindable again while an earlier connection from it
        // is in TIME_WAIT (reconnects).
        if local.port() != 0 {
            sock.set_reuse_address(true)
                .map_err(|e| option("SO_REUSEADDR", e))?;
        }
        sock.bind(&local.into())
            .map_err(|e| Error::Connect(format!("cannot bind the local address {local}: {e}")))?;
    }
    match sock.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(io(e)),
    }
    Ok(TcpStream::from_std(std::net::TcpStream::from(sock)))
}

/// Where a racing socket stands.
enum Outcome {
    Pending,
    /// Connected to this peer address (kept: one `getpeername` per
    /// connection, not two).
    Connected(SocketAddr),
    Failed(io::Error),
}

fn outcome(sock: &TcpStream) -> Outcome {
    match sock.take_error() {
        Ok(Some(e)) | Err(e) => Outcome::Failed(e),
        Ok(None) => match sock.peer_addr() {
            Ok(peer) => Outcome::Connected(peer),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Outcome::Pending,
            Err(e) => Outcome::Failed(e),
        },
    }
}

impl Conn {
    pub(super) fn start(&mut self, env: &mut Env) {
        self.generation += 1;
        self.tls_resumed = false;
        self.tls_config = None;
        self.peer_close = None;
        self.paused = false;
        self.throttled = false;
        self.link.attempt_started();
        let deadline = Instant::now() + self.opts.connect_timeout;
        env.timers
            .push(deadline, self.id, self.generation, TimerKind::Connect);
        // Through a proxy, TCP goes to the proxy; it resolves the target
        // (the connect-to override, when set, is what the tunnel asks for).
        let (host, port) = match (&self.opts.proxy, self.opts.connect_to.as_slice()) {
            (Some(p), _) => (p.host.clone(), p.port),
            (None, []) => (self.target.host.clone(), self.target.port(self.tls())),
            (None, list) => {
                let url_port = self.target.port(self.tls());
                let ips: Option<Vec<SocketAddr>> = list
                    .iter()
                    .map(|e| {
                        e.ip()
                            .map(|ip| SocketAddr::new(ip, e.port.unwrap_or(url_port)))
                    })
                    .collect();
                if let Some(addrs) = ips {
                    self.start_race(env, addrs);
                    return;
                }
                (list[0].host.clone(), list[0].port.unwrap_or(url_port))
            }
        };
        if let Ok(ip) = host.parse::<IpAddr>() {
            self.start_race(env, vec![SocketAddr::new(ip, port)]);
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

    /// The host TCP goes to, for messages: the proxy, the connect-to
    /// override, or the URL's host.
    fn dial_host(&self) -> String {
        match (&self.opts.proxy, self.opts.connect_to.first()) {
            (Some(p), _) => format!("{} (the proxy)", p.host),
            (None, Some(e)) => format!("{} (connect-to)", e.host),
            (None, None) => self.target.host.clone(),
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
        self.link.phase_done(Phase::Dns);
        match addrs {
            Ok(a) if !a.is_empty() => self.start_race(env, a),
            Ok(_) => {
                let host = self.dial_host();
                self.fail(env, Error::Dns(format!("{host}: no address")))
            }
            Err(e) => {
                let host = self.dial_host();
                self.fail(env, Error::Dns(format!("{host}: {e}")))
            }
        }
    }

    /// Starts the Happy Eyeballs race over `addrs` (a resolver's answer or
    /// the connect-to list). With a local address to bind, only the
    /// addresses of its family can be reached.
    pub(super) fn start_race(&mut self, env: &mut Env, addrs: Vec<SocketAddr>) {
        let mut addrs = interleave(addrs);
        if let Some(local) = self.opts.bind_address {
            let all = addrs.len();
            addrs.retain(|a| a.is_ipv6() == local.is_ipv6());
            if addrs.is_empty() {
                let family = if local.is_ipv6() { "IPv6" } else { "IPv4" };
                let host = self.dial_host();
                return self.fail(
                    env,
                    Error::Connect(format!(
                        "{host}: none of its {all} address(es) is {family}, the family of the \
                         local address {local} to bind"
                    )),
                );
            }
        }
        let race = Box::new(Race {
            pending: Vec::with_capacity(2),
            addrs,
            next: 0,
            failures: Vec::new(),
            next_at: Instant::now(),
        });
        self.next_attempt(env, race);
    }

    /// Starts the next attempt of the race (going on past addresses that
    /// fail at once), then waits for it; fails the connection when nothing
    /// is pending and no address is left.
    fn next_attempt(&mut self, env: &mut Env, mut race: Box<Race>) {
        while race.next < race.addrs.len() {
            let addr = race.addrs[race.next];
            race.next += 1;
            let sock = match open_socket(addr, &self.opts) {
                Ok(s) => s,
                Err(e @ Error::Io(_)) if race.pending.is_empty() && race.failures.is_empty() => {
                    // Out of file descriptors, or an option the system
                    // refuses: the next address would fare no better.
                    return self.fail(env, e);
                }
                Err(Error::Connect(why)) => {
                    race.failures.push(why);
                    continue;
                }
                Err(e) => {
                    race.failures.push(e.to_string());
                    continue;
                }
            };
            let fd = sock.as_raw_fd();
            if let Err(e) = env.registry.register(
                &mut SourceFd(&fd),
                Token(self.id as usize),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                race.failures
                    .push(format!("{addr}: cannot register the socket: {e}"));
                continue;
            }
            race.pending.push((sock, addr));
            if race.next < race.addrs.len() {
                race.next_at = Instant::now() + ATTEMPT_DELAY;
                env.timers.push(
                    race.next_at,
                    self.id,
                    self.generation,
                    TimerKind::NextAttempt,
                );
            }
            break;
        }
        if race.pending.is_empty() {
            return self.race_lost(env, &race.failures);
        }
        self.state = State::Connecting { race };
    }

    /// Every attempt failed: one error naming each address and its reason.
    fn race_lost(&mut self, env: &mut Env, failures: &[String]) {
        let e = if failures.is_empty() {
            Error::Connect("no address to connect to".into())
        } else {
            Error::Connect(failures.join("; "))
        };
        self.fail(env, e);
    }

    /// The `NextAttempt` timer: start the next attempt when it is due (a
    /// failed attempt may have started it earlier).
    pub(super) fn attempt_due(&mut self, env: &mut Env) {
        let State::Connecting { race } = std::mem::replace(&mut self.state, State::Closed) else {
            unreachable!("checked by the caller")
        };
        if Instant::now() >= race.next_at && race.next < race.addrs.len() {
            self.next_attempt(env, race);
        } else {
            self.state = State::Connecting { race };
        }
    }

    pub(super) fn drive_connecting(&mut self, env: &mut Env, mut race: Box<Race>) -> bool {
        let mut winner = None;
        let mut failed = false;
        let mut i = 0;
        while i < race.pending.len() {
            match outcome(&race.pending[i].0) {
                Outcome::Pending => i += 1,
                Outcome::Connected(peer) => {
                    winner = Some((race.pending.swap_remove(i).0, peer));
                    break;
                }
                Outcome::Failed(e) => {
                    let (sock, addr) = race.pending.remove(i);
                    let _ = env.registry.deregister(&mut SourceFd(&sock.as_raw_fd()));
                    race.failures.push(format!("{addr}: {e}"));
                    failed = true;
                }
            }
        }
        let Some((sock, peer)) = winner else {
            if failed && race.pending.is_empty() {
                // RFC 8305 §5: no need to wait for the delay.
                self.next_attempt(env, race);
            } else {
                self.state = State::Connecting { race };
            }
            return false;
        };
        // The first success wins; the others are closed.
        for (other, _) in race.pending.drain(..) {
            let _ = env.registry.deregister(&mut SourceFd(&other.as_raw_fd()));
        }
        self.link.phase_done(Phase::Tcp);
        self.fd = Some(sock.as_raw_fd());
        self.peer_addr = Some(peer);
        self.local_addr = sock.local_addr().ok();
        if let Some(proxy) = self.opts.proxy.clone() {
            let url_port = self.target.port(self.tls());
            let (host, port) = match self.opts.connect_to.first() {
                Some(e) => (e.host.clone(), e.port.unwrap_or(url_port)),
                None => (self.target.host.clone(), url_port),
            };
            let shake = Tunnel::start(sock, *proxy, &host, port);
            return self.proxy_progress(env, Box::new(shake).drive());
        }
        self.tunnel_ready(env, sock)
    }

    pub(super) fn proxy_progress(&mut self, env: &mut Env, p: Progress) -> bool {
        match p {
            Progress::Done(sock) => {
                self.link.phase_done(Phase::Proxy);
                self.tunnel_ready(env, sock)
            }
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
        self.link.phase_done(Phase::Tls);
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
            // `Conn::send_with`); every other write path flushes at once.
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
        self.handshake_buffers = Some(crate::engine::trim::HandshakeBuffers::start());
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
                self.deflater = negotiated.as_ref().map(|n| Box::new(Deflater::new(n)));
                self.extensions = negotiated.map(|n| n.answer);
                self.outbox.opened(ws.get_ref().bytes_written);
                self.opened_at = Some(Instant::now());
                self.link.opened();
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
                // tungstenite's handshake hands its 4 KiB read buffer on
                // as the connection's input buffer, capacity kept, though
                // nothing is left in it (the stream gives the handshake
                // only the response head and keeps what follows, see
                // `Stream::gather_head`): a fresh codec's buffer has
                // READ_BUFFER_SIZE. Half an idle connection's heap
                // (issue 16).
                let ws = WebSocket::from_raw_socket(
                    ws.into_inner(),
                    tungstenite::protocol::Role::Client,
                    Some(self.ws_config()),
                );
                self.state = State::Open(Box::new(ws));
                // The handshake's buffers are freed (see `engine::trim`).
                self.handshake_buffers = None;
                self.arm_liveness(env);
                self.flush_pending(env);
            }
            Err(HandshakeError::Interrupted(mut mid)) => {
                if let Some(at) = mid.get_mut().get_mut().take_refusal_deadline() {
                    env.timers
                        .push(at, self.id, self.generation, TimerKind::RefusalBody);
                }
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

#[cfg(test)]
mod tests {
    use super::interleave;
    use std::net::SocketAddr;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn families_alternate_from_the_first_addresss_family_without_duplicates() {
        let got = interleave(addrs(&[
            "[::1]:1",
            "[::2]:1",
            "[::3]:1",
            "127.0.0.1:1",
            "[::1]:1",
            "127.0.0.2:1",
        ]));
        let want = addrs(&[
            "[::1]:1",
            "127.0.0.1:1",
            "[::2]:1",
            "127.0.0.2:1",
            "[::3]:1",
        ]);
        assert_eq!(got, want);
        let got = interleave(addrs(&["127.0.0.1:1", "127.0.0.2:1", "[::1]:1"]));
        assert_eq!(got, addrs(&["127.0.0.1:1", "[::1]:1", "127.0.0.2:1"]));
        assert!(interleave(Vec::new()).is_empty());
    }
}
