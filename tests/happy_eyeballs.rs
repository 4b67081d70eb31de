//! Happy Eyeballs (RFC 8305) over loopback: a black-holed first address
//! (a listener whose accept queue is full, so its SYNs are dropped) does
//! not cost the whole connect timeout: the next address is tried 250 ms
//! later and wins; addresses are interleaved by family; the connect
//! timeout bounds the whole race; every failure is named.
//!
//! The addresses come from the connect-to list (`Client::set_connect_to`,
//! raced exactly as a resolver's answer is: the same code takes both).

mod common;
#[path = "common/sockets.rs"]
mod sockets;

use common::*;
use sockets::BlackHole;
use std::net::TcpListener;
use std::time::{Duration, Instant};
use wsc::Context;

/// Opens `url` through the connect-to list `to`, with a connect timeout
/// of 20 s; returns the context, the client and how long until `Open`.
fn open_via(url: &str, to: &str) -> (Context, wsc::Client, Duration) {
    let ctx = Context::new().expect("context");
    let client = ctx.client(url).expect("client");
    client.set_timeouts(20_000, 0).expect("timeouts");
    client.set_connect_to(Some(to)).expect("connect-to");
    let t = Instant::now();
    client.connect().expect("connect");
    wait_for(&ctx, Duration::from_secs(25), is_open);
    (ctx, client, t.elapsed())
}

/// A black hole on `hole_ip` first, then the echo server on 127.0.0.1:
/// opens on the echo server; returns how long it took.
fn open_past_a_black_hole(hole_ip: &str) -> Duration {
    let hole = BlackHole::new(hole_ip);
    let server = EchoServer::start();
    let to = format!("{},{}", hole.addr, server.addr);
    let (_ctx, client, took) = open_via(&server.url("/"), &to);
    assert_eq!(
        client.addresses().expect("addresses").0,
        Some(server.addr.parse().expect("addr"))
    );
    // 5 s: a margin for a busy machine, far below the 20 s timeout.
    assert!(took < Duration::from_secs(5), "opened after {took:?}");
    took
}

#[test]
fn a_black_holed_first_address_costs_one_attempt_delay_not_the_timeout() {
    let took = open_past_a_black_hole("127.0.0.2");
    // The second attempt starts 250 ms after the first (RFC 8305 §5).
    assert!(took >= Duration::from_millis(240), "opened after {took:?}");
    eprintln!("opened on the second address after {took:?}");
}

#[test]
fn a_black_holed_ipv6_address_falls_back_to_ipv4() {
    let took = open_past_a_black_hole("::1");
    assert!(took >= Duration::from_millis(240), "opened after {took:?}");
}

#[test]
fn families_are_interleaved() {
    // [::1 black hole, ::1 silent listener, 127.0.0.1 echo]: interleaved,
    // the IPv4 address goes second and wins; in the given order the
    // silent listener would take the connection and never answer.
    let hole = BlackHole::new("::1");
    let silent = TcpListener::bind("[::1]:0").expect("bind ::1");
    silent.set_nonblocking(true).expect("nonblocking");
    let server = EchoServer::start();
    let to = format!(
        "{},{},{}",
        hole.addr,
        silent.local_addr().expect("addr"),
        server.addr
    );
    let (_ctx, client, _) = open_via(&server.url("/"), &to);
    assert_eq!(
        client.addresses().expect("addresses").0,
        Some(server.addr.parse().expect("addr"))
    );
    match silent.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the third address was tried before the second: {other:?}"),
    }
}

#[test]
fn the_connect_timeout_bounds_the_whole_race() {
    let a = BlackHole::new("127.0.0.2");
    let b = BlackHole::new("127.0.0.3");
    let ctx = Context::new().expect("context");
    let client = ctx.client("ws://wsc-test.invalid/").expect("client");
    client.set_timeouts(1_000, 0).expect("timeouts");
    client
        .set_connect_to(Some(&format!("{},{}", a.addr, b.addr)))
        .expect("connect-to");
    let t = Instant::now();
    client.connect().expect("connect");
    let e = error_of(&wait_event(&ctx, Duration::from_secs(10), is_error));
    let took = t.elapsed();
    assert!(matches!(e, wsc::Error::Timeout(_)), "{e}");
    // Both addresses were tried, within the one timeout.
    let text = e.to_string();
    assert!(text.contains("no connection within 1000 ms"), "{text}");
    assert!(
        text.contains(&format!("tried {}, {}", a.addr, b.addr)),
        "{text}"
    );
    assert!(took >= Duration::from_millis(990), "failed after {took:?}");
    assert!(took < Duration::from_secs(6), "failed after {took:?}");
}

#[test]
fn every_failed_address_is_named() {
    let (r1, r2) = (refused_port(), refused_port());
    let ctx = Context::new().expect("context");
    let client = ctx.client("ws://wsc-test.invalid/").expect("client");
    client
        .set_connect_to(Some(&format!("127.0.0.1:{r1},127.0.0.1:{r2}")))
        .expect("connect-to");
    client.connect().expect("connect");
    let e = error_of(&wait_event(&ctx, WAIT, is_error));
    assert!(matches!(e, wsc::Error::Connect(_)), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{r1}: Connection refused"))
            && text.contains(&format!("127.0.0.1:{r2}: Connection refused")),
        "{text}"
    );
}

#[test]
fn a_refused_address_does_not_end_the_race() {
    // [refused, black hole, echo]: the refusal starts the next attempt at
    // once (RFC 8305 §5), the black hole waits its 250 ms, the echo server
    // wins. The time is printed, not bounded (a busy machine).
    let hole = BlackHole::new("127.0.0.2");
    let server = EchoServer::start();
    let to = format!("127.0.0.1:{},{},{}", refused_port(), hole.addr, server.addr);
    let (_ctx, client, took) = open_via(&server.url("/"), &to);
    assert_eq!(
        client.addresses().expect("addresses").0,
        Some(server.addr.parse().expect("addr"))
    );
    eprintln!("opened on the third address after {took:?}");
}
