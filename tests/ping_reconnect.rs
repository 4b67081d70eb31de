//! Keep-alive and reconnection: the ping interval, pings from the server
//! (answered with a pong, reported as `Ping`), and `reconnect` with the
//! same client — after a clean close and after the server restarted.

mod common;
use common::*;
use std::io::Write;
use std::time::{Duration, Instant};
use wsc::{Context, Error, EventKind, MessageType, Status};

#[test]
fn ping_interval_sends_pings_every_200_ms() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/report-pings")).unwrap();
    client.set_ping_interval(200).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let t0 = Instant::now();
    let mut at = Vec::new();
    while at.len() < 3 {
        let ev = wait_event(&ctx, Duration::from_secs(2), is_message);
        assert_eq!(text_of(&ev), "ping:", "an empty ping payload");
        at.push(t0.elapsed());
    }
    // First ping one interval after Open; three within ~600 ms.
    assert!(at[0] >= Duration::from_millis(150), "{at:?}");
    assert!(at[2] >= Duration::from_millis(500), "{at:?}");
    assert!(at[2] < Duration::from_millis(1500), "{at:?}");
}

#[test]
fn ping_interval_zero_sends_none() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/report-pings")).unwrap();
    client.set_ping_interval(0).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let seen = drain(&ctx, Duration::from_millis(400));
    assert!(seen.is_empty(), "{seen:?}");
}

#[test]
fn server_ping_is_reported_and_answered_with_a_pong() {
    let server = RawServer::start(|mut s| {
        accept_ws(&mut s);
        s.write_all(&frame(0x89, b"are you there", None)).unwrap();
        let pong = read_frame(&mut s).expect("a pong");
        s.write_all(&frame(0x8a, b"unsolicited", None)).unwrap();
        read_close_frame(&mut s);
        pong
    });
    let (ctx, client, _) = open(&server.url("/"));
    match wait_event(&ctx, WAIT, |_| true).kind {
        EventKind::Ping(p) => assert_eq!(&p[..], b"are you there"),
        other => panic!("expected Ping, got {other:?}"),
    }
    match wait_event(&ctx, WAIT, |_| true).kind {
        EventKind::Pong(p) => assert_eq!(&p[..], b"unsolicited"),
        other => panic!("expected Pong, got {other:?}"),
    }
    client.close(1000, "").unwrap();
    let pong = server.join();
    assert!(pong.masked, "{pong:?}");
    assert_eq!(pong.first, 0x8a, "FIN + pong: {pong:?}");
    assert_eq!(pong.payload, b"are you there", "the pong echoes the ping");
}

#[test]
fn reconnect_after_close_opens_again_and_echoes() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    client.close(1000, "").unwrap();
    wait_for(&ctx, WAIT, is_closed);
    let t0 = Instant::now();
    client.reconnect(Duration::from_millis(100)).unwrap();
    assert_eq!(client.status().unwrap(), Status::Connecting);
    let seen = wait_for(&ctx, WAIT, is_open);
    assert!(
        t0.elapsed() >= Duration::from_millis(95),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(seen.len(), 2, "Connected, Open: {seen:?}");
    assert!(matches!(seen[0].kind, EventKind::Connected), "{seen:?}");
    assert!(seen.iter().all(|e| e.client_id == client.id()));
    client.send(MessageType::Text, b"again").unwrap();
    assert_eq!(text_of(&wait_event(&ctx, WAIT, is_message)), "again");
}

#[test]
fn reconnect_keeps_the_headers() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/headers")).unwrap();
    client.set_header("X-Kept", "yes").unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    assert!(text_of(&wait_event(&ctx, WAIT, is_message)).contains(r#""x-kept":"yes""#));
    client.reconnect(Duration::from_millis(50)).unwrap();
    // An open connection is closed first (1006, by the client).
    let (code, _, clean) = closed_of(&wait_event(&ctx, WAIT, |_| true));
    assert_eq!((code, clean), (1006, false));
    wait_for(&ctx, WAIT, is_open);
    assert!(text_of(&wait_event(&ctx, WAIT, is_message)).contains(r#""x-kept":"yes""#));
}

#[test]
fn reconnect_after_the_server_restarted_on_the_same_port() {
    let mut server = EchoServer::start();
    let addr = server.addr.clone();
    let (ctx, client, _) = open(&server.url("/"));
    server.kill();
    let (code, _, clean) = closed_of(&wait_event(&ctx, WAIT, is_closed));
    assert_eq!((code, clean), (1006, false));

    // While the server is down: a connect error, then Closed, each time.
    client.reconnect(Duration::from_millis(100)).unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(matches!(error_of(&seen[0]), Error::Connect(_)), "{seen:?}");

    let server = EchoServer::start_on(&addr);
    assert_eq!(server.addr, addr);
    client.reconnect(Duration::from_millis(100)).unwrap();
    let seen = wait_for(&ctx, WAIT, |e| is_open(e) || is_closed(e));
    assert!(is_open(seen.last().unwrap()), "{seen:?}");
    client.send(MessageType::Text, b"back").unwrap();
    assert_eq!(text_of(&wait_event(&ctx, WAIT, is_message)), "back");
}

#[test]
fn pending_reconnect_is_cancelled_by_close() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    client.close(1000, "").unwrap();
    wait_for(&ctx, WAIT, is_closed);
    client.reconnect(Duration::from_millis(100)).unwrap();
    client.close(1000, "").unwrap();
    let seen = drain(&ctx, Duration::from_millis(400));
    assert!(!seen.iter().any(is_open), "{seen:?}");
    assert_eq!(client.status().unwrap(), Status::Closed);
}

#[test]
fn a_ping_from_the_server_is_reported_and_answered() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/ping"));
    let ev = wait_event(&ctx, WAIT, |e| matches!(e.kind, wsc::EventKind::Ping(_)));
    match ev.kind {
        wsc::EventKind::Ping(p) => assert_eq!(&p[..], b"hello-ping"),
        _ => unreachable!(),
    }
    // The pong went out by itself; the connection still echoes.
    client.send(wsc::MessageType::Text, b"after ping").unwrap();
    assert_eq!(text_of(&wait_event(&ctx, WAIT, is_message)), "after ping");
}
