//! Tunnels through a proxy on the non-blocking socket, before TLS and the
//! opening handshake: HTTP CONNECT (RFC 9110 §9.3.6) and SOCKS5 (RFC 1928,
//! user/password RFC 1929). The target's host name is sent to the proxy,
//! which resolves it.

use crate::error::{Error, ProxyFault, Reason};
use crate::options::{Proxy, ProxyKind};
use mio::net::TcpStream;
use std::io::{self, Read, Write};
use std::net::IpAddr;

/// The largest proxy response head accepted, in bytes.
const MAX_RESPONSE: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    HttpResponse,
    SocksMethod,
    SocksAuth,
    SocksReply,
}

/// A tunnel being set up on a connected socket.
pub(crate) struct Tunnel {
    sock: TcpStream,
    proxy: Proxy,
    target_host: String,
    target_port: u16,
    out: Vec<u8>,
    out_pos: usize,
    inbuf: Vec<u8>,
    phase: Phase,
}

/// Where a tunnel stands.
pub(crate) enum Progress {
    /// The tunnel is up: the socket now talks to the target.
    Done(TcpStream),
    /// Waiting for the socket.
    Pending(Box<Tunnel>),
    /// The proxy refused or broke the protocol.
    Failed(Error),
}

fn fail(fault: ProxyFault, why: String) -> Progress {
    Progress::Failed(Error::Proxy(Reason::new(fault, why)))
}

impl Tunnel {
    pub(crate) fn start(
        sock: TcpStream,
        proxy: Proxy,
        target_host: &str,
        target_port: u16,
    ) -> Tunnel {
        let (out, phase) = match &proxy.kind {
            ProxyKind::Http { authorization } => {
                let authority = match target_host.parse::<IpAddr>() {
                    Ok(IpAddr::V6(a)) => format!("[{a}]:{target_port}"),
                    _ => format!("{target_host}:{target_port}"),
                };
                let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
                if let Some(a) = authorization {
                    req.push_str(&format!("Proxy-Authorization: {a}\r\n"));
                }
                req.push_str("\r\n");
                (req.into_bytes(), Phase::HttpResponse)
            }
            ProxyKind::Socks5 { credentials } => {
                let greeting = if credentials.is_some() {
                    vec![5, 2, 0, 2]
                } else {
                    vec![5, 1, 0]
                };
                (greeting, Phase::SocksMethod)
            }
        };
        Tunnel {
            sock,
            proxy,
            target_host: target_host.to_string(),
            target_port,
            out,
            out_pos: 0,
            inbuf: Vec::new(),
            phase,
        }
    }

    fn socks_request(&self) -> Vec<u8> {
        let mut r = vec![5, 1, 0];
        match self.target_host.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => {
                r.push(1);
                r.extend_from_slice(&a.octets());
            }
            Ok(IpAddr::V6(a)) => {
                r.push(4);
                r.extend_from_slice(&a.octets());
            }
            Err(_) => {
                r.push(3);
                r.push(self.target_host.len().min(255) as u8);
                r.extend_from_slice(
                    &self.target_host.as_bytes()[..self.target_host.len().min(255)],
                );
            }
        }
        r.extend_from_slice(&self.target_port.to_be_bytes());
        r
    }

    fn queue(&mut self, bytes: Vec<u8>) {
        self.out = bytes;
        self.out_pos = 0;
    }

    /// Makes all the progress the socket allows.
    pub(crate) fn drive(mut self: Box<Self>) -> Progress {
        loop {
            while self.out_pos < self.out.len() {
                match self.sock.write(&self.out[self.out_pos..]) {
                    Ok(0) => {
                        return fail(ProxyFault::Closed, "the proxy closed the connection".into());
                    }
                    Ok(n) => self.out_pos += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Progress::Pending(self);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        return fail(ProxyFault::Closed, format!("writing to the proxy: {e}"));
                    }
                }
            }
            match self.step() {
                Step::Done => return Progress::Done(self.sock),
                Step::Failed(fault, why) => return fail(fault, why),
                Step::Send => continue,
                Step::Read => {}
            }
            let mut buf = [0u8; 512];
            match self.sock.read(&mut buf) {
                Ok(0) => {
                    return fail(
                        ProxyFault::Closed,
                        format!(
                            "the proxy {}:{} closed the connection during the tunnel set-up",
                            self.proxy.host, self.proxy.port
                        ),
                    );
                }
                Ok(n) => self.inbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Progress::Pending(self),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return fail(ProxyFault::Closed, format!("reading from the proxy: {e}")),
            }
            if self.inbuf.len() > MAX_RESPONSE {
                return fail(
                    ProxyFault::Protocol,
                    format!("the proxy's answer exceeds {MAX_RESPONSE} bytes"),
                );
            }
        }
    }

    /// Acts on what has been read so far.
    fn step(&mut self) -> Step {
        match self.phase {
            Phase::HttpResponse => {
                let Some(end) = self.inbuf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    return Step::Read;
                };
                let end = end + 4;
                let head = String::from_utf8_lossy(&self.inbuf[..end]).into_owned();
                let status_line = head.lines().next().unwrap_or("").trim().to_string();
                let mut parts = status_line.splitn(3, ' ');
                let version = parts.next().unwrap_or("");
                let code: u16 = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
                if !version.starts_with("HTTP/1.") || code == 0 {
                    return Step::Failed(
                        ProxyFault::Protocol,
                        format!("the HTTP proxy answered {status_line:?}"),
                    );
                }
                if !(200..300).contains(&code) {
                    let status = status_line.split_once(' ').map_or("", |x| x.1);
                    return Step::Failed(
                        ProxyFault::Status(code),
                        format!("the HTTP proxy refused the tunnel: HTTP {status}"),
                    );
                }
                if end != self.inbuf.len() {
                    return Step::Failed(
                        ProxyFault::Protocol,
                        "the HTTP proxy sent data after its answer".into(),
                    );
                }
                Step::Done
            }
            Phase::SocksMethod => {
                if self.inbuf.len() < 2 {
                    return Step::Read;
                }
                let (ver, method) = (self.inbuf[0], self.inbuf[1]);
                self.inbuf.drain(..2);
                if ver != 5 {
                    return Step::Failed(
                        ProxyFault::Protocol,
                        format!("not a SOCKS5 proxy (version byte {ver})"),
                    );
                }
                match (method, &self.proxy.kind) {
                    (0, _) => {
                        let r = self.socks_request();
                        self.queue(r);
                        self.phase = Phase::SocksReply;
                        Step::Send
                    }
                    (
                        2,
                        ProxyKind::Socks5 {
                            credentials: Some((u, p)),
                        },
                    ) => {
                        let mut a = vec![1, u.len() as u8];
                        a.extend_from_slice(u.as_bytes());
                        a.push(p.len() as u8);
                        a.extend_from_slice(p.as_bytes());
                        self.queue(a);
                        self.phase = Phase::SocksAuth;
                        Step::Send
                    }
                    (0xff, ProxyKind::Socks5 { credentials: None }) => Step::Failed(
                        ProxyFault::Authentication,
                        "the SOCKS5 proxy requires authentication (set a user name and password)"
                            .into(),
                    ),
                    _ => Step::Failed(
                        ProxyFault::Authentication,
                        format!(
                            "the SOCKS5 proxy accepts none of the offered authentication methods (answered {method})"
                        ),
                    ),
                }
            }
            Phase::SocksAuth => {
                if self.inbuf.len() < 2 {
                    return Step::Read;
                }
                let status = self.inbuf[1];
                self.inbuf.drain(..2);
                if status != 0 {
                    return Step::Failed(
                        ProxyFault::Authentication,
                        "SOCKS5 authentication failed: the proxy refused the user name or password"
                            .into(),
                    );
                }
                let r = self.socks_request();
                self.queue(r);
                self.phase = Phase::SocksReply;
                Step::Send
            }
            Phase::SocksReply => {
                if self.inbuf.len() < 5 {
                    return Step::Read;
                }
                let (ver, rep, atyp) = (self.inbuf[0], self.inbuf[1], self.inbuf[3]);
                if ver != 5 {
                    return Step::Failed(
                        ProxyFault::Protocol,
                        format!("not a SOCKS5 answer (version byte {ver})"),
                    );
                }
                if rep != 0 {
                    let why = match rep {
                        1 => "general SOCKS server failure",
                        2 => "connection not allowed by ruleset",
                        3 => "network unreachable",
                        4 => "host unreachable",
                        5 => "connection refused",
                        6 => "TTL expired",
                        7 => "command not supported",
                        8 => "address type not supported",
                        _ => "unknown error",
                    };
                    return Step::Failed(
                        ProxyFault::SocksReply(rep),
                        format!(
                            "the SOCKS5 proxy could not connect to {}:{}: {why} (reply {rep})",
                            self.target_host, self.target_port
                        ),
                    );
                }
                let len = match atyp {
                    1 => 4 + 4 + 2,
                    4 => 4 + 16 + 2,
                    3 => 4 + 1 + usize::from(self.inbuf[4]) + 2,
                    _ => {
                        return Step::Failed(
                            ProxyFault::Protocol,
                            format!("bad SOCKS5 address type {atyp}"),
                        );
                    }
                };
                if self.inbuf.len() < len {
                    return Step::Read;
                }
                if self.inbuf.len() > len {
                    return Step::Failed(
                        ProxyFault::Protocol,
                        "the SOCKS5 proxy sent data after its answer".into(),
                    );
                }
                Step::Done
            }
        }
    }
}

/// What `Tunnel::step` found.
enum Step {
    /// Read more from the proxy.
    Read,
    /// A message was queued: write it.
    Send,
    /// The tunnel is up.
    Done,
    /// The proxy refused or broke the protocol.
    Failed(ProxyFault, String),
}
