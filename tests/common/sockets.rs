//! Socket helpers of the socket-option and Happy Eyeballs tests: the
//! client's own socket found by its local address, and a black-holed
//! address (a loopback listener whose accept queue is full).
#![allow(dead_code)]

use socket2::{Domain, SockRef, Socket, Type};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

/// The socket options of the process's TCP socket bound to `local` (the
/// client's, as `Client::addresses` reports it), read with getsockopt:
/// (SO_KEEPALIVE, (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT), TCP_NODELAY).
pub fn options_of(local: SocketAddr) -> (bool, (Duration, Duration, u32), bool) {
    let fd =
        fd_of(local).unwrap_or_else(|| panic!("no socket of this process is bound to {local}"));
    // SAFETY: the fd is open in this process (just listed), and only
    // borrowed for these getsockopt calls while the client keeps it open.
    let b = unsafe { BorrowedFd::borrow_raw(fd) };
    let s = SockRef::from(&b);
    (
        s.keepalive().expect("SO_KEEPALIVE"),
        (
            s.tcp_keepalive_time().expect("TCP_KEEPIDLE"),
            s.tcp_keepalive_interval().expect("TCP_KEEPINTVL"),
            s.tcp_keepalive_retries().expect("TCP_KEEPCNT"),
        ),
        s.tcp_nodelay().expect("TCP_NODELAY"),
    )
}

/// The fd of this process's socket whose local address is `local`.
pub fn fd_of(local: SocketAddr) -> Option<RawFd> {
    for entry in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<RawFd>() else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: as above; a socket fd of this process, borrowed briefly.
        let b = unsafe { BorrowedFd::borrow_raw(fd) };
        let s = SockRef::from(&b);
        if s.local_addr().ok().and_then(|a| a.as_socket()) == Some(local) && s.peer_addr().is_ok() {
            return Some(fd);
        }
    }
    None
}

/// A black-holed address: a listener on `ip` (port 0) with a backlog of
/// 0 whose accept queue is filled and never drained, so the kernel drops
/// further SYNs and a connect to it stays pending, like an address behind
/// a broken route. Kept while the value lives.
pub struct BlackHole {
    pub addr: SocketAddr,
    _listener: Socket,
    _queued: Vec<TcpStream>,
}

impl BlackHole {
    pub fn new(ip: &str) -> BlackHole {
        let ip: std::net::IpAddr = ip.parse().expect("an IP");
        let local = SocketAddr::new(ip, 0);
        let l = Socket::new(Domain::for_address(local), Type::STREAM, None).expect("socket");
        l.bind(&local.into()).expect("bind");
        l.listen(0).expect("listen");
        let addr = l.local_addr().expect("addr").as_socket().expect("inet");
        let mut queued = Vec::new();
        // At most 8 connections (the queue holds 1 with backlog 0).
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => queued.push(s),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return BlackHole {
                        addr,
                        _listener: l,
                        _queued: queued,
                    };
                }
                Err(e) => panic!("filling the backlog of {addr}: {e}"),
            }
        }
        panic!("the backlog of {addr} never filled");
    }
}
