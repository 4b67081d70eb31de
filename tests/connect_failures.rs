//! Connection attempts that fail before the handshake (refused port, DNS)
//! report the exact cause then `Closed` 1006; IPv6 loopback connects.

mod common;
use common::*;
use std::time::Duration;
use wsc::{Context, Error, EventKind, MessageType, Status};

#[test]
fn refused_port_is_a_connect_error_then_closed_1006() {
    let port = refused_port();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&format!("ws://127.0.0.1:{port}/")).unwrap();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    assert_eq!(seen.len(), 2, "Error then Closed, no Connected: {seen:?}");
    match error_of(&seen[0]) {
        Error::Connect(msg) => {
            assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
            assert!(msg.to_lowercase().contains("refused"), "{msg}");
        }
        other => panic!("expected Error::Connect, got {other:?}"),
    }
    let (code, _, clean) = closed_of(&seen[1]);
    assert_eq!((code, clean), (1006, false));
    assert_eq!(client.status().unwrap(), Status::Closed);
}

#[test]
fn unresolvable_host_is_a_dns_error() {
    let ctx = Context::new().unwrap();
    let client = ctx.client("ws://nonexistent.invalid/").unwrap();
    client.connect().unwrap();
    // Resolution of the reserved `.invalid` TLD fails at once where the
    // resolver follows RFC 6761; the wait covers a slow DNS server, below
    // the 10 s connect timeout so that a Timeout cannot pass for it.
    let seen = wait_for(&ctx, Duration::from_secs(9), is_closed);
    assert_eq!(seen.len(), 2, "Error then Closed: {seen:?}");
    match error_of(&seen[0]) {
        Error::Dns(msg) => assert!(msg.contains("nonexistent.invalid"), "{msg}"),
        other => panic!("expected Error::Dns, got {other:?}"),
    }
    let (code, _, clean) = closed_of(&seen[1]);
    assert_eq!((code, clean), (1006, false));
}

#[test]
fn ipv6_loopback_connects_and_echoes() {
    if let Err(e) = std::net::TcpListener::bind("[::1]:0") {
        println!("note: skipped, this machine has no IPv6 loopback ({e})");
        return;
    }
    let server = EchoServer::start_on("[::1]:0");
    assert!(server.addr.starts_with("[::1]:"), "{}", server.addr);
    let (ctx, client, seen) = open(&server.url("/"));
    assert!(matches!(seen[0].kind, EventKind::Connected), "{seen:?}");
    client.send(MessageType::Text, b"over v6").unwrap();
    assert_eq!(text_of(&wait_event(&ctx, WAIT, is_message)), "over v6");
}

#[test]
fn host_name_is_resolved_and_connected() {
    // `localhost` goes through the resolver thread. Where it resolves to
    // ::1 before 127.0.0.1, the refused first address must be followed by
    // the second, since the server listens on 127.0.0.1 only.
    let server = EchoServer::start();
    let port = server.addr.rsplit(':').next().unwrap();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&format!("ws://localhost:{port}/")).unwrap();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, |e| is_open(e) || is_closed(e));
    assert!(is_open(seen.last().unwrap()), "{seen:?}");
    assert!(!seen.iter().any(is_error), "{seen:?}");
}
