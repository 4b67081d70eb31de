//! Connecting through a real SOCKS5 proxy (Debian's microsocks, started on
//! a free loopback port and stopped by PID): the credentials of the proxy
//! URL are percent-decoded only (RFC 3986 §2.1), never form-decoded, so a
//! `+` in a user name or password stays a `+`.

mod common;

use common::*;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wsc::{Context, EventKind, MessageType};

const WAIT: Duration = Duration::from_secs(10);

/// microsocks on 127.0.0.1 requiring `user` / `password`; killed by PID on
/// drop.
struct Socks5 {
    child: Child,
    port: u16,
}

impl Socks5 {
    fn start(user: &str, password: &str) -> Socks5 {
        // The free port is released before microsocks binds it: retry when
        // something else took it meanwhile.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut child = Command::new("microsocks")
                .args(["-i", "127.0.0.1", "-p", &port.to_string()])
                .args(["-u", user, "-P", password])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("microsocks starts (Debian package microsocks)");
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Socks5 { child, port };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("microsocks did not start on 127.0.0.1");
    }
}

impl Drop for Socks5 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connects to the echo server through `proxy_url` and returns the events
/// up to the echo of one message, or up to `Closed`.
fn echo_through(server: &EchoServer, proxy_url: &str) -> Vec<wsc::Event> {
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    client.set_proxy(Some(proxy_url), None).unwrap();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, |e| is_open(e) || is_closed(e));
    if seen.iter().any(is_open) {
        client.send(MessageType::Text, b"through socks5").unwrap();
        let mut rest = wait_for(&ctx, WAIT, |e| is_message(e) || is_closed(e));
        let mut all = seen;
        all.append(&mut rest);
        return all;
    }
    seen
}

#[test]
fn a_plus_in_socks5_credentials_stays_a_plus() {
    let server = EchoServer::start();
    let proxy = Socks5::start("a+b", "c+d");
    let seen = echo_through(
        &server,
        &format!("socks5://a+b:c+d@127.0.0.1:{}", proxy.port),
    );
    assert!(
        seen.iter()
            .any(|e| is_message(e) && text_of(e) == "through socks5"),
        "authenticated as a+b / c+d and echoed: {seen:?}"
    );
}

#[test]
fn percent_encoded_socks5_credentials_are_decoded() {
    let server = EchoServer::start();
    let proxy = Socks5::start("us@er", "p:ss w");
    let url = format!("socks5://us%40er:p%3Ass%20w@127.0.0.1:{}", proxy.port);
    let seen = echo_through(&server, &url);
    assert!(
        seen.iter()
            .any(|e| is_message(e) && text_of(e) == "through socks5"),
        "authenticated as us@er / 'p:ss w' and echoed: {seen:?}"
    );
}

#[test]
fn wrong_socks5_credentials_are_a_proxy_authentication_error() {
    let server = EchoServer::start();
    let proxy = Socks5::start("a+b", "c+d");
    // "a b" is what form decoding made of "a+b".
    let url = format!("socks5://a%20b:c%20d@127.0.0.1:{}", proxy.port);
    let seen = echo_through(&server, &url);
    let err = seen
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Error(err) => Some(err.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("an Error event: {seen:?}"));
    match err {
        wsc::Error::Proxy(r) => assert_eq!(r.kind, wsc::error::ProxyFault::Authentication, "{r}"),
        other => panic!("expected Error::Proxy, got {other:?}"),
    }
}

#[test]
fn the_metrics_time_the_proxy_tunnel() {
    let server = EchoServer::start();
    let proxy = Socks5::start("u", "p");
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    let url = format!("socks5://u:p@127.0.0.1:{}", proxy.port);
    client.set_proxy(Some(&url), None).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let t = client.metrics().unwrap().connect;
    assert!(
        t.tcp.is_some() && t.proxy.is_some() && t.handshake.is_some(),
        "{t:?}"
    );
    assert_eq!((t.dns, t.tls), (None, None));
}
