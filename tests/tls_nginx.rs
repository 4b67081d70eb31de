//! `wss://` at scale and TLS session resumption against a TLS server this
//! project did not write: Debian's nginx terminating TLS in front of
//! `wsc-echo-server` (tests/common/nginx.rs: its own configuration and
//! certificates made by `openssl` in a temporary folder, started and
//! stopped by PID, 127.0.0.1 only). Skipped, saying so, only when nginx
//! is not installed (scripts/install-deps.sh installs it).
//!
//! Open files: 500 connections are 500 fds here, 1000 in nginx (client
//! and upstream) and 500 in the echo server; libwsc raises this process's
//! soft limit to the hard limit, and the nginx configuration allows 8192
//! per worker.

mod common;
#[path = "common/nginx.rs"]
mod nginx;

use common::*;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use wsc::{Client, Context, EventKind, MessageType};

fn nginx_or_skip(test: &str) -> Option<(EchoServer, nginx::Nginx)> {
    if let Some(why) = nginx::missing() {
        eprintln!("SKIPPED {test}: {why}");
        return None;
    }
    // A context raises this process's open-files soft limit to the hard
    // limit (once per process): the echo server, started next, inherits it.
    drop(Context::new().expect("context"));
    let echo = EchoServer::start();
    let proxy = nginx::Nginx::start(&echo.addr);
    Some((echo, proxy))
}

fn wss_client(ctx: &Context, proxy: &nginx::Nginx) -> Client {
    let c = ctx.client(&proxy.wss("/")).expect("client");
    c.set_tls_ca_file(Some(&proxy.ca_file())).expect("cafile");
    c.set_timeouts(60_000, 60_000).expect("timeouts");
    c
}

/// 500 `wss://` connections started at once on one context all open, and
/// a `ws://` connection of the same context that echoes a message every
/// 20 ms meanwhile is never held up long: the handshakes' CPU is bounded
/// per loop turn (docs/tls.md). The issue's bound is 100 ms; the assertion
/// allows 1 s, so that a busy 2-core machine (nginx, the echo server and
/// other jobs compete for it) does not fail it, while the old behaviour
/// (every handshake of a turn in one go: 20 s) still does. The figure is
/// printed; `make bench` measures it properly.
#[test]
fn five_hundred_wss_connections_at_once_all_open_and_an_echo_loop_keeps_going() {
    let Some((echo_server, proxy)) = nginx_or_skip("five_hundred_wss_connections") else {
        return;
    };
    let ctx = Context::new().expect("context");
    let echo = ctx.client(&echo_server.url("/")).expect("client");
    echo.connect().expect("connect");
    wait_event(&ctx, WAIT, is_open);

    const N: usize = 500;
    let clients: Vec<Client> = (0..N).map(|_| wss_client(&ctx, &proxy)).collect();
    // Full handshakes for all: the expensive case.
    for c in &clients {
        c.set_tls_session_resumption(false).expect("resumption off");
    }
    let ids: HashSet<u64> = clients.iter().map(Client::id).collect();
    let t0 = Instant::now();
    for c in &clients {
        c.connect().expect("connect");
    }
    let mut open = 0;
    let mut sent_at: Option<Instant> = None;
    let mut next_at = Instant::now();
    let mut worst = Duration::ZERO;
    let mut round_trips = 0;
    let deadline = t0 + Duration::from_secs(120);
    while open < N {
        let now = Instant::now();
        assert!(
            now < deadline,
            "only {open} of {N} opened within 120 s; nginx: {}",
            proxy.error_log()
        );
        if sent_at.is_none() && now >= next_at {
            echo.send(MessageType::Text, b"tick").expect("send");
            sent_at = Some(now);
        }
        if let Some(s) = sent_at {
            worst = worst.max(now - s);
        }
        let wait = if sent_at.is_some() {
            Duration::from_millis(20)
        } else {
            next_at.saturating_duration_since(now)
        };
        let Some(ev) = ctx.poll_event(Some(wait)).expect("poll") else {
            continue;
        };
        if ev.client_id == echo.id() {
            match ev.kind {
                EventKind::Message { .. } => {
                    if let Some(s) = sent_at.take() {
                        worst = worst.max(s.elapsed());
                        round_trips += 1;
                        next_at = Instant::now() + Duration::from_millis(20);
                    }
                }
                EventKind::Closed { reason, .. } => panic!("the echo loop closed: {reason}"),
                _ => {}
            }
            continue;
        }
        assert!(ids.contains(&ev.client_id));
        match ev.kind {
            EventKind::Open { .. } => open += 1,
            EventKind::Error(e) => panic!("a wss connection failed: {e}"),
            _ => {}
        }
    }
    let took = t0.elapsed();
    eprintln!(
        "{N} wss connections opened in {took:?}; echo loop meanwhile: {round_trips} round \
         trips, worst {worst:?}"
    );
    assert!(
        worst < Duration::from_secs(1),
        "an echo round trip waited {worst:?} while {N} TLS handshakes ran"
    );
    assert!(round_trips > 0, "the echo loop made no round trip");
    // They all work: one echo each.
    for c in &clients {
        c.send(MessageType::Text, b"hello").expect("send");
    }
    let mut echoed = 0;
    while echoed < N {
        let ev = wait_event(&ctx, WAIT, |e| matches!(e.kind, EventKind::Message { .. }));
        if ids.contains(&ev.client_id) {
            echoed += 1;
        }
    }
}

/// A reconnect resumes the TLS session, and nginx says so: its access log
/// (`$ssl_session_reused`) shows `r` for the resumed connection and `.`
/// for the first; `Client::tls_session_resumed` agrees.
#[test]
fn a_reconnect_resumes_the_tls_session_and_the_server_sees_it() {
    let Some((_echo, proxy)) = nginx_or_skip("a_reconnect_resumes_the_tls_session") else {
        return;
    };
    let ctx = Context::new().expect("context");
    let c = wss_client(&ctx, &proxy);
    let mut seen = Vec::new();
    for round in 0..2 {
        if round == 0 {
            c.connect().expect("connect");
        } else {
            c.reconnect(Duration::ZERO).expect("reconnect");
        }
        wait_event(&ctx, WAIT, is_open);
        // Echo once so the session ticket (sent after the handshake) is read.
        c.send(MessageType::Text, b"x").expect("send");
        wait_event(&ctx, WAIT, |e| matches!(e.kind, EventKind::Message { .. }));
        seen.push(c.tls_session_resumed().expect("resumed"));
        c.close(1000, "").expect("close");
        wait_event(&ctx, WAIT, is_closed);
    }
    assert_eq!(seen, [false, true], "resumed per connection");
    // nginx writes a line when a proxied WebSocket ends.
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = proxy.access_log();
        if log.len() >= 2 || Instant::now() >= deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let reused: Vec<&str> = log
        .iter()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(reused, [".", "r"], "nginx's access log: {log:?}");
}

/// A session made by a connection that did not check the server's name
/// is never offered by one that does (OpenSSL does not verify a resumed
/// session again): the second connect is a full handshake.
#[test]
fn a_session_made_without_the_name_check_is_not_resumed_with_it() {
    let Some((_echo, proxy)) = nginx_or_skip("a_session_made_without_the_name_check") else {
        return;
    };
    let ctx = Context::new().expect("context");
    let c = wss_client(&ctx, &proxy);
    c.set_tls_verify(true, false).expect("verify");
    c.connect().expect("connect");
    wait_event(&ctx, WAIT, is_open);
    c.send(MessageType::Text, b"x").expect("send");
    wait_event(&ctx, WAIT, |e| matches!(e.kind, EventKind::Message { .. }));
    c.close(1000, "").expect("close");
    wait_event(&ctx, WAIT, is_closed);
    c.set_tls_verify(true, true).expect("verify");
    c.connect().expect("connect");
    wait_event(&ctx, WAIT, is_open);
    assert!(!c.tls_session_resumed().expect("resumed"));
    // The same settings again do resume.
    c.send(MessageType::Text, b"x").expect("send");
    wait_event(&ctx, WAIT, |e| matches!(e.kind, EventKind::Message { .. }));
    c.close(1000, "").expect("close");
    wait_event(&ctx, WAIT, is_closed);
    c.connect().expect("connect");
    wait_event(&ctx, WAIT, is_open);
    assert!(c.tls_session_resumed().expect("resumed"));
}

fn tls_error_of(ctx: &Context) -> String {
    let seen = wait_for(ctx, WAIT, is_closed);
    seen.iter()
        .find_map(|e| match &e.kind {
            EventKind::Error(e) => Some(e.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no error event: {seen:#?}"))
}

/// `wss://` to a plain-TCP WebSocket server fails with a readable error
/// that says so, without OpenSSL's source file and line: one that closes
/// on the ClientHello (wsc-echo-server) and one that answers in HTTP.
#[test]
fn wss_to_a_plain_server_says_it_is_not_tls() {
    let server = EchoServer::start();
    let ctx = Context::new().expect("context");
    let c = ctx
        .client(&format!("wss://{}/", server.addr))
        .expect("client");
    c.connect().expect("connect");
    let err = tls_error_of(&ctx);
    assert!(err.starts_with("TLS handshake failed: "), "{err}");
    assert!(err.contains("plain-TCP (ws://) server"), "{err}");
    assert!(!err.contains(".c:"), "OpenSSL's source file in {err:?}");

    let http = RawServer::start(|mut s| {
        use std::io::{Read, Write};
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        wait_eof(&mut s);
    });
    let c2 = ctx
        .client(&format!("wss://{}/", http.addr))
        .expect("client");
    c2.connect().expect("connect");
    let err = tls_error_of(&ctx);
    assert!(err.contains("did not answer in TLS"), "{err}");
    assert!(err.contains("plain-TCP (ws://) server"), "{err}");
    assert!(!err.contains(".c:"), "OpenSSL's source file in {err:?}");
    drop(c2);
    http.join();
}
